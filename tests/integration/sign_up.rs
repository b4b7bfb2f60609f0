//! Nobody joins the user pool unless the file says so: sign-up is closed at creation, opened
//! by hand it is drift that apply closes, `verify` proves a stranger is refused, and with
//! `self_sign_up: true` `access` counts strangers as signed-in users and warns.

use serde_json::Value;

use crate::api::Project;
use crate::faults::seed_stack;
use crate::support::{emulator, unique_stack};

/// The stack's pool id and its `web` client id, read back with the SDK.
async fn pool_and_client(stack: &str) -> (String, String) {
    let cognito = emulator().cognito();
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    let pool = pools.user_pools().iter().find(|p| p.name() == Some(stack)).unwrap().id().unwrap().to_string();
    let clients = cognito.list_user_pool_clients().user_pool_id(&pool).send().await.unwrap();
    let client = clients.user_pool_clients()[0].client_id().unwrap().to_string();
    (pool, client)
}

async fn admin_only(pool: &str) -> bool {
    let described = emulator().cognito().describe_user_pool().user_pool_id(pool).send().await.unwrap();
    described
        .user_pool()
        .unwrap()
        .admin_create_user_config()
        .is_some_and(aws_sdk_cognitoidentityprovider::types::AdminCreateUserConfigType::allow_admin_create_user_only)
}

async fn stranger_signs_up(client: &str) -> Result<(), String> {
    let cognito = emulator().cognito();
    let name = unique_stack("stranger");
    let answer = cognito.sign_up().client_id(client).username(name).password("Str4nger-Passw0rd!").send().await;
    answer.map(drop).map_err(|e| aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(e).to_string())
}

#[tokio::test]
async fn sign_up_is_closed_by_default_verified_refused_and_put_back_when_opened_by_hand() {
    let stack = unique_stack("signup");
    let project = Project::new(&seed_stack(&stack));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let (pool, client) = pool_and_client(&stack).await;
    assert!(admin_only(&pool).await, "AllowAdminCreateUserOnly is on");
    let refused = stranger_signs_up(&client).await.expect_err("a stranger cannot sign up");
    assert!(refused.contains("NotAuthorizedException") && refused.contains("SignUp is not permitted"), "{refused}");

    let verified = project.command(&["verify", "--settle", "3"]).run().expect_code(0);
    assert!(verified.stdout.contains("sign-up: a stranger's SignUp was refused"), "{}", verified.stdout);
    let verified = project.command(&["verify", "--format", "json", "--settle", "3"]).run().expect_code(0);
    let report: Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(report["sign_up"]["result"], "refused", "{report:#}");
    let access = project.command(&["access"]).run().expect_code(0);
    assert!(access.stdout.contains("Self sign-up is off"), "{}", access.stdout);

    // Opened by hand (UpdateUserPool resets what it is not sent: the tags go back with it).
    let cognito = emulator().cognito();
    let described = cognito.describe_user_pool().user_pool_id(&pool).send().await.unwrap();
    let tags = described.user_pool().unwrap().user_pool_tags().cloned();
    let open = aws_sdk_cognitoidentityprovider::types::AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(false)
        .build();
    let update = cognito.update_user_pool().user_pool_id(&pool).admin_create_user_config(open);
    update.set_user_pool_tags(tags).send().await.unwrap();
    assert!(!admin_only(&pool).await);
    let planned = project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(planned.stdout.contains("self_sign_up"), "{}", planned.stdout);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert!(admin_only(&pool).await, "apply closed it again");
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[tokio::test]
async fn with_self_sign_up_anyone_is_a_caller_of_what_signed_in_users_call() {
    let stack = unique_stack("signupon");
    let text = seed_stack(&stack).replace("user_pool:\n", "user_pool:\n  self_sign_up: true\n");
    assert!(text.contains("self_sign_up: true"), "the seed has a user_pool section");
    let project = Project::new(&text);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let (pool, client) = pool_and_client(&stack).await;
    assert!(!admin_only(&pool).await);
    stranger_signs_up(&client).await.expect("anyone may sign up");

    let run = project.command(&["access", "--format", "json"]).run().expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["self_sign_up"], true);
    for route in report["routes"].as_array().unwrap() {
        assert_eq!(route["callers"]["anyone"], route["callers"]["signed_in"], "{route:#}");
    }
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("self sign-up is on") && warnings.contains("GET /auth"), "{warnings}");
    let verified = project.command(&["verify", "--settle", "3"]).run().expect_code(0);
    assert!(verified.stdout.contains("sign-up: not tried: self sign-up is on"), "{}", verified.stdout);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
