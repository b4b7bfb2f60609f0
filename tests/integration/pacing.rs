//! Pacing under AWS's per-account rate limits, which the emulator enforces for runs whose
//! profile has `r`: a run after an idle account is never throttled, because it sends its burst
//! and then waits for its tokens; a run right after it finds the account's buckets partly spent,
//! may be throttled a few times, paces the quotas concerned and succeeds; several stacks at once
//! share the account, get throttled, slow down, and all succeed.

use crate::api::Project;
use crate::faults::seed_stack;
use crate::support::{emulator, unique_stack};

/// A small stack with no REST API (whose DeleteRestApi AWS allows once per 30 s per account).
fn small_stack(stack: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  clients:
    web: {{}}
    mobile: {{}}
identity_pool:
  clients: [web, mobile]
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
"
    )
}

#[test]
fn a_run_after_an_idle_account_is_never_throttled_and_six_at_once_all_succeed() {
    let stack = unique_stack("paced");
    let project = Project::new(&seed_stack(&stack));
    let applied = project.command(&["apply", "--auto-approve"]).faults("r").run().expect_code(0);
    assert_eq!(applied.throttled(), 0, "apply paced itself under the limits");
    let destroyed = project.command(&["destroy", "--auto-approve"]).faults("r").run().expect_code(0);
    let throttled = destroyed.throttled();
    assert!(throttled <= 8, "a destroy right after the apply is throttled a few times, then paced: {throttled}");

    let stacks: Vec<String> = (0..6).map(|_| unique_stack("six")).collect();
    let projects: Vec<Project> = stacks.iter().map(|stack| Project::new(&small_stack(stack))).collect();
    let together = |command: &[&str]| {
        std::thread::scope(|scope| {
            for project in &projects {
                scope.spawn(|| project.command(command).faults("r").run().expect_code(0));
            }
        });
    };
    together(&["apply", "--auto-approve"]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let pools = runtime.block_on(emulator().cognito().list_user_pools().max_results(60).send()).unwrap();
    for stack in &stacks {
        assert_eq!(pools.user_pools().iter().filter(|p| p.name() == Some(stack.as_str())).count(), 1, "{stack}");
    }
    together(&["destroy", "--auto-approve"]);
    let pools = runtime.block_on(emulator().cognito().list_user_pools().max_results(60).send()).unwrap();
    assert!(pools.user_pools().iter().all(|p| !stacks.iter().any(|s| p.name() == Some(s.as_str()))));
}
