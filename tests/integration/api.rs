//! Functions and the REST API end to end: methods, integrations, permissions, the deployed
//! fingerprint and the invoke policy, read back from AWS; code and route changes; destroy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::support::{StackFile, authdemo, emulator, unique_stack};
use crate::user_pool::is_read_only;

const ACCOUNT: &str = "123456789012";

/// The password of the stack files' users (`${env:DEMO_USER_PASSWORD}`) in a [`Project`]'s runs.
pub(crate) const PASSWORD: &str = "Api-Passw0rd";

/// A stack file next to its own copy of the example function's code.
pub(crate) struct Project {
    file: StackFile,
}

impl Project {
    pub(crate) fn new(text: &str) -> Self {
        let file = StackFile::new(text);
        let code = file.path().parent().unwrap().join("code");
        std::fs::create_dir_all(code.join("lib")).unwrap();
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/api/api.js"), code.join("api.js")).unwrap();
        std::fs::write(code.join("lib/util.js"), "module.exports = {};\n").unwrap();
        Self { file }
    }

    /// Replaces the stack file's text.
    pub(crate) fn rewrite(&self, text: &str) {
        self.file.write(text);
    }

    /// The project's directory (the stack file's).
    pub(crate) fn dir(&self) -> std::path::PathBuf {
        self.file.path().parent().unwrap().to_path_buf()
    }

    fn code_file(&self, name: &str) -> std::path::PathBuf {
        self.file.path().parent().unwrap().join("code").join(name)
    }

    fn run(&self, args: &[&str]) -> crate::support::Run {
        self.command(args).run()
    }

    /// A run of `authdemo ARGS…` on this project, to adjust before running.
    pub(crate) fn command(&self, args: &[&str]) -> crate::support::Authdemo {
        authdemo(args).file(&self.file.path()).emulated().env("DEMO_USER_PASSWORD", PASSWORD)
    }
}

/// `demouser` signed in to the app client `client_id` with USER_PASSWORD_AUTH and `password`:
/// its tokens, or the refusal.
pub(crate) async fn sign_in_demouser(
    client_id: &str,
    password: &str,
) -> Result<aws_sdk_cognitoidentityprovider::types::AuthenticationResultType, String> {
    let signed_in = emulator()
        .cognito()
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "demouser")
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    signed_in.authentication_result.ok_or_else(|| "no tokens: a challenge".to_string())
}

/// A project applied, with what `authdemo output` said of it right after; destroyed when
/// dropped, passed or failed, so the shared emulator keeps nothing of it.
pub(crate) struct Applied {
    pub(crate) project: Project,
    pub(crate) outputs: Value,
}

impl Applied {
    /// Applies `project` and reads `output --format json` with `output_args` (e.g.
    /// `--show-sensitive`).
    pub(crate) fn new(project: Project, output_args: &[&str]) -> Self {
        project.command(&["apply", "--auto-approve"]).run().expect_code(0);
        let mut args = vec!["output", "--format", "json"];
        args.extend_from_slice(output_args);
        let shown = project.command(&args).run().expect_code(0);
        Self { project, outputs: serde_json::from_str(&shown.stdout).expect("output is JSON") }
    }

    /// The string at the JSON `pointer` of the outputs.
    pub(crate) fn output(&self, pointer: &str) -> String {
        self.outputs.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in output")).into()
    }

    /// The stack's name.
    pub(crate) fn stack(&self) -> String {
        self.output("/stack")
    }
}

impl Drop for Applied {
    fn drop(&mut self) {
        let _ = self.project.command(&["destroy", "--auto-approve"]).run();
    }
}

fn seed_stack(stack: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  clients:
    web: {{ auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
    environment: {{ GREETING: hello }}
api:
  stage: latest
  routes:
    GET /noauth: {{ function: api, auth: none, api_key: true }}
    GET /auth:   {{ function: api, auth: iam,  api_key: true }}
usage_plan:
  throttle: {{ rate: 10, burst: 20 }}
  quota: {{ limit: 1000, period: DAY }}
  api_keys: [web-client]
"
    )
}

async fn api_id(stack: &str) -> Option<String> {
    let apis = emulator().apigateway().get_rest_apis().limit(500).send().await.unwrap();
    apis.items().iter().find(|a| a.name() == Some(stack)).and_then(|a| a.id()).map(str::to_string)
}

/// Path → (resource id, {method → (authorization, api key required, integration type, uri)}).
type Methods = BTreeMap<String, (String, bool, String, String)>;

async fn routes(api: &str) -> BTreeMap<String, Methods> {
    let client = emulator().apigateway();
    let resources = client.get_resources().rest_api_id(api).limit(500).send().await.unwrap();
    let mut out = BTreeMap::new();
    for resource in resources.items() {
        let mut methods = BTreeMap::new();
        for method in resource.resource_methods().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let m = client
                .get_method()
                .rest_api_id(api)
                .resource_id(resource.id().unwrap())
                .http_method(&method)
                .send()
                .await
                .unwrap();
            let integration = m.method_integration().unwrap();
            methods.insert(
                method,
                (
                    m.authorization_type().unwrap_or_default().to_string(),
                    m.api_key_required().unwrap_or_default(),
                    integration.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    integration.uri().unwrap_or_default().to_string(),
                ),
            );
        }
        out.insert(resource.path().unwrap().to_string(), methods);
    }
    out
}

/// The statement id → source ARN of every permission on `function`.
async fn permissions(function: &str) -> BTreeMap<String, String> {
    let policy = emulator().lambda().get_policy().function_name(function).send().await;
    let Ok(policy) = policy else { return BTreeMap::new() };
    let document: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Sid"].as_str().unwrap().to_string(),
                s["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The Resource list of the authenticated role's invoke policy (empty if none).
pub(crate) async fn invoke_policy(stack: &str) -> BTreeSet<String> {
    let iam = emulator().iam();
    let role = format!("{stack}-authenticated");
    let Ok(document) = iam.get_role_policy().role_name(&role).policy_name("authdemo-invoke").send().await else {
        return BTreeSet::new();
    };
    let text = percent_encoding::percent_decode_str(document.policy_document()).decode_utf8_lossy().into_owned();
    let document: Value = serde_json::from_str(&text).unwrap();
    let statement = &document["Statement"][0];
    assert_eq!(statement["Action"], "execute-api:Invoke");
    match &statement["Resource"] {
        Value::String(one) => BTreeSet::from([one.clone()]),
        Value::Array(many) => many.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        other => panic!("unexpected Resource {other}"),
    }
}

/// The stage's deployment description.
async fn deployed_fingerprint(api: &str, stage: &str) -> String {
    let client = emulator().apigateway();
    let stage = client.get_stage().rest_api_id(api).stage_name(stage).send().await.unwrap();
    let deployment =
        client.get_deployment().rest_api_id(api).deployment_id(stage.deployment_id().unwrap()).send().await.unwrap();
    deployment.description().unwrap_or_default().to_string()
}

fn planned_fingerprint(project: &Project) -> String {
    let plan: Value = serde_json::from_str(&project.run(&["plan", "--output", "json"]).expect_code(0).stdout).unwrap();
    let stage = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == "api_stage.latest").unwrap();
    stage["after"]["routes_fingerprint"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_seed_routes_are_wired_end_to_end() {
    let stack = unique_stack("seed");
    let project = Project::new(&seed_stack(&stack));
    let created = project.run(&["apply", "--auto-approve"]).expect_code(0);
    let read_back: Vec<String> = created
        .calls()
        .into_iter()
        .filter(|op| op.starts_with("GET /restapis/") && (op.ends_with("/resources") || op.contains("/deployments")))
        .collect();
    assert!(read_back.is_empty(), "a create read back what its own answers told: {read_back:?}");

    let api = api_id(&stack).await.expect("the REST API exists");
    let function = format!("{stack}-api");
    let function_arn = format!("arn:aws:lambda:us-west-2:{ACCOUNT}:function:{function}");
    let uri = format!("arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/{function_arn}/invocations");
    let routes = routes(&api).await;
    assert_eq!(routes["/noauth"]["GET"], ("NONE".to_string(), true, "AWS_PROXY".to_string(), uri.clone()));
    assert_eq!(routes["/auth"]["GET"], ("AWS_IAM".to_string(), true, "AWS_PROXY".to_string(), uri));
    let sources: BTreeSet<String> = permissions(&function).await.into_values().collect();
    assert_eq!(
        sources,
        BTreeSet::from([
            format!("arn:aws:execute-api:us-west-2:{ACCOUNT}:{api}/*/GET/auth"),
            format!("arn:aws:execute-api:us-west-2:{ACCOUNT}:{api}/*/GET/noauth"),
        ])
    );
    assert_eq!(
        invoke_policy(&stack).await,
        BTreeSet::from([format!("arn:aws:execute-api:us-west-2:{ACCOUNT}:{api}/latest/GET/auth")])
    );
    assert_eq!(
        deployed_fingerprint(&api, "latest").await,
        format!("authdemo routes {}", planned_fingerprint(&project))
    );

    let lambda = emulator().lambda().get_function().function_name(&function).send().await.unwrap();
    let configuration = lambda.configuration().unwrap();
    assert_eq!(configuration.handler(), Some("api.handler"));
    assert_eq!(configuration.environment().unwrap().variables().unwrap()["GREETING"], "hello");
    assert_eq!(lambda.tags().unwrap()["authdemo:id"], "function.api");

    project.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    let again = project.run(&["apply", "--auto-approve"]).expect_code(0);
    let mutating: Vec<String> = again.calls().into_iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "a second apply made mutating calls: {mutating:?}");

    let destroyed = project.run(&["destroy", "--auto-approve"]).expect_code(0);
    assert!(api_id(&stack).await.is_none());
    assert!(emulator().lambda().get_function().function_name(&function).send().await.is_err());
    let calls = destroyed.calls();
    let inside_api: Vec<&String> =
        calls.iter().filter(|op| op.starts_with("DELETE /restapis/") && op.matches('/').count() > 2).collect();
    assert!(inside_api.is_empty(), "a destroy deleted what DeleteRestApi takes along: {inside_api:?}");
    let listings = calls.iter().filter(|op| *op == "ListRolePolicies").count();
    let roles = calls.iter().filter(|op| *op == "DeleteRole").count(); // the lock's are let go, not deleted
    assert!(roles > 0 && listings <= 2 * roles, "{roles} role deletes listed policies again: {listings} listings");
}

pub(crate) fn shop_stack(stack: &str, extra_routes: &str, create_auth: &str, with_admin: bool) -> String {
    let admin_function = if with_admin {
        "  admin:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: code\n    policy:\n      - { Effect: Allow, Action: [dynamodb:DeleteItem], Resource: \"*\" }\n"
    } else {
        ""
    };
    let admin_route = if with_admin { "    DELETE /items/{id}: { function: admin, auth: iam }\n" } else { "" };
    format!(
        "stack: {stack}
user_pool:
  clients:
    web: {{}}
identity_pool:
  clients: [web]
functions:
  list:
    runtime: nodejs24.x
    handler: api.handler
    code: code
  create:
    runtime: python3.12
    handler: api.handler
    code: code
    memory_mb: 256
{admin_function}api:
  stage: v1
  routes:
    GET /: {{ function: list }}
    GET /items: {{ function: list }}
    POST /items: {{ function: create, auth: {create_auth} }}
    GET /items/{{id}}: {{ function: list, auth: iam, api_key: true }}
    ANY /proxy/{{proxy+}}: {{ function: list }}
{admin_route}{extra_routes}usage_plan:
  throttle: {{ rate: 5, burst: 10 }}
  quota: {{ limit: 100, period: DAY }}
  api_keys: [web]
"
    )
}

fn acting(run: &crate::support::Run) -> BTreeSet<(String, String)> {
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .map(|c| (c["address"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string()))
        .collect()
}

fn pair(address: &str, action: &str) -> (String, String) {
    (address.to_string(), action.to_string())
}

#[tokio::test]
async fn several_functions_nested_paths_and_every_kind_of_change() {
    let stack = unique_stack("shop");
    let project = Project::new(&shop_stack(&stack, "", "iam", true));
    project.run(&["apply", "--auto-approve"]).expect_code(0);
    let api = api_id(&stack).await.unwrap();
    let arn = |rest: &str| format!("arn:aws:execute-api:us-west-2:{ACCOUNT}:{api}/{rest}");

    let routes = routes(&api).await;
    let paths: Vec<&str> = routes.keys().map(String::as_str).collect();
    assert_eq!(paths, ["/", "/items", "/items/{id}", "/proxy", "/proxy/{proxy+}"]);
    assert_eq!(routes["/"].keys().collect::<Vec<_>>(), ["GET"]);
    assert_eq!(routes["/items"].keys().collect::<Vec<_>>(), ["GET", "POST"]);
    assert_eq!(routes["/items/{id}"]["GET"].0, "AWS_IAM");
    assert!(routes["/items/{id}"]["GET"].1, "API key required");
    assert!(routes["/proxy/{proxy+}"]["ANY"].3.contains(&format!("function:{stack}-list/")));
    assert!(routes["/items"]["POST"].3.contains(&format!("function:{stack}-create/")));
    let list_sources: BTreeSet<String> = permissions(&format!("{stack}-list")).await.into_values().collect();
    assert!(list_sources.contains(&arn("*/*/proxy/*")), "ANY becomes * and {{proxy+}} becomes *: {list_sources:?}");
    assert!(list_sources.contains(&arn("*/GET/items/*")));
    assert!(list_sources.contains(&arn("*/GET/")));
    assert_eq!(
        invoke_policy(&stack).await,
        BTreeSet::from([arn("v1/POST/items"), arn("v1/GET/items/*"), arn("v1/DELETE/items/*")]),
        "exactly the iam routes, nothing wider"
    );
    let create = emulator().lambda().get_function().function_name(format!("{stack}-create")).send().await.unwrap();
    assert_eq!(create.configuration().unwrap().memory_size(), Some(256));

    // One edited file → one code update, nothing else.
    std::fs::write(project.code_file("lib/util.js"), "module.exports = { changed: true };\n").unwrap();
    let plan = project.run(&["plan", "--output", "json"]).expect_code(0);
    assert_eq!(
        acting(&plan),
        BTreeSet::from([
            pair("function.list", "update"),
            pair("function.create", "update"),
            pair("function.admin", "update")
        ])
    );
    let applied = project.run(&["apply", "--auto-approve"]).expect_code(0);
    let mutating = crate::user_pool::resource_changes(applied.calls());
    assert_eq!(mutating.len(), 3, "{mutating:?}");
    assert!(mutating.iter().all(|op| op.ends_with("/code")), "only code uploads: {mutating:?}");
    project.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // A new route under a new path: resource + method + permission + one redeploy + policy.
    let fingerprint = deployed_fingerprint(&api, "v1").await;
    project.file.write(&shop_stack(&stack, "    GET /items/{id}/tags: { function: list, auth: iam }\n", "iam", true));
    let plan = project.run(&["plan", "--output", "json"]).expect_code(0);
    assert_eq!(
        acting(&plan),
        BTreeSet::from([
            pair("api_resource./items/{id}/tags", "create"),
            pair("api_route.GET /items/{id}/tags", "create"),
            pair("lambda_permission.GET /items/{id}/tags", "create"),
            pair("api_stage.v1", "update"),
            pair("iam_role.authenticated", "update"),
        ])
    );
    let applied = project.run(&["apply", "--auto-approve"]).expect_code(0);
    let deployments =
        applied.calls().iter().filter(|op| op.starts_with("POST") && op.ends_with("/deployments")).count();
    assert_eq!(deployments, 1, "one redeploy");
    assert_ne!(deployed_fingerprint(&api, "v1").await, fingerprint);
    assert!(invoke_policy(&stack).await.contains(&arn("v1/GET/items/*/tags")));
    let stages = emulator().apigateway().get_deployments().rest_api_id(&api).send().await.unwrap();
    assert_eq!(stages.items().len(), 1, "the old deployment is deleted");

    // iam → none takes the route out of the policy and changes the method in place.
    project.file.write(&shop_stack(&stack, "    GET /items/{id}/tags: { function: list, auth: iam }\n", "none", true));
    project.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(!invoke_policy(&stack).await.contains(&arn("v1/POST/items")));
    assert_eq!(routes_of(&api, "/items", "POST").await, "NONE");

    // Removing a function (and its route) deletes the function, its role and its permission.
    project.file.write(&shop_stack(&stack, "", "none", false));
    let plan = project.run(&["plan", "--output", "json"]).expect_code(0);
    let deletes: BTreeSet<String> =
        acting(&plan).into_iter().filter(|(_, a)| a == "delete").map(|(address, _)| address).collect();
    assert!(deletes.contains("function.admin") && deletes.contains("iam_role.fn-admin"), "{deletes:?}");
    assert!(deletes.contains("lambda_permission.DELETE /items/{id}"), "{deletes:?}");
    assert!(deletes.contains("api_route.DELETE /items/{id}") && deletes.contains("api_resource./items/{id}/tags"));
    project.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(emulator().lambda().get_function().function_name(format!("{stack}-admin")).send().await.is_err());
    assert!(emulator().iam().get_role().role_name(format!("{stack}-fn-admin")).send().await.is_err());
    project.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    project.run(&["destroy", "--auto-approve"]).expect_code(0);
    assert!(api_id(&stack).await.is_none(), "no API of the stack remains");
    let functions = emulator().lambda().list_functions().send().await.unwrap();
    assert!(functions.functions().iter().all(|f| !f.function_name().unwrap_or_default().starts_with(&stack)));
    let roles = emulator().iam().list_roles().path_prefix(format!("/authdemo/{stack}/")).send().await.unwrap();
    assert!(roles.roles().is_empty(), "no role of the stack remains");
}

async fn routes_of(api: &str, path: &str, method: &str) -> String {
    routes(api).await[path][method].0.clone()
}

#[test]
fn a_name_another_stack_owns_is_a_conflict_naming_that_stack_with_no_adopt_hint() {
    let first = unique_stack("col");
    let second = format!("{first}-dev");
    let function = |name: &str| {
        format!("functions:\n  {name}:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: code\n")
    };
    // Stack `X-dev` with function `f` and stack `X` with function `dev-f` both want `X-dev-f`.
    let owner = Project::new(&format!("stack: {second}\n{}", function("f")));
    owner.run(&["apply", "--auto-approve"]).expect_code(0);
    let other = Project::new(&format!("stack: {first}\n{}", function("dev-f")));
    let planned = other.run(&["plan", "--detailed-exitcode"]).expect_code(1);
    let output = planned.output();
    assert!(output.contains(&format!("it belongs to another authdemo stack, `{second}`")), "{output}");
    assert!(output.contains(&format!("it is stack `{second}`'s")), "{output}");
    assert!(!output.contains("--adopt function.dev-f"), "no adopt hint for another stack's resource: {output}");
    other.run(&["apply", "--auto-approve"]).expect_code(1);
    owner.run(&["destroy", "--auto-approve"]).expect_code(0);
}

#[test]
fn moving_a_route_to_a_function_added_in_the_same_apply_works_in_one_apply() {
    let stack = unique_stack("move");
    let function =
        |name: &str| format!("  {name}:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: code\n");
    let text = |functions: &str, target: &str| {
        format!(
            "stack: {stack}\nfunctions:\n{functions}api:\n  stage: v1\n  routes:\n    GET /x: {{ function: {target} }}\n"
        )
    };
    let project = Project::new(&text(&function("f1"), "f1"));
    project.run(&["apply", "--auto-approve"]).expect_code(0);
    project.file.write(&text(&(function("f1") + &function("f2")), "f2"));
    project.run(&["apply", "--auto-approve"]).expect_code(0);
    let planned = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(planned.code, 0, "one apply is enough:\n{}", planned.stdout);
    let sources = tokio::runtime::Runtime::new().unwrap().block_on(permissions(&format!("{stack}-f2")));
    assert_eq!(sources.len(), 1, "f2 may be invoked for GET /x: {sources:?}");
    project.run(&["destroy", "--auto-approve"]).expect_code(0);
}
