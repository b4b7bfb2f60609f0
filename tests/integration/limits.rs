//! AWS's size limits on policies, which the emulator enforces as AWS does, so that a stack past
//! them fails here as it would on AWS: a role's inline policies together at most 10,240
//! characters without whitespace, a function's resource policy at most 20,480 bytes.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::FunctionCode;
use serde_json::json;

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
