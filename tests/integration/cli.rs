//! The command-line contract: exit codes, confirmation, variables, regions.

use crate::support::{StackFile, authdemo, unique_stack};

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses_before_any_call() {
    let file = StackFile::new(&format!(
        "stack: {}-${{var.env}}\nvars: {{ env: dev }}\nuser_pool: {{}}\n",
        unique_stack("tty")
    ));
    for command in ["apply", "destroy"] {
        let run = authdemo(&[command, "--var", "env=pr-7"]).file(&file.path()).emulated().run().expect_code(1);
        assert!(run.stderr.contains("there is no terminal to ask on"), "{}", run.stderr);
        let again = format!("`authdemo {command} -f {} --var env=pr-7 --auto-approve`", file.path().display());
        assert!(run.stderr.contains(&again), "the hint repeats -f and --var: {}", run.stderr);
        assert!(run.calls().is_empty(), "{command} called AWS: {:?}", run.calls());
    }
}

#[test]
fn vars_from_the_command_line_override_defaults() {
    let file = StackFile::new("stack: demo-${var.env}\nvars:\n  env: dev\n");
    let run = authdemo(&["validate", "--var", "env=pr-42"]).file(&file.path()).run().expect_code(0);
    assert!(run.stdout.contains("stack `demo-pr-42`"), "{}", run.stdout);
    let undeclared = authdemo(&["validate", "--var", "stage=x"]).file(&file.path()).run().expect_code(1);
    assert!(undeclared.stderr.contains("--var stage: sets a variable the stack file does not declare"));
}

#[test]
fn a_missing_region_is_a_clear_error() {
    let file = StackFile::new("stack: demo\n");
    let run = authdemo(&["plan"]).file(&file.path()).env_remove("AWS_REGION").run().expect_code(1);
    assert!(run.stderr.contains("no AWS region is set: pass --region"), "{}", run.stderr);
}

#[test]
fn a_missing_stack_file_names_the_file() {
    let run = authdemo(&["validate", "-f", "/nonexistent/stack.yaml"]).run().expect_code(1);
    assert!(run.stderr.contains("/nonexistent/stack.yaml:1:1: cannot read the stack file"), "{}", run.stderr);
}

#[test]
fn plan_exit_codes_follow_detailed_exitcode() {
    let file = StackFile::new(&format!("stack: {}\nuser_pool: {{}}\n", unique_stack("exit")));
    authdemo(&["plan"]).file(&file.path()).emulated().run().expect_code(0);
    authdemo(&["plan", "--detailed-exitcode"]).file(&file.path()).emulated().run().expect_code(2);
}

#[test]
fn every_shipped_stack_file_validates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<_> = ["stacks", "examples"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        authdemo(&["validate"])
            .file(&file)
            .env("DEMO_USER_PASSWORD", "Demo-Passw0rd")
            .env("ADMIN_PASSWORD", "Admin-Passw0rd-1")
            .run()
            .expect_code(0);
    }
}

#[test]
fn missing_credentials_say_how_to_provide_them() {
    let file = StackFile::new("stack: demo\n");
    let run = authdemo(&["plan"])
        .file(&file.path())
        .emulated()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("check the credentials: --profile or AWS_PROFILE"), "{}", run.stderr);
}

#[test]
fn an_endpoint_that_never_answers_gives_a_clear_error_in_bounded_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accepts every connection and never answers, as a stalled proxy does.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    let file = StackFile::new("stack: demo\nuser_pool: {}\n");
    let started = std::time::Instant::now();
    let run = authdemo(&["plan", "--call-timeout", "1", "--endpoint-url", &endpoint]).file(&file.path()).run();
    let run = run.expect_code(1);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(run.stderr.contains("GetCallerIdentity failed"), "{}", run.stderr);
    assert!(run.stderr.contains("check the network"), "{}", run.stderr);
    assert!(!run.stderr.contains("Error {"), "no debug dump: {}", run.stderr);
}

#[test]
fn a_refused_connection_is_the_network_not_the_credentials() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = StackFile::new("stack: demo\nuser_pool: {}\n");
    let endpoint = format!("http://127.0.0.1:{port}");
    let run = authdemo(&["plan", "--endpoint-url", &endpoint]).file(&file.path()).env("AWS_MAX_ATTEMPTS", "1").run();
    let run = run.expect_code(1);
    assert!(run.stderr.contains("check the network"), "{}", run.stderr);
    assert!(!run.stderr.contains("check the credentials"), "{}", run.stderr);
}

#[test]
fn the_output_format_flag_is_format_in_every_command_and_output_stays_an_alias() {
    for command in ["plan", "apply", "destroy", "output", "graph", "access", "verify"] {
        let help = authdemo(&[command, "--help"]).run().expect_code(0).stdout;
        assert!(help.contains("--format <"), "`{command} --help` has --format:\n{help}");
        assert!(!help.contains("--output"), "`{command} --help` shows only one name:\n{help}");
    }
    let file = StackFile::new("stack: demo\n");
    let old = authdemo(&["plan", "--output", "jsn", "--endpoint-url", "http://127.0.0.1:9"]).file(&file.path()).run();
    assert!(old.expect_code(2).stderr.contains("invalid value 'jsn' for '--format <FORMAT>'"));
}

#[test]
fn every_command_has_an_example_and_only_aws_commands_take_aws_options() {
    let commands =
        ["validate", "plan", "apply", "destroy", "output", "access", "verify", "permissions", "unlock", "graph"];
    for command in commands.into_iter().chain(["schema", "completions"]) {
        let help = authdemo(&[command, "--help"]).run().expect_code(0).stdout;
        assert!(help.contains(&format!("Examples:\n  authdemo {command} ")), "`{command} --help`:\n{help}");
        let calls_aws = ["plan", "apply", "destroy", "output", "access", "verify", "unlock"].contains(&command);
        for option in ["--profile", "--endpoint-url", "--call-timeout"] {
            assert_eq!(help.contains(option), calls_aws, "`{command} --help` and {option}:\n{help}");
        }
    }
}
