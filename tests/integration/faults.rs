//! AWS as it behaves under load, from the emulator's fault profiles: concurrent-modification
//! conflicts on the REST API, Lambda's Pending and InProgress windows, new IAM roles unusable for
//! 8 s, and 10% of all calls throttled, all at once. The tool must still apply, re-plan to
//! nothing and destroy, because it retries each failed call on its own.

use crate::api::{Project, shop_stack};
use crate::support::{emulator, unique_stack};

/// Every fault at once: 30% REST API conflicts, 400 ms Lambda windows, roles unusable for 8 s,
/// 10% throttling.
const EVERY_FAULT: &str = "c30.l400.i8.t10";

/// The seed application (`stacks/demo.yaml`) under `stack`, its code beside it.
pub(crate) fn seed_stack(stack: &str) -> String {
    let seed =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/demo.yaml")).unwrap();
    seed.replace("auth-api-demo-${var.env}", stack)
        .replace("../examples/api", "code")
        .replace("region: us-west-2\n", "")
}

/// A larger stack: three functions sharing routes on nested paths, with a usage plan.
fn larger_stack(stack: &str) -> String {
    shop_stack(stack, "    PUT /items/{id}/tags: { function: create }\n", "iam", true)
}

fn apply_replan_destroy(stack: &str, text: &str) {
    let project = Project::new(text);
    let run = |args: &[&str]| project.command(args).faults(EVERY_FAULT).run();
    run(&["apply", "--auto-approve"]).expect_code(0);
    run(&["plan", "--detailed-exitcode"]).expect_code(0);
    run(&["destroy", "--auto-approve"]).expect_code(0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let apis = runtime.block_on(emulator().apigateway().get_rest_apis().limit(500).send()).unwrap();
    assert!(apis.items().iter().all(|a| a.name() != Some(stack)), "{stack}'s API is gone");
    let functions = runtime.block_on(emulator().lambda().list_functions().send()).unwrap();
    let prefix = format!("{stack}-");
    assert!(functions.functions().iter().all(|f| !f.function_name().unwrap_or_default().starts_with(&prefix)));
}

#[test]
fn the_seed_and_a_larger_stack_survive_conflicts_windows_propagation_and_throttling() {
    let seed = unique_stack("fseed");
    let larger = unique_stack("fshop");
    std::thread::scope(|scope| {
        scope.spawn(|| apply_replan_destroy(&seed, &seed_stack(&seed)));
        scope.spawn(|| apply_replan_destroy(&larger, &larger_stack(&larger)));
    });
}
