//! The `identity_pool` part of the stack file: the Cognito identity pool that turns signed-in
//! users (and, optionally, guests) into temporary AWS credentials.

use serde_json::Value;

use super::policy::read_statements;
use super::reader::{Field, OwnedField, Reader};
use super::schema::{flag, list, object, statements, text};
use super::user_pool::UserPool;

/// The identity pool.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityPool {
    /// Whether guests get credentials (of the unauthenticated role).
    pub allow_unauthenticated: bool,
    /// Names of user pool clients whose tokens it accepts.
    pub clients: Vec<String>,
    /// Whether Cognito checks with the user pool that a token was not revoked.
    pub server_side_token_check: bool,
    /// Extra IAM statements for signed-in users.
    pub authenticated_policy: Vec<Value>,
    /// Extra IAM statements for guests.
    pub unauthenticated_policy: Vec<Value>,
}

pub(super) const FIELDS: &[&str] =
    &["allow_unauthenticated", "clients", "server_side_token_check", "authenticated_policy", "unauthenticated_policy"];

/// Reads and validates `identity_pool`; `user_pool` is the stack's pool, if it read well, and
/// `has_user_pool` whether the file has one at all.
pub(super) fn read(
    r: &mut Reader<'_>,
    field: Field<'_>,
    user_pool: Option<&UserPool>,
    has_user_pool: bool,
) -> Option<IdentityPool> {
    let f = r.mapping(field, FIELDS)?;
    let flag = |r: &mut Reader<'_>, key: &str| f.get(key).map_or(Some(false), |o| r.bool(o.field()));
    let allow_unauthenticated = flag(r, "allow_unauthenticated");
    let server_side_token_check = flag(r, "server_side_token_check");
    let (clients, mut ok) = match f.get("clients") {
        Some(owned) => read_clients(r, &owned, user_pool, has_user_pool),
        None => (Vec::new(), true),
    };
    let statements =
        |r: &mut Reader<'_>, key: &str| f.get(key).map_or(Some(Vec::new()), |o| read_statements(r, o.field()));
    let authenticated_policy = statements(r, "authenticated_policy");
    let unauthenticated_policy = statements(r, "unauthenticated_policy");
    if allow_unauthenticated == Some(false)
        && let (Some(owned), Some(statements)) = (f.get("unauthenticated_policy"), &unauthenticated_policy)
        && !statements.is_empty()
    {
        r.error(
            owned.field().location(),
            owned.path(),
            "guests get no credentials, so this policy would never apply",
            Some("set `allow_unauthenticated: true` or remove `unauthenticated_policy`".into()),
        );
        ok = false;
    }
    if allow_unauthenticated == Some(false) && clients.is_empty() && ok {
        r.error(
            f.location(),
            f.path(),
            "this identity pool would give credentials to nobody: no `clients` and no unauthenticated access",
            Some("list the user pool clients whose users sign in, e.g. `clients: [web]`".into()),
        );
        ok = false;
    }
    let pool = IdentityPool {
        allow_unauthenticated: allow_unauthenticated?,
        clients,
        server_side_token_check: server_side_token_check?,
        authenticated_policy: authenticated_policy?,
        unauthenticated_policy: unauthenticated_policy?,
    };
    ok.then_some(pool)
}

/// Reads `identity_pool.clients`, each of which must be a client of the stack's user pool;
/// also whether every one is.
fn read_clients(
    r: &mut Reader<'_>,
    owned: &OwnedField<'_>,
    user_pool: Option<&UserPool>,
    has_user_pool: bool,
) -> (Vec<String>, bool) {
    let mut ok = true;
    let mut clients = Vec::new();
    let names = r.list(owned.field(), super::reader::Reader::string);
    for name in names.into_iter().flatten() {
        let known = user_pool.map(|p| p.clients.contains_key(&name.value));
        if !has_user_pool || known == Some(false) {
            let hint = match user_pool {
                Some(pool) if !pool.clients.is_empty() => format!(
                    "name one of `user_pool.clients`: {}",
                    pool.clients.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                _ => "declare the client under `user_pool.clients` first".to_string(),
            };
            r.error(
                name.location,
                owned.path(),
                format!("`{}` is not a client of the user pool", name.value),
                Some(hint),
            );
            ok = false;
        }
        clients.push(name.value);
    }
    (clients, ok)
}

/// The JSON Schema of this section (see [`super::schema`]).
pub(super) fn schema() -> Value {
    object(
        FIELDS,
        &[],
        vec![
            ("allow_unauthenticated", flag()),
            ("clients", list(text("A client under user_pool.clients."))),
            ("server_side_token_check", flag()),
            ("authenticated_policy", statements()),
            ("unauthenticated_policy", statements()),
        ],
    )
}
