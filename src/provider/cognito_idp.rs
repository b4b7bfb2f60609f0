//! Cognito user pools: the pool, its app clients, hosted-UI domain and users.
//!
//! The pool is found by name (the stack name) and owned by its tags; its children belong to it.
//! Users are looked up by the names the stack file gives: users who signed up by themselves are
//! never listed, compared or deleted.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, DeletionProtectionType, ExplicitAuthFlowsType, MessageActionType, OAuthFlowType,
    PasswordPolicyType, SchemaAttributeType, UserPoolPolicyType, UserPoolType, UserStatusType, UsernameAttributeType,
    VerifiedAttributeType,
};
use futures::future::try_join_all;

use super::error::{ErrorClass, ProviderError, deleted, found, sdk};
use super::{Secrets, claim, desired, id_of, live_id, whole};
use crate::live::{LiveResource, LiveState, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::{
    Address, AttributeReads, Attributes, DesiredState, PASSWORD_SET, ResourceKind, Value, user_pool_address,
};

/// Sets every managed client setting on a Create- or UpdateUserPoolClient builder: the two are
/// different types with the same setters, and an update must send them all (AWS resets the rest).
macro_rules! with_client_settings {
    ($builder:expr, $attrs:expr) => {{
        let attrs: &Attributes = $attrs;
        let flows = oauth_flows(attrs);
        $builder
            .set_callback_urls(Some(attrs.items("callback_urls").to_vec()))
            .set_logout_urls(Some(attrs.items("logout_urls").to_vec()))
            .allowed_o_auth_flows_user_pool_client(!flows.is_empty())
            .set_allowed_o_auth_flows(Some(flows))
            .set_allowed_o_auth_scopes(Some(attrs.items("oauth_scopes").to_vec()))
            .set_explicit_auth_flows(Some(auth_flows(attrs)))
            .supported_identity_providers("COGNITO")
    }};
}

/// The Cognito user pool side of the provider.
pub struct UserPools {
    client: Client,
    stack: String,
    secrets: Secrets,
}

impl UserPools {
    /// The user pools of `stack` through `client`.
    pub fn new(client: Client, stack: &str) -> Self {
        Self { client, stack: stack.to_string(), secrets: Secrets::new() }
    }

    /// Keeps the secrets (user passwords) that creates send.
    pub fn prepare(&mut self, secrets: Secrets) {
        self.secrets = secrets;
    }

    /// Finds the stack's pool by name, confirms it by tags, then reads its children.
    pub async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = user_pool_address();
        let mut candidates = Vec::new();
        for id in self.pool_ids_named(&self.stack).await? {
            if let Some(pool) = self.describe_pool(&id).await? {
                candidates.push((id, pool.user_pool_tags().cloned().unwrap_or_default(), pool));
            }
        }
        let Some(pool) = claim(candidates, &self.stack, &address, live)? else { return Ok(()) };
        let pool_id = pool.id().unwrap_or_default().to_string();
        live.insert(LiveResource {
            address: address.clone(),
            id: pool_id.clone(),
            attributes: pool_attributes(&pool),
            depends_on: Vec::new(),
        });
        if let Some(domain) = pool.domain().filter(|d| !d.is_empty()) {
            live.insert(LiveResource {
                address: Address::new(ResourceKind::UserPoolDomain, "main"),
                id: domain.to_string(),
                attributes: Attributes::from([("domain".into(), Value::Str(domain.to_string()))]),
                depends_on: vec![address.clone()],
            });
        }
        let wanted_users = desired.resources.iter().filter(|r| r.address.kind == ResourceKind::UserPoolUser);
        let (clients, users) = tokio::try_join!(
            self.clients(&pool_id),
            try_join_all(wanted_users.map(|r| self.user(&pool_id, &r.address, &r.attributes)))
        )?;
        for resource in clients.into_iter().chain(users.into_iter().flatten()) {
            live.insert(resource);
        }
        Ok(())
    }

    async fn pool_ids_named(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let mut pages = self.client.list_user_pools().max_results(60).into_paginator().items().send();
        let mut ids = Vec::new();
        while let Some(pool) = pages.next().await {
            let pool = pool.map_err(sdk("ListUserPools"))?;
            if pool.name() == Some(name)
                && let Some(id) = pool.id()
            {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    async fn describe_pool(&self, id: &str) -> Result<Option<UserPoolType>, ProviderError> {
        let described = self.client.describe_user_pool().user_pool_id(id).send().await.map_err(sdk("DescribeUserPool"));
        Ok(found(described)?.and_then(|d| d.user_pool))
    }

    async fn clients(&self, pool_id: &str) -> Result<Vec<LiveResource>, ProviderError> {
        let mut pages =
            self.client.list_user_pool_clients().user_pool_id(pool_id).max_results(60).into_paginator().items().send();
        let mut client_ids = Vec::new();
        while let Some(client) = pages.next().await {
            if let Some(id) = client.map_err(sdk("ListUserPoolClients"))?.client_id() {
                client_ids.push(id.to_string());
            }
        }
        let described = try_join_all(client_ids.iter().map(|id| async move {
            let out = self
                .client
                .describe_user_pool_client()
                .user_pool_id(pool_id)
                .client_id(id)
                .send()
                .await
                .map_err(sdk("DescribeUserPoolClient"));
            found(out)
        }))
        .await?;
        Ok(described
            .into_iter()
            .flatten()
            .filter_map(|out| out.user_pool_client)
            .map(|client| LiveResource {
                address: Address::new(ResourceKind::UserPoolClient, client.client_name().unwrap_or_default()),
                id: client.client_id().unwrap_or_default().to_string(),
                attributes: Attributes::from([
                    ("callback_urls".into(), Value::list(client.callback_urls().to_vec())),
                    ("logout_urls".into(), Value::list(client.logout_urls().to_vec())),
                    ("oauth_flows".into(), Value::set(client.allowed_o_auth_flows().iter().map(|f| f.as_str()))),
                    ("oauth_scopes".into(), Value::set(client.allowed_o_auth_scopes().to_vec())),
                    ("auth_flows".into(), Value::set(client.explicit_auth_flows().iter().map(|f| f.as_str()))),
                ]),
                depends_on: vec![user_pool_address()],
            })
            .collect())
    }

    /// Reads the user at `address`, keeping the attributes the stack manages: everything but
    /// `sub` and the `*_verified` flags, unless the stack file sets them.
    async fn user(
        &self,
        pool_id: &str,
        address: &Address,
        desired: &Attributes,
    ) -> Result<Option<LiveResource>, ProviderError> {
        let out = self
            .client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(&address.name)
            .send()
            .await
            .map_err(sdk("AdminGetUser"));
        let Some(user) = found(out)? else { return Ok(None) };
        let declared = desired.entries("attributes");
        let attributes: BTreeMap<String, String> = user
            .user_attributes()
            .iter()
            .filter(|a| declared.contains_key(a.name()) || !(a.name() == "sub" || a.name().ends_with("_verified")))
            .map(|a| (a.name().to_string(), a.value().unwrap_or_default().to_string()))
            .collect();
        let status = match user.user_status() {
            Some(UserStatusType::Confirmed) => PASSWORD_SET.to_string(),
            Some(UserStatusType::ForceChangePassword) => "temporary".to_string(),
            Some(other) => other.as_str().to_lowercase(),
            None => "unknown".to_string(),
        };
        Ok(Some(LiveResource {
            address: address.clone(),
            id: address.name.clone(),
            attributes: Attributes::from([
                ("attributes".into(), Value::Map(attributes)),
                ("password_status".into(), Value::Str(status)),
            ]),
            depends_on: vec![user_pool_address()],
        }))
    }

    /// Creates the pool, tagged in the create call itself.
    pub async fn create_pool(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let sign_in = attrs.items("sign_in");
        let username_attributes: Vec<UsernameAttributeType> =
            sign_in.iter().filter(|s| *s != "username").map(|s| UsernameAttributeType::from(s.as_str())).collect();
        let out = self
            .client
            .create_user_pool()
            .pool_name(&self.stack)
            .policies(password_policy(attrs))
            .set_auto_verified_attributes(Some(verified_attributes(attrs)))
            .deletion_protection(deletion_protection(attrs))
            .set_username_attributes((!username_attributes.is_empty()).then_some(username_attributes))
            .set_schema(Some(custom_schema(&attrs.entries("custom_attributes"))).filter(|s| !s.is_empty()))
            .set_user_pool_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("CreateUserPool"))?;
        out.user_pool
            .and_then(|p| p.id)
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateUserPool", "the response has no pool id"))
    }

    /// Updates the pool. UpdateUserPool resets every omitted setting, so it always sends the
    /// full configuration (and the ownership tags); new custom attributes are added first.
    pub async fn update_pool(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let attrs = desired(change);
        let pool_id = live_id(change);
        let live_custom = change.before.as_ref().map(|b| b.entries("custom_attributes")).unwrap_or_default();
        let added: BTreeMap<String, String> = attrs
            .entries("custom_attributes")
            .into_iter()
            .filter(|(name, _)| !live_custom.contains_key(name))
            .collect();
        if !added.is_empty() {
            self.client
                .add_custom_attributes()
                .user_pool_id(pool_id)
                .set_custom_attributes(Some(custom_schema(&added)))
                .send()
                .await
                .map_err(sdk("AddCustomAttributes"))?;
        }
        self.client
            .update_user_pool()
            .user_pool_id(pool_id)
            .policies(password_policy(attrs))
            .set_auto_verified_attributes(Some(verified_attributes(attrs)))
            .deletion_protection(deletion_protection(attrs))
            .set_user_pool_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("UpdateUserPool"))?;
        Ok(())
    }

    /// Deletes the pool (and with it every user in it).
    pub async fn delete_pool(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self.client.delete_user_pool().user_pool_id(live_id(change)).send().await;
        deleted("DeleteUserPool", result)
    }

    /// Creates an app client with its full configuration.
    pub async fn create_client(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let builder = self
            .client
            .create_user_pool_client()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .client_name(&change.address.name);
        let out = with_client_settings!(builder, desired(change)).send().await.map_err(sdk("CreateUserPoolClient"))?;
        out.user_pool_client.and_then(|c| c.client_id).ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, "CreateUserPoolClient", "the response has no client id")
        })
    }

    /// Updates an app client. UpdateUserPoolClient resets omitted fields: send them all.
    pub async fn update_client(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let builder = self
            .client
            .update_user_pool_client()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .client_id(live_id(change))
            .client_name(&change.address.name);
        with_client_settings!(builder, desired(change)).send().await.map_err(sdk("UpdateUserPoolClient"))?;
        Ok(())
    }

    /// Deletes an app client.
    pub async fn delete_client(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let result = self
            .client
            .delete_user_pool_client()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .client_id(live_id(change))
            .send()
            .await;
        deleted("DeleteUserPoolClient", result)
    }

    /// Creates the hosted-UI domain; its id is the prefix.
    pub async fn create_domain(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let domain = desired(change).text("domain");
        self.client
            .create_user_pool_domain()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .domain(domain)
            .send()
            .await
            .map_err(sdk("CreateUserPoolDomain"))?;
        Ok(domain.to_string())
    }

    /// Deletes the hosted-UI domain.
    pub async fn delete_domain(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let result = self
            .client
            .delete_user_pool_domain()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .domain(live_id(change))
            .send()
            .await;
        deleted("DeleteUserPoolDomain", result)
    }

    /// Creates a user without sending any message, then makes its password permanent. The
    /// password is first set as the temporary one, so an interruption between the two calls
    /// leaves a user whose `password_status` the next plan shows as unfinished.
    pub async fn create_user(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let pool_id = id_of(ids, &user_pool_address())?;
        let password = self.secrets.get(&(change.address.clone(), "password".to_string()));
        self.client
            .admin_create_user()
            .user_pool_id(pool_id)
            .username(&change.address.name)
            .set_user_attributes(Some(user_attributes(&desired(change).entries("attributes"))?))
            .set_temporary_password(password.map(|p| p.expose().to_string()))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .map_err(sdk("AdminCreateUser"))?;
        if password.is_some() {
            self.set_permanent_password(pool_id, &change.address).await?;
        }
        Ok(change.address.name.clone())
    }

    /// Updates a user's attributes (set changed ones, delete removed ones) and finishes an
    /// interrupted password set-up.
    pub async fn update_user(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let pool_id = id_of(ids, &user_pool_address())?;
        let wanted = desired(change).entries("attributes");
        let live = change.before.as_ref().map(|b| b.entries("attributes")).unwrap_or_default();
        let changed: BTreeMap<String, String> =
            wanted.iter().filter(|(k, v)| live.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let removed: Vec<String> = live.keys().filter(|k| !wanted.contains_key(*k)).cloned().collect();
        if !changed.is_empty() {
            self.client
                .admin_update_user_attributes()
                .user_pool_id(pool_id)
                .username(&change.address.name)
                .set_user_attributes(Some(user_attributes(&changed)?))
                .send()
                .await
                .map_err(sdk("AdminUpdateUserAttributes"))?;
        }
        if !removed.is_empty() {
            self.client
                .admin_delete_user_attributes()
                .user_pool_id(pool_id)
                .username(&change.address.name)
                .set_user_attribute_names(Some(removed))
                .send()
                .await
                .map_err(sdk("AdminDeleteUserAttributes"))?;
        }
        if change.changed_fields.iter().any(|f| f.field == "password_status") {
            self.set_permanent_password(pool_id, &change.address).await?;
        }
        Ok(())
    }

    /// Deletes a user.
    pub async fn delete_user(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let result = self
            .client
            .admin_delete_user()
            .user_pool_id(id_of(ids, &user_pool_address())?)
            .username(live_id(change))
            .send()
            .await;
        deleted("AdminDeleteUser", result)
    }

    async fn set_permanent_password(&self, pool_id: &str, address: &Address) -> Result<(), ProviderError> {
        let Some(password) = self.secrets.get(&(address.clone(), "password".to_string())) else {
            return Err(ProviderError::new(
                ErrorClass::Other,
                "AdminSetUserPassword",
                format!("{address} has no password in the stack file to make permanent"),
            ));
        };
        self.client
            .admin_set_user_password()
            .user_pool_id(pool_id)
            .username(&address.name)
            .password(password.expose())
            .permanent(true)
            .send()
            .await
            .map_err(sdk("AdminSetUserPassword"))?;
        Ok(())
    }
}

fn pool_attributes(pool: &UserPoolType) -> Attributes {
    let policy = pool.policies().and_then(|p| p.password_policy());
    let sign_in: Vec<&str> = if pool.username_attributes().is_empty() {
        vec!["username"]
    } else {
        pool.username_attributes().iter().map(|a| a.as_str()).collect()
    };
    let custom_attributes: BTreeMap<String, String> = pool
        .schema_attributes()
        .iter()
        .filter_map(|a| {
            let name = a.name()?.strip_prefix("custom:")?;
            let kind = a.attribute_data_type().map(|t| t.as_str().to_lowercase()).unwrap_or_default();
            Some((name.to_string(), kind))
        })
        .collect();
    Attributes::from([
        ("sign_in".into(), Value::list(sign_in)),
        ("custom_attributes".into(), Value::Map(custom_attributes)),
        ("password_policy.min_length".into(), Value::Int(policy.and_then(|p| p.minimum_length()).unwrap_or(8).into())),
        ("password_policy.require_uppercase".into(), Value::Bool(policy.is_some_and(|p| p.require_uppercase()))),
        ("password_policy.require_lowercase".into(), Value::Bool(policy.is_some_and(|p| p.require_lowercase()))),
        ("password_policy.require_numbers".into(), Value::Bool(policy.is_some_and(|p| p.require_numbers()))),
        ("password_policy.require_symbols".into(), Value::Bool(policy.is_some_and(|p| p.require_symbols()))),
        (
            "password_policy.temporary_password_validity_days".into(),
            Value::Int(policy.map(|p| p.temporary_password_validity_days()).unwrap_or(7).into()),
        ),
        ("auto_verified_attributes".into(), Value::set(pool.auto_verified_attributes().iter().map(|a| a.as_str()))),
        (
            "deletion_protection".into(),
            Value::Bool(pool.deletion_protection() == Some(&DeletionProtectionType::Active)),
        ),
    ])
}

fn password_policy(attrs: &Attributes) -> UserPoolPolicyType {
    UserPoolPolicyType::builder()
        .password_policy(
            PasswordPolicyType::builder()
                .minimum_length(whole(attrs.number("password_policy.min_length")))
                .require_uppercase(attrs.flag("password_policy.require_uppercase"))
                .require_lowercase(attrs.flag("password_policy.require_lowercase"))
                .require_numbers(attrs.flag("password_policy.require_numbers"))
                .require_symbols(attrs.flag("password_policy.require_symbols"))
                .temporary_password_validity_days(whole(
                    attrs.number("password_policy.temporary_password_validity_days"),
                ))
                .build(),
        )
        .build()
}

fn verified_attributes(attrs: &Attributes) -> Vec<VerifiedAttributeType> {
    attrs.items("auto_verified_attributes").iter().map(|a| VerifiedAttributeType::from(a.as_str())).collect()
}

fn deletion_protection(attrs: &Attributes) -> DeletionProtectionType {
    if attrs.flag("deletion_protection") { DeletionProtectionType::Active } else { DeletionProtectionType::Inactive }
}

fn custom_schema(custom: &BTreeMap<String, String>) -> Vec<SchemaAttributeType> {
    custom
        .iter()
        .map(|(name, kind)| {
            let data_type = match kind.as_str() {
                "number" => AttributeDataType::Number,
                "boolean" => AttributeDataType::Boolean,
                "datetime" => AttributeDataType::Datetime,
                _ => AttributeDataType::String,
            };
            SchemaAttributeType::builder().name(name).attribute_data_type(data_type).mutable(true).build()
        })
        .collect()
}

fn oauth_flows(attrs: &Attributes) -> Vec<OAuthFlowType> {
    attrs.items("oauth_flows").iter().map(|f| OAuthFlowType::from(f.as_str())).collect()
}

fn auth_flows(attrs: &Attributes) -> Vec<ExplicitAuthFlowsType> {
    attrs.items("auth_flows").iter().map(|f| ExplicitAuthFlowsType::from(f.as_str())).collect()
}

fn user_attributes(attributes: &BTreeMap<String, String>) -> Result<Vec<AttributeType>, ProviderError> {
    attributes
        .iter()
        .map(|(name, value)| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| ProviderError::new(ErrorClass::Other, "AttributeType", e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_a_pool_as_the_attributes_it_was_created_with() {
        let desired = Attributes::from([
            ("password_policy.min_length".into(), Value::Int(12)),
            ("password_policy.require_uppercase".into(), Value::Bool(true)),
            ("password_policy.temporary_password_validity_days".into(), Value::Int(3)),
            ("deletion_protection".into(), Value::Bool(true)),
            ("auto_verified_attributes".into(), Value::set(["email"])),
        ]);
        let pool = UserPoolType::builder()
            .policies(password_policy(&desired))
            .set_auto_verified_attributes(Some(verified_attributes(&desired)))
            .deletion_protection(deletion_protection(&desired))
            .set_schema_attributes(Some(custom_schema(&BTreeMap::from([("team".into(), "string".into())]))))
            .build();
        let live = pool_attributes(&pool);
        assert_eq!(live["password_policy.min_length"], Value::Int(12));
        assert_eq!(live["password_policy.require_uppercase"], Value::Bool(true));
        assert_eq!(live["password_policy.require_symbols"], Value::Bool(false));
        assert_eq!(live["password_policy.temporary_password_validity_days"], Value::Int(3));
        assert_eq!(live["deletion_protection"], Value::Bool(true));
        assert_eq!(live["sign_in"], Value::list(["username"]));
        assert_eq!(live["auto_verified_attributes"], Value::set(["email"]));
        // Schema names as sent to CreateUserPool carry no prefix; only read-backs do.
        assert_eq!(live["custom_attributes"], Value::Map(BTreeMap::new()));
    }
}
