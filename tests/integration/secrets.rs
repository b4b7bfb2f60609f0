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
