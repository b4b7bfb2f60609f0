//! The app clients of `user_pool.clients`: their redirect URLs, OAuth flows and scopes, and
//! explicit auth flows.

use std::collections::BTreeSet;

use serde_json::Value;

use super::reader::{Field, Reader, opt};
use super::resource_server::read_custom_scope;
use super::schema::{list, object, one_of, text};

/// An app client of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// OAuth redirect URLs after sign-in.
    pub callback_urls: Vec<String>,
    /// OAuth redirect URLs after sign-out.
    pub logout_urls: Vec<String>,
    /// OAuth grant types: `code`, `implicit`.
    pub oauth_flows: Vec<String>,
    /// OAuth scopes.
    pub oauth_scopes: Vec<String>,
    /// Explicit auth flows (`ALLOW_…`).
    pub auth_flows: Vec<String>,
}

pub(super) const CLIENT_FIELDS: &[&str] = &["callback_urls", "logout_urls", "oauth", "auth_flows"];
pub(super) const OAUTH_FIELDS: &[&str] = &["flows", "scopes"];
/// The OAuth flows a client may have (those of a client without a secret).
pub(super) const OAUTH_FLOWS: &[&str] = &["code", "implicit"];
/// Every OAuth flow Cognito knows: `client_credentials` is recognised, then refused with a reason.
const KNOWN_OAUTH_FLOWS: &[&str] = &["code", "implicit", "client_credentials"];
pub(super) const OAUTH_SCOPES: &[&str] = &["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"];
pub(super) const AUTH_FLOWS: &[&str] = &[
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];
/// Cognito's default explicit auth flows, used when the file names none.
const DEFAULT_AUTH_FLOWS: &[&str] = &["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"];

/// Reads one app client; `custom_scopes` are the pool's resource servers' scopes (`None` when
/// they cannot be told).
pub(super) fn read_client(
    r: &mut Reader<'_>,
    field: Field<'_>,
    custom_scopes: Option<&BTreeSet<String>>,
) -> Option<Client> {
    let f = r.mapping(field, CLIENT_FIELDS)?;
    let urls =
        |r: &mut Reader<'_>, key: &str| opt(&f, key, |field| r.list(field, read_url)).unwrap_or(Some(Vec::new()));
    let callback_urls = urls(r, "callback_urls");
    let logout_urls = urls(r, "logout_urls");
    let auth_flows = opt(&f, "auth_flows", |field| r.list(field, |r, item| r.one_of(item, AUTH_FLOWS)))
        .unwrap_or_else(|| Some(DEFAULT_AUTH_FLOWS.iter().map(std::string::ToString::to_string).collect()));
    let (oauth_flows, oauth_scopes) = match f.get("oauth") {
        Some(owned) => read_oauth(r, owned.field(), custom_scopes)?,
        None => (Vec::new(), Vec::new()),
    };
    let callback_urls = callback_urls?;
    if !oauth_flows.is_empty() && callback_urls.is_empty() {
        r.error(
            f.location(),
            &format!("{}.callback_urls", f.path()),
            "the `code` and `implicit` OAuth flows need at least one callback URL",
            Some("add `callback_urls: [\"https://app.example.com/\"]`".into()),
        );
        return None;
    }
    Some(Client { callback_urls, logout_urls: logout_urls?, oauth_flows, oauth_scopes, auth_flows: auth_flows? })
}

fn read_oauth(
    r: &mut Reader<'_>,
    field: Field<'_>,
    custom_scopes: Option<&BTreeSet<String>>,
) -> Option<(Vec<String>, Vec<String>)> {
    let f = r.mapping(field, OAUTH_FIELDS)?;
    let flows = opt(&f, "flows", |field| r.list(field, read_oauth_flow)).unwrap_or(Some(Vec::new()));
    let scopes = opt(&f, "scopes", |field| r.list(field, |r, item| read_scope(r, item, custom_scopes)))
        .unwrap_or(Some(Vec::new()));
    let (flows, scopes) = (flows?, scopes?);
    if flows.is_empty() != scopes.is_empty() {
        r.error(
            f.location(),
            f.path(),
            "OAuth needs both `flows` and `scopes`",
            Some("e.g. `oauth: { flows: [code], scopes: [openid, email] }`".into()),
        );
        return None;
    }
    Some((flows, scopes))
}

/// Reads one OAuth scope: a standard one, or a resource server's (`IDENTIFIER/SCOPE`), which
/// the pool must declare (Cognito refuses a client asking for a scope no resource server has).
fn read_scope(r: &mut Reader<'_>, field: Field<'_>, custom_scopes: Option<&BTreeSet<String>>) -> Option<String> {
    let scope = r.string(field)?.value;
    if scope.contains('/') {
        return read_custom_scope(r, field, scope, custom_scopes);
    }
    if OAUTH_SCOPES.contains(&scope.as_str()) {
        return Some(scope);
    }
    r.one_of(field, OAUTH_SCOPES)
}

/// Reads one OAuth flow. `client_credentials` is refused: Cognito allows it only on a client
/// with a secret, and the clients authdemo creates have none.
fn read_oauth_flow(r: &mut Reader<'_>, field: Field<'_>) -> Option<String> {
    let flow = r.one_of(field, KNOWN_OAUTH_FLOWS)?;
    if !OAUTH_FLOWS.contains(&flow.as_str()) {
        r.error(
            field.location(),
            field.path(),
            format!("`{flow}` needs a client secret, and authdemo creates clients without one"),
            Some("Cognito refuses it on such a client; use `code` for users who sign in".into()),
        );
        return None;
    }
    Some(flow)
}

fn read_url(r: &mut Reader<'_>, field: Field<'_>) -> Option<String> {
    r.string_matching(
        field,
        |url| {
            let secure = url.starts_with("https://") && url.len() > "https://".len();
            let local = url.starts_with("http://localhost");
            (secure || local) && !url.contains('#') && !url.contains(char::is_whitespace)
        },
        "is not a valid redirect URL",
        "use an https:// URL without a #fragment (http:// is allowed only for localhost)",
    )
}

pub(super) fn is_client_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The JSON Schema of one app client (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let custom = serde_json::json!({ "type": "string", "pattern": "^[^/]+/[^/]+$", "description": "A resource server's scope: IDENTIFIER/SCOPE." });
    let scope = serde_json::json!({ "anyOf": [one_of(OAUTH_SCOPES), custom] });
    let oauth = object(OAUTH_FIELDS, &[], vec![("flows", list(one_of(OAUTH_FLOWS))), ("scopes", list(scope))]);
    object(
        CLIENT_FIELDS,
        &[],
        vec![
            ("callback_urls", list(text("https:// URL, or http://localhost"))),
            ("logout_urls", list(text("https:// URL, or http://localhost"))),
            ("oauth", oauth),
            ("auth_flows", list(one_of(AUTH_FLOWS))),
        ],
    )
}
