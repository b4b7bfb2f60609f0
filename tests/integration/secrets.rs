//! Secrets never appear in any output: plans (human and JSON), progress, -v/-vv logs, errors.

use crate::support::{StackFile, authdemo, unique_stack};

const PASSWORD: &str = "Sup3r-Secret-Value";

#[test]
fn the_password_appears_in_no_output_at_any_verbosity() {
    let stack = unique_stack("secret");
    let file = StackFile::new(&format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  users:
    alice:
      attributes: {{ email: alice@example.com }}
      password: ${{env:ALICE_PASSWORD}}
"
    ));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("ALICE_PASSWORD", PASSWORD).run();
    let runs = [
        run(&["plan", "-vv"]).expect_code(0),
        run(&["plan", "--output", "json", "-v"]).expect_code(0),
        run(&["apply", "--auto-approve", "-vv", "--output", "json"]).expect_code(0),
        run(&["apply", "--auto-approve", "-v"]).expect_code(0),
        run(&["destroy", "--auto-approve", "-vv"]).expect_code(0),
    ];
    assert!(runs[0].stdout.contains("+ password = (sensitive)"), "{}", runs[0].stdout);
    assert!(runs[1].stdout.contains("\"password\": \"(sensitive)\""), "{}", runs[1].stdout);
    assert!(runs[0].stderr.contains("DEBUG"), "-vv logs something: {}", runs[0].stderr);
    for run in &runs {
        assert!(!run.output().contains(PASSWORD), "the password leaked:\n{}", run.output());
    }
}

#[test]
fn a_password_that_breaks_the_policy_is_refused_before_any_call_without_echoing_it() {
    let stack = unique_stack("weak");
    let file = StackFile::new(&format!(
        "stack: {stack}
user_pool:
  password_policy: {{ min_length: 20 }}
  users:
    bob:
      password: ${{env:BOB_PASSWORD}}
"
    ));
    let weak = "short-Pw1!";
    let run =
        authdemo(&["apply", "--auto-approve", "-vv"]).file(&file.path()).emulated().env("BOB_PASSWORD", weak).run();
    let run = run.expect_code(1);
    assert!(
        run.stderr.contains("6:17: user_pool.users.bob.password: the password from the environment is 10 characters")
    );
    assert!(!run.output().contains(weak), "{}", run.output());
    assert!(run.calls().is_empty());
}

#[test]
fn only_the_commands_that_send_a_secret_need_it() {
    let stack = unique_stack("unset");
    let file = StackFile::new(&format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  users:
    alice:
      password: ${{env:ALICE_PASSWORD}}
"
    ));
    let without = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env_remove("ALICE_PASSWORD").run();
    without(&["validate"]).expect_code(0);
    without(&["graph"]).expect_code(0);
    let planned = without(&["plan"]).expect_code(0);
    assert!(planned.stdout.contains("${env:ALICE_PASSWORD}, which is not set"), "{}", planned.stdout);
    let refused = without(&["apply", "--auto-approve"]).expect_code(1);
    assert!(refused.stderr.contains("user_pool_user.alice needs ${env:ALICE_PASSWORD}"), "{}", refused.stderr);
    assert!(refused.calls().iter().all(|op| crate::user_pool::is_read_only(op)), "nothing was changed");

    authdemo(&["apply", "--auto-approve"])
        .file(&file.path())
        .emulated()
        .env("ALICE_PASSWORD", PASSWORD)
        .run()
        .expect_code(0);
    without(&["plan", "--detailed-exitcode"]).expect_code(0);
    without(&["output"]).expect_code(0);
    without(&["destroy", "--auto-approve"]).expect_code(0);
}

/// A value from `${env:…}` in an ordinary field (a function's environment) is sensitive
/// everywhere a password is: plans, saved plans (mode 0600), progress, logs; a change still shows.
#[test]
fn an_environment_value_from_env_appears_in_no_output_and_a_change_still_shows() {
    const DB_PASSWORD: &str = "db-Pa55word-from-the-env";
    const ROTATED: &str = "rotated-Pa55word-from-the-env";
    let stack = unique_stack("envsecret");
    let project = crate::api::Project::new(&format!(
        "stack: {stack}
functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
    environment: {{ DB_PASSWORD: \"${{env:DB_PASSWORD}}\", GREETING: hello }}
"
    ));
    let saved = project.dir().join("plan.json");
    let run = |args: &[&str], value: &str| project.command(args).env("DB_PASSWORD", value).run();
    let live_value = || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let lambda = crate::support::emulator().lambda();
        let config = runtime.block_on(lambda.get_function_configuration().function_name(format!("{stack}-api")).send());
        let variables = config.unwrap().environment.and_then(|e| e.variables).unwrap_or_default();
        variables.get("DB_PASSWORD").cloned()
    };
    let mut runs = vec![
        run(&["plan", "-vv", "--out", saved.to_str().unwrap()], DB_PASSWORD).expect_code(0),
        run(&["plan", "--output", "json", "-v"], DB_PASSWORD).expect_code(0),
        run(&["apply", "--auto-approve", "-vv", "--output", "json"], DB_PASSWORD).expect_code(0),
    ];
    assert_eq!(live_value().as_deref(), Some(DB_PASSWORD), "the clear value reached Lambda");
    runs.push(run(&["plan", "--detailed-exitcode", "-vv"], DB_PASSWORD).expect_code(0));
    runs.push(run(&["plan", "--detailed-exitcode"], ROTATED).expect_code(2));
    runs.push(run(&["apply", "--auto-approve", "-vv"], ROTATED).expect_code(0));
    assert_eq!(live_value().as_deref(), Some(ROTATED));
    // The file stops sourcing it: the live value, about to be removed, is still hidden.
    project.rewrite(&format!(
        "stack: {stack}\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: code\n    environment: {{ GREETING: hello }}\n"
    ));
    let removed = run(&["plan", "--detailed-exitcode"], ROTATED).expect_code(2);
    assert!(removed.stdout.contains("DB_PASSWORD"), "{}", removed.stdout);
    runs.push(removed);
    runs.push(run(&["destroy", "--auto-approve", "-vv"], ROTATED).expect_code(0));
    assert!(runs[0].stdout.contains("DB_PASSWORD = \"(sensitive:"), "{}", runs[0].stdout);
    assert!(runs[0].stdout.contains("GREETING = \"hello\""), "{}", runs[0].stdout);
    assert!(runs[4].stdout.contains("DB_PASSWORD"), "the rotation shows as a change: {}", runs[4].stdout);
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    for output in runs.iter().map(crate::support::Run::output).chain([saved_text]) {
        for secret in [DB_PASSWORD, ROTATED] {
            assert!(!output.contains(secret), "{secret} leaked:\n{output}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
