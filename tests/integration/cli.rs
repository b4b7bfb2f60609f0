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

/// `authdemo plan ARGS` with no credentials, `AWS_CONFIG_FILE` naming a missing file and, when
/// given, a credentials file whose profile's `credential_process` does not exist.
fn plan_without_credentials(args: &[&str], credentials: Option<&std::path::Path>) -> crate::support::Run {
    let file = StackFile::new("stack: demo\n");
    let missing = file.path().with_file_name("no-such-config");
    let mut all = vec!["plan"];
    all.extend(args);
    let mut run = authdemo(&all)
        .file(&file.path())
        .emulated()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", missing.to_str().unwrap());
    if let Some(credentials) = credentials {
        run = run.env("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap());
    }
    run.run().expect_code(1)
}

#[test]
fn without_credentials_only_the_tools_error_shows_and_v_adds_the_sdks_warnings_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, "[default]\ncredential_process = /nonexistent/authdemo-helper\n").unwrap();
    for given in [None, Some(credentials.as_path())] {
        let quiet = plan_without_credentials(&[], given);
        assert!(
            quiet.stderr.starts_with("error: cannot identify the AWS account of these credentials: "),
            "{}",
            quiet.stderr
        );
        assert!(quiet.stderr.ends_with("or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"), "{}", quiet.stderr);
        assert_eq!(quiet.stderr.matches("error: cannot").count(), 1, "{}", quiet.stderr);
        assert!(!quiet.stderr.contains("WARN") && !quiet.stderr.contains(" {"), "{}", quiet.stderr);
        assert!(quiet.stdout.is_empty(), "{}", quiet.stdout);
    }

    let verbose = plan_without_credentials(&["-v"], Some(&credentials));
    let sdk: Vec<&str> = verbose.stderr.lines().filter(|line| line.starts_with("WARN aws_")).collect();
    let missing = "WARN aws_runtime::env_config::source: config file overridden via environment variable not found";
    assert!(sdk.iter().any(|line| line.starts_with(missing)), "{}", verbose.stderr);
    let chain = "WARN aws_config::meta::credentials::chain: provider failed to provide credentials provider=Profile";
    let failed = sdk.iter().find(|line| line.starts_with(chain)).unwrap_or_else(|| panic!("{}", verbose.stderr));
    assert!(failed.contains("/nonexistent/authdemo-helper"), "the whole error on its one line: {failed}");
    assert!(sdk.iter().all(|line| !line.contains('{')), "no Debug dump: {}", verbose.stderr);
    assert!(
        verbose.stderr.contains("error: cannot identify the AWS account of these credentials"),
        "{}",
        verbose.stderr
    );
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

/// `authdemo schema | head -c 1`: a reader that goes away ends the command as it ends `cat`
/// (SIGPIPE), without a panic's "failed printing to stdout" on stderr.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;

    let (mut child, _) = authdemo(&["schema"]).spawn_piped();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.signal(), Some(13), "ended by SIGPIPE: {:?} {stderr}", output.status);
}
