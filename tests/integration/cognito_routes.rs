//! `auth: cognito` routes (#24): `access` judges each caller and each token kind exactly, with
//! reasons naming the authorizer and the scopes as they are live; `verify` signs the file's user
//! in and agrees with it; the authorizer or a route's scopes changed by hand is drift that
//! `apply` puts back; and at the gateway, a route requiring `items/write` refuses an ID token and
//! an access token without the scope (401, as API Gateway answers) and lets one with it through.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::{Applied, PASSWORD, Project, sign_in_demouser};
use crate::support::oauth::code_flow;
use crate::support::{emulator, unique_stack};

/// A stack with a public route, a route for any ID token, and one for the scope `items/write`
/// that only the client `web` may ask for.
fn scopes_stack(stack: &str) -> String {
    // A hosted-UI domain prefix may not contain `cognito`.
    let domain = stack.replace("cognito", "tokens");
    format!(
        "stack: {stack}
region: us-west-2
user_pool:
  resource_servers:
    items: {{ name: Items API, scopes: {{ write: may add and change items }} }}
  domain: {domain}
  clients:
    web:
      callback_urls: [\"http://localhost:3000/\"]
      oauth: {{ flows: [code], scopes: [openid, items/write] }}
      auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
  users:
    demouser:
      attributes: {{ email: demo@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: ./code }}
api:
  stage: latest
  routes:
    GET /noauth: {{ function: api }}
    GET /me: {{ function: api, auth: cognito }}
    POST /items: {{ function: api, auth: cognito, scopes: [items/write] }}
"
    )
}

/// A function answering with the claims API Gateway's Cognito authorizer hands it.
const CLAIMS_HANDLER: &str = "exports.handler = async (event) => ({ statusCode: 200, \
    body: JSON.stringify(((event.requestContext || {}).authorizer || {}).claims || null) });\n";

/// `scopes_stack` applied under a new name from `prefix`, its function answering with the
/// authorizer's claims.
fn applied(prefix: &str) -> Applied {
    let project = Project::new(&scopes_stack(&unique_stack(prefix)));
    std::fs::write(project.dir().join("code/api.js"), CLAIMS_HANDLER).unwrap();
    Applied::new(project, &[])
}

/// The applied stack's REST API.
trait Api {
    fn api_id(&self) -> String;
}

impl Api for Applied {
    fn api_id(&self) -> String {
        self.output("/api_url").split('/').nth(4).expect("the API id in the URL").to_string()
    }
}

/// Each route's verdicts: the callers public, api_key, guest, signed_in, then the tokens
/// id_token, access_token, oauth_access_token (none on routes without an authorizer).
fn verdicts(report: &Value) -> BTreeMap<String, Vec<String>> {
    let routes = report["routes"].as_array().expect("routes");
    let text = |v: &Value| v.as_str().expect("a verdict").to_string();
    routes
        .iter()
        .map(|route| {
            let mut row: Vec<String> =
                ["public", "api_key", "guest", "signed_in"].iter().map(|c| text(&route["callers"][c])).collect();
            if let Some(tokens) = route.get("tokens") {
                row.extend(
                    ["id_token", "access_token", "oauth_access_token"].iter().map(|t| text(&tokens[t]["verdict"])),
                );
            }
            (text(&route["route"]), row)
        })
        .collect()
}

fn rows(expected: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    expected.iter().map(|(route, row)| ((*route).to_string(), row.iter().map(|v| (*v).to_string()).collect())).collect()
}

const EXPECTED: [(&str, &[&str]); 3] = [
    ("GET /noauth", &["allow", "allow", "allow", "allow"]),
    ("GET /me", &["deny", "deny", "deny", "allow", "allow", "deny", "deny"]),
    ("POST /items", &["deny", "deny", "deny", "allow", "deny", "deny", "allow"]),
];

fn access(applied: &Applied) -> Value {
    let run = applied.project.command(&["access", "--format", "json"]).run().expect_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test]
async fn access_and_verify_judge_each_token_and_hand_changes_are_drift_apply_fixes() {
    let applied = applied("cognito");
    let report = access(&applied);
    assert_eq!(verdicts(&report), rows(&EXPECTED));
    let items = report["routes"].as_array().unwrap().iter().find(|r| r["route"] == "POST /items").unwrap();
    let oauth = items["tokens"]["oauth_access_token"]["reason"].as_str().unwrap();
    assert!(
        oauth.contains("authorizer cognito") && oauth.contains("items/write") && oauth.contains("client web"),
        "{oauth}"
    );
    assert!(items["reasons"]["public"].as_str().unwrap().contains("401"), "{items}");

    let run = applied.project.command(&["verify", "--format", "json", "--settle", "3"]).run().expect_code(0);
    let verified: Value = serde_json::from_str(&run.stdout).unwrap();
    let calls = verified["calls"].as_array().unwrap();
    let with = |route: &str, token: &str| {
        calls.iter().find(|c| c["route"] == route && c["token"] == token).unwrap_or_else(|| panic!("{route} {token}"))
    };
    assert_eq!(
        (with("GET /me", "id_token")["status"].as_u64(), with("GET /me", "id_token")["result"].as_str()),
        (Some(200), Some("agree"))
    );
    assert_eq!(with("POST /items", "access_token")["status"], 401);
    assert_eq!(with("POST /items", "oauth_access_token")["result"], "skipped");
    assert!(!run.output().contains(PASSWORD));

    let gateway = emulator().apigateway();
    let api_id = applied.api_id();
    let authorizers = gateway.get_authorizers().rest_api_id(&api_id).send().await.unwrap();
    let authorizer = authorizers.items()[0].id().unwrap().to_string();
    let header = aws_sdk_apigateway::types::PatchOperation::builder()
        .op(aws_sdk_apigateway::types::Op::Replace)
        .path("/identitySource")
        .value("method.request.header.X-Token")
        .build();
    gateway
        .update_authorizer()
        .rest_api_id(&api_id)
        .authorizer_id(&authorizer)
        .patch_operations(header)
        .send()
        .await
        .unwrap();
    // Deployed by hand too, with the description apply gave (its fingerprint): the stage serves
    // the moved authorizer until apply redeploys it.
    let stage = gateway.get_stage().rest_api_id(&api_id).stage_name("latest").send().await.unwrap();
    let served = stage.deployment_id().unwrap();
    let served = gateway.get_deployment().rest_api_id(&api_id).deployment_id(served).send().await.unwrap();
    let deployment = gateway
        .create_deployment()
        .rest_api_id(&api_id)
        .set_description(served.description().map(str::to_string))
        .send()
        .await
        .unwrap();
    let to_it = aws_sdk_apigateway::types::PatchOperation::builder()
        .op(aws_sdk_apigateway::types::Op::Replace)
        .path("/deploymentId")
        .value(deployment.id().unwrap())
        .build();
    gateway.update_stage().rest_api_id(&api_id).stage_name("latest").patch_operations(to_it).send().await.unwrap();
    let id_token = sign_in(&applied).await.0;
    assert_eq!(call(&applied, "GET", "/me", Some(&id_token)).0, 401, "the token is not where the authorizer reads it");
    let items_path = gateway.get_resources().rest_api_id(&api_id).send().await.unwrap();
    let resource = items_path.items().iter().find(|r| r.path() == Some("/items")).unwrap().id().unwrap().to_string();
    let scope = aws_sdk_apigateway::types::PatchOperation::builder()
        .op(aws_sdk_apigateway::types::Op::Remove)
        .path("/authorizationScopes")
        .value("items/write")
        .build();
    gateway
        .update_method()
        .rest_api_id(&api_id)
        .resource_id(&resource)
        .http_method("POST")
        .patch_operations(scope)
        .send()
        .await
        .unwrap();

    let drifted = access(&applied);
    let tokens = &drifted["routes"].as_array().unwrap().iter().find(|r| r["route"] == "GET /me").unwrap()["tokens"];
    assert!(tokens["id_token"]["reason"].as_str().unwrap().contains("method.request.header.X-Token"), "{tokens}");
    let plan = applied.project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(
        plan.stdout.contains("api_authorizer.cognito") && plan.stdout.contains("api_route.POST /items"),
        "{}",
        plan.stdout
    );
    applied.project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    applied.project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    let method =
        gateway.get_method().rest_api_id(&api_id).resource_id(&resource).http_method("POST").send().await.unwrap();
    assert_eq!(method.authorization_scopes(), ["items/write"]);
    let authorizers = gateway.get_authorizers().rest_api_id(&api_id).send().await.unwrap();
    assert_eq!(authorizers.items()[0].identity_source(), Some("method.request.header.Authorization"));
    assert_eq!(verdicts(&access(&applied)), rows(&EXPECTED));
    assert_eq!(call(&applied, "GET", "/me", Some(&id_token)).0, 200, "apply redeployed the authorizer");
}

/// `demouser` signed in through the client `web` with its password: its ID and access tokens.
async fn sign_in(applied: &Applied) -> (String, String) {
    let tokens = sign_in_demouser(&applied.output("/user_pool_clients/web"), PASSWORD).await.unwrap();
    (tokens.id_token().unwrap().to_string(), tokens.access_token().unwrap().to_string())
}

/// `method` (GET or POST) on the stage's `path` with `token` in the Authorization header: status
/// and body.
fn call(applied: &Applied, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}{path}", applied.output("/api_url"));
    let headers: Vec<(&str, &str)> = token.map(|t| ("Authorization", t)).into_iter().collect();
    let mut answer = if method == "POST" {
        let mut request = agent.post(&url);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        request.send_empty().expect("the emulator answers")
    } else {
        let mut request = agent.get(&url);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        request.call().expect("the emulator answers")
    };
    (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default())
}

/// The access token `demouser` gets through `client` for `scope` by signing in on the hosted UI
/// (the only way a custom scope reaches a token), or the refusal.
fn oauth_token(applied: &Applied, client: &str, scope: &str) -> Result<String, String> {
    let base = applied.output("/hosted_ui_url");
    let tokens = code_flow(&base, client, "http://localhost:3000/", scope, ("demouser", PASSWORD))?;
    Ok(tokens["access_token"].as_str().expect("an access token").to_string())
}

#[tokio::test]
async fn a_scoped_route_lets_through_only_an_access_token_carrying_its_scope() {
    let applied = applied("scoped");
    let client = applied.output("/user_pool_clients/web");
    let (id, access) = sign_in(&applied).await;
    let (id, access) = (id.as_str(), access.as_str());
    let scoped = oauth_token(&applied, &client, "openid items/write").unwrap();
    assert!(oauth_token(&applied, &client, "items/delete").unwrap_err().contains("invalid_scope"));
    let unauthorized = (401, r#"{"message":"Unauthorized"}"#.to_string());

    assert_eq!(call(&applied, "POST", "/items", None), unauthorized);
    assert_eq!(call(&applied, "POST", "/items", Some(id)), unauthorized, "an ID token on a scoped route");
    assert_eq!(call(&applied, "POST", "/items", Some(access)), unauthorized, "an access token without the scope");
    let (status, claims) = call(&applied, "POST", "/items", Some(&scoped));
    assert_eq!(status, 200, "an access token with items/write");
    let claims: Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        (claims["token_use"].as_str(), claims["scope"].as_str()),
        (Some("access"), Some("openid items/write")),
        "{claims}"
    );
    assert_eq!(call(&applied, "POST", "/items", Some("not.a.token")), unauthorized);

    assert_eq!(call(&applied, "GET", "/me", Some(id)).0, 200, "an ID token on a route without scopes");
    assert_eq!(call(&applied, "GET", "/me", Some(access)), unauthorized, "an access token on a route without scopes");
    assert_eq!(call(&applied, "GET", "/noauth", None).0, 200);
}
