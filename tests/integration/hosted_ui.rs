//! The emulator's hosted UI against a stack the real binary applied, at the base URL `authdemo
//! output` gives (`<endpoint>/_hosted_ui_/<prefix>.auth.<region>.amazoncognito.com`): the code
//! flow with PKCE as a browser makes it (authorize, the sign-in form, the token exchange), the
//! tokens accepted by GetUser and the identity pool, refresh, userInfo and logout; and each
//! refusal answered as Cognito documents it (a redirect URI or sign-out URL not the client's, a
//! scope not allowed, a PKCE verifier that does not match, a code used twice or expired).

use base64::Engine;
use serde_json::Value;

use crate::api::{Applied, PASSWORD, Project};
use crate::support::oauth::{Answer, VERIFIER, challenge, pairs, send};
use crate::support::{emulator, unique_stack};

const CALLBACK: &str = "http://localhost:3000/";

fn stack_text(stack: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  domain: {stack}
  clients:
    web:
      callback_urls: [\"{CALLBACK}\"]
      logout_urls: [\"{CALLBACK}\"]
      oauth: {{ flows: [code], scopes: [openid, email, aws.cognito.signin.user.admin] }}
  users:
    demouser:
      attributes: {{ email: demo@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
identity_pool:
  allow_unauthenticated: false
  clients: [web]
"
    )
}

/// `stack_text` applied under a new name.
fn applied() -> Applied {
    Applied::new(Project::new(&stack_text(&unique_stack("hui"))), &[])
}

/// The applied stack's hosted UI, as the tests call it.
trait HostedUi {
    fn client_id(&self) -> String;
    fn url(&self, path: &str) -> String;
    fn authorize_query(&self, changes: &[(&str, &str)]) -> Vec<(String, String)>;
    fn code(&self, app: &str) -> String;
    fn exchange(&self, app: &str, code: &str, verifier: &str) -> Answer;
}

impl HostedUi for Applied {
    fn client_id(&self) -> String {
        self.output("/user_pool_clients/web")
    }

    /// The hosted UI's URL of `path`, through `output`'s base URL.
    fn url(&self, path: &str) -> String {
        let base = self.output("/hosted_ui_url");
        assert!(base.starts_with(&format!("{}/_hosted_ui_/", emulator().endpoint)), "{base}");
        format!("{base}{path}")
    }

    /// The authorize request's query, with `changes` made to it.
    fn authorize_query(&self, changes: &[(&str, &str)]) -> Vec<(String, String)> {
        let challenge = challenge(VERIFIER);
        let mut query: Vec<(String, String)> = [
            ("client_id", self.client_id().as_str()),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "xyz"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        for (key, value) in changes {
            query.retain(|(k, _)| k != key);
            query.push(((*key).to_string(), (*value).to_string()));
        }
        query
    }

    /// Signs demouser in on the sign-in form (`app` is the caller's app id): the code given back.
    fn code(&self, app: &str) -> String {
        let mut form = self.authorize_query(&[]);
        form.extend([("username".into(), "demouser".into()), ("password".into(), PASSWORD.into())]);
        let answer = send(app, "POST", &self.url("/login"), &form);
        assert_eq!(answer.status, 302, "{answer:?}");
        let location = answer.location();
        assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
        assert!(location.ends_with("&state=xyz"), "{location}");
        location.trim_start_matches(&format!("{CALLBACK}?code=")).trim_end_matches("&state=xyz").to_string()
    }

    /// POST /oauth2/token of `code` with the PKCE `verifier`.
    fn exchange(&self, app: &str, code: &str, verifier: &str) -> Answer {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id()),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ];
        send(app, "POST", &self.url("/oauth2/token"), &pairs(&form))
    }
}

fn authorize(applied: &Applied, changes: &[(&str, &str)]) -> Answer {
    send("hui", "GET", &applied.url("/oauth2/authorize"), &applied.authorize_query(changes))
}

#[tokio::test]
async fn the_code_flow_with_pkce_signs_in_and_its_tokens_are_cognitos() {
    let applied = applied();
    let authorized = authorize(&applied, &[]);
    assert_eq!(authorized.status, 302, "{authorized:?}");
    assert!(authorized.location().starts_with(&applied.url("/login?")), "{authorized:?}");
    let form = send("hui", "GET", &authorized.location(), &[]);
    assert_eq!(form.status, 200, "{form:?}");
    assert!(form.body.contains("name=\"password\""), "{form:?}");

    let mut wrong = applied.authorize_query(&[]);
    wrong.extend(pairs(&[("username", "demouser"), ("password", "Not-the-passw0rd")]));
    let refused = send("hui", "POST", &applied.url("/login"), &wrong);
    assert_eq!(refused.status, 200, "{refused:?}");
    assert!(refused.body.contains("Incorrect username or password."), "{refused:?}");

    let tokens = applied.exchange("hui", &applied.code("hui"), VERIFIER);
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let tokens = tokens.json();
    let access = tokens["access_token"].as_str().unwrap();
    let user = emulator().cognito().get_user().access_token(access).send().await.unwrap();
    assert_eq!(user.username(), "demouser");
    let provider = format!("cognito-idp.us-west-2.amazonaws.com/{}", applied.output("/user_pool_id"));
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = id_token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    let issuer = format!("https://cognito-idp.us-west-2.amazonaws.com/{}", applied.output("/user_pool_id"));
    assert_eq!((&claims["iss"], &claims["aud"]), (&Value::from(issuer), &Value::from(applied.client_id())));
    assert_eq!((&claims["nonce"], &claims["token_use"]), (&Value::from("n-0S6_WzA2Mj"), &Value::from("id")));
    let identity = emulator().identity();
    let pool = applied.output("/identity_pool_id");
    let id = identity.get_id().identity_pool_id(pool).logins(&provider, id_token).send().await.unwrap();
    let issued = identity.get_credentials_for_identity().identity_id(id.identity_id().unwrap());
    let issued = issued.logins(&provider, id_token).send().await.unwrap();
    assert!(issued.credentials().and_then(|c| c.access_key_id()).is_some(), "{issued:?}");

    let info = send_bearer(&applied.url("/oauth2/userInfo"), access);
    assert_eq!((info["username"].as_str(), info["email"].as_str()), (Some("demouser"), Some("demo@example.com")));
    let form = pairs(&[
        ("grant_type", "refresh_token"),
        ("client_id", &applied.client_id()),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ]);
    let refreshed = send("hui", "POST", &applied.url("/oauth2/token"), &form);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert!(refreshed.json()["id_token"].is_string(), "{refreshed:?}");

    let logout = pairs(&[("client_id", &applied.client_id()), ("logout_uri", CALLBACK)]);
    assert_eq!(send("hui", "GET", &applied.url("/logout"), &logout).location(), CALLBACK);
}

fn send_bearer(url: &str, token: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut answer = agent.get(url).header("Authorization", format!("Bearer {token}")).call().unwrap();
    let body = answer.body_mut().read_to_string().unwrap();
    assert_eq!(answer.status(), 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn refusals_are_cognitos_error_page_error_redirects_and_oauth_errors() {
    let applied = applied();
    let error_page = |client: &str| applied.url(&format!("/error?error=redirect_mismatch&client_id={client}"));
    let client = applied.client_id();
    let elsewhere = authorize(&applied, &[("redirect_uri", "http://localhost:3001/")]);
    assert_eq!((elsewhere.status, elsewhere.location()), (302, error_page(&client)), "never to the URI");
    let scope = authorize(&applied, &[("scope", "openid phone")]);
    assert_eq!(scope.location(), format!("{CALLBACK}?error=invalid_scope&state=xyz"));
    let no_openid = authorize(&applied, &[("scope", "email")]);
    assert_eq!(no_openid.location(), format!("{CALLBACK}?error=invalid_scope&state=xyz"));
    let implicit = authorize(&applied, &[("response_type", "token")]);
    assert_eq!(implicit.location(), format!("{CALLBACK}?error=unauthorized_client&state=xyz"));
    let plain = authorize(&applied, &[("code_challenge_method", "plain")]);
    assert!(plain.location().starts_with(&format!("{CALLBACK}?error=invalid_request&")), "{plain:?}");
    let logout = pairs(&[("client_id", &client), ("logout_uri", "https://evil.example.com/")]);
    assert_eq!(send("hui", "GET", &applied.url("/logout"), &logout).location(), error_page(&client));

    let mismatched =
        applied.exchange("hui", &applied.code("hui"), "another-verifier-of-at-least-forty-three-characters-0");
    assert_eq!((mismatched.status, mismatched.json()), (400, serde_json::json!({ "error": "invalid_grant" })));
    let code = applied.code("hui");
    assert_eq!(applied.exchange("hui", &code, VERIFIER).status, 200);
    let reused = applied.exchange("hui", &code, VERIFIER);
    assert_eq!((reused.status, reused.json()), (400, serde_json::json!({ "error": "invalid_grant" })));
    let stranger = pairs(&[("grant_type", "authorization_code"), ("client_id", "nosuchclient"), ("code", "x")]);
    let unknown = send("hui", "POST", &applied.url("/oauth2/token"), &stranger);
    assert_eq!((unknown.status, unknown.json()), (400, serde_json::json!({ "error": "invalid_client" })));

    // With the fault token o200, the codes this run is given last 200 ms, not 5 minutes.
    let code = applied.code("hui-Fo200");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let expired = applied.exchange("hui-Fo200", &code, VERIFIER);
    assert_eq!((expired.status, expired.json()), (400, serde_json::json!({ "error": "invalid_grant" })));
    let fresh = applied.code("hui-Fo200");
    assert_eq!(applied.exchange("hui-Fo200", &fresh, VERIFIER).status, 200, "a code used in time works");
}

#[tokio::test]
async fn verify_checks_the_hosted_ui_and_names_a_callback_url_changed_by_hand() {
    let stack = unique_stack("hui-verify");
    let project = Project::new(&crate::faults::seed_stack(&stack));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let verified = project.command(&["verify", "--settle", "2"]).run().expect_code(0);
    for line in [
        format!("hosted UI: domain {stack}: is ACTIVE ... ok"),
        format!("hosted UI: client web: /oauth2/authorize with its first callback URL {CALLBACK} answers the sign-in page ... ok"),
        "hosted UI: client web: /oauth2/authorize with https://authdemo-verify.invalid/not-a-callback-url answers redirect_mismatch ... ok".into(),
        "hosted UI: client web: callback URLs are HTTPS (or http://localhost) ... ok".into(),
        "hosted UI: client web: web origin http://localhost:3000 is among the API's CORS origins ... ok".into(),
    ] {
        assert!(verified.stdout.contains(&line), "no `{line}` in:\n{}", verified.stdout);
    }

    // Someone changes the client's callback URL by hand (sending the whole configuration back,
    // as Cognito resets what an update omits): the file's URL now meets redirect_mismatch.
    let out: Value = serde_json::from_str(&project.command(&["output"]).run().expect_code(0).stdout).unwrap();
    let (pool, client) = (out["user_pool_id"].as_str().unwrap(), out["user_pool_clients"]["web"].as_str().unwrap());
    let cognito = emulator().cognito();
    let described = cognito.describe_user_pool_client().user_pool_id(pool).client_id(client).send().await.unwrap();
    let live = described.user_pool_client().unwrap();
    cognito
        .update_user_pool_client()
        .user_pool_id(pool)
        .client_id(client)
        .set_client_name(live.client_name().map(str::to_string))
        .callback_urls("http://localhost:3999/")
        .set_logout_urls(Some(live.logout_urls().to_vec()))
        .set_allowed_o_auth_flows(Some(live.allowed_o_auth_flows().to_vec()))
        .set_allowed_o_auth_scopes(Some(live.allowed_o_auth_scopes().to_vec()))
        .set_allowed_o_auth_flows_user_pool_client(live.allowed_o_auth_flows_user_pool_client())
        .set_supported_identity_providers(Some(live.supported_identity_providers().to_vec()))
        .set_explicit_auth_flows(Some(live.explicit_auth_flows().to_vec()))
        .send()
        .await
        .unwrap();
    let failed = project.command(&["verify", "--settle", "2"]).run().expect_code(1);
    let line = format!(
        "hosted UI: client web: /oauth2/authorize with its first callback URL {CALLBACK} answers the sign-in page \
         ... MISMATCH: 302 redirect with error redirect_mismatch"
    );
    assert!(failed.stdout.contains(&line), "no `{line}` in:\n{}", failed.stdout);
    let json = project.command(&["verify", "--settle", "2", "--format", "json"]).run().expect_code(1);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["agree"], false);
    let failing: Vec<&Value> = report["hosted_ui"].as_array().unwrap().iter().filter(|c| c["ok"] == false).collect();
    assert_eq!(failing.len(), 1, "{report:#}");
    assert_eq!(failing[0]["subject"], "client web");
    assert_eq!(failing[0]["found"], "302 redirect with error redirect_mismatch");
    assert!(failing[0]["check"].as_str().unwrap().contains(CALLBACK), "{report:#}");
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
