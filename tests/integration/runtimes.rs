//! Lambda runtimes AWS no longer accepts: refused before any call with the dates and the
//! successor, warned about while only deprecated, and refused by the emulator as by AWS.

use crate::api::Project;
use crate::support::{emulator, unique_stack};

fn stack_with(stack: &str, runtime: &str) -> String {
    format!("stack: {stack}\nfunctions:\n  api:\n    runtime: {runtime}\n    handler: api.handler\n    code: code\n")
}

#[test]
fn a_new_function_on_a_runtime_aws_blocks_is_refused_with_the_date_and_the_successor() {
    let project = Project::new(&stack_with(&unique_stack("rt-blocked"), "nodejs20.x"));
    let refused = project.command(&["validate"]).env("AUTHDEMO_TODAY", "2026-12-07").run().expect_code(1);
    assert!(refused.stderr.contains("stack.yaml:4:14: functions.api.runtime:"), "{}", refused.stderr);
    assert!(refused.stderr.contains("`nodejs20.x`") && refused.stderr.contains("2026-08-31"), "{}", refused.stderr);
    assert!(refused.stderr.contains("move to `nodejs24.x`"), "{}", refused.stderr);
    assert!(refused.calls().is_empty(), "no AWS call");
    let planned = project.command(&["plan"]).env("AUTHDEMO_TODAY", "2026-12-07").run().expect_code(1);
    assert!(planned.stderr.contains("cannot be used for a new function"), "{}", planned.stderr);
    let applied = project.command(&["apply", "--auto-approve"]).env("AUTHDEMO_TODAY", "2026-12-07").run();
    let applied = applied.expect_code(1);
    assert!(applied.calls().iter().all(|op| !op.contains("Create")), "nothing created: {:?}", applied.calls());
}

#[test]
fn a_deprecated_runtime_passes_with_a_warning() {
    let project = Project::new(&stack_with(&unique_stack("rt-deprecated"), "nodejs20.x"));
    let run = project.command(&["validate"]).env("AUTHDEMO_TODAY", "2026-05-15").run().expect_code(0);
    assert!(run.stderr.contains("4:14: warning: functions.api.runtime:"), "{}", run.stderr);
    assert!(run.stderr.contains("deprecated since 2026-04-30"), "{}", run.stderr);
    let quiet = Project::new(&stack_with(&unique_stack("rt-current"), "nodejs24.x"));
    let run = quiet.command(&["validate"]).env("AUTHDEMO_TODAY", "2026-12-07").run().expect_code(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn an_existing_function_may_stay_but_not_change_after_the_update_block() {
    let stack = unique_stack("rt-existing");
    let project = Project::new(&stack_with(&stack, "nodejs24.x"));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    // Far in the future nodejs24.x is blocked too: the function stays as it is, with a warning,
    // and a change to it is refused before any mutating call.
    let later = "2028-08-01";
    let unchanged = project.command(&["plan", "--detailed-exitcode"]).env("AUTHDEMO_TODAY", later).run();
    let unchanged = unchanged.expect_code(0);
    assert!(
        unchanged.stderr.contains("refuses every change to this function since 2028-07-01"),
        "{}",
        unchanged.stderr
    );
    project.rewrite(&format!("{}    memory_mb: 256\n", stack_with(&stack, "nodejs24.x")));
    let refused = project.command(&["apply", "--auto-approve"]).env("AUTHDEMO_TODAY", later).run().expect_code(1);
    assert!(refused.stderr.contains("cannot be used to change this function"), "{}", refused.stderr);
    assert!(refused.calls().iter().all(|op| !op.starts_with("Update")), "{:?}", refused.calls());
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[test]
fn the_emulator_refuses_creating_a_function_on_a_blocked_runtime_as_aws_does() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let lambda = emulator().lambda();
    let created = runtime.block_on(
        lambda
            .create_function()
            .function_name(unique_stack("rt-direct"))
            .runtime(aws_sdk_lambda::types::Runtime::Nodejs20x)
            .role("arn:aws:iam::123456789012:role/any")
            .handler("api.handler")
            .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(zip_of_one_file().into()).build())
            .send(),
    );
    let error = aws_sdk_lambda::error::DisplayErrorContext(created.expect_err("refused")).to_string();
    assert!(error.contains("nodejs20.x is no longer supported for creating or updating"), "{error}");
}

/// A zip holding one empty file (the emulator unpacks nothing before refusing the runtime).
fn zip_of_one_file() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("api.js", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(b"exports.handler = async () => ({});\n").unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn code_and_environment_beyond_lambdas_limits_and_links_out_of_the_code_are_refused_before_any_call() {
    let stack = unique_stack("limits");
    let project = Project::new(&stack_with(&stack, "nodejs24.x"));
    let outside = project.dir().join("outside-secret.txt");
    std::fs::write(&outside, "not for upload").unwrap();
    std::os::unix::fs::symlink(&outside, project.dir().join("code/lib/secret.txt")).unwrap();
    let refused = project.command(&["validate"]).run().expect_code(1);
    assert!(refused.stderr.contains("stack.yaml:6:11: functions.api.code:"), "{}", refused.stderr);
    assert!(refused.stderr.contains("`lib/secret.txt` is a symbolic link leading out of the code directory"));
    std::fs::remove_file(project.dir().join("code/lib/secret.txt")).unwrap();
    std::os::unix::fs::symlink("../api.js", project.dir().join("code/lib/inside.js")).unwrap();
    project.command(&["validate"]).run().expect_code(0);

    let big = project.dir().join("big.zip");
    std::fs::write(&big, vec![0_u8; 50 * 1024 * 1024 + 1]).unwrap();
    project.rewrite(&format!(
        "stack: {stack}\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: big.zip\n"
    ));
    let refused = project.command(&["plan"]).run().expect_code(1);
    assert!(refused.stderr.contains("the code package is 52428801 bytes (50.0 MB)"), "{}", refused.stderr);
    assert!(refused.calls().is_empty());

    let value = "x".repeat(4100);
    project.rewrite(&format!(
        "stack: {stack}\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: code\n    environment: {{ BIG: \"${{env:BIG_VALUE}}\" }}\n"
    ));
    let refused = project.command(&["plan"]).env("BIG_VALUE", &value).run().expect_code(1);
    assert!(
        refused.stderr.contains("7:18: functions.api.environment: the environment is 4110 bytes"),
        "{}",
        refused.stderr
    );
    assert!(!refused.output().contains(&value), "the value is not echoed");
    assert!(refused.calls().is_empty());
}
