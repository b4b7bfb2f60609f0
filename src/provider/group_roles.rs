//! The roles of user pool groups: a group a route names gets the role `<stack>-group-<name>`,
//! trusted by the identity pool like the authenticated role, set as the group's role (so
//! Cognito names it in members' tokens), and the identity pool maps the stack's user pool
//! tokens to roles (`Token`: a member gets the role of its group with the lowest precedence;
//! anyone else, or a tie Cognito cannot settle, the authenticated role). The invoke policies of
//! these roles come with the authenticated role's (`apigateway::grant_invoke`).

use std::collections::{BTreeMap, BTreeSet};

use super::cognito_identity::{IdentityPoolRolesSpec, identity_trust_policy};
use super::cognito_idp::GroupSpec;
use super::iam::RoleSpec;
use crate::resource::policy_document::document;
use crate::resource::{Address, DesiredState, EXTRA_POLICY, ResourceKind, Spec, identity_pool_address, reference};
use crate::stack::{Auth, Stack};

/// How the identity pool resolves a token of the stack's user pool: by its role claims, and
/// to the authenticated role when they name none (or an ambiguous one).
pub(crate) const TOKEN_MAPPING: &str = "Token:AuthenticatedRole";

/// The prefix of a group role's address name (`iam_role.group-admins`).
pub(crate) const GROUP_ROLE_PREFIX: &str = "group-";

/// The address of the role of `group`.
pub(crate) fn group_role(group: &str) -> Address {
    Address::new(ResourceKind::IamRole, format!("{GROUP_ROLE_PREFIX}{group}"))
}

/// The groups that `auth: iam` routes of `stack` name (those that get a role).
pub(crate) fn routed_groups(stack: &Stack) -> BTreeSet<String> {
    let routes = stack.api.iter().flat_map(|api| &api.routes);
    routes.filter(|r| r.auth == Auth::Iam).flat_map(|r| r.groups.iter().cloned()).collect()
}

/// Adds the group roles to `state`, sets them on their groups, and maps the identity pool's
/// user pool tokens to roles (when a route names a group and the stack has an identity pool).
pub(super) fn desired(state: &mut DesiredState, stack: &Stack, tags: &BTreeMap<String, String>) {
    let (Some(identity_pool), Some(user_pool)) = (&stack.identity_pool, &stack.user_pool) else { return };
    let groups: Vec<String> = routed_groups(stack).into_iter().filter(|g| user_pool.groups.contains_key(g)).collect();
    if groups.is_empty() {
        return;
    }
    let pool = identity_pool_address();
    for group in &groups {
        let role = group_role(group);
        let mut policies = BTreeMap::new();
        if !identity_pool.authenticated_policy.is_empty() {
            policies.insert(EXTRA_POLICY.to_string(), document(identity_pool.authenticated_policy.clone()));
        }
        let spec = RoleSpec {
            trust_policy: identity_trust_policy(&pool, "authenticated"),
            policies,
            managed_policies: BTreeSet::new(),
            tags: tags.clone(),
            permissions_boundary: None,
        };
        state.resources.push(crate::resource::DesiredResource::of(role.clone(), &spec, vec![pool.clone()]));
        let address = Address::new(ResourceKind::UserPoolGroup, group);
        update::<GroupSpec>(state, &address, role.clone(), |spec| spec.role_arn = Some(reference(&role)));
    }
    let attachment = Address::new(ResourceKind::IdentityPoolRoles, "main");
    let clients: BTreeSet<String> = identity_pool
        .clients
        .iter()
        .map(|c| format!("{} {TOKEN_MAPPING}", reference(&Address::new(ResourceKind::UserPoolClient, c))))
        .collect();
    let roles: Vec<Address> = groups.iter().map(|g| group_role(g)).collect();
    for role in roles {
        update::<IdentityPoolRolesSpec>(state, &attachment, role, |spec| {
            spec.role_mappings = Some(clients.clone());
        });
    }
}

/// Changes the desired `S` at `address` with `change`, and makes it depend on `after`.
fn update<S: Spec>(state: &mut DesiredState, address: &Address, after: Address, change: impl FnOnce(&mut S)) {
    let Some(resource) = state.resources.iter_mut().find(|r| r.address == *address) else { return };
    let Ok(mut spec) = S::from_attributes(&resource.attributes) else { return };
    change(&mut spec);
    resource.attributes = spec.to_attributes();
    if !resource.depends_on.contains(&after) {
        resource.depends_on.push(after);
    }
}
