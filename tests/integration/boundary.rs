//! The permissions boundary: every role the stack creates carries the file's boundary, and one
//! removed by hand is drift that apply puts back.

use serde_json::json;

use crate::support::{StackFile, authdemo, emulator, unique_stack};

/// The boundary ARN of the role `name`, if it has one.
async fn boundary_of(name: &str) -> Option<String> {
    let out = emulator().iam().get_role().role_name(name).send().await.unwrap();
    out.role.and_then(|role| role.permissions_boundary).and_then(|b| b.permissions_boundary_arn)
}

#[tokio::test]
async fn every_role_carries_the_boundary_and_a_removed_one_is_put_back() {
    let stack = unique_stack("boundary");
    let iam = emulator().iam();
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]});
    let policy = iam
        .create_policy()
        .policy_name(format!("{stack}-boundary"))
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let file = StackFile::new(&format!(
        "stack: {stack}\niam:\n  permissions_boundary: {arn}\nuser_pool:\n  clients:\n    web: {{}}\nidentity_pool:\n  allow_unauthenticated: true\n  clients: [web]\n"
    ));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated();
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let roles = [format!("{stack}-authenticated"), format!("{stack}-unauthenticated")];
    for role in &roles {
        assert_eq!(boundary_of(role).await.as_deref(), Some(arn.as_str()), "{role}");
    }

    iam.delete_role_permissions_boundary().role_name(&roles[0]).send().await.unwrap();
    assert_eq!(boundary_of(&roles[0]).await, None);
    let planned = run(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(planned.stdout.contains("permissions_boundary"), "{}", planned.stdout);
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_eq!(boundary_of(&roles[0]).await.as_deref(), Some(arn.as_str()));
    run(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
}

#[test]
fn the_flag_refuses_what_is_not_a_managed_policy_arn() {
    let file = StackFile::new("stack: demo\n");
    let out =
        authdemo(&["plan", "--permissions-boundary", "arn:aws:iam::123456789012:role/x"]).file(&file.path()).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not the ARN of a managed policy"), "{}", out.stderr);
}
