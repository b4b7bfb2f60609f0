//! What `auth: cognito` routes add to a route: the OAuth `scopes` an access token must carry
//! (one of them), and the checks that tie them to the stack's user pool.

use std::collections::BTreeSet;

use super::app_client::OAUTH_SCOPES;
use super::reader::{Fields, Reader};
use super::resource_server::read_custom_scope;

/// What the user pool declares, for checking cognito routes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pool<'a> {
    /// Whether the stack has a user pool (its authorizer's pool).
    pub exists: bool,
    /// The custom scopes its resource servers declare; `None` when they cannot be told.
    pub custom_scopes: Option<&'a BTreeSet<String>>,
}

/// Reads a route's `scopes`: only for `auth: cognito` (`cognito` says whether it is), each a
/// standard OAuth scope or one a resource server declares.
pub(super) fn read_scopes(r: &mut Reader<'_>, f: &Fields<'_>, cognito: bool, pool: Pool<'_>) -> Option<Vec<String>> {
    let Some(owned) = f.get("scopes") else { return Some(Vec::new()) };
    let field = owned.field();
    if !cognito {
        r.error(
            field.location(),
            field.path(),
            "`scopes` are checked only on `auth: cognito` routes",
            Some("set `auth: cognito`, or drop `scopes`".into()),
        );
        return None;
    }
    r.list(field, |r, item| {
        let scope = r.string(item)?.value;
        if scope.contains('/') {
            return read_custom_scope(r, item, scope, pool.custom_scopes);
        }
        if OAUTH_SCOPES.contains(&scope.as_str()) {
            return Some(scope);
        }
        r.one_of(item, OAUTH_SCOPES)
    })
}

/// Refuses `auth: cognito` without a user pool, and with `groups`: API Gateway's Cognito
/// authorizer checks a token and its scopes, never the user's groups.
pub(super) fn check(r: &mut Reader<'_>, f: &Fields<'_>, cognito: bool, pool: Pool<'_>) -> bool {
    if !cognito {
        return true;
    }
    let mut ok = true;
    if !pool.exists {
        let auth = f.get("auth");
        let location = auth.as_ref().map_or(f.location(), |a| a.field().location());
        r.error(
            location,
            &format!("{}.auth", f.path()),
            "`auth: cognito` checks tokens of the stack's user pool, and the stack has no `user_pool`",
            Some("add a `user_pool`, or use `auth: iam` or `auth: none`".into()),
        );
        ok = false;
    }
    if let Some(groups) = f.get("groups") {
        r.error(
            groups.field().location(),
            groups.path(),
            "API Gateway's Cognito authorizer cannot check groups: it checks the token and its scopes",
            Some(
                "require `scopes` that only some clients may ask for, or use `auth: iam` with `groups` \
                 (each group's own role)"
                    .into(),
            ),
        );
        ok = false;
    }
    ok
}
