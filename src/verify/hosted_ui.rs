//! The hosted UI, checked without signing anyone in: the stack's domain is ACTIVE; for each app
//! client with a browser's OAuth flow, `/oauth2/authorize` with its first callback URL in the
//! file answers the sign-in page (not an error), and with a URL that is not the client's answers
//! `redirect_mismatch`; each client's callback URLs are HTTPS (or `http://localhost`, the one
//! exception Cognito makes); and the origin of each web client (one with callback URLs) is among
//! the API's CORS origins. A wrong callback URL, a missing flow or scope, a domain still being
//! created: each would otherwise pass every check and fail the first real user.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::http::{Answer, Http};
use crate::live::LiveState;
use crate::provider::{AwsProvider, ClientSpec};
use crate::stack::{Stack, origins_of};

/// A redirect URI no client lists: the hosted UI must refuse it with `redirect_mismatch`.
const STRANGER_URI: &str = "https://authdemo-verify.invalid/not-a-callback-url";

/// One check of the hosted UI and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HostedUiCheck {
    /// What was checked: `domain PREFIX` or `client NAME`.
    pub subject: String,
    /// What must hold, in words.
    pub check: String,
    /// Whether it held.
    pub ok: bool,
    /// What was found instead, when it did not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl HostedUiCheck {
    fn new(subject: &str, check: String, found: Option<String>) -> Self {
        Self { subject: subject.to_string(), check, ok: found.is_none(), found }
    }

    /// One line for people.
    pub(crate) fn line(&self) -> String {
        match &self.found {
            None => format!("hosted UI: {}: {} ... ok", self.subject, self.check),
            Some(found) => format!("hosted UI: {}: {} ... MISMATCH: {found}", self.subject, self.check),
        }
    }
}

/// Checks the hosted UI of `stack` at the URL `output` gives web clients (see
/// [`crate::outputs::hosted_ui_url`]); `intended` is the deployment the file describes at the
/// live ids. Nothing when the stack has no domain.
pub(crate) async fn check(
    provider: &AwsProvider,
    http: &Http,
    stack: &Stack,
    intended: &LiveState,
) -> Vec<HostedUiCheck> {
    let Some(prefix) = stack.user_pool.as_ref().and_then(|pool| pool.domain.as_deref()) else { return Vec::new() };
    let endpoint = provider.client_endpoints().user_pool.as_deref();
    let base = &crate::outputs::hosted_ui_url(prefix, &intended.target, endpoint);
    let subject = format!("domain {prefix}");
    let status = match provider.domain_status(prefix).await {
        Ok(Some(status)) => status,
        Ok(None) => "no such domain (run `authdemo apply`)".to_string(),
        Err(error) => format!("DescribeUserPoolDomain failed: {error}"),
    };
    let active = status == "ACTIVE";
    let mut checks = vec![HostedUiCheck::new(&subject, "is ACTIVE".into(), (!active).then(|| status.clone()))];
    let mut clients: Vec<_> = intended.each::<ClientSpec>().collect();
    clients.sort_by(|a, b| a.0.address.name.cmp(&b.0.address.name));
    for (client, spec) in clients {
        let subject = format!("client {}", client.address.name);
        checks.extend(static_checks(&subject, &spec, stack));
        let browser_flow = spec.oauth_flows.iter().any(|f| f == "code" || f == "implicit");
        if let (true, true, Some(first)) = (active, browser_flow, spec.callback_urls.first()) {
            let probe = Probe { http, base, client_id: &client.id, spec: &spec };
            checks.push(probe.sign_in_page(&subject, first).await);
            checks.push(probe.mismatch(&subject).await);
        }
    }
    checks
}

/// The checks that need no call: HTTPS callback URLs, the web origin allowed by the API's CORS.
fn static_checks(subject: &str, spec: &ClientSpec, stack: &Stack) -> Vec<HostedUiCheck> {
    let insecure: Vec<&str> = spec.callback_urls.iter().map(String::as_str).filter(|url| !is_secure(url)).collect();
    let mut checks = Vec::new();
    if !spec.callback_urls.is_empty() {
        let found = (!insecure.is_empty()).then(|| format!("not HTTPS: {}", insecure.join(", ")));
        checks.push(HostedUiCheck::new(subject, "callback URLs are HTTPS (or http://localhost)".into(), found));
    }
    let Some(api) = &stack.api else { return checks };
    let allowed = api.cors.as_ref().map(|cors| cors.origins.clone()).unwrap_or_default();
    for origin in origins_of(&spec.callback_urls) {
        let found = (!allowed.iter().any(|o| o == "*" || *o == origin)).then(|| match &api.cors {
            Some(_) => format!("the API allows only {}", allowed.join(", ")),
            None => "CORS is off (`api.cors: false`)".to_string(),
        });
        checks.push(HostedUiCheck::new(subject, format!("web origin {origin} is among the API's CORS origins"), found));
    }
    checks
}

/// HTTPS, or plain HTTP to localhost (Cognito's one exception, for development).
fn is_secure(url: &str) -> bool {
    url.starts_with("https://")
        || url.strip_prefix("http://localhost").is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
}

/// `/oauth2/authorize` requests of one client.
struct Probe<'a> {
    http: &'a Http,
    base: &'a str,
    client_id: &'a str,
    spec: &'a ClientSpec,
}

impl Probe<'_> {
    /// GET `/oauth2/authorize` as a browser would start the client's flow back to `redirect_uri`.
    async fn authorize(&self, redirect_uri: &str) -> Result<Answer, String> {
        let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
        let response_type = if self.spec.oauth_flows.contains("code") { "code" } else { "token" };
        let scopes: Vec<&str> = self.spec.oauth_scopes.iter().map(String::as_str).collect();
        let url = format!(
            "{}/oauth2/authorize?response_type={response_type}&client_id={}&redirect_uri={}&scope={}",
            self.base,
            encode(self.client_id),
            encode(redirect_uri),
            encode(&scopes.join(" "))
        );
        self.http.send("GET", &url, &[]).await
    }

    /// The first callback URL must lead to the sign-in page: a redirect to `/login` that answers
    /// 200, or the page itself.
    async fn sign_in_page(&self, subject: &str, callback: &str) -> HostedUiCheck {
        let check = format!("/oauth2/authorize with its first callback URL {callback} answers the sign-in page");
        let found = match self.authorize(callback).await {
            Err(message) => Some(message),
            Ok(answer) if answer.status == 200 => None,
            Ok(answer) => match answer.location.as_deref() {
                Some(location) if is_sign_in(location) => match self.http.send("GET", location, &[]).await {
                    Ok(page) if page.status == 200 => None,
                    Ok(page) => Some(format!("the sign-in page answered {}", page.status)),
                    Err(message) => Some(message),
                },
                _ => Some(describe(&answer)),
            },
        };
        HostedUiCheck::new(subject, check, found)
    }

    /// A URL that is not the client's must be refused with `redirect_mismatch`, never followed.
    async fn mismatch(&self, subject: &str) -> HostedUiCheck {
        let check = format!("/oauth2/authorize with {STRANGER_URI} answers redirect_mismatch");
        let found = match self.authorize(STRANGER_URI).await {
            Err(message) => Some(message),
            Ok(answer) if answer.location.as_deref().is_some_and(|l| l.contains("error=redirect_mismatch")) => None,
            Ok(answer) => Some(describe(&answer)),
        };
        HostedUiCheck::new(subject, check, found)
    }
}

/// Whether a redirect goes to the hosted UI's sign-in page (`…/login?…`) and not to an error.
fn is_sign_in(location: &str) -> bool {
    let path = location.split('?').next().unwrap_or(location);
    path.ends_with("/login") && !location.contains("error=")
}

/// An answer in a few words: the error it redirects with, or its status and destination.
fn describe(answer: &Answer) -> String {
    match answer.location.as_deref() {
        Some(location) => match location.split(['?', '&', '#']).find_map(|p| p.strip_prefix("error=")) {
            Some(error) => format!("{} redirect with error {error}", answer.status),
            None => format!("{} redirect to {location}", answer.status),
        },
        None => format!("{}: {}", answer.status, answer.body.chars().take(200).collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, location: Option<&str>) -> Answer {
        Answer { status, error_type: None, location: location.map(str::to_string), body: "page".into() }
    }

    #[test]
    fn only_https_and_localhost_are_secure_callback_urls() {
        assert!(is_secure("https://app.example.com/cb"));
        assert!(is_secure("http://localhost:3000/"));
        assert!(is_secure("http://localhost"));
        assert!(!is_secure("http://localhost.evil.example.com/"));
        assert!(!is_secure("http://app.example.com/"));
        assert!(!is_secure("myapp://callback"));
    }

    #[test]
    fn the_sign_in_page_is_a_login_redirect_and_errors_are_named() {
        assert!(is_sign_in("https://d.auth.us-west-2.amazoncognito.com/login?client_id=x&redirect_uri=y"));
        assert!(!is_sign_in("https://d.auth.us-west-2.amazoncognito.com/error?error=redirect_mismatch&client_id=x"));
        assert!(!is_sign_in("http://localhost:3000/?error=invalid_scope"));
        let mismatch = answer(302, Some("https://d/error?error=redirect_mismatch&client_id=x"));
        assert_eq!(describe(&mismatch), "302 redirect with error redirect_mismatch");
        assert_eq!(describe(&answer(302, Some("https://d/else"))), "302 redirect to https://d/else");
        assert_eq!(describe(&answer(404, None)), "404: page");
    }

    fn stack(api: &str) -> Stack {
        let text = format!(
            "stack: demo\nuser_pool:\n  clients:\n    web: {{ callback_urls: [\"https://app.example.com/cb\"] }}\n\
             functions:\n  api: {{ runtime: nodejs24.x, handler: api.handler, code: examples/api }}\n{api}"
        );
        let options = crate::stack::LoadOptions { var_overrides: &[], env: &|_| None };
        crate::stack::parse(std::path::Path::new("s.yaml"), &text, &options).unwrap()
    }

    fn client(callback_urls: &[&str]) -> ClientSpec {
        ClientSpec {
            callback_urls: callback_urls.iter().map(ToString::to_string).collect(),
            logout_urls: Vec::new(),
            oauth_flows: ["code".to_string()].into(),
            oauth_scopes: ["openid".to_string()].into(),
            auth_flows: std::collections::BTreeSet::new(),
        }
    }

    #[test]
    fn insecure_callback_urls_and_origins_the_api_refuses_are_reported() {
        let routes = "api:\n  stage: s\n  routes:\n    GET /x: { function: api }\n";
        let restricted = stack(&format!("{routes}  cors: {{ origins: [\"https://app.example.com\"] }}\n"));
        let checks =
            static_checks("client web", &client(&["http://app.example.com/", "https://app.example.com/"]), &restricted);
        let found: Vec<Option<&str>> = checks.iter().map(|c| c.found.as_deref()).collect();
        assert_eq!(
            found,
            [Some("not HTTPS: http://app.example.com/"), Some("the API allows only https://app.example.com"), None,],
            "{checks:#?}"
        );
        assert_eq!(checks[1].check, "web origin http://app.example.com is among the API's CORS origins");
        let off = stack(&format!("{routes}  cors: false\n"));
        let checks = static_checks("client web", &client(&["http://localhost:3000/"]), &off);
        assert_eq!(checks[0].found, None);
        assert_eq!(checks[1].found.as_deref(), Some("CORS is off (`api.cors: false`)"));
        let no_api = static_checks("client web", &client(&["https://app.example.com/"]), &stack(""));
        assert_eq!(no_api.len(), 1, "no API, no CORS to check: {no_api:#?}");
    }

    #[test]
    fn a_failed_check_says_what_was_found() {
        let failed = HostedUiCheck::new("client web", "x answers y".into(), Some("302 redirect with error z".into()));
        assert!(!failed.ok);
        assert_eq!(failed.line(), "hosted UI: client web: x answers y ... MISMATCH: 302 redirect with error z");
        assert_eq!(
            HostedUiCheck::new("domain d", "is ACTIVE".into(), None).line(),
            "hosted UI: domain d: is ACTIVE ... ok"
        );
    }
}
