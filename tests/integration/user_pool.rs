//! The user pool slice end to end: plan → apply → read back → no-op → update → replace →
//! delete → destroy, and foreign pools left alone.

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{UserPoolType, UserStatusType};

use crate::support::{StackFile, authdemo, emulator, unique_stack};

const PASSWORD: &str = "Corr3ct-Horse";

fn stack_text(stack: &str, min_length: u32, domain: &str, clients: &[&str]) -> String {
    let mut text = format!(
        "stack: {stack}
user_pool:
  password_policy: {{ min_length: {min_length}, require_symbols: false }}
  auto_verified_attributes: [email]
  domain: {domain}
  clients:
"
    );
    for client in clients {
        text.push_str(&format!(
            "    {client}:
      callback_urls: [\"http://localhost:3000/\"]
      logout_urls: [\"http://localhost:3000/bye\"]
      oauth: {{ flows: [code], scopes: [openid, email] }}
      auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
"
        ));
    }
    text.push_str(
        "  users:
    demouser:
      attributes: { email: demo@example.com }
      password: ${env:DEMO_USER_PASSWORD}
",
    );
    text
}

/// Every pool named `name`, described.
async fn pools_named(cognito: &Client, name: &str) -> Vec<UserPoolType> {
    let listed = cognito.list_user_pools().max_results(60).send().await.unwrap();
    let mut pools = Vec::new();
    for pool in listed.user_pools().iter().filter(|p| p.name() == Some(name)) {
        let described = cognito.describe_user_pool().user_pool_id(pool.id().unwrap()).send().await.unwrap();
        pools.push(described.user_pool.unwrap());
    }
    pools
}

/// The one pool tagged with `stack`, if any.
async fn stack_pool(cognito: &Client, stack: &str) -> Option<UserPoolType> {
    let tagged: Vec<UserPoolType> = pools_named(cognito, stack)
        .await
        .into_iter()
        .filter(|p| p.user_pool_tags().and_then(|t| t.get("authdemo:stack")).map(String::as_str) == Some(stack))
        .collect();
    assert!(tagged.len() <= 1, "one pool per stack, found {}", tagged.len());
    tagged.into_iter().next()
}

async fn client_names(cognito: &Client, pool_id: &str) -> Vec<String> {
    let listed = cognito.list_user_pool_clients().user_pool_id(pool_id).max_results(60).send().await.unwrap();
    let mut names: Vec<String> =
        listed.user_pool_clients().iter().map(|c| c.client_name().unwrap_or_default().to_string()).collect();
    names.sort();
    names
}

/// Whether an operation the emulator recorded only reads (REST calls are recorded as `METHOD /path`).
pub(crate) fn is_read_only(operation: &str) -> bool {
    ["Describe", "List", "Get", "AdminGetUser", "GET "].iter().any(|prefix| operation.starts_with(prefix))
}

/// The mutating calls of a run that changed something, without the two that take and give back
/// the stack's lock (the run's first CreateRole and its last UpdateRole, which says it let go).
pub(crate) fn resource_changes(calls: Vec<String>) -> Vec<String> {
    let mut mutating: Vec<String> = calls.into_iter().filter(|op| !is_read_only(op)).collect();
    if mutating.first().map(String::as_str) == Some("CreateRole")
        && mutating.last().map(String::as_str) == Some("UpdateRole")
    {
        mutating.pop();
        mutating.remove(0);
    }
    mutating
}

#[tokio::test]
async fn core_scenario_plan_apply_update_replace_delete_destroy() {
    let stack = unique_stack("core");
    let domain = format!("{stack}-a");
    let file = StackFile::new(&stack_text(&stack, 8, &domain, &["web", "admin"]));
    let cognito = emulator().cognito();
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);

    let planned = run(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(planned.stdout.contains("Plan: 5 to add, 0 to change, 0 to destroy."), "{}", planned.stdout);
    assert!(stack_pool(&cognito, &stack).await.is_none(), "plan must not create anything");

    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let pool = stack_pool(&cognito, &stack).await.expect("the pool exists");
    let pool_id = pool.id().unwrap().to_string();
    let tags = pool.user_pool_tags().unwrap();
    assert_eq!(tags.get("authdemo:id").map(String::as_str), Some("user_pool.main"));
    let policy = pool.policies().unwrap().password_policy().unwrap();
    assert_eq!(policy.minimum_length(), Some(8));
    assert!(!policy.require_symbols() && policy.require_uppercase());
    assert_eq!(
        pool.auto_verified_attributes()
            .iter()
            .map(aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::as_str)
            .collect::<Vec<_>>(),
        ["email"]
    );
    assert_eq!(pool.domain(), Some(domain.as_str()));
    assert_eq!(client_names(&cognito, &pool_id).await, ["admin", "web"]);
    let clients = cognito.list_user_pool_clients().user_pool_id(&pool_id).send().await.unwrap();
    let web_id =
        clients.user_pool_clients().iter().find(|c| c.client_name() == Some("web")).unwrap().client_id().unwrap();
    let web = cognito.describe_user_pool_client().user_pool_id(&pool_id).client_id(web_id).send().await.unwrap();
    let web = web.user_pool_client().unwrap();
    assert_eq!(web.callback_urls(), ["http://localhost:3000/"]);
    assert_eq!(web.logout_urls(), ["http://localhost:3000/bye"]);
    assert_eq!(
        web.allowed_o_auth_flows()
            .iter()
            .map(aws_sdk_cognitoidentityprovider::types::OAuthFlowType::as_str)
            .collect::<Vec<_>>(),
        ["code"]
    );
    assert_eq!(web.allowed_o_auth_flows_user_pool_client(), Some(true));
    let user = cognito.admin_get_user().user_pool_id(&pool_id).username("demouser").send().await.unwrap();
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    let attributes: HashMap<&str, &str> =
        user.user_attributes().iter().map(|a| (a.name(), a.value().unwrap_or_default())).collect();
    assert_eq!(attributes.get("email"), Some(&"demo@example.com"));
    // The password works: sign in with it.
    let tokens = crate::api::sign_in_demouser(web_id, PASSWORD).await.unwrap();
    assert!(tokens.id_token().is_some());

    let replanned = run(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    assert!(replanned.stdout.contains("No changes"), "{}", replanned.stdout);
    let again = run(&["apply", "--auto-approve"]).run().expect_code(0);
    let mutating: Vec<String> = again.calls().into_iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "a second apply made mutating calls: {mutating:?}");

    file.write(&stack_text(&stack, 12, &domain, &["web", "admin"]));
    let update = run(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(update.stdout.contains("~ user_pool.main"), "{}", update.stdout);
    assert!(update.stdout.contains("password_policy.min_length: 8 → 12"), "{}", update.stdout);
    assert!(update.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", update.stdout);
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let pool = stack_pool(&cognito, &stack).await.unwrap();
    assert_eq!(pool.id(), Some(pool_id.as_str()), "updated in place");
    assert_eq!(pool.policies().unwrap().password_policy().unwrap().minimum_length(), Some(12));
    assert!(!pool.policies().unwrap().password_policy().unwrap().require_symbols(), "full config sent");

    let new_domain = format!("{stack}-b");
    file.write(&stack_text(&stack, 12, &new_domain, &["web", "admin"]));
    let replace = run(&["plan", "--output", "json"]).run().expect_code(0);
    let plan: serde_json::Value = serde_json::from_str(&replace.stdout).unwrap();
    let acting: Vec<(String, String)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .map(|c| (c["address"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(acting, [("user_pool_domain.main".to_string(), "replace".to_string())]);
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let pool = stack_pool(&cognito, &stack).await.unwrap();
    assert_eq!((pool.id(), pool.domain()), (Some(pool_id.as_str()), Some(new_domain.as_str())));
    let old = cognito.describe_user_pool_domain().domain(&domain).send().await.unwrap();
    assert!(old.domain_description().is_none_or(|d| d.user_pool_id().is_none()), "old domain deleted");

    file.write(&stack_text(&stack, 12, &new_domain, &["web"]));
    let removal = run(&["apply", "--auto-approve"]).run().expect_code(0);
    assert!(removal.stdout.contains("- user_pool_client.admin"), "{}", removal.stdout);
    assert_eq!(client_names(&cognito, &pool_id).await, ["web"]);

    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(stack_pool(&cognito, &stack).await.is_none(), "nothing tagged with the stack remains");
    assert!(pools_named(&cognito, &stack).await.is_empty());
    run(&["plan", "--detailed-exitcode"]).run().expect_code(2);
}

#[tokio::test]
async fn a_foreign_pool_with_the_same_name_is_a_conflict_until_adopted() {
    let stack = unique_stack("foreign");
    let cognito = emulator().cognito();
    let foreign = cognito.create_user_pool().pool_name(&stack).send().await.unwrap();
    let foreign_id = foreign.user_pool().unwrap().id().unwrap().to_string();
    let file = StackFile::new(&stack_text(&stack, 10, &format!("{stack}-d"), &["web"]));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);

    let planned = run(&["plan"]).run().expect_code(1);
    assert!(planned.stderr.contains("apply would refuse this plan"), "{}", planned.stderr);
    assert!(
        planned.stdout.contains(&format!("conflict: user_pool.main is already taken by {foreign_id}")),
        "{}",
        planned.stdout
    );
    assert!(planned.stdout.contains("no `authdemo:stack`/`authdemo:id` ownership tags"), "{}", planned.stdout);
    assert!(planned.stdout.contains("pass --adopt user_pool.main"), "{}", planned.stdout);

    let refused = run(&["apply", "--auto-approve"]).run().expect_code(1);
    assert!(refused.stderr.contains("run again with --adopt user_pool.main"), "{}", refused.stderr);
    let mutating: Vec<String> = refused.calls().into_iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "nothing is touched: {mutating:?}");
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    let left = pools_named(&cognito, &stack).await;
    assert_eq!(left.len(), 1, "only the foreign pool exists");
    assert!(
        left[0].user_pool_tags().is_none_or(std::collections::HashMap::is_empty),
        "the foreign pool was not tagged"
    );
    assert!(client_names(&cognito, &foreign_id).await.is_empty(), "nor changed");

    let adopting = run(&["plan", "--adopt", "user_pool.main"]).run().expect_code(0);
    assert!(adopting.stdout.contains("~ user_pool.main"), "{}", adopting.stdout);
    assert!(adopting.stdout.contains("(adopted)"), "{}", adopting.stdout);
    run(&["apply", "--auto-approve", "--adopt", "user_pool.main"]).run().expect_code(0);
    let adopted = stack_pool(&cognito, &stack).await.expect("the foreign pool is now the stack's");
    assert_eq!(adopted.id(), Some(foreign_id.as_str()));
    assert_eq!(adopted.policies().unwrap().password_policy().unwrap().minimum_length(), Some(10));
    assert_eq!(client_names(&cognito, &foreign_id).await, ["web"]);
    assert_eq!(pools_named(&cognito, &stack).await.len(), 1, "no second pool");
    run(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(pools_named(&cognito, &stack).await.is_empty(), "an adopted pool is the stack's to destroy");
}

#[tokio::test]
async fn a_failed_apply_is_finished_by_the_next_one_without_duplicates() {
    let stack = unique_stack("resume");
    let cognito = emulator().cognito();
    // Another pool already holds the domain prefix: the domain step fails, the rest succeeds.
    let taken = format!("{stack}-taken");
    let other = cognito.create_user_pool().pool_name(format!("{stack}-other")).send().await.unwrap();
    let other_id = other.user_pool().unwrap().id().unwrap().to_string();
    cognito.create_user_pool_domain().user_pool_id(&other_id).domain(&taken).send().await.unwrap();
    let file = StackFile::new(&stack_text(&stack, 8, &taken, &["web"]));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);

    let failed = run(&["apply", "--auto-approve"]).run().expect_code(1);
    assert!(failed.stdout.contains("user_pool_domain.main: failed"), "{}", failed.stdout);
    let on_stderr = "error: user_pool_domain.main: CreateUserPoolDomain failed: InvalidParameterException: ";
    assert!(failed.stderr.contains(on_stderr), "{}", failed.stderr);
    let again = format!("fix the cause and run `authdemo apply -f {} --auto-approve`", file.path().display());
    assert!(failed.stdout.contains(&again), "{}", failed.stdout);
    let pool = stack_pool(&cognito, &stack).await.expect("the pool was created");
    assert_eq!(client_names(&cognito, pool.id().unwrap()).await, ["web"]);

    let free = format!("{stack}-free");
    file.write(&stack_text(&stack, 8, &free, &["web"]));
    let resumed = run(&["apply", "--auto-approve"]).run().expect_code(0);
    assert!(resumed.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."), "{}", resumed.stdout);
    let resumed_pool = stack_pool(&cognito, &stack).await.unwrap();
    assert_eq!((resumed_pool.id(), resumed_pool.domain()), (pool.id(), Some(free.as_str())));
    assert_eq!(pools_named(&cognito, &stack).await.len(), 1, "no duplicate pool");

    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    cognito.delete_user_pool_domain().user_pool_id(&other_id).domain(&taken).send().await.unwrap();
    // The domain is deleted asynchronously, as on AWS: the pool can go once it is gone.
    for _ in 0..50 {
        if cognito.delete_user_pool().user_pool_id(&other_id).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the hand-made pool could not be deleted");
}

#[tokio::test]
async fn deletion_protection_stops_destroy_before_anything_is_deleted() {
    let stack = unique_stack("protect");
    let cognito = emulator().cognito();
    let protected = stack_text(&stack, 8, &format!("{stack}-p"), &["web"]).replace(
        "  auto_verified_attributes: [email]\n",
        "  auto_verified_attributes: [email]\n  deletion_protection: true\n",
    );
    let file = StackFile::new(&protected);
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);
    run(&["apply", "--auto-approve"]).run().expect_code(0);

    let refused = run(&["destroy", "--auto-approve"]).run().expect_code(1);
    assert!(
        refused.stderr.contains("refusing to delete user_pool.main: its deletion protection is on"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("set `deletion_protection: false`"), "{}", refused.stderr);
    let pool = stack_pool(&cognito, &stack).await.expect("the pool is still there");
    assert_eq!(client_names(&cognito, pool.id().unwrap()).await, ["web"], "nothing was deleted");
    assert!(pool.domain().is_some());

    file.write(&protected.replace("deletion_protection: true", "deletion_protection: false"));
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(stack_pool(&cognito, &stack).await.is_none());
}

#[tokio::test]
async fn removing_the_user_pool_from_the_file_needs_allow_delete_and_says_how_many_users_go() {
    let stack = unique_stack("rmpool");
    let cognito = emulator().cognito();
    let file = StackFile::new(&stack_text(&stack, 8, &format!("{stack}-d"), &["web"]));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);
    run(&["apply", "--auto-approve"]).run().expect_code(0);

    file.write(&format!("stack: {stack}\n"));
    let planned = run(&["plan"]).run().expect_code(0);
    assert!(planned.stdout.contains("- user_pool.main"), "{}", planned.stdout);
    assert!(planned.stdout.contains("deleting it deletes its 1 user"), "{}", planned.stdout);
    let refused = run(&["apply", "--auto-approve"]).run().expect_code(1);
    assert!(refused.stderr.contains("refusing to delete user_pool.main"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-delete user_pool.main"), "{}", refused.stderr);
    let mutating: Vec<String> = refused.calls().into_iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "nothing is touched: {mutating:?}");
    assert!(stack_pool(&cognito, &stack).await.is_some(), "the pool and its users stay");

    run(&["apply", "--auto-approve", "--allow-delete", "user_pool.main"]).run().expect_code(0);
    assert!(pools_named(&cognito, &stack).await.is_empty());
}
