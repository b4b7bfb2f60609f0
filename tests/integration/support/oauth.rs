//! The hosted UI's OAuth endpoints as a browser calls them: requests that follow no redirect,
//! and the authorization code flow with PKCE from the sign-in form to the tokens.

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A PKCE code verifier (43 characters or more, RFC 7636).
pub(crate) const VERIFIER: &str = "a-pkce-code-verifier-of-at-least-forty-three-characters-0123";

/// The S256 code challenge of `verifier`.
pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier))
}

/// `(key, value)` pairs owned.
pub(crate) fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl Answer {
    /// The `Location` header (the answer must have one).
    pub(crate) fn location(&self) -> String {
        self.location.clone().unwrap_or_else(|| panic!("no Location: {self:?}"))
    }

    /// The body as JSON (it must be).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// A request that follows no redirect: GET with `params` as the query, POST with them as a form.
/// `app` goes in the user agent as the SDK's app id does (the emulator's fault profiles).
pub(crate) fn send(app: &str, method: &str, url: &str, params: &[(String, String)]) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(format!("hosted-ui-test app/{app}"))
        .build()
        .into();
    let answer = if method == "GET" {
        agent.get(url).query_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).call()
    } else {
        agent.post(url).send_form(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let mut answer = answer.expect("the emulator answers");
    let location = answer.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    Answer { status: answer.status().as_u16(), location, body: answer.body_mut().read_to_string().unwrap() }
}

/// Signs `username` in through the hosted UI at `base` (`authdemo output`'s `hosted_ui_url`) for
/// `client_id`, asking for `scope`, and exchanges the code: the token answer, or the redirect
/// that refused the request (e.g. `…?error=invalid_scope`).
pub(crate) fn code_flow(
    base: &str,
    client_id: &str,
    callback: &str,
    scope: &str,
    (username, password): (&str, &str),
) -> Result<Value, String> {
    let challenge = challenge(VERIFIER);
    let mut form = pairs(&[
        ("client_id", client_id),
        ("redirect_uri", callback),
        ("response_type", "code"),
        ("scope", scope),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let authorized = send("oauth", "GET", &format!("{base}/oauth2/authorize"), &form);
    if authorized.location().starts_with(callback) {
        return Err(authorized.location());
    }
    form.extend(pairs(&[("username", username), ("password", password)]));
    let signed_in = send("oauth", "POST", &format!("{base}/login"), &form);
    let location = signed_in.location();
    let code = location.strip_prefix(&format!("{callback}?code=")).ok_or_else(|| location.clone())?;
    let exchange = pairs(&[
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code),
        ("redirect_uri", callback),
        ("code_verifier", VERIFIER),
    ]);
    let tokens = send("oauth", "POST", &format!("{base}/oauth2/token"), &exchange);
    if tokens.status == 200 { Ok(tokens.json()) } else { Err(format!("{tokens:?}")) }
}
