//! CORS for browsers (`api.cors`): the seed stack's preflights (OPTIONS methods with MOCK
//! integrations) and gateway responses read back from AWS; a change of origins planned as an
//! update and applied with a redeploy; several origins echoed; CORS removed; and the emulator
//! refusing what API Gateway refuses for them.

use std::collections::HashMap;

use serde_json::Value;

use crate::api::Project;
use crate::faults::seed_stack;
use crate::support::{emulator, unique_stack};
use crate::user_pool::is_read_only;

const HEADERS: &str = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent";

async fn api_id(stack: &str) -> String {
    let apis = emulator().apigateway().get_rest_apis().limit(500).send().await.unwrap();
    apis.items().iter().find(|a| a.name() == Some(stack)).and_then(|a| a.id()).unwrap().to_string()
}

/// What a path's OPTIONS method answers: its setup and its 200 integration response's header
/// mappings (name → value) and template; `None` if the path has no OPTIONS method.
#[derive(Debug, PartialEq)]
struct Preflight {
    setup: (String, bool, String, String),
    headers: HashMap<String, String>,
    template: Option<String>,
}

async fn preflight(api: &str, path: &str) -> Option<Preflight> {
    let client = emulator().apigateway();
    let resources = client.get_resources().rest_api_id(api).limit(500).send().await.unwrap();
    let resource = resources.items().iter().find(|r| r.path() == Some(path)).unwrap();
    let method =
        client.get_method().rest_api_id(api).resource_id(resource.id().unwrap()).http_method("OPTIONS").send().await;
    let method = method.ok()?;
    let integration = method.method_integration().unwrap();
    let declared = method.method_responses().unwrap()["200"].response_parameters().unwrap();
    assert!(declared.contains_key("method.response.header.Access-Control-Allow-Origin"));
    let response = &integration.integration_responses().unwrap()["200"];
    let prefix = "method.response.header.";
    Some(Preflight {
        setup: (
            method.authorization_type().unwrap().to_string(),
            method.api_key_required().unwrap(),
            integration.r#type().unwrap().as_str().to_string(),
            integration.request_templates().unwrap()["application/json"].clone(),
        ),
        headers: response
            .response_parameters()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.strip_prefix(prefix).unwrap().to_string(), v.clone()))
            .collect(),
        template: response.response_templates().and_then(|t| t.get("application/json").cloned()),
    })
}

/// The CORS headers of the API's customized gateway responses, by type.
async fn gateway_responses(api: &str) -> HashMap<String, HashMap<String, String>> {
    let responses = emulator().apigateway().get_gateway_responses().rest_api_id(api).send().await.unwrap();
    responses
        .items()
        .iter()
        .filter(|r| !r.default_response())
        .map(|r| {
            let headers = r.response_parameters().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            (r.response_type().unwrap().as_str().to_string(), headers)
        })
        .collect()
}

fn changes(run: &crate::support::Run) -> Vec<(String, String)> {
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .map(|c| (c["address"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
}

#[tokio::test]
async fn the_seed_stack_answers_preflights_and_errors_with_the_callback_origin() {
    let stack = unique_stack("cors");
    let text = seed_stack(&stack);
    let project = Project::new(&text);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let api = api_id(&stack).await;

    let noauth = preflight(&api, "/noauth").await.expect("/noauth answers preflights");
    let mock = r#"{"statusCode": 200}"#;
    assert_eq!(noauth.setup, ("NONE".to_string(), false, "MOCK".to_string(), mock.to_string()));
    let expected: HashMap<String, String> = [
        ("Access-Control-Allow-Origin", "'http://localhost:3000'"),
        ("Access-Control-Allow-Headers", &format!("'{HEADERS}'")),
        ("Access-Control-Allow-Methods", "'GET,OPTIONS'"),
        ("Access-Control-Max-Age", "'600'"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(noauth.headers, expected);
    assert_eq!(noauth.template, None);
    assert_eq!(preflight(&api, "/auth").await.unwrap().headers, expected);
    let errors = gateway_responses(&api).await;
    let mut types: Vec<&str> = errors.keys().map(String::as_str).collect();
    types.sort_unstable();
    assert_eq!(types, ["DEFAULT_4XX", "DEFAULT_5XX"]);
    for headers in errors.values() {
        assert_eq!(headers["gatewayresponse.header.Access-Control-Allow-Origin"], "'http://localhost:3000'");
        assert_eq!(headers["gatewayresponse.header.Access-Control-Allow-Headers"], format!("'{HEADERS}'"));
    }

    let again = project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let mutating: Vec<String> = again.calls().into_iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "a second apply made mutating calls: {mutating:?}");

    project.rewrite(&text.replace(
        "  stage: latest\n",
        "  stage: latest\n  cors: { origins: [\"https://app.example.com\", \"http://localhost:3000\"], max_age_s: 60 }\n",
    ));
    let plan = project.command(&["plan", "--output", "json"]).run().expect_code(0);
    assert_eq!(
        changes(&plan),
        pairs(&[
            ("api_gateway_response.DEFAULT_4XX", "update"),
            ("api_gateway_response.DEFAULT_5XX", "update"),
            ("api_preflight./auth", "update"),
            ("api_preflight./noauth", "update"),
            ("api_stage.latest", "update"),
        ])
    );
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let echoing = preflight(&api, "/noauth").await.unwrap();
    assert!(!echoing.headers.contains_key("Access-Control-Allow-Origin"), "{echoing:?}");
    assert_eq!(echoing.headers["Vary"], "'Origin'");
    assert_eq!(echoing.headers["Access-Control-Max-Age"], "'60'");
    let template = echoing.template.unwrap();
    assert!(template.contains("$origin == \"http://localhost:3000\" || $origin == \"https://app.example.com\""));
    assert!(template.contains("$context.responseOverride.header.Access-Control-Allow-Origin = $origin"));
    for headers in gateway_responses(&api).await.values() {
        assert_eq!(headers["gatewayresponse.header.Access-Control-Allow-Origin"], "'*'");
    }
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    project.rewrite(&text.replace("  stage: latest\n", "  stage: latest\n  cors: false\n"));
    let plan = project.command(&["plan", "--output", "json"]).run().expect_code(0);
    assert_eq!(
        changes(&plan),
        pairs(&[
            ("api_gateway_response.DEFAULT_4XX", "delete"),
            ("api_gateway_response.DEFAULT_5XX", "delete"),
            ("api_preflight./auth", "delete"),
            ("api_preflight./noauth", "delete"),
            ("api_stage.latest", "update"),
        ])
    );
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_eq!(preflight(&api, "/noauth").await, None);
    assert!(gateway_responses(&api).await.is_empty());
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

/// A REST API with one OPTIONS method on its root and a MOCK integration, through the SDK.
async fn mock_method() -> (String, String) {
    let client = emulator().apigateway();
    let api = client.create_rest_api().name(unique_stack("corsraw")).send().await.unwrap();
    let api = api.id().unwrap().to_string();
    let resources = client.get_resources().rest_api_id(&api).send().await.unwrap();
    let root = resources.items()[0].id().unwrap().to_string();
    client
        .put_method()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("OPTIONS")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("OPTIONS")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    (api, root)
}

#[tokio::test]
async fn the_emulator_refuses_header_mappings_a_method_response_does_not_declare() {
    let client = emulator().apigateway();
    let (api, root) = mock_method().await;
    let put = |header: &'static str, value: &'static str| {
        client
            .put_integration_response()
            .rest_api_id(&api)
            .resource_id(&root)
            .http_method("OPTIONS")
            .status_code("200")
            .response_parameters(format!("method.response.header.{header}"), value)
            .send()
    };
    let refused = put("Access-Control-Allow-Origin", "'*'").await.unwrap_err();
    let message = format!("{}", aws_sdk_apigateway::error::DisplayErrorContext(&refused));
    assert!(message.contains("No method response exists for method"), "{message}");
    client
        .put_method_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("OPTIONS")
        .status_code("200")
        .response_parameters("method.response.header.Access-Control-Allow-Origin", false)
        .send()
        .await
        .unwrap();
    let refused = put("Access-Control-Allow-Methods", "'GET'").await.unwrap_err();
    let message = format!("{}", aws_sdk_apigateway::error::DisplayErrorContext(&refused));
    assert!(message.contains("Invalid mapping expression parameter specified"), "{message}");
    let refused = put("Access-Control-Allow-Origin", "*").await.unwrap_err();
    let message = format!("{}", aws_sdk_apigateway::error::DisplayErrorContext(&refused));
    assert!(message.contains("Invalid mapping expression specified: *"), "{message}");
    put("Access-Control-Allow-Origin", "'*'").await.unwrap();
}

/// The gateway response types of `api` GetGatewayResponses lists as defaults (or as customized).
async fn listed_types(api: &str, defaults: bool) -> Vec<String> {
    let listed = emulator().apigateway().get_gateway_responses().rest_api_id(api).send().await.unwrap();
    let types = listed.items().iter().filter(|r| r.default_response() == defaults).filter_map(|r| r.response_type());
    types.map(|t| t.as_str().to_string()).collect()
}

#[tokio::test]
async fn the_emulator_lists_the_default_gateway_responses_as_aws_does() {
    let (api, _) = mock_method().await;
    let defaults = listed_types(&api, true).await;
    assert!(defaults.len() > 20 && defaults.contains(&"THROTTLED".to_string()), "{defaults:?}");
    emulator()
        .apigateway()
        .put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::Default4Xx)
        .response_parameters("gatewayresponse.header.Access-Control-Allow-Origin", "'*'")
        .send()
        .await
        .unwrap();
    assert_eq!(listed_types(&api, false).await, ["DEFAULT_4XX"]);
    assert!(listed_types(&api, true).await.contains(&"DEFAULT_5XX".to_string()));
}

#[tokio::test]
async fn a_preflight_changed_by_hand_is_replaced_and_one_deleted_by_hand_is_put_back() {
    let stack = unique_stack("corsdrift");
    let project = Project::new(&seed_stack(&stack));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let api = api_id(&stack).await;
    let client = emulator().apigateway();
    let resources = client.get_resources().rest_api_id(&api).limit(500).send().await.unwrap();
    let id_of =
        |path: &str| resources.items().iter().find(|r| r.path() == Some(path)).unwrap().id().unwrap().to_string();
    client
        .update_method()
        .rest_api_id(&api)
        .resource_id(id_of("/noauth"))
        .http_method("OPTIONS")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/apiKeyRequired")
                .value("true")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client.delete_method().rest_api_id(&api).resource_id(id_of("/auth")).http_method("OPTIONS").send().await.unwrap();
    client
        .delete_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::Default5Xx)
        .send()
        .await
        .unwrap();

    let plan = project.command(&["plan", "--output", "json"]).run().expect_code(0);
    assert_eq!(
        changes(&plan),
        pairs(&[
            ("api_gateway_response.DEFAULT_5XX", "create"),
            ("api_preflight./auth", "create"),
            ("api_preflight./noauth", "replace"),
        ])
    );
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert!(!preflight(&api, "/noauth").await.unwrap().setup.1, "the API key requirement is gone");
    assert!(preflight(&api, "/auth").await.is_some());
    assert_eq!(gateway_responses(&api).await.len(), 2);
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
