//! The token calls of `verify` on `auth: cognito` routes: the file's user signed in through the
//! API (InitiateAuth), calling with its ID token and with its access token in the
//! `Authorization` header, each compared with the verdict `access` gives that token kind. An
//! access token with custom scopes comes only from the OAuth endpoints (the hosted UI's
//! sign-in in a browser), so that kind is not called.

use super::outcome::{Observed, classify, compare, scrubbed};
use super::{Calling, Check, sample_path};
use crate::access::cognito::TokenKind;
use crate::access::matrix::{Caller, LiveRoute, RouteAccess, Verdict};
use crate::provider::UserTokens;

/// The calls with the user's tokens on the cognito route `route`: `expected` are the verdicts
/// on it as the file means it, `live` as it is live.
pub(super) async fn checks(
    calling: &Calling<'_>,
    route: &LiveRoute,
    expected: &RouteAccess,
    live: Option<&RouteAccess>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for (&kind, access) in &expected.tokens {
        let observed = match (&calling.callers.tokens, kind) {
            (_, TokenKind::OauthAccess) => Observed::Skipped {
                why: "an access token with custom scopes comes only from the OAuth endpoints (the hosted UI's \
                      sign-in in a browser)"
                    .into(),
            },
            (Err(observed), _) => observed.clone(),
            (Ok(tokens), kind) => call(calling, route, token_of(tokens, kind)).await,
        };
        let live = live.and_then(|r| r.tokens.get(&kind)).map_or(Verdict::Deny, |a| a.verdict);
        let outcome = compare(access.verdict, &observed);
        let (route, token) = (expected.route.clone(), Some(kind));
        checks.push(Check {
            route,
            caller: Caller::SignedIn,
            token,
            expected: access.verdict,
            live,
            observed,
            outcome,
        });
    }
    checks
}

fn token_of(tokens: &UserTokens, kind: TokenKind) -> &str {
    match kind {
        TokenKind::Id => tokens.id_token.expose(),
        _ => tokens.access_token.expose(),
    }
}

/// Calls `route` once with `token` in the `Authorization` header.
async fn call(calling: &Calling<'_>, route: &LiveRoute, token: &str) -> Observed {
    let method = if route.method == "ANY" { "GET" } else { route.method.as_str() };
    let url = format!("{}{}", calling.url, sample_path(&route.path));
    let headers = [("Authorization".to_string(), token.to_string())];
    match calling.http.send(method, &url, &headers).await {
        Ok(answer) => classify(&answer, &calling.secrets),
        Err(message) => Observed::Failed { status: None, message: scrubbed(&message, &calling.secrets) },
    }
}
