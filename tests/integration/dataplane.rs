//! The emulator's API Gateway data plane against stacks the real binary applied: the stage is
//! called over HTTP at `<endpoint>/restapis/<api>/<stage>/_user_request_/<path>` without a key,
//! with the stack's key, unsigned, signed as a guest and as the stack's signed-in user (identity
//! pool credentials, SigV4 with the SDK's own signer), with a bad signature, and past the quota.

use std::time::SystemTime;

use aws_sdk_cognitoidentity::types::Credentials as IdentityCredentials;
use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::api::{Applied, Project, sign_in_demouser};
use crate::support::{emulator, unique_stack};

const PASSWORD: &str = "Api-Passw0rd";

fn stack_text(stack: &str, quota: u32) -> String {
    format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  clients:
    web: {{ auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
  users:
    demouser:
      attributes: {{ email: demo@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
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
  quota: {{ limit: {quota}, period: DAY }}
  api_keys: [web-client]
"
    )
}

/// `stack_text` applied under a new name from `prefix`, with its keys' values in the outputs.
fn applied(prefix: &str, quota: u32) -> Applied {
    Applied::new(Project::new(&stack_text(&unique_stack(prefix), quota)), &["--show-sensitive"])
}

/// What the tests call the applied stack with.
trait Deployed {
    fn url(&self, path: &str) -> String;
    fn api_key(&self) -> String;
    async fn guest(&self) -> Credentials;
    async fn signed_in(&self) -> (String, Credentials);
}

impl Deployed for Applied {
    /// The emulator's URL of `path` on the stage: `output` gives the stage's URL through the
    /// endpoint override, `<endpoint>/restapis/<api>/<stage>/_user_request_`.
    fn url(&self, path: &str) -> String {
        let invoke = self.output("/api_url");
        assert!(invoke.starts_with(&format!("{}/restapis/", emulator().endpoint)), "{invoke}");
        format!("{invoke}{path}")
    }

    fn api_key(&self) -> String {
        self.output("/api_keys/web-client/value")
    }

    /// Credentials of a guest of the identity pool.
    async fn guest(&self) -> Credentials {
        let identity = emulator().identity();
        let id = identity.get_id().identity_pool_id(self.output("/identity_pool_id")).send().await.unwrap();
        let issued = identity.get_credentials_for_identity().identity_id(id.identity_id().unwrap()).send().await;
        credentials(issued.unwrap().credentials().unwrap())
    }

    /// The identity id and credentials of `demouser`, signed in with USER_PASSWORD_AUTH.
    async fn signed_in(&self) -> (String, Credentials) {
        let signed_in = sign_in_demouser(&self.output("/user_pool_clients/web"), PASSWORD).await.unwrap();
        let token = signed_in.id_token().unwrap().to_string();
        let provider = format!("cognito-idp.us-west-2.amazonaws.com/{}", self.output("/user_pool_id"));
        let identity = emulator().identity();
        let pool = self.output("/identity_pool_id");
        let id = identity.get_id().identity_pool_id(pool).logins(&provider, &token).send().await.unwrap();
        let id = id.identity_id().unwrap().to_string();
        let issued = identity.get_credentials_for_identity().identity_id(&id).logins(provider, token).send().await;
        (id, credentials(issued.unwrap().credentials().unwrap()))
    }
}

fn credentials(issued: &IdentityCredentials) -> Credentials {
    Credentials::new(
        issued.access_key_id().unwrap(),
        issued.secret_key().unwrap(),
        issued.session_token().map(str::to_string),
        None,
        "identity pool",
    )
}

/// GET `url` with `headers`: the status and the body.
fn get(url: &str, headers: &[(String, String)]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = request.call().expect("the emulator answers");
    (response.status().as_u16(), response.body_mut().read_to_string().expect("a text body"))
}

/// `headers` plus the SigV4 headers of a GET of `url` signed with `credentials` for execute-api.
fn signed(url: &str, credentials: &Credentials, headers: &[(String, String)]) -> Vec<(String, String)> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-west-2")
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "GET",
        url,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut all = headers.to_vec();
    all.extend(instructions.headers().map(|(name, value)| (name.to_string(), value.to_string())));
    all
}

fn key_header(applied: &Applied) -> Vec<(String, String)> {
    vec![("x-api-key".to_string(), applied.api_key())]
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn the_public_route_needs_the_stacks_api_key() {
    let applied = applied("dp-key", 1000);
    let url = applied.url("/noauth");
    assert_eq!(get(&url, &[]), (403, r#"{"message":"Forbidden"}"#.to_string()));
    let wrong = [("x-api-key".to_string(), "not-a-key-of-this-stack-at-all".to_string())];
    assert_eq!(get(&url, &wrong), (403, r#"{"message":"Forbidden"}"#.to_string()));

    let (status, body) = get(&url, &key_header(&applied));
    assert_eq!(status, 200, "{body}");
    let body = body_json(&body);
    assert_eq!(body["message"], "hello from /noauth");
    assert_eq!(body["authenticated"], false);
    assert_eq!(get(&applied.url("/nowhere"), &key_header(&applied)).0, 403);
}

#[tokio::test]
async fn the_iam_route_serves_signed_in_users_only() {
    let applied = applied("dp-iam", 1000);
    let url = applied.url("/auth");
    let key = key_header(&applied);
    assert_eq!(get(&url, &key), (403, r#"{"message":"Missing Authentication Token"}"#.to_string()));

    let (status, body) = get(&url, &signed(&url, &applied.guest().await, &key));
    assert_eq!(status, 403, "{body}");
    let refusal = body_json(&body)["Message"].as_str().unwrap_or_default().to_string();
    assert!(refusal.contains("-unauthenticated/CognitoIdentityCredentials is not authorized"), "{refusal}");
    assert!(refusal.ends_with("/latest/GET/auth"), "{refusal}");
    let guest_role = format!("{}-unauthenticated", applied.outputs["stack"].as_str().unwrap());
    emulator().grant_invoke_on_everything(&guest_role).await;
    let (status, body) = get(&url, &signed(&url, &applied.guest().await, &key));
    assert_eq!(status, 403, "Cognito's session policy on guest credentials has no execute-api: {body}");
    emulator().iam().delete_role_policy().role_name(&guest_role).policy_name("by-hand").send().await.unwrap();

    let (identity_id, user) = applied.signed_in().await;
    let (status, body) = get(&url, &signed(&url, &user, &key));
    assert_eq!(status, 200, "{body}");
    let body = body_json(&body);
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["cognitoIdentityId"], identity_id.as_str());
    assert_eq!(get(&url, &signed(&url, &user, &[])), (403, r#"{"message":"Forbidden"}"#.to_string()));
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let applied = applied("dp-sig", 1000);
    let url = applied.url("/auth");
    let (_, user) = applied.signed_in().await;
    let wrong_secret =
        Credentials::new(user.access_key_id(), "not-the-secret", user.session_token().map(str::to_string), None, "t");
    let (status, body) = get(&url, &signed(&url, &wrong_secret, &key_header(&applied)));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("The request signature we calculated does not match"), "{body}");

    let unknown = Credentials::new("ASIANOTISSUEDHERE", "secret", Some("token".into()), None, "t");
    let (status, body) = get(&url, &signed(&url, &unknown, &key_header(&applied)));
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"message":"The security token included in the request is invalid."}"#)
    );

    let signed_for_another_path = signed(&applied.url("/noauth"), &user, &key_header(&applied));
    assert_eq!(get(&url, &signed_for_another_path).0, 403);
}

#[test]
fn calls_past_the_quota_get_429() {
    let applied = applied("dp-quota", 2);
    let url = applied.url("/noauth");
    let key = key_header(&applied);
    let statuses: Vec<u16> = (0..2).map(|_| get(&url, &key).0).collect();
    assert_eq!(statuses, [200, 200]);
    assert_eq!(get(&url, &key), (429, r#"{"message":"Limit Exceeded"}"#.to_string()));
}

#[test]
fn cognito_answers_a_browsers_preflight() {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let response = agent
        .options(&emulator().endpoint)
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")
        .call()
        .expect("the emulator answers");
    assert!(response.status().is_success(), "{}", response.status());
    let allowed =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(allowed("access-control-allow-origin"), "http://localhost:3000");
    assert!(
        allowed("access-control-allow-headers").contains("x-amz-target"),
        "{}",
        allowed("access-control-allow-headers")
    );
}
