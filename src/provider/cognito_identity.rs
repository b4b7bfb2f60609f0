//! Cognito identity pools and their role attachment. The pool is found by name (the stack name)
//! and owned by its tags; it trusts the stack's user pool clients as identity providers.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cognitoidentity::Client;
use aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolOutput;
use aws_sdk_cognitoidentity::types::CognitoIdentityProvider;

use super::error::{ErrorClass, ProviderError, deleted, found, sdk, sdk_transient};
use super::{claim, desired, id_of, live_id};
use crate::live::{LiveResource, LiveState, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::Address;
use crate::resource::{AttributeReads, Attributes, ResourceKind, Value, identity_pool_address, user_pool_address};

/// Sets the whole configuration (and the ownership tags) on a Create- or UpdateIdentityPool
/// builder: different types with the same setters, and an update replaces everything.
macro_rules! with_pool_settings {
    ($pools:expr, $builder:expr, $change:expr, $ids:expr) => {
        $builder
            .identity_pool_name(&$pools.stack)
            .allow_unauthenticated_identities(desired($change).flag("allow_unauthenticated"))
            .set_cognito_identity_providers(Some($pools.providers($change, $ids)?))
            .set_identity_pool_tags(Some(ownership_tags(&$pools.stack, &$change.address)))
    };
}

/// The Cognito identity pool side of the provider.
pub struct IdentityPools {
    client: Client,
    stack: String,
    region: String,
}

impl IdentityPools {
    /// The identity pools of `stack` through `client`, in `region`.
    pub fn new(client: Client, stack: &str, region: &str) -> Self {
        Self { client, stack: stack.to_string(), region: region.to_string() }
    }

    /// The provider name of a user pool, as identity pools know it.
    fn provider_name(&self, user_pool_id: &str) -> String {
        format!("cognito-idp.{}.amazonaws.com/{user_pool_id}", self.region)
    }

    /// Finds the stack's identity pool and its role attachment; `user_pools` holds the
    /// discovered user pool, whose clients the providers name.
    pub async fn discover(&self, user_pools: &LiveState, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = identity_pool_address();
        let mut candidates = Vec::new();
        let mut pages = self.client.list_identity_pools().max_results(60).into_paginator().send();
        while let Some(page) = pages.next().await {
            for pool in page.map_err(sdk("ListIdentityPools"))?.identity_pools() {
                if pool.identity_pool_name() != Some(self.stack.as_str()) {
                    continue;
                }
                let id = pool.identity_pool_id().unwrap_or_default();
                let described = self.client.describe_identity_pool().identity_pool_id(id).send().await;
                if let Some(described) = found(described.map_err(sdk("DescribeIdentityPool")))? {
                    candidates.push((
                        id.to_string(),
                        described.identity_pool_tags().cloned().unwrap_or_default(),
                        described,
                    ));
                }
            }
        }
        let Some(pool) = claim(candidates, &self.stack, &address, live)? else { return Ok(()) };
        let own_user_pool = user_pools.resources.get(&user_pool_address()).map(|p| self.provider_name(&p.id));
        live.insert(LiveResource {
            address: address.clone(),
            id: pool.identity_pool_id().to_string(),
            attributes: pool_attributes(&pool, own_user_pool.as_deref()),
            depends_on: Vec::new(),
        });
        let roles = self.client.get_identity_pool_roles().identity_pool_id(pool.identity_pool_id()).send().await;
        let roles = found(roles.map_err(sdk("GetIdentityPoolRoles")))?;
        let attached: BTreeMap<String, String> =
            roles.and_then(|r| r.roles).unwrap_or_default().into_iter().filter(|(_, arn)| !arn.is_empty()).collect();
        if !attached.is_empty() {
            // The attachment names the roles: it goes before them when the stack is torn down.
            let mut depends_on = vec![address];
            depends_on.extend(attached.keys().map(|kind| Address::new(ResourceKind::IamRole, kind)));
            live.insert(LiveResource {
                address: Address::new(ResourceKind::IdentityPoolRoles, "main"),
                id: pool.identity_pool_id().to_string(),
                attributes: Attributes::from([("roles".into(), Value::Map(attached))]),
                depends_on,
            });
        }
        Ok(())
    }

    fn providers(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Vec<CognitoIdentityProvider>, ProviderError> {
        let attrs = desired(change);
        let client_ids = attrs.items("providers");
        if client_ids.is_empty() {
            return Ok(Vec::new());
        }
        let provider_name = self.provider_name(id_of(ids, &user_pool_address())?);
        Ok(client_ids
            .iter()
            .map(|client_id| {
                CognitoIdentityProvider::builder()
                    .provider_name(&provider_name)
                    .client_id(client_id)
                    .server_side_token_check(attrs.flag("server_side_token_check"))
                    .build()
            })
            .collect())
    }

    /// Creates the identity pool, tagged in the create call.
    pub async fn create_pool(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let builder = self.client.create_identity_pool();
        let out = with_pool_settings!(self, builder, change, ids).send().await.map_err(sdk("CreateIdentityPool"))?;
        Ok(out.identity_pool_id().to_string())
    }

    /// Updates the identity pool; UpdateIdentityPool replaces the whole configuration.
    pub async fn update_pool(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let builder = self.client.update_identity_pool().identity_pool_id(live_id(change));
        with_pool_settings!(self, builder, change, ids).send().await.map_err(sdk("UpdateIdentityPool"))?;
        Ok(())
    }

    /// Deletes the identity pool.
    pub async fn delete_pool(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self.client.delete_identity_pool().identity_pool_id(live_id(change)).send().await;
        deleted("DeleteIdentityPool", result)
    }

    /// Attaches the roles. A role created moments ago may not be visible to Cognito yet: AWS
    /// then calls it an invalid parameter, which is retried.
    pub async fn set_roles(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let pool_id = id_of(ids, &identity_pool_address())?;
        let roles: HashMap<String, String> = desired(change).entries("roles").into_iter().collect();
        self.client
            .set_identity_pool_roles()
            .identity_pool_id(pool_id)
            .set_roles(Some(roles))
            .send()
            .await
            .map_err(sdk_transient("SetIdentityPoolRoles", "InvalidParameterException", ErrorClass::Propagating))?;
        Ok(pool_id.to_string())
    }

    /// Detaches every role.
    pub async fn clear_roles(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self
            .client
            .set_identity_pool_roles()
            .identity_pool_id(live_id(change))
            .set_roles(Some(HashMap::new()))
            .send()
            .await;
        deleted("SetIdentityPoolRoles", result)
    }
}

/// The pool's settings; providers of the stack's own user pool are listed by client id (which
/// discovery turns into references), others by their full provider name.
fn pool_attributes(pool: &DescribeIdentityPoolOutput, own_user_pool: Option<&str>) -> Attributes {
    let providers = pool.cognito_identity_providers();
    let names = providers.iter().map(|p| {
        let client_id = p.client_id().unwrap_or_default();
        match p.provider_name() {
            Some(name) if Some(name) == own_user_pool => client_id.to_string(),
            name => format!("{}:{client_id}", name.unwrap_or_default()),
        }
    });
    Attributes::from([
        ("allow_unauthenticated".into(), Value::Bool(pool.allow_unauthenticated_identities())),
        ("providers".into(), Value::set(names)),
        (
            "server_side_token_check".into(),
            Value::Bool(providers.iter().any(|p| p.server_side_token_check() == Some(true))),
        ),
    ])
}
