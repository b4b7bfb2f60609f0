//! Who can call an `auth: cognito` route (a COGNITO_USER_POOLS method), and why: the verdict
//! of each token kind a signed-in user may send, from the method's authorizer and scopes and
//! the user pool's clients as they are live. Pure, like [`super::matrix`], which asks it.
//!
//! API Gateway lets a call through when its `Authorization` header holds a token the
//! authorizer's user pools signed: without scopes on the method, an ID token; with scopes, an
//! access token carrying one of them. Anything else gets 401.

use std::collections::BTreeMap;

use serde::Serialize;

use super::matrix::{Caller, Verdict};

/// The authorization type of a method guarded by a Cognito user pool authorizer.
pub(crate) const COGNITO_USER_POOLS: &str = "COGNITO_USER_POOLS";

/// Where callers send their token.
pub(crate) const AUTHORIZATION_HEADER: &str = "method.request.header.Authorization";

/// The scope of the access tokens InitiateAuth hands out (sign-in with SRP or a password):
/// custom scopes come only from the OAuth endpoints.
pub(crate) const SIGN_IN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// A token a signed-in user may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) enum TokenKind {
    /// The ID token of a sign-in.
    #[serde(rename = "id_token")]
    Id,
    /// The access token of a sign-in through the API (SRP or password: InitiateAuth), whose only
    /// scope is `aws.cognito.signin.user.admin`.
    #[serde(rename = "access_token")]
    Access,
    /// An access token from the OAuth endpoints (the hosted UI's sign-in), carrying the scopes
    /// its client allows and asked for.
    #[serde(rename = "oauth_access_token")]
    OauthAccess,
}

impl TokenKind {
    /// Every kind, in report order.
    pub(crate) const ALL: [TokenKind; 3] = [TokenKind::Id, TokenKind::Access, TokenKind::OauthAccess];

    /// The kind's name in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenKind::Id => "id_token",
            TokenKind::Access => "access_token",
            TokenKind::OauthAccess => "oauth_access_token",
        }
    }
}

/// One token kind's verdict and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TokenAccess {
    /// Whether a call with this token passes.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
}

/// A Cognito authorizer as it is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorizer {
    /// Its name.
    pub name: String,
    /// Its type (`COGNITO_USER_POOLS`).
    pub kind: String,
    /// The user pools whose tokens it takes.
    pub provider_arns: Vec<String>,
    /// Where it reads the token.
    pub identity_source: String,
}

/// An app client of the user pool, as it is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// Its name.
    pub name: String,
    /// Whether it has an OAuth flow (so the OAuth endpoints give it tokens).
    pub oauth: bool,
    /// The OAuth scopes it may ask for.
    pub scopes: Vec<String>,
}

/// What decides who passes a COGNITO_USER_POOLS method, as it is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CognitoRoute {
    /// The method's authorizer, `None` when it names none or one that does not exist.
    pub authorizer: Option<Authorizer>,
    /// The method's authorization scopes.
    pub scopes: Vec<String>,
    /// The stack's user pool's ARN, if it exists.
    pub pool_arn: Option<String>,
    /// The pool's app clients.
    pub clients: Vec<Client>,
}

/// Each token kind's verdict on `route`.
pub(crate) fn tokens(route: &CognitoRoute) -> BTreeMap<TokenKind, TokenAccess> {
    TokenKind::ALL
        .into_iter()
        .map(|kind| {
            let (verdict, reason) = match token(route, kind) {
                Ok(reason) => (Verdict::Allow, reason),
                Err(reason) => (Verdict::Deny, reason),
            };
            (kind, TokenAccess { verdict, reason })
        })
        .collect()
}

/// The verdict of `caller` on a COGNITO_USER_POOLS method: callers without a user's tokens get
/// 401; a signed-in user passes with one of its tokens if one passes. `key` is how the caller
/// passes the method's API key requirement, or why it cannot.
pub(crate) fn judge(route: &CognitoRoute, caller: &Caller, key: Result<String, String>) -> (Verdict, String) {
    let name = route.authorizer.as_ref().map_or("(none)", |a| a.name.as_str());
    if matches!(caller, Caller::Public | Caller::ApiKey | Caller::Guest) {
        return (
            Verdict::Deny,
            format!("the method requires a user pool token (authorizer {name}); a call without one gets 401"),
        );
    }
    let key = match key {
        Ok(key) => key,
        Err(missing) => return (Verdict::Deny, missing),
    };
    let verdicts = tokens(route);
    let passing = verdicts.iter().find(|(_, access)| access.verdict == Verdict::Allow);
    if let Some((kind, access)) = passing {
        return (Verdict::Allow, format!("with its {}: {}; {key}", kind.as_str(), access.reason));
    }
    let reasons: Vec<String> = verdicts.iter().map(|(k, a)| format!("{}: {}", k.as_str(), a.reason)).collect();
    (Verdict::Deny, format!("no token of a signed-in user passes ({})", reasons.join("; ")))
}

/// Why a token of `kind` passes `route`, or why not.
fn token(route: &CognitoRoute, kind: TokenKind) -> Result<String, String> {
    let authorizer = authorizer_of(route)?;
    let scopes = route.scopes.join(", ");
    match kind {
        TokenKind::Id if route.scopes.is_empty() => {
            let clients: Vec<&str> = route.clients.iter().map(|c| c.name.as_str()).collect();
            Ok(format!(
                "authorizer {authorizer} takes ID tokens of the user pool (clients {}), the method having no scopes",
                clients.join(", ")
            ))
        }
        TokenKind::Id => Err(format!("the method requires an access token with one of {scopes}")),
        _ if route.scopes.is_empty() => {
            Err(format!("the method has no scopes, so authorizer {authorizer} takes only ID tokens"))
        }
        TokenKind::Access if route.scopes.iter().any(|s| s == SIGN_IN_SCOPE) => {
            Ok(format!("it carries {SIGN_IN_SCOPE}, one of the method's scopes ({scopes})"))
        }
        TokenKind::Access => Err(format!(
            "it carries only {SIGN_IN_SCOPE} (custom scopes come only from the OAuth endpoints), not one of {scopes}"
        )),
        TokenKind::OauthAccess => oauth_token(route, &authorizer, &scopes),
    }
}

/// Why an access token from the OAuth endpoints passes `route`: a client with an OAuth flow
/// may ask for one of its scopes.
fn oauth_token(route: &CognitoRoute, authorizer: &str, scopes: &str) -> Result<String, String> {
    let granting = route.clients.iter().filter(|c| c.oauth).find_map(|client| {
        let scope = client.scopes.iter().find(|s| route.scopes.contains(s))?;
        Some((client.name.as_str(), scope.as_str()))
    });
    match granting {
        Some((client, scope)) => Ok(format!(
            "client {client} may ask for {scope}, one of the method's scopes ({scopes}), which authorizer {authorizer} \
             checks"
        )),
        None => Err(format!("no app client with an OAuth flow may ask for one of the method's scopes ({scopes})")),
    }
}

/// The name of `route`'s authorizer if it takes the stack's user pool's tokens from the
/// `Authorization` header; else why no token passes.
fn authorizer_of(route: &CognitoRoute) -> Result<String, String> {
    let Some(authorizer) = &route.authorizer else {
        return Err("the method names no existing authorizer: API Gateway lets no call through".into());
    };
    let name = &authorizer.name;
    if authorizer.kind != COGNITO_USER_POOLS {
        return Err(format!("authorizer {name} is of type {}, not {COGNITO_USER_POOLS}", authorizer.kind));
    }
    if authorizer.identity_source != AUTHORIZATION_HEADER {
        return Err(format!(
            "authorizer {name} reads the token from {}, not the Authorization header",
            authorizer.identity_source
        ));
    }
    match &route.pool_arn {
        Some(arn) if authorizer.provider_arns.contains(arn) => {}
        Some(arn) => return Err(format!("authorizer {name} does not take tokens of the stack's user pool {arn}")),
        None => return Err("the stack's user pool does not exist".into()),
    }
    if route.clients.is_empty() {
        return Err("the user pool has no app client to sign in with".into());
    }
    Ok(name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: &str = "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_abc";

    fn route(scopes: &[&str]) -> CognitoRoute {
        CognitoRoute {
            authorizer: Some(Authorizer {
                name: "cognito".into(),
                kind: COGNITO_USER_POOLS.into(),
                provider_arns: vec![POOL.into()],
                identity_source: AUTHORIZATION_HEADER.into(),
            }),
            scopes: scopes.iter().map(ToString::to_string).collect(),
            pool_arn: Some(POOL.into()),
            clients: vec![Client {
                name: "web".into(),
                oauth: true,
                scopes: vec!["openid".into(), "items/write".into()],
            }],
        }
    }

    fn verdicts(route: &CognitoRoute) -> [Verdict; 3] {
        let tokens = tokens(route);
        TokenKind::ALL.map(|kind| tokens[&kind].verdict)
    }

    #[test]
    fn an_id_token_passes_without_scopes_and_an_access_token_with_one_of_them() {
        use Verdict::{Allow, Deny};
        assert_eq!(verdicts(&route(&[])), [Allow, Deny, Deny]);
        assert_eq!(verdicts(&route(&["items/write"])), [Deny, Deny, Allow]);
        assert_eq!(verdicts(&route(&["items/read"])), [Deny, Deny, Deny]);
        assert_eq!(verdicts(&route(&[SIGN_IN_SCOPE])), [Deny, Allow, Deny]);
        let no_oauth = CognitoRoute {
            clients: vec![Client { oauth: false, ..route(&[]).clients[0].clone() }],
            ..route(&["items/write"])
        };
        assert_eq!(verdicts(&no_oauth), [Deny, Deny, Deny]);
    }

    #[test]
    fn callers_without_a_token_are_refused_and_a_signed_in_user_passes_with_its_best_token() {
        let scoped = route(&["items/write"]);
        for caller in [Caller::Public, Caller::ApiKey, Caller::Guest] {
            let (verdict, reason) = judge(&scoped, &caller, Ok(String::new()));
            assert_eq!(verdict, Verdict::Deny);
            assert!(reason.contains("authorizer cognito") && reason.contains("401"), "{reason}");
        }
        for caller in [Caller::SignedIn, Caller::Group("admins".into())] {
            let (verdict, reason) = judge(&scoped, &caller, Ok("no API key required".into()));
            assert_eq!(verdict, Verdict::Allow);
            assert!(reason.starts_with("with its oauth_access_token") && reason.contains("items/write"), "{reason}");
        }
        let (verdict, reason) = judge(&scoped, &Caller::SignedIn, Err("no key".into()));
        assert_eq!((verdict, reason.as_str()), (Verdict::Deny, "no key"));
    }

    #[test]
    fn an_authorizer_changed_by_hand_lets_no_token_through_and_says_why() {
        let mut moved = route(&[]);
        let authorizer = moved.authorizer.as_mut().unwrap();
        authorizer.identity_source = "method.request.header.X-Token".into();
        let reason = &tokens(&moved)[&TokenKind::Id].reason;
        assert!(reason.contains("X-Token"), "{reason}");
        let mut other_pool = route(&[]);
        other_pool.authorizer.as_mut().unwrap().provider_arns =
            vec!["arn:aws:cognito-idp:us-west-2:1:userpool/x".into()];
        assert_eq!(verdicts(&other_pool), [Verdict::Deny; 3]);
        assert_eq!(verdicts(&CognitoRoute { authorizer: None, ..route(&[]) }), [Verdict::Deny; 3]);
    }
}
