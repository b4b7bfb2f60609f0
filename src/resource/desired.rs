//! The desired state: the resources a validated [`Stack`] asks for, as attributes to diff.

use std::collections::BTreeMap;

use serde_json::json;

use super::policy_document::document;
use super::{Address, Attributes, ResourceKind, Value, reference};
use crate::secret::Secret;
use crate::stack::{IdentityPool, SignIn, Stack, UserPool};

/// One resource the stack file asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredResource {
    /// Its address.
    pub address: Address,
    /// Its settings.
    pub attributes: Attributes,
    /// Resources that must exist before it.
    pub depends_on: Vec<Address>,
}

/// Everything the stack file asks for, plus the secrets to send (kept out of the attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredState {
    /// The stack name.
    pub stack: String,
    /// The resources, parents before children.
    pub resources: Vec<DesiredResource>,
    /// Secret values by resource and field, e.g. a user's password.
    pub secrets: BTreeMap<(Address, String), Secret>,
}

impl DesiredState {
    /// The resource at `address`, if the stack asks for it.
    pub fn get(&self, address: &Address) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| &r.address == address)
    }
}

/// `password_status` of a user whose permanent password is set (an interrupted create leaves
/// the password temporary; the next apply finishes it).
pub const PASSWORD_SET: &str = "permanent";

/// The address of the stack's user pool.
pub fn user_pool_address() -> Address {
    Address::new(ResourceKind::UserPool, "main")
}

/// The address of the stack's identity pool.
pub fn identity_pool_address() -> Address {
    Address::new(ResourceKind::IdentityPool, "main")
}

/// The name of the inline policy holding a role's statements from the stack file.
pub const EXTRA_POLICY: &str = "authdemo-extra";

/// Derives the desired state from a stack.
pub fn desired_state(stack: &Stack) -> DesiredState {
    let mut state = DesiredState { stack: stack.name.clone(), resources: Vec::new(), secrets: BTreeMap::new() };
    if let Some(pool) = &stack.user_pool {
        add_user_pool(&mut state, pool);
    }
    if let Some(pool) = &stack.identity_pool {
        add_identity_pool(&mut state, pool);
    }
    state
}

/// The identity pool, its two roles (trusting exactly this pool) and the role attachment.
fn add_identity_pool(state: &mut DesiredState, pool: &IdentityPool) {
    let address = identity_pool_address();
    let clients: Vec<Address> = pool.clients.iter().map(|c| Address::new(ResourceKind::UserPoolClient, c)).collect();
    let mut depends_on = clients.clone();
    if !clients.is_empty() {
        depends_on.insert(0, user_pool_address());
    }
    state.resources.push(DesiredResource {
        address: address.clone(),
        attributes: Attributes::from([
            ("allow_unauthenticated".into(), Value::Bool(pool.allow_unauthenticated)),
            ("providers".into(), Value::set(clients.iter().map(reference))),
            ("server_side_token_check".into(), Value::Bool(pool.server_side_token_check)),
        ]),
        depends_on,
    });
    let mut roles = vec![("authenticated", &pool.authenticated_policy)];
    if pool.allow_unauthenticated {
        roles.push(("unauthenticated", &pool.unauthenticated_policy));
    }
    let mut attachment = BTreeMap::new();
    let mut role_addresses = Vec::new();
    for (kind, statements) in roles {
        let role = Address::new(ResourceKind::IamRole, kind);
        let mut policies = BTreeMap::new();
        if !statements.is_empty() {
            policies.insert(EXTRA_POLICY.to_string(), document(statements.clone()));
        }
        state.resources.push(DesiredResource {
            address: role.clone(),
            attributes: Attributes::from([
                ("trust_policy".into(), Value::Str(identity_trust_policy(&address, kind))),
                ("policies".into(), Value::Map(policies)),
            ]),
            depends_on: vec![address.clone()],
        });
        attachment.insert(kind.to_string(), reference(&role));
        role_addresses.push(role);
    }
    role_addresses.insert(0, address);
    state.resources.push(DesiredResource {
        address: Address::new(ResourceKind::IdentityPoolRoles, "main"),
        attributes: Attributes::from([("roles".into(), Value::Map(attachment))]),
        depends_on: role_addresses,
    });
}

/// Trust for Cognito identities of `pool`, `amr` being `authenticated` or `unauthenticated`.
fn identity_trust_policy(pool: &Address, amr: &str) -> String {
    document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Federated": "cognito-identity.amazonaws.com" },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": { "cognito-identity.amazonaws.com:aud": reference(pool) },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
    })])
}

fn add_user_pool(state: &mut DesiredState, pool: &UserPool) {
    let pool_address = user_pool_address();
    let policy = &pool.password_policy;
    let sign_in = match pool.sign_in {
        SignIn::Username => vec!["username"],
        SignIn::Email => vec!["email"],
        SignIn::PhoneNumber => vec!["phone_number"],
        SignIn::EmailOrPhoneNumber => vec!["email", "phone_number"],
    };
    state.resources.push(DesiredResource {
        address: pool_address.clone(),
        attributes: Attributes::from([
            ("sign_in".into(), Value::list(sign_in)),
            ("custom_attributes".into(), Value::Map(pool.custom_attributes.clone())),
            ("password_policy.min_length".into(), Value::Int(policy.min_length)),
            ("password_policy.require_uppercase".into(), Value::Bool(policy.require_uppercase)),
            ("password_policy.require_lowercase".into(), Value::Bool(policy.require_lowercase)),
            ("password_policy.require_numbers".into(), Value::Bool(policy.require_numbers)),
            ("password_policy.require_symbols".into(), Value::Bool(policy.require_symbols)),
            (
                "password_policy.temporary_password_validity_days".into(),
                Value::Int(policy.temporary_password_validity_days),
            ),
            ("auto_verified_attributes".into(), Value::set(pool.auto_verified_attributes.clone())),
            ("deletion_protection".into(), Value::Bool(pool.deletion_protection)),
        ]),
        depends_on: Vec::new(),
    });
    if let Some(domain) = &pool.domain {
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::UserPoolDomain, "main"),
            attributes: Attributes::from([("domain".into(), Value::Str(domain.clone()))]),
            depends_on: vec![pool_address.clone()],
        });
    }
    for (name, client) in &pool.clients {
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::UserPoolClient, name),
            attributes: Attributes::from([
                ("callback_urls".into(), Value::list(client.callback_urls.clone())),
                ("logout_urls".into(), Value::list(client.logout_urls.clone())),
                ("oauth_flows".into(), Value::set(client.oauth_flows.clone())),
                ("oauth_scopes".into(), Value::set(client.oauth_scopes.clone())),
                ("auth_flows".into(), Value::set(client.auth_flows.clone())),
            ]),
            depends_on: vec![pool_address.clone()],
        });
    }
    for (name, user) in &pool.users {
        let address = Address::new(ResourceKind::UserPoolUser, name);
        let mut attributes = Attributes::from([("attributes".into(), Value::Map(user.attributes.clone()))]);
        if let Some(password) = &user.password {
            attributes.insert("password".into(), Value::Sensitive);
            attributes.insert("password_status".into(), Value::Str(PASSWORD_SET.into()));
            state.secrets.insert((address.clone(), "password".into()), password.clone());
        }
        state.resources.push(DesiredResource { address, attributes, depends_on: vec![pool_address.clone()] });
    }
}
