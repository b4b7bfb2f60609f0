//! `user_pool.groups`: the pool's groups (precedence, description), the names users and routes
//! give in their own `groups`, and the checks tying those names to the declared groups.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::reader::{Field, Reader, opt};
use super::schema::{int, list, object, text};

/// A group of the user pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// Which group's role a member of several gets: the lowest wins; `None` comes last.
    pub precedence: Option<i64>,
    /// What the group is for.
    pub description: Option<String>,
}

pub(super) const GROUP_FIELDS: &[&str] = &["precedence", "description"];
/// Cognito's largest precedence (2^31 - 1).
const MAX_PRECEDENCE: i64 = 2_147_483_647;
/// The longest role name IAM takes.
const ROLE_NAME_LIMIT: usize = 64;

/// Reads `user_pool.groups`.
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>) -> Option<BTreeMap<String, Group>> {
    let check = |name: &str| {
        (!is_group_name(name)).then(|| {
            let hint = "use 1-128 letters, digits or `_+=,.@-` (the group's role is named after it)".to_string();
            (format!("`{name}` is not a valid group name"), hint)
        })
    };
    r.named(field, check, read_group)
}

fn read_group(r: &mut Reader<'_>, field: Field<'_>) -> Option<Group> {
    let f = r.mapping(field, GROUP_FIELDS)?;
    let precedence = opt(&f, "precedence", |field| r.int(field, 0, MAX_PRECEDENCE).map(Some)).unwrap_or(Some(None));
    let description = opt(&f, "description", |field| {
        let text = r.string(field)?;
        if text.value.chars().count() > 2048 {
            r.error(text.location, field.path(), "is longer than 2048 characters", Some("shorten it".into()));
            return None;
        }
        Some(Some(text.value))
    })
    .unwrap_or(Some(None));
    Some(Group { precedence: precedence?, description: description? })
}

/// Whether Cognito takes `name` for a group and IAM for the tail of its role's name.
pub(super) fn is_group_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Reads a user's or a route's `groups`: a list of group names (whether each is declared is
/// checked by [`check_members`] and [`check_routes`]).
pub(super) fn read_names(r: &mut Reader<'_>, field: Field<'_>) -> Option<Vec<String>> {
    r.list(field, |r, item| {
        r.string_matching(item, is_group_name, "is not a valid group name", "name a group of `user_pool.groups`")
    })
}

/// Reports each name in `groups` (a user's or a route's list) that `declared` lacks.
fn check_declared(r: &mut Reader<'_>, groups: Field<'_>, declared: &BTreeSet<String>) {
    for item in groups.items() {
        let Some(name) = item.field().text().filter(|name| !name.contains("${")) else { continue };
        if declared.contains(name) {
            continue;
        }
        let hint = match super::diagnostic::did_you_mean(name, declared.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("declare it under `user_pool.groups`, e.g. `{name}: {{ precedence: 1 }}`"),
        };
        r.error(item.field().location(), item.path(), format!("`{name}` is not a group of the user pool"), Some(hint));
    }
}

/// Checks the `groups` of every user of `user_pool` against the groups it declares.
pub(super) fn check_members(r: &mut Reader<'_>, user_pool: Field<'_>) {
    let declared = user_pool.names_under("groups").unwrap_or_default();
    let Some(users) = user_pool.child("users") else { return };
    for (_, user) in users.field().children() {
        if let Some(groups) = user.field().child("groups") {
            check_declared(r, groups.field(), &declared);
        }
    }
}

/// Checks the `groups` of every route of `api`: only `auth: iam` routes take them (a group is
/// told by the role its members' credentials carry, which only an identity pool hands out), each
/// must be a group of the user pool, and its role `<stack>-group-<name>` must fit IAM's 64
/// characters.
pub(super) fn check_routes(
    r: &mut Reader<'_>,
    api: Field<'_>,
    user_pool: Option<Field<'_>>,
    stack: Option<&str>,
    has_identity_pool: bool,
) {
    let declared = user_pool.and_then(|pool| pool.names_under("groups")).unwrap_or_default();
    let Some(routes) = api.child("routes") else { return };
    for (key, route) in routes.field().children() {
        let Some(groups) = route.field().child("groups") else { continue };
        let auth = route.field().child("auth");
        let auth = auth.as_ref().and_then(|a| a.field().text()).unwrap_or("none");
        if auth != "iam" && !groups.field().items().is_empty() {
            r.error(
                groups.field().location(),
                groups.path(),
                format!("`groups` needs `auth: iam` (this route has `auth: {auth}`)"),
                Some("members of a group are told by the IAM role their signed requests carry: use `auth: iam`".into()),
            );
            continue;
        }
        if !has_identity_pool && !groups.field().items().is_empty() {
            r.error(
                groups.field().location(),
                groups.path(),
                "`groups` needs an `identity_pool`: its role mapping gives members their group's role",
                Some("add `identity_pool: { clients: [...] }` trusting the user pool's app client".into()),
            );
            continue;
        }
        check_declared(r, groups.field(), &declared);
        for item in groups.field().items() {
            let (Some(name), Some(stack)) = (item.field().text(), stack) else { continue };
            let role = format!("{stack}-group-{name}");
            if role.len() > ROLE_NAME_LIMIT {
                r.error(
                    item.field().location(),
                    item.path(),
                    format!("the group's role `{role}` would be {} characters, past IAM's 64", role.len()),
                    Some(format!("shorten the group's name or the stack's (used by `{}`)", key.value)),
                );
            }
        }
    }
}

/// The JSON Schema of `user_pool.groups`.
pub(super) fn schema() -> Value {
    let group = object(
        GROUP_FIELDS,
        &[],
        vec![
            ("precedence", int(0, MAX_PRECEDENCE)),
            ("description", text("What the group is for; at most 2048 characters.")),
        ],
    );
    json!({ "type": "object", "propertyNames": { "pattern": "^[A-Za-z0-9_+=,.@-]{1,128}$" }, "additionalProperties": group })
}

/// The JSON Schema of a user's or a route's `groups`.
pub(super) fn names_schema() -> Value {
    list(text("A group of user_pool.groups."))
}
