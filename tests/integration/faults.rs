//! AWS as it behaves under load, from the emulator's fault profiles: concurrent-modification
//! conflicts on the REST API and on roles, Lambda's Pending and InProgress windows, new IAM roles unusable for
//! 8 s, and 10% of all calls throttled, all at once. The tool must still apply, update in place,
//! re-plan to nothing and destroy, because it retries each failed call on its own.

use std::collections::BTreeMap;

use crate::api::{Project, shop_stack};
use crate::support::{emulator, unique_stack};

/// Every fault at once: a change to the REST API or a role refused within 10 ms of another
/// (calls answered at once follow each other closer than that), 400 ms Lambda windows, roles
/// unusable for 8 s, 10% throttling.
const EVERY_FAULT: &str = "c10.l400.i8.t10";

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

/// The stack changed in place only: each function's memory and environment, a route's API key
/// requirement, the usage plan's rate.
fn changed_in_place(text: &str) -> String {
    let changed = text
        .replace("memory_mb: 128", "memory_mb: 192")
        .replace("memory_mb: 256", "memory_mb: 320")
        .replace("GREETING: hello", "GREETING: hi")
        .replace("auth: none, api_key: true", "auth: none, api_key: false")
        .replace("auth: iam, api_key: true", "auth: iam, api_key: false")
        .replace("rate: 10,", "rate: 12,")
        .replace("rate: 5,", "rate: 6,");
    assert_ne!(changed, text, "the stack has something to change");
    changed
}

/// Applies `project`'s stack changed in place, after a plan that updates and nothing else.
fn update_in_place(project: &Project, text: &str) {
    project.rewrite(&changed_in_place(text));
    let run = |args: &[&str]| project.command(args).faults(EVERY_FAULT).run();
    let plan = run(&["plan", "--output", "json"]).expect_code(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let actions: Vec<&str> = plan["changes"].as_array().unwrap().iter().filter_map(|c| c["action"].as_str()).collect();
    assert!(actions.contains(&"update"), "{actions:?}");
    assert!(actions.iter().all(|a| ["update", "no_op"].contains(a)), "in place only: {actions:?}");
    run(&["apply", "--auto-approve"]).expect_code(0);
    run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

fn apply_replan_destroy(stack: &str, text: &str) {
    let project = Project::new(text);
    let run = |args: &[&str]| project.command(args).faults(EVERY_FAULT).run();
    run(&["apply", "--auto-approve"]).expect_code(0);
    run(&["plan", "--detailed-exitcode"]).expect_code(0);
    update_in_place(&project, text);
    run(&["destroy", "--auto-approve"]).expect_code(0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let apis = runtime.block_on(emulator().apigateway().get_rest_apis().limit(500).send()).unwrap();
    assert!(apis.items().iter().all(|a| a.name() != Some(stack)), "{stack}'s API is gone");
    let functions = runtime.block_on(emulator().lambda().list_functions().send()).unwrap();
    let prefix = format!("{stack}-");
    assert!(functions.functions().iter().all(|f| !f.function_name().unwrap_or_default().starts_with(&prefix)));
}

/// API Gateway refuses a change to a REST API while another change to it is under way or a few
/// ms after (`c10`; `d20` puts AWS's round trip between two calls in sequence): the tool sends
/// them one at a time, so none is refused, in a create, an update or a destroy.
#[test]
fn the_changes_to_the_rest_api_go_one_at_a_time() {
    let stack = unique_stack("fserial");
    let text = seed_stack(&stack);
    let project = Project::new(&text);
    let run = |args: &[&str]| {
        let mut verbose = vec!["-v"];
        verbose.extend_from_slice(args);
        let run = project.command(&verbose).faults("c10.d20").run().expect_code(0);
        assert!(!run.stderr.contains("ConflictException"), "{}", run.stderr);
        assert!(run.stderr.contains("PutMethod: ok") || args[0] != "apply", "{}", run.stderr);
    };
    run(&["apply", "--auto-approve"]);
    let get = "    GET /auth:   { function: api, auth: iam,  api_key: true }\n";
    assert!(text.contains(get), "{text}");
    project.rewrite(&text.replace(get, &format!("{get}    POST /auth: {{ function: api, auth: iam }}\n")));
    run(&["apply", "--auto-approve"]);
    run(&["destroy", "--auto-approve"]);
}

#[test]
fn the_seed_and_a_larger_stack_survive_conflicts_windows_propagation_and_throttling_through_an_update() {
    let seed = unique_stack("fseed");
    let larger = unique_stack("fshop");
    std::thread::scope(|scope| {
        scope.spawn(|| apply_replan_destroy(&seed, &seed_stack(&seed)));
        scope.spawn(|| apply_replan_destroy(&larger, &larger_stack(&larger)));
    });
}

/// How many of each kind the account holds for `stack`, by kind and name: user pools, their app
/// clients, identity pools, REST APIs, usage plans, API keys, roles and functions.
pub(crate) async fn census(stack: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    let mut add = |kind: &str, name: &str| *count.entry(format!("{kind} {name}")).or_insert(0) += 1;
    let cognito = emulator().cognito();
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    for pool in pools.user_pools().iter().filter(|p| p.name() == Some(stack)) {
        add("user_pool", stack);
        let clients =
            cognito.list_user_pool_clients().user_pool_id(pool.id().unwrap()).max_results(60).send().await.unwrap();
        for client in clients.user_pool_clients() {
            add("user_pool_client", client.client_name().unwrap());
        }
    }
    let identity_pools = emulator().identity().list_identity_pools().max_results(60).send().await.unwrap();
    for _ in identity_pools.identity_pools().iter().filter(|p| p.identity_pool_name() == Some(stack)) {
        add("identity_pool", stack);
    }
    let apigateway = emulator().apigateway();
    for _ in
        apigateway.get_rest_apis().limit(500).send().await.unwrap().items().iter().filter(|a| a.name() == Some(stack))
    {
        add("rest_api", stack);
    }
    for _ in
        apigateway.get_usage_plans().limit(500).send().await.unwrap().items().iter().filter(|p| p.name() == Some(stack))
    {
        add("usage_plan", stack);
    }
    let prefix = format!("{stack}-");
    for key in apigateway.get_api_keys().name_query(&prefix).limit(500).send().await.unwrap().items() {
        add("api_key", key.name().unwrap());
    }
    for role in emulator().iam().list_roles().max_items(1000).send().await.unwrap().roles() {
        if role.role_name().starts_with(&prefix) {
            add("role", role.role_name());
        }
    }
    for function in emulator().lambda().list_functions().max_items(1000).send().await.unwrap().functions() {
        if function.function_name().unwrap_or_default().starts_with(&prefix) {
            add("function", function.function_name().unwrap());
        }
    }
    count
}

#[tokio::test]
async fn creates_answered_with_a_server_error_after_they_happened_are_found_not_repeated() {
    let stack = unique_stack("flost");
    let text = shop_stack(&stack, "", "iam", false)
        .replace("    web: {}\n", "    web: {}\n    admin: {}\n")
        .replace("api_keys: [web]", "api_keys: [web, partner]");
    let project = Project::new(&text);
    // Every create that succeeds is answered 500 (or 503) all the same.
    let run = |args: &[&str]| project.command(args).faults("e100").run();
    run(&["apply", "--auto-approve"]).expect_code(0);
    let census = census(&stack).await;
    for kind in ["user_pool", "identity_pool", "rest_api", "usage_plan"] {
        assert_eq!(census.get(&format!("{kind} {stack}")), Some(&1), "one {kind}: {census:?}");
    }
    for name in ["user_pool_client web", "user_pool_client admin", "function list", "function create"] {
        let (kind, name) = name.split_once(' ').unwrap();
        let name = if kind == "function" { format!("{stack}-{name}") } else { name.to_string() };
        assert_eq!(census.get(&format!("{kind} {name}")), Some(&1), "one {kind} {name}: {census:?}");
    }
    for key in ["web", "partner"] {
        assert_eq!(census.get(&format!("api_key {stack}-{key}")), Some(&1), "one key {key}: {census:?}");
    }
    assert!(census.keys().any(|k| k.starts_with("role ")), "{census:?}");
    assert!(census.values().all(|n| *n == 1), "no duplicates: {census:?}");
    run(&["plan", "--detailed-exitcode"]).expect_code(0);
    stops_on_a_second_client_of_one_name(&stack, &project).await;
    run(&["destroy", "--auto-approve"]).expect_code(0);
}

/// A second app client named like the stack's `web` (discovery knows clients by name) stops the
/// run with both ids, rather than one of them picked silently; deleting it lets runs go on.
async fn stops_on_a_second_client_of_one_name(stack: &str, project: &Project) {
    let cognito = emulator().cognito();
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    let pool = pools.user_pools().iter().find(|p| p.name() == Some(stack)).unwrap().id().unwrap().to_string();
    let second = cognito.create_user_pool_client().user_pool_id(&pool).client_name("web").send().await.unwrap();
    let second = second.user_pool_client().unwrap().client_id().unwrap().to_string();
    let stopped = project.command(&["plan"]).run().expect_code(1);
    assert!(stopped.stderr.contains("several resources claim user_pool_client.web"), "{}", stopped.stderr);
    assert!(stopped.stderr.contains(&second) && stopped.stderr.contains("delete the extra ones"), "{}", stopped.stderr);
    cognito.delete_user_pool_client().user_pool_id(&pool).client_id(&second).send().await.unwrap();
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
}
