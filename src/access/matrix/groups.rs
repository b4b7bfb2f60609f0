//! The callers who are members of a user pool group: the role the identity pool gives them, as
//! Cognito decides it. With a `Token` role mapping for the stack's user pool, a member's ID token
//! names the role of its group with the lowest precedence (`cognito:preferred_role`), and the
//! identity pool hands out that role; a group without a role leaves the choice to the mapping's
//! ambiguous-role resolution (the authenticated role, or no credentials). Without a mapping every
//! signed-in user gets the authenticated role, whatever its groups. The caller `group:NAME` is a
//! member whose highest-ranked group is NAME (a member of several is judged by that one).

use super::{Caller, Deployment, Role};

/// A group of the user pool, as set live.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    /// Its name.
    pub name: String,
    /// Its precedence (lowest ranks first; none ranks last).
    pub precedence: Option<i64>,
    /// The ARN of the role set on it.
    pub role_arn: Option<String>,
    /// That role with its policies, when it exists.
    pub role: Option<Role>,
}

/// The role the identity pool gives a member of `group`, with how it is chosen; or why the
/// member gets no credentials.
pub(super) fn role_of<'a>(deployment: &'a Deployment, group: &str) -> Result<(&'a Role, String), String> {
    let Some(found) = deployment.groups.iter().find(|g| g.name == group) else {
        return Err(format!("the user pool has no group {group}"));
    };
    let authenticated =
        || deployment.signed_in_role.as_ref().ok_or_else(|| "the identity pool has no authenticated role".to_string());
    let Some(mapping) = &deployment.token_mapping else {
        let how = format!(
            "the identity pool has no role mapping for the user pool, so members of {group} get the authenticated role"
        );
        return Ok((authenticated()?, how));
    };
    let (kind, resolution) = mapping.split_once(':').unwrap_or((mapping.as_str(), ""));
    if kind != "Token" {
        return Err(format!(
            "the identity pool's role mapping is of type {kind}, whose rules access does not evaluate"
        ));
    }
    match (&found.role_arn, &found.role) {
        (Some(_), Some(role)) => Ok((
            role,
            format!("the identity pool's role mapping (Token) gives members of {group} the group's role {}", role.name),
        )),
        (Some(arn), None) => Err(format!("group {group}'s role {arn} does not exist")),
        (None, _) if resolution == "AuthenticatedRole" => Ok((
            authenticated()?,
            format!(
                "group {group} has no role, so the role mapping (Token, ambiguous: AuthenticatedRole) gives the \
                 authenticated role"
            ),
        )),
        (None, _) => {
            Err(format!("group {group} has no role, and the role mapping (Token, ambiguous: {resolution}) gives none"))
        }
    }
}

/// The role a signed `caller` gets (with how a group's members get theirs), or why it gets none.
pub(super) fn signer<'a>(deployment: &'a Deployment, caller: &Caller) -> Result<(&'a Role, Option<String>), String> {
    match caller {
        Caller::Guest if !deployment.guests_allowed => {
            Err("the identity pool gives guests no credentials (unauthenticated identities are off)".into())
        }
        Caller::Guest => deployment
            .guest_role
            .as_ref()
            .map(|role| (role, None))
            .ok_or_else(|| "the identity pool has no unauthenticated role".into()),
        Caller::Group(group) => role_of(deployment, group).map(|(role, how)| (role, Some(how))),
        _ => deployment
            .signed_in_role
            .as_ref()
            .map(|role| (role, None))
            .ok_or_else(|| "the identity pool has no authenticated role".into()),
    }
}
