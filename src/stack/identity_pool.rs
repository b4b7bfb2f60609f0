//! The `identity_pool` part of the stack file: the Cognito identity pool that turns signed-in
//! users (and, optionally, guests) into temporary AWS credentials.

use std::collections::BTreeSet;

use serde_json::Value;

use super::policy::{read_statements, statements};
use super::reader::{Field, OwnedField, Reader};
use super::schema::{flag, list, object, text};

/// The identity pool.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdentityPool {
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

/// Reads and validates `identity_pool`; `user_pool_clients` are the client names the file declares
/// under `user_pool.clients` (none without a user pool), `None` if they cannot be told.
pub(super) fn read(
    r: &mut Reader<'_>,
    field: Field<'_>,
    user_pool_clients: Option<&BTreeSet<String>>,
) -> Option<IdentityPool> {
    let f = r.mapping(field, FIELDS)?;
    let flag = |r: &mut Reader<'_>, key: &str| f.get(key).map_or(Some(false), |o| r.bool(o.field()));
    let allow_unauthenticated = flag(r, "allow_unauthenticated");
    let server_side_token_check = flag(r, "server_side_token_check");
    let (clients, mut ok) = match f.get("clients") {
        Some(owned) => read_clients(r, &owned, user_pool_clients),
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

/// Reads `identity_pool.clients`, each of which must be one of `user_pool_clients` (when they can
/// be told); also whether every one is.
fn read_clients(
    r: &mut Reader<'_>,
    owned: &OwnedField<'_>,
    user_pool_clients: Option<&BTreeSet<String>>,
) -> (Vec<String>, bool) {
    let mut ok = true;
    let mut clients = Vec::new();
    let names = r.list(owned.field(), super::reader::Reader::string);
    for name in names.into_iter().flatten() {
        if let Some(known) = user_pool_clients
            && !known.contains(&name.value)
        {
            let hint = if known.is_empty() {
                "declare the client under `user_pool.clients` first".to_string()
            } else {
                format!("name one of `user_pool.clients`: {}", known.iter().cloned().collect::<Vec<_>>().join(", "))
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
