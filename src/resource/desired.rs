//! The desired state: the resources a validated [`Stack`] asks for, as attributes to diff.

use std::collections::BTreeMap;

use super::{Address, Attributes, ResourceKind, Value};
use crate::secret::Secret;
use crate::stack::{SignIn, Stack, UserPool};

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

/// Derives the desired state from a stack.
pub fn desired_state(stack: &Stack) -> DesiredState {
    let mut state = DesiredState { stack: stack.name.clone(), resources: Vec::new(), secrets: BTreeMap::new() };
    if let Some(pool) = &stack.user_pool {
        add_user_pool(&mut state, pool);
    }
    state
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
