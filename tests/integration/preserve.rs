//! Updates change only what the plan shows: Cognito's update calls reset every setting they are
//! not sent, so settings the stack file cannot express (set here out of band, as a console user
//! or another tool would) must survive in-place edits of the pool, the client and the identity
//! pool. Tags are the file's (`tags:`): UpdateUserPool and UpdateIdentityPool overwrite them, so
//! the file's must survive the edit too, and a tag added by hand is drift, which apply removes.

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::types::{
    AccountRecoverySettingType, LambdaConfigType, PreventUserExistenceErrorTypes, RecoveryOptionNameType,
    RecoveryOptionType, TimeUnitsType, TokenValidityUnitsType, UserPoolType, VerificationMessageTemplateType,
};

use crate::support::{StackFile, authdemo, emulator, unique_stack};

const TRIGGER: &str = "arn:aws:lambda:us-west-2:123456789012:function:hand-made-pre-sign-up";

fn stack_text(stack: &str, min_length: u8, callback: &str, token_check: bool) -> String {
    format!(
        "stack: {stack}
tags: {{ team: identity }}
user_pool:
  password_policy: {{ min_length: {min_length}, require_symbols: false }}
  clients:
    web:
      callback_urls: [\"{callback}\"]
      oauth: {{ flows: [code], scopes: [openid] }}
identity_pool:
  allow_unauthenticated: false
  clients: [web]
  server_side_token_check: {token_check}
"
    )
}

async fn pool(stack: &str) -> UserPoolType {
    let cognito = emulator().cognito();
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    let id = pools.user_pools().iter().find(|p| p.name() == Some(stack)).unwrap().id().unwrap().to_string();
    cognito.describe_user_pool().user_pool_id(id).send().await.unwrap().user_pool.unwrap()
}

async fn identity_pool_id(stack: &str) -> String {
    let listed = emulator().identity().list_identity_pools().max_results(60).send().await.unwrap();
    let pool = listed.identity_pools().iter().find(|p| p.identity_pool_name() == Some(stack)).unwrap();
    pool.identity_pool_id().unwrap().to_string()
}

/// What a console user adds to the pool: a Lambda trigger, a verification message, account
/// recovery and a tag (sent with the rest of the pool's settings, as UpdateUserPool requires).
async fn set_pool_settings_by_hand(pool: &UserPoolType) {
    let mut tags = pool.user_pool_tags().cloned().unwrap_or_default();
    tags.insert("cost".into(), "lab".into());
    let recovery = RecoveryOptionType::builder().name(RecoveryOptionNameType::AdminOnly).priority(1).build().unwrap();
    emulator()
        .cognito()
        .update_user_pool()
        .user_pool_id(pool.id().unwrap())
        .set_policies(pool.policies().cloned())
        .lambda_config(LambdaConfigType::builder().pre_sign_up(TRIGGER).build())
        .verification_message_template(
            VerificationMessageTemplateType::builder()
                .email_subject("Welcome to the hand-made pool")
                .email_message("Your code is {####}")
                .build(),
        )
        .account_recovery_setting(AccountRecoverySettingType::builder().recovery_mechanisms(recovery).build())
        .set_user_pool_tags(Some(tags))
        .send()
        .await
        .unwrap();
}

/// What a console user sets on the client: token validity, read attributes, existence errors,
/// token revocation (sent with the client's managed settings, which the update resets too).
async fn set_client_settings_by_hand(pool_id: &str, client_id: &str, callback: &str) {
    emulator()
        .cognito()
        .update_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .client_name("web")
        .callback_urls(callback)
        .allowed_o_auth_flows(aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_flows_user_pool_client(true)
        .supported_identity_providers("COGNITO")
        .access_token_validity(2)
        .token_validity_units(TokenValidityUnitsType::builder().access_token(TimeUnitsType::Hours).build())
        .read_attributes("email")
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .enable_token_revocation(false)
        .send()
        .await
        .unwrap();
}

/// What a console user adds to the identity pool: a social login provider and a tag.
async fn set_identity_settings_by_hand(id: &str) {
    let identity = emulator().identity();
    let pool = identity.describe_identity_pool().identity_pool_id(id).send().await.unwrap();
    let mut tags = pool.identity_pool_tags().cloned().unwrap_or_default();
    tags.insert("cost".into(), "lab".into());
    identity
        .update_identity_pool()
        .identity_pool_id(id)
        .identity_pool_name(pool.identity_pool_name())
        .allow_unauthenticated_identities(pool.allow_unauthenticated_identities())
        .set_cognito_identity_providers(Some(pool.cognito_identity_providers().to_vec()))
        .supported_login_providers("graph.facebook.com", "1234567890")
        .set_identity_pool_tags(Some(tags))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn in_place_edits_keep_every_setting_the_file_does_not_manage() {
    let stack = unique_stack("preserve");
    let file = StackFile::new(&stack_text(&stack, 8, "https://example.com/a", false));
    authdemo(&["apply", "--auto-approve"]).file(&file.path()).emulated().run().expect_code(0);
    let before = pool(&stack).await;
    let pool_id = before.id().unwrap().to_string();
    let clients = emulator().cognito().list_user_pool_clients().user_pool_id(&pool_id).send().await.unwrap();
    let client_id = clients.user_pool_clients()[0].client_id().unwrap().to_string();
    let identity_id = identity_pool_id(&stack).await;
    set_pool_settings_by_hand(&before).await;
    set_client_settings_by_hand(&pool_id, &client_id, "https://example.com/a").await;
    set_identity_settings_by_hand(&identity_id).await;

    file.write(&stack_text(&stack, 12, "https://example.com/b", true));
    authdemo(&["apply", "--auto-approve"]).file(&file.path()).emulated().run().expect_code(0);

    let after = pool(&stack).await;
    let policy = after.policies().and_then(|p| p.password_policy()).unwrap();
    assert_eq!(policy.minimum_length(), Some(12), "the edit is applied");
    assert_eq!(after.lambda_config().and_then(|l| l.pre_sign_up()), Some(TRIGGER));
    let template = after.verification_message_template().unwrap();
    assert_eq!(template.email_subject(), Some("Welcome to the hand-made pool"));
    let recovery = after.account_recovery_setting().unwrap().recovery_mechanisms();
    assert_eq!(recovery.first().map(|r| r.name().clone()), Some(RecoveryOptionNameType::AdminOnly));
    let tags = after.user_pool_tags().unwrap();
    assert_eq!(tags.get("team").map(String::as_str), Some("identity"));
    assert_eq!(tags.get("cost"), None, "the hand-added tag is drift");
    assert_eq!(tags.get("authdemo:stack"), Some(&stack));

    let client = emulator()
        .cognito()
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(client.callback_urls(), ["https://example.com/b"], "the edit is applied");
    assert_eq!(client.access_token_validity(), Some(2));
    assert_eq!(client.token_validity_units().and_then(|u| u.access_token()), Some(&TimeUnitsType::Hours));
    assert_eq!(client.read_attributes(), ["email"]);
    assert_eq!(client.prevent_user_existence_errors(), Some(&PreventUserExistenceErrorTypes::Enabled));
    assert_eq!(client.enable_token_revocation(), Some(false));

    let identity = emulator().identity().describe_identity_pool().identity_pool_id(&identity_id).send().await.unwrap();
    assert!(identity.cognito_identity_providers().iter().all(|p| p.server_side_token_check() == Some(true)));
    let expected_logins = HashMap::from([("graph.facebook.com".to_string(), "1234567890".to_string())]);
    assert_eq!(identity.supported_login_providers(), Some(&expected_logins));
    let tags = identity.identity_pool_tags().unwrap();
    assert_eq!(tags.get("team").map(String::as_str), Some("identity"));
    assert_eq!(tags.get("cost"), None, "the hand-added tag is drift");
    assert_eq!(tags.get("authdemo:stack"), Some(&stack));

    authdemo(&["plan", "--detailed-exitcode"]).file(&file.path()).emulated().run().expect_code(0);
    authdemo(&["destroy", "--auto-approve"]).file(&file.path()).emulated().run().expect_code(0);
}
