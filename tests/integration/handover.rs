//! The stack lock handed over on an eventually consistent AWS: a holder killed mid-apply, or one
//! on another machine whose lease ends, is taken over by exactly one of three runs started
//! together, and a run right after another, while AWS's lists still miss what the first created
//! (the emulator's listing lag `sN`), creates nothing twice.

use std::time::{Duration, Instant};

use crate::api::Project;
use crate::faults::{census, seed_stack};
use crate::support::{emulator, unique_stack};

/// The lock generations of `stack` AWS lists: role names under its lock path.
async fn lock_generations(stack: &str) -> Vec<String> {
    let listed = emulator().iam().list_roles().path_prefix(format!("/authdemo-lock/{stack}/")).send().await.unwrap();
    listed.roles().iter().map(|r| r.role_name().to_string()).collect()
}

/// Asserts the account holds exactly one of each of the seed's resources of `stack`.
async fn exactly_one_of_each_seed_resource(stack: &str) {
    let census = census(stack).await;
    for kind in ["user_pool", "identity_pool", "rest_api", "usage_plan"] {
        assert_eq!(census.get(&format!("{kind} {stack}")), Some(&1), "one {kind}: {census:?}");
    }
    assert!(census.keys().any(|k| k.starts_with("api_key ")), "{census:?}");
    assert!(census.keys().any(|k| k.starts_with("function ")), "{census:?}");
    assert!(census.values().all(|n| *n == 1), "no duplicates: {census:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_killed_mid_apply_is_taken_over_by_exactly_one_of_three_runs() {
    let stack = unique_stack("hkill");
    let project = Project::new(&seed_stack(&stack));
    // New roles unusable for 8 s keep the holder inside the lock, its roles made, long enough.
    let (mut holder, _) = project.command(&["apply", "--auto-approve"]).faults("i8").spawn_piped();
    let started = Instant::now();
    while !census(&stack).await.keys().any(|k| k.starts_with("role ")) {
        assert!(started.elapsed() < Duration::from_mins(1), "the holder made no role");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(lock_generations(&stack).await, [format!("authdemo-lock-{stack}.1")]);
    holder.kill().unwrap();
    holder.wait().unwrap();

    three_runs_at_once_exactly_one_applies(&project, &stack, Some("i8")).await;
}

/// Starts three applies of `project` at once (with the fault profile `faults`) and checks that exactly one
/// applies, the others waited naming the holder (and then had nothing to do, or gave up naming
/// it), one of each resource exists, and each holder had a generation of its own.
async fn three_runs_at_once_exactly_one_applies(project: &Project, stack: &str, faults: Option<&str>) {
    let before = lock_generations(stack).await.len();
    let apply = || {
        let command = project.command(&["apply", "--auto-approve"]);
        match faults {
            Some(faults) => command.faults(faults),
            None => command,
        }
        .spawn_piped()
        .0
    };
    let runs: Vec<_> = (0..3).map(|_| apply()).collect();
    let outputs: Vec<_> = runs.into_iter().map(|run| run.wait_with_output().unwrap()).collect();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let applied = outputs.iter().filter(|o| text(&o.stdout).contains("apply complete")).count();
    let all: Vec<_> = outputs.iter().map(|o| format!("{}\n{}", text(&o.stdout), text(&o.stderr))).collect();
    assert_eq!(applied, 1, "exactly one applies: {all:#?}");
    for output in &outputs {
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        let waited = output.status.success() && (stdout.contains("apply complete") || stdout.contains("No changes"));
        let gave_up = output.status.code() == Some(1) && stderr.contains("is being changed by another run (since");
        assert!(waited || gave_up, "{all:#?}");
    }
    let named = outputs.iter().filter(|o| text(&o.stderr).contains("waiting for the stack's lock, held since")).count();
    assert!(named >= 2, "the two others waited, naming the holder: {all:#?}");
    exactly_one_of_each_seed_resource(stack).await;
    let generations = lock_generations(stack).await;
    assert_eq!(generations.len(), before + 3, "one generation per holder, none deleted while fresh: {generations:?}");
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_runs_waiting_for_a_lease_from_another_machine_to_end_take_it_one_at_a_time() {
    let stack = unique_stack("hlease");
    let project = Project::new(&seed_stack(&stack));
    // A holder on another machine (another boot): only its lease, ending in 4 s, can free the lock.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let tag = |key: &str, value: String| aws_sdk_iam::types::Tag::builder().key(key).value(value).build().unwrap();
    emulator()
        .iam()
        .create_role()
        .role_name(format!("authdemo-lock-{stack}.1"))
        .path(format!("/authdemo-lock/{stack}/"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .tags(tag("authdemo:lock-holder", "ci@elsewhere pid 7".into()))
        .tags(tag("authdemo:lock-host", "elsewhere".into()))
        .tags(tag("authdemo:lock-pid", "7".into()))
        .tags(tag("authdemo:lock-process", "another-boot/4026531836/7/99".into()))
        .tags(tag("authdemo:lock-since", now.to_string()))
        .tags(tag("authdemo:lock-lease-until", (now + 4).to_string()))
        .send()
        .await
        .unwrap();
    // Their CreateRole of the next generation meet: IAM answers 409 ConcurrentModification (`c10`).
    three_runs_at_once_exactly_one_applies(&project, &stack, Some("c10")).await;
}

#[test]
fn a_run_right_after_another_waits_for_the_lists_and_creates_nothing_twice() {
    let stack = unique_stack("hlag");
    let project = Project::new(&seed_stack(&stack));
    // AWS's lists and IAM's reads miss for 4 s what was created or changed.
    let run = |args: &[&str]| project.command(args).faults("s4000").run();
    run(&["apply", "--auto-approve"]).expect_code(0);
    let second = run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(second.stdout.contains("No changes"), "{}\n{}", second.stdout, second.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(exactly_one_of_each_seed_resource(&stack));
    std::thread::sleep(Duration::from_secs(4));
    run(&["plan", "--detailed-exitcode"]).expect_code(0);
    run(&["destroy", "--auto-approve"]).expect_code(0);
}

#[test]
fn the_seeds_create_plan_and_destroy_stay_within_their_call_counts() {
    let stack = unique_stack("hcount");
    let project = Project::new(&seed_stack(&stack));
    let created = project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let planned = project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    let destroyed = project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
    let counts =
        [("create", created.calls(), 55), ("no-change plan", planned.calls(), 25), ("destroy", destroyed.calls(), 65)];
    for (run, calls, most) in counts {
        assert!(calls.len() <= most, "{run}: {} AWS calls, more than {most}: {calls:?}", calls.len());
    }
    // Nothing ran on this stack before the create, and the destroy found everything the create
    // said it made: neither read the account twice.
    let reads = |calls: &[String]| calls.iter().filter(|op| *op == "GetAccountAuthorizationDetails").count();
    assert_eq!(reads(&created.calls()), 1, "{:?}", created.calls());
    assert_eq!(reads(&destroyed.calls()), 1, "{:?}", destroyed.calls());
    // The create said in its lock role's Description, which ListRoles shows, that it let go:
    // the destroy saw the lock free without a GetRole.
    assert!(!destroyed.calls().iter().any(|op| op == "GetRole"), "{:?}", destroyed.calls());
    // The domain's delete left the wait to the pool's, which AWS refuses until the domain is
    // gone: the destroy never looked at the domain.
    assert!(destroyed.calls().iter().any(|op| op == "DeleteUserPoolDomain"), "{:?}", destroyed.calls());
    assert!(!destroyed.calls().iter().any(|op| op == "DescribeUserPoolDomain"), "{:?}", destroyed.calls());
}
