//! `user_pool.resource_servers`: the APIs whose custom OAuth scopes (`IDENTIFIER/SCOPE`) app
//! clients may ask for and `auth: cognito` routes may require.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::reader::{Field, Reader, opt};
use super::schema::{object, text};

/// A resource server of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceServer {
    /// Its friendly name.
    pub name: String,
    /// Scope name → description.
    pub scopes: BTreeMap<String, String>,
}

pub(super) const FIELDS: &[&str] = &["name", "scopes"];

/// Cognito's limit on the scopes of one resource server.
const MAX_SCOPES: usize = 100;

/// Reads `user_pool.resource_servers`: identifier → server.
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>) -> Option<BTreeMap<String, ResourceServer>> {
    let check = |identifier: &str| {
        (!is_identifier(identifier)).then(|| {
            let hint = "use 1-256 printable characters without spaces, `\"` or `\\`, e.g. `items` or \
                        `https://api.example.com`"
                .to_string();
            (format!("`{identifier}` is not a valid resource server identifier"), hint)
        })
    };
    r.named(field, check, read_server)
}

fn read_server(r: &mut Reader<'_>, field: Field<'_>) -> Option<ResourceServer> {
    let f = r.mapping(field, FIELDS)?;
    let name = if let Some(o) = f.get("name") {
        r.string_matching(
            o.field(),
            is_name,
            "is not a valid resource server name",
            "use 1-256 letters, digits, spaces or `+=,.@-`",
        )
    } else {
        r.missing(&f, "name", "e.g. `name: Items API`");
        None
    };
    let scopes = opt(&f, "scopes", |field| {
        let check = |scope: &str| {
            (!is_scope_name(scope)).then(|| {
                let hint = "use 1-256 printable characters without spaces, `/`, `\"` or `\\`, e.g. `write`".to_string();
                (format!("`{scope}` is not a valid scope name"), hint)
            })
        };
        let scopes = r.named(field, check, |r, value| {
            r.string_matching(
                value,
                |d| (1..=256).contains(&d.chars().count()),
                "is not a valid scope description",
                "describe the scope in 1-256 characters",
            )
        })?;
        if scopes.len() > MAX_SCOPES {
            r.error(
                field.location(),
                field.path(),
                format!("{} scopes; Cognito allows {MAX_SCOPES} per resource server", scopes.len()),
                Some("split them over several resource servers".into()),
            );
            return None;
        }
        Some(scopes)
    })
    .unwrap_or(Some(BTreeMap::new()));
    Some(ResourceServer { name: name?, scopes: scopes? })
}

/// Every custom scope `servers` declare, as clients and routes name them: `IDENTIFIER/SCOPE`.
pub(crate) fn custom_scopes(servers: &BTreeMap<String, ResourceServer>) -> BTreeSet<String> {
    servers
        .iter()
        .flat_map(|(identifier, server)| server.scopes.keys().map(move |scope| format!("{identifier}/{scope}")))
        .collect()
}

/// Reads one custom scope (`IDENTIFIER/SCOPE`) of a client or a route: it must be one of
/// `declared` (when they can be told).
pub(super) fn read_custom_scope(
    r: &mut Reader<'_>,
    field: Field<'_>,
    scope: String,
    declared: Option<&BTreeSet<String>>,
) -> Option<String> {
    let Some(declared) = declared else { return Some(scope) };
    if declared.contains(&scope) {
        return Some(scope);
    }
    let hint = match super::diagnostic::did_you_mean(&scope, declared.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`?"),
        None if declared.is_empty() => {
            "declare it under `user_pool.resource_servers`, e.g. `items: { name: Items, scopes: { write: … } }` for \
             `items/write`"
                .to_string()
        }
        None => format!("custom scopes of this stack: {}", declared.iter().cloned().collect::<Vec<_>>().join(", ")),
    };
    r.error(
        field.location(),
        field.path(),
        format!("`{scope}` is not a scope of a resource server of this user pool"),
        Some(hint),
    );
    None
}

fn is_identifier(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

fn is_scope_name(s: &str) -> bool {
    is_identifier(s) && !s.contains('/')
}

fn is_name(s: &str) -> bool {
    (1..=256).contains(&s.chars().count())
        && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c))
}

/// The JSON Schema of one resource server (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let scopes = json!({
        "type": "object",
        "description": "Scope name → description; clients and routes name it IDENTIFIER/SCOPE.",
        "maxProperties": MAX_SCOPES,
        "additionalProperties": text("What the scope allows."),
    });
    object(FIELDS, &["name"], vec![("name", text("The resource server's name.")), ("scopes", scopes)])
}
