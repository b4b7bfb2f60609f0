//! AWS's size limits on policies, which the emulator enforces as AWS does, so that a stack past
//! them fails here as it would on AWS: a role's inline policies together at most 10,240
//! characters without whitespace, a function's resource policy at most 20,480 bytes. And the tool
//! sizing its policies to them: a function serving 120 routes and 300 `auth: iam` routes apply
//! and plan empty after; a stack that cannot fit is refused at validation naming the limit.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::FunctionCode;
use serde_json::json;

use crate::api::{self, Project};
use crate::support::{emulator, unique_stack};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An invoke policy on `routes` method ARNs (about 70 characters each), pretty-printed.
fn invoke_policy(routes: usize) -> String {
    let arns: Vec<String> = (0..routes)
        .map(|n| format!("arn:aws:execute-api:us-west-2:123456789012:abcdefghij/v1/GET/items/route{n:04}"))
        .collect();
    let document = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arns }] });
    serde_json::to_string_pretty(&document).unwrap()
}

#[tokio::test]
async fn a_role_s_inline_policies_share_10240_characters_without_whitespace() {
    let role = unique_stack("limits");
    let iam = emulator().iam();
    iam.create_role().role_name(&role).assume_role_policy_document(TRUST).send().await.unwrap();
    let put = |name: &'static str, document: String| {
        iam.put_role_policy().role_name(&role).policy_name(name).policy_document(document).send()
    };
    let large = invoke_policy(120);
    assert!(large.len() > 10240 && large.split_whitespace().map(str::len).sum::<usize>() < 10240);
    put("a", large).await.expect("whitespace is not counted");
    put("a", invoke_policy(125)).await.expect("a replaced policy is not counted twice");
    let refused = put("b", invoke_policy(20)).await.unwrap_err();
    let refused = refused.into_service_error();
    assert_eq!(aws_sdk_iam::error::ProvideErrorMetadata::code(&refused), Some("LimitExceeded"));
    assert!(refused.to_string().contains("Maximum policy size of 10240 bytes exceeded for role"), "{refused}");
    iam.delete_role_policy().role_name(&role).policy_name("a").send().await.unwrap();
    iam.delete_role().role_name(&role).send().await.unwrap();
}

#[tokio::test]
async fn a_function_s_resource_policy_holds_20480_bytes() {
    let name = unique_stack("limits");
    let role = emulator().iam().create_role().role_name(&name).assume_role_policy_document(TRUST).send().await;
    let role_arn = role.unwrap().role.unwrap().arn;
    let lambda = emulator().lambda();
    let empty_zip = Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec());
    lambda
        .create_function()
        .function_name(&name)
        .runtime(aws_sdk_lambda::types::Runtime::Nodejs22x)
        .handler("api.handler")
        .role(&role_arn)
        .code(FunctionCode::builder().zip_file(empty_zip).build())
        .send()
        .await
        .unwrap();
    let mut added = 0;
    let refused = loop {
        let sent = lambda
            .add_permission()
            .function_name(&name)
            .statement_id(format!("authdemo-GET-items-route{added:04}"))
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(format!("arn:aws:execute-api:us-west-2:123456789012:abcdefghij/*/GET/items/route{added:04}"))
            .send()
            .await;
        match sent {
            Ok(_) => added += 1,
            Err(error) => break error.into_service_error(),
        }
        assert!(added < 200, "no limit met");
    };
    assert!(refused.is_policy_length_exceeded_exception(), "{refused}");
    assert!((40..80).contains(&added), "about 55-60 route statements fit: {added}");
    let policy = lambda.get_policy().function_name(&name).send().await.unwrap().policy.unwrap();
    let statements = serde_json::from_str::<serde_json::Value>(&policy).unwrap()["Statement"].as_array().unwrap().len();
    assert_eq!(statements, added, "the refused statement is not kept");
    lambda.delete_function().function_name(&name).send().await.unwrap();
}

/// A stack with `routes` (YAML lines under `api.routes`).
fn stack_with(stack: &str, routes: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  clients:
    web: {{ auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
identity_pool:
  allow_unauthenticated: false
  clients: [web]
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
  other: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
api:
  stage: latest
  routes:
    GET /open: {{ function: api, auth: none }}
{routes}"
    )
}

#[tokio::test]
async fn a_function_serving_120_routes_and_300_iam_routes_apply_and_plan_empty() {
    let stack = unique_stack("limits");
    let mut routes = String::new();
    for n in 0..60 {
        for (method, function) in
            [("GET", "api"), ("POST", "api"), ("PUT", "other"), ("PATCH", "other"), ("DELETE", "other")]
        {
            routes.push_str(&format!("    {method} /items/r{n:02}: {{ function: {function}, auth: iam }}\n"));
        }
    }
    let project = Project::new(&stack_with(&stack, &routes));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    let apis = emulator().apigateway().get_rest_apis().limit(500).send().await.unwrap();
    let api_id =
        apis.items().iter().find(|a| a.name() == Some(stack.as_str())).and_then(|a| a.id()).unwrap().to_string();
    let prefix = format!("arn:aws:execute-api:us-west-2:123456789012:{api_id}/latest/");
    let wildcards: std::collections::BTreeSet<String> =
        ["GET", "POST", "PUT", "PATCH", "DELETE"].iter().map(|m| format!("{prefix}{m}/items/*")).collect();
    assert_eq!(
        api::invoke_policy(&stack).await,
        wildcards,
        "300 method ARNs collapse to one wildcard per method, /open left out"
    );

    let policy = emulator().lambda().get_policy().function_name(format!("{stack}-api")).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "121 routes share one statement: {policy}");
    let source = &statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"];
    assert_eq!(source, &json!(format!("arn:aws:execute-api:us-west-2:123456789012:{api_id}/latest/*/*")));

    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[test]
fn a_stack_beyond_the_limits_is_refused_at_validation_naming_the_limit() {
    let stack = unique_stack("limits");
    let mut routes = String::new();
    for n in 0..300 {
        routes.push_str(&format!("    GET /p{n:03}/a: {{ function: api, auth: iam }}\n"));
        routes.push_str(&format!("    GET /p{n:03}/b: {{ function: other, auth: none }}\n"));
    }
    let project = Project::new(&stack_with(&stack, &routes));
    let refused = project.command(&["validate"]).run().expect_code(1);
    let output = refused.output();
    assert!(output.contains("iam_role.authenticated") && output.contains("IAM's limit of 10240"), "{output}");
    project.command(&["plan"]).run().expect_code(1);
}
