//! The identity pool slice end to end: the pool trusts the user pool's clients, two roles trust
//! exactly this pool, the attachment maps them; a signed-in user gets credentials through it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{StackFile, authdemo, emulator, unique_stack};

const PASSWORD: &str = "Identity-Passw0rd";

fn stack_text(stack: &str, web_name: &str, allow_unauthenticated: bool) -> String {
    format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  clients:
    {web_name}:
      auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    mobile:
      auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
  users:
    demouser:
      attributes: {{ email: demo@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
identity_pool:
  allow_unauthenticated: {allow_unauthenticated}
  clients: [{web_name}]
  authenticated_policy:
    - {{ Effect: Allow, Action: [dynamodb:GetItem], Resource: \"arn:aws:dynamodb:us-west-2:123456789012:table/notes\" }}
"
    )
}

struct Ids {
    user_pool: String,
    identity_pool: String,
}

async fn stack_ids(stack: &str) -> Option<Ids> {
    let cognito = emulator().cognito();
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    let user_pool = pools.user_pools().iter().find(|p| p.name() == Some(stack))?.id()?.to_string();
    let identity = emulator().identity();
    let listed = identity.list_identity_pools().max_results(60).send().await.unwrap();
    let identity_pool =
        listed.identity_pools().iter().find(|p| p.identity_pool_name() == Some(stack))?.identity_pool_id()?.to_string();
    Some(Ids { user_pool, identity_pool })
}

async fn client_id(user_pool: &str, name: &str) -> String {
    let listed = emulator().cognito().list_user_pool_clients().user_pool_id(user_pool).send().await.unwrap();
    listed.user_pool_clients().iter().find(|c| c.client_name() == Some(name)).unwrap().client_id().unwrap().to_string()
}

/// The role's trust policy and inline policies, decoded; `None` if it does not exist.
async fn role(name: &str) -> Option<(Value, HashMap<String, Value>, HashMap<String, String>)> {
    let iam = emulator().iam();
    let role = iam.get_role().role_name(name).send().await.ok()?.role?;
    let decode =
        |text: &str| serde_json::from_str(&percent_encoding::percent_decode_str(text).decode_utf8_lossy()).unwrap();
    let trust = decode(role.assume_role_policy_document().unwrap());
    let mut policies = HashMap::new();
    for policy in iam.list_role_policies().role_name(name).send().await.unwrap().policy_names() {
        let document = iam.get_role_policy().role_name(name).policy_name(policy).send().await.unwrap();
        policies.insert(policy.clone(), decode(document.policy_document()));
    }
    let attached = iam.list_attached_role_policies().role_name(name).send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "{name} has no managed policies");
    let tags = role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    Some((trust, policies, tags))
}

fn expected_trust(identity_pool: &str, amr: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": "cognito-identity.amazonaws.com" },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": { "cognito-identity.amazonaws.com:aud": identity_pool },
                "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
            },
        }],
    })
}

/// Signs in with `client` and exchanges the ID token for credentials through the identity pool.
async fn credentials_for(ids: &Ids, client: &str) -> Result<String, String> {
    let token = crate::api::sign_in_demouser(client, PASSWORD).await?.id_token().unwrap().to_string();
    let identity = emulator().identity();
    let provider = format!("cognito-idp.us-west-2.amazonaws.com/{}", ids.user_pool);
    let id = identity
        .get_id()
        .identity_pool_id(&ids.identity_pool)
        .logins(&provider, &token)
        .send()
        .await
        .map_err(|e| format!("GetId: {e:?}"))?;
    let credentials = identity
        .get_credentials_for_identity()
        .identity_id(id.identity_id().unwrap())
        .logins(&provider, &token)
        .send()
        .await
        .map_err(|e| format!("GetCredentialsForIdentity: {e:?}"))?;
    Ok(credentials.credentials().and_then(|c| c.access_key_id()).unwrap_or_default().to_string())
}

#[tokio::test]
async fn identity_pool_roles_and_attachment_end_to_end() {
    let stack = unique_stack("idp");
    let file = StackFile::new(&stack_text(&stack, "web", true));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD);
    run(&["apply", "--auto-approve"]).run().expect_code(0);

    let ids = stack_ids(&stack).await.expect("both pools exist");
    let identity = emulator().identity();
    let pool = identity.describe_identity_pool().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    assert!(pool.allow_unauthenticated_identities());
    let web = client_id(&ids.user_pool, "web").await;
    let providers: Vec<(&str, &str)> = pool
        .cognito_identity_providers()
        .iter()
        .map(|p| (p.provider_name().unwrap(), p.client_id().unwrap()))
        .collect();
    let provider = format!("cognito-idp.us-west-2.amazonaws.com/{}", ids.user_pool);
    assert_eq!(providers, [(provider.as_str(), web.as_str())]);
    assert_eq!(pool.identity_pool_tags().unwrap().get("authdemo:id").map(String::as_str), Some("identity_pool.main"));

    let (trust, policies, tags) = role(&format!("{stack}-authenticated")).await.expect("authenticated role");
    assert_eq!(trust, expected_trust(&ids.identity_pool, "authenticated"));
    assert_eq!(tags.get("authdemo:stack"), Some(&stack));
    assert_eq!(
        policies["authdemo-extra"]["Statement"][0],
        json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-west-2:123456789012:table/notes"})
    );
    assert_eq!(policies.len(), 1);
    let (trust, policies, _) = role(&format!("{stack}-unauthenticated")).await.expect("unauthenticated role");
    assert_eq!(trust, expected_trust(&ids.identity_pool, "unauthenticated"));
    assert!(policies.is_empty(), "the unauthenticated role gets no permission the file did not ask for");

    let attached = identity.get_identity_pool_roles().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    let roles = attached.roles().unwrap();
    assert_eq!(
        roles["authenticated"],
        format!("arn:aws:iam::123456789012:role/authdemo/{stack}/{stack}-authenticated")
    );
    assert_eq!(
        roles["unauthenticated"],
        format!("arn:aws:iam::123456789012:role/authdemo/{stack}/{stack}-unauthenticated")
    );

    run(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    assert!(!credentials_for(&ids, &web).await.expect("a web user gets credentials").is_empty());
    let mobile = client_id(&ids.user_pool, "mobile").await;
    let refused = credentials_for(&ids, &mobile).await.expect_err("mobile tokens are not trusted");
    assert!(refused.contains("NotAuthorized"), "{refused}");

    file.write(&stack_text(&stack, "webapp", true));
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let webapp = client_id(&ids.user_pool, "webapp").await;
    let pool = identity.describe_identity_pool().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    let clients: Vec<&str> = pool.cognito_identity_providers().iter().map(|p| p.client_id().unwrap()).collect();
    assert_eq!(clients, [webapp.as_str()], "the renamed client is the provider");
    assert!(credentials_for(&ids, &webapp).await.is_ok());

    file.write(&stack_text(&stack, "webapp", false));
    let planned = run(&["plan"]).run().expect_code(0);
    assert!(planned.stdout.contains("~ identity_pool.main"), "{}", planned.stdout);
    assert!(planned.stdout.contains("allow_unauthenticated: true → false"), "{}", planned.stdout);
    assert!(planned.stdout.contains("- iam_role.unauthenticated"), "{}", planned.stdout);
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let pool = identity.describe_identity_pool().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    assert!(!pool.allow_unauthenticated_identities(), "updated in place");
    assert!(role(&format!("{stack}-unauthenticated")).await.is_none(), "the unauthenticated role is deleted");
    let attached = identity.get_identity_pool_roles().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    assert_eq!(attached.roles().unwrap().keys().collect::<Vec<_>>(), ["authenticated"]);
    run(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(stack_ids(&stack).await.is_none(), "no pool of the stack remains");
    assert!(role(&format!("{stack}-authenticated")).await.is_none());
}

#[tokio::test]
async fn a_second_region_is_refused_before_it_can_take_over_the_global_roles() {
    let stack = unique_stack("regions");
    let file = StackFile::new(&format!(
        "stack: {stack}\nuser_pool:\n  clients:\n    web: {{}}\nidentity_pool:\n  clients: [web]\n"
    ));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated();
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let role_name = format!("{stack}-authenticated");
    let (trust_before, _, _) = role(&role_name).await.expect("the role exists");

    for args in [&["plan", "--region", "eu-west-1"][..], &["destroy", "--auto-approve", "--region", "eu-west-1"]] {
        let refused = run(args).run().expect_code(1);
        assert!(refused.stderr.contains("already lives in region us-west-2"), "{}", refused.stderr);
        assert!(refused.stderr.contains("IAM roles are global"), "{}", refused.stderr);
    }
    let (trust_after, _, tags) = role(&role_name).await.expect("the role survives the second region");
    assert_eq!(trust_after, trust_before);
    assert_eq!(tags.get("authdemo:region").map(String::as_str), Some("us-west-2"));

    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(role(&role_name).await.is_none());
}

#[tokio::test]
async fn a_managed_policy_attached_by_hand_is_drift_that_apply_detaches() {
    let stack = unique_stack("managed");
    let file = StackFile::new(&format!(
        "stack: {stack}\nuser_pool:\n  clients:\n    web: {{}}\nidentity_pool:\n  clients: [web]\n"
    ));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated();
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let iam = emulator().iam();
    let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let policy = iam
        .create_policy()
        .policy_name(format!("{stack}-admin"))
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let role_name = format!("{stack}-authenticated");
    iam.attach_role_policy().role_name(&role_name).policy_arn(&arn).send().await.unwrap();

    let planned = run(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(planned.stdout.contains("managed_policies"), "{}", planned.stdout);
    assert!(planned.stdout.contains(&arn), "{}", planned.stdout);
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    role(&role_name).await.expect("the role and no managed policy on it");
    run(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
}

#[test]
fn several_trusted_clients_replan_to_nothing() {
    let stack = unique_stack("clients");
    let file = StackFile::new(&format!(
        "stack: {stack}\nuser_pool:\n  clients:\n    spa: {{}}\n    mobile: {{}}\n    web: {{}}\nidentity_pool:\n  clients: [spa, mobile, web]\n"
    ));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated();
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let planned = run(&["plan", "--detailed-exitcode"]).run();
    assert_eq!(planned.code, 0, "the set of clients converges:\n{}", planned.stdout);
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[tokio::test]
async fn role_mappings_made_by_hand_survive_a_change_of_the_attached_roles() {
    use aws_sdk_cognitoidentity::types::{AmbiguousRoleResolutionType, RoleMapping, RoleMappingType};
    let stack = unique_stack("mappings");
    let text = |guests: bool| {
        format!(
            "stack: {stack}\nuser_pool:\n  clients:\n    web: {{}}\nidentity_pool:\n  allow_unauthenticated: {guests}\n  clients: [web]\n"
        )
    };
    let file = StackFile::new(&text(false));
    let run = |args: &[&str]| authdemo(args).file(&file.path()).emulated();
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let ids = stack_ids(&stack).await.unwrap();
    let web = client_id(&ids.user_pool, "web").await;
    let identity = emulator().identity();
    let live = identity.get_identity_pool_roles().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    let provider = format!("cognito-idp.us-west-2.amazonaws.com/{}:{web}", ids.user_pool);
    let mapping = RoleMapping::builder()
        .r#type(RoleMappingType::Token)
        .ambiguous_role_resolution(AmbiguousRoleResolutionType::AuthenticatedRole)
        .build()
        .unwrap();
    identity
        .set_identity_pool_roles()
        .identity_pool_id(&ids.identity_pool)
        .set_roles(live.roles().cloned())
        .role_mappings(&provider, mapping)
        .send()
        .await
        .unwrap();

    file.write(&text(true));
    run(&["apply", "--auto-approve"]).run().expect_code(0);
    let after = identity.get_identity_pool_roles().identity_pool_id(&ids.identity_pool).send().await.unwrap();
    assert!(after.roles().unwrap().contains_key("unauthenticated"), "the edit is applied");
    assert!(after.role_mappings().unwrap().contains_key(&provider), "the hand-made mapping stays");
    run(&["destroy", "--auto-approve"]).run().expect_code(0);
}
