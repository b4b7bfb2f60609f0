//! Cognito user pools: the pool, its app clients, hosted-UI domain and users.
//!
//! The pool is found by name (the stack name) and owned by its tags; its children belong to it.
//! Users are looked up by the names the stack file gives: users who signed up by themselves are
//! never listed, compared or deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, AttributeDataType, AttributeType, DeletionProtectionType, DomainStatusType,
    ExplicitAuthFlowsType, MessageActionType, OAuthFlowType, PasswordPolicyType, SchemaAttributeType,
    UserPoolPolicyType, UserPoolType, UserStatusType, UsernameAttributeType, VerifiedAttributeType,
};
use futures::future::try_join_all;

use super::call::Calls;
use super::handler::{Handler, StepContext};
use super::{claim, owned_id, whole};
use crate::error::{ProviderError, deleted, found};
use crate::live::{LiveResource, LiveState, creation_tags, ownership_tags};
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{
    Address, DesiredResource, DesiredState, PASSWORD_SET, ResourceKind, Sensitive, Spec, Target, user_pool_address,
};
use crate::spec;
use crate::stack::{SignIn, UserPool};

spec! {
    /// The user pool's settings.
    pub(super) struct UserPoolSpec for UserPool {
        /// The attributes users sign in with: fixed at creation.
        sign_in: Vec<String> => ForcesReplacement,
        /// Custom attribute name → type: may be added, never changed or removed.
        custom_attributes: BTreeMap<String, String> => AddOnly,
        /// Minimum password length.
        min_length @ "password_policy.min_length": i64,
        /// Passwords need an uppercase letter.
        require_uppercase @ "password_policy.require_uppercase": bool,
        /// Passwords need a lowercase letter.
        require_lowercase @ "password_policy.require_lowercase": bool,
        /// Passwords need a digit.
        require_numbers @ "password_policy.require_numbers": bool,
        /// Passwords need a symbol.
        require_symbols @ "password_policy.require_symbols": bool,
        /// Days an admin-set temporary password stays valid.
        temporary_password_validity_days @ "password_policy.temporary_password_validity_days": i64,
        /// Attributes Cognito verifies automatically.
        auto_verified_attributes: BTreeSet<String>,
        /// Refuses deletion while on.
        deletion_protection: bool,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// An app client's settings.
    pub(super) struct ClientSpec for UserPoolClient {
        /// OAuth redirect URLs after sign-in.
        callback_urls: Vec<String>,
        /// OAuth redirect URLs after sign-out.
        logout_urls: Vec<String>,
        /// OAuth grant types.
        oauth_flows @ "oauth.flows": BTreeSet<String>,
        /// OAuth scopes.
        oauth_scopes @ "oauth.scopes": BTreeSet<String>,
        /// Explicit auth flows (`ALLOW_…`).
        auth_flows: BTreeSet<String>,
    }
}

spec! {
    /// The hosted-UI domain.
    pub(super) struct DomainSpec for UserPoolDomain {
        /// The prefix.
        domain: String => ForcesReplacement,
    }
}

spec! {
    /// A user the stack creates.
    pub(super) struct UserSpec for UserPoolUser {
        /// Attribute name → value.
        attributes: BTreeMap<String, String>,
        /// The password: set on create, never read back.
        password: Option<Sensitive> => WriteOnly,
        /// `permanent` once the password is set for good (an interrupted create leaves it temporary).
        password_status: Option<String>,
    }
}

/// Adds the user pool, its domain, clients and users to `state`.
pub(super) fn desired(state: &mut DesiredState, pool: &UserPool, tags: &BTreeMap<String, String>) {
    let pool_address = user_pool_address();
    let policy = &pool.password_policy;
    let sign_in = match pool.sign_in {
        SignIn::Username => vec!["username"],
        SignIn::Email => vec!["email"],
        SignIn::PhoneNumber => vec!["phone_number"],
        SignIn::EmailOrPhoneNumber => vec!["email", "phone_number"],
    };
    let spec = UserPoolSpec {
        sign_in: sign_in.into_iter().map(str::to_string).collect(),
        custom_attributes: pool.custom_attributes.clone(),
        min_length: policy.min_length,
        require_uppercase: policy.require_uppercase,
        require_lowercase: policy.require_lowercase,
        require_numbers: policy.require_numbers,
        require_symbols: policy.require_symbols,
        temporary_password_validity_days: policy.temporary_password_validity_days,
        auto_verified_attributes: pool.auto_verified_attributes.iter().cloned().collect(),
        deletion_protection: pool.deletion_protection,
        tags: tags.clone(),
    };
    state.resources.push(DesiredResource::of(pool_address.clone(), &spec, Vec::new()));
    if let Some(domain) = &pool.domain {
        let address = Address::new(ResourceKind::UserPoolDomain, "main");
        state.resources.push(DesiredResource::of(
            address,
            &DomainSpec { domain: domain.clone() },
            vec![pool_address.clone()],
        ));
    }
    for (name, client) in &pool.clients {
        let spec = ClientSpec {
            callback_urls: client.callback_urls.clone(),
            logout_urls: client.logout_urls.clone(),
            oauth_flows: client.oauth_flows.iter().cloned().collect(),
            oauth_scopes: client.oauth_scopes.iter().cloned().collect(),
            auth_flows: client.auth_flows.iter().cloned().collect(),
        };
        let address = Address::new(ResourceKind::UserPoolClient, name);
        state.resources.push(DesiredResource::of(address, &spec, vec![pool_address.clone()]));
    }
    for (name, user) in &pool.users {
        let address = Address::new(ResourceKind::UserPoolUser, name);
        let spec = UserSpec {
            attributes: user.attributes.clone(),
            password: user.password.as_ref().map(|_| Sensitive),
            password_status: user.password.as_ref().map(|_| PASSWORD_SET.to_string()),
        };
        state.add_secret(&address, user.password.as_ref());
        state.resources.push(DesiredResource::of(address, &spec, vec![pool_address.clone()]));
    }
}

/// Sets every managed client setting on a Create- or UpdateUserPoolClient builder: the two are
/// different types with the same setters, and an update must send them all (AWS resets the rest).
macro_rules! with_client_settings {
    ($builder:expr, $spec:expr) => {{
        let spec: &ClientSpec = $spec;
        let flows: Vec<OAuthFlowType> = spec.oauth_flows.iter().map(|f| OAuthFlowType::from(f.as_str())).collect();
        $builder
            .set_callback_urls(Some(spec.callback_urls.clone()))
            .set_logout_urls(Some(spec.logout_urls.clone()))
            .allowed_o_auth_flows_user_pool_client(!flows.is_empty())
            .set_allowed_o_auth_flows(Some(flows))
            .set_allowed_o_auth_scopes(Some(spec.oauth_scopes.iter().cloned().collect()))
            .set_explicit_auth_flows(Some(
                spec.auth_flows.iter().map(|f| ExplicitAuthFlowsType::from(f.as_str())).collect(),
            ))
            .supported_identity_providers("COGNITO")
    }};
}

/// `N thing` or `N things`.
fn count(n: impl Into<i64>, thing: &str) -> String {
    let n = n.into();
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The Cognito user pool side of the provider.
pub(super) struct UserPools {
    client: Client,
    stack: String,
    /// Where the pools are, for their ARNs.
    target: Target,
    calls: Calls,
}

impl UserPools {
    /// The user pools of `stack` through `client`, at `target`.
    pub(super) fn new(client: Client, stack: &str, target: &Target, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), target: target.clone(), calls }
    }

    /// Untags and tags the pool `pool_id` as `changes` say (removals first, so the pool never
    /// holds more tags than AWS allows).
    async fn retag(&self, pool_id: &str, changes: &TagChanges) -> Result<(), ProviderError> {
        let arn = self.target.arn("cognito-idp", &format!("userpool/{pool_id}"));
        let arn = arn.as_str();
        let untag = |keys: Vec<String>| async move {
            let send = || self.client.untag_resource().resource_arn(arn).set_tag_keys(Some(keys.clone())).send();
            self.calls.call("UntagResource", send).await.map(drop)
        };
        let tag = |tags: HashMap<String, String>| async move {
            let send = || self.client.tag_resource().resource_arn(arn).set_tags(Some(tags.clone())).send();
            self.calls.call("TagResource", send).await.map(drop)
        };
        changes.send(untag, tag).await
    }

    /// Finds the stack's pool by name, confirms it by tags, then reads its children.
    pub(super) async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = user_pool_address();
        let Some(pool) = claim(self.candidates().await?, &self.stack, &address, live)? else { return Ok(()) };
        let pool_id = pool.id().ok_or_else(|| ProviderError::missing("DescribeUserPool", "pool id"))?.to_string();
        let estimated_users = pool.estimated_number_of_users();
        let mut pool_resource = LiveResource {
            holds: Some(count(estimated_users, "user")),
            ..LiveResource::of(address, pool_id.clone(), &pool_spec(&pool))
        };
        if let Some(domain) = pool.domain().filter(|d| !d.is_empty()) {
            let address = Address::new(ResourceKind::UserPoolDomain, "main");
            live.insert(LiveResource::of(address, domain.to_string(), &DomainSpec { domain: domain.to_string() }));
        }
        let wanted_users = desired.resources.iter().filter(|r| r.address.kind == ResourceKind::UserPoolUser);
        let (clients, users) = tokio::try_join!(
            self.clients(&pool_id),
            try_join_all(wanted_users.map(|r| self.user(&pool_id, &r.address, &r.attributes)))
        )?;
        let users: Vec<LiveResource> = users.into_iter().flatten().collect();
        let others = i64::from(estimated_users) - i64::try_from(users.len()).unwrap_or(i64::MAX);
        if others > 0 {
            pool_resource.notes.push(format!(
                "about {} not in the stack file (signed up, made by hand, or removed from the file): \
                 they stay; authdemo creates the users the file names and never deletes users",
                count(others, "user")
            ));
        }
        live.insert(pool_resource);
        for resource in clients.into_iter().chain(users) {
            live.insert(resource);
        }
        Ok(())
    }

    /// The pools named after the stack: id, tags and description of each.
    async fn candidates(&self) -> Result<Vec<(String, HashMap<String, String>, UserPoolType)>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "ListUserPools",
                |token| self.client.list_user_pools().max_results(60).set_next_token(token).send(),
                |out| (out.user_pools.unwrap_or_default(), out.next_token),
            )
            .await?;
        let mut candidates = Vec::new();
        for id in listed.into_iter().filter(|p| p.name() == Some(self.stack.as_str())).filter_map(|p| p.id) {
            let described =
                self.calls.call("DescribeUserPool", || self.client.describe_user_pool().user_pool_id(&id).send()).await;
            if let Some(pool) = found(described)?.and_then(|d| d.user_pool) {
                candidates.push((id, pool.user_pool_tags().cloned().unwrap_or_default(), pool));
            }
        }
        Ok(candidates)
    }

    async fn client_ids(&self, pool_id: &str) -> Result<Vec<(String, String)>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "ListUserPoolClients",
                |token| {
                    self.client
                        .list_user_pool_clients()
                        .user_pool_id(pool_id)
                        .max_results(60)
                        .set_next_token(token)
                        .send()
                },
                |out| (out.user_pool_clients.unwrap_or_default(), out.next_token),
            )
            .await?;
        Ok(listed.into_iter().filter_map(|c| Some((c.client_name?, c.client_id?))).collect())
    }

    async fn clients(&self, pool_id: &str) -> Result<Vec<LiveResource>, ProviderError> {
        let client_ids = self.client_ids(pool_id).await?;
        let described = try_join_all(client_ids.iter().map(|(_, id)| async move {
            let out = self
                .calls
                .call("DescribeUserPoolClient", || {
                    self.client.describe_user_pool_client().user_pool_id(pool_id).client_id(id).send()
                })
                .await;
            found(out)
        }))
        .await?;
        let mut resources = Vec::new();
        for client in described.into_iter().flatten().filter_map(|out| out.user_pool_client) {
            let (Some(name), Some(id)) = (client.client_name(), client.client_id()) else { continue };
            let spec = ClientSpec {
                callback_urls: client.callback_urls().to_vec(),
                logout_urls: client.logout_urls().to_vec(),
                oauth_flows: client.allowed_o_auth_flows().iter().map(|f| f.as_str().to_string()).collect(),
                oauth_scopes: client.allowed_o_auth_scopes().iter().cloned().collect(),
                auth_flows: client.explicit_auth_flows().iter().map(|f| f.as_str().to_string()).collect(),
            };
            resources.push(LiveResource::of(Address::new(ResourceKind::UserPoolClient, name), id.to_string(), &spec));
        }
        Ok(resources)
    }

    /// Reads the user at `address`, keeping the attributes the stack manages: everything but
    /// `sub` and the `*_verified` flags, unless the stack file sets them.
    async fn user(
        &self,
        pool_id: &str,
        address: &Address,
        desired: &crate::resource::Attributes,
    ) -> Result<Option<LiveResource>, ProviderError> {
        let declared = UserSpec::from_attributes(desired).map(|s| s.attributes).unwrap_or_default();
        let out = self
            .calls
            .call("AdminGetUser", || self.client.admin_get_user().user_pool_id(pool_id).username(&address.name).send())
            .await;
        let Some(user) = found(out)? else { return Ok(None) };
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
        let spec = UserSpec { attributes, password: None, password_status: Some(status) };
        Ok(Some(LiveResource::of(address.clone(), address.name.clone(), &spec)))
    }

    async fn set_permanent_password(&self, cx: &StepContext<'_>, pool_id: &str) -> Result<(), ProviderError> {
        let Some(password) = cx.secret else {
            let message = format!("{} has no password in the stack file to make permanent", cx.address);
            return Err(ProviderError::other("AdminSetUserPassword", message));
        };
        self.calls
            .call("AdminSetUserPassword", || {
                self.client
                    .admin_set_user_password()
                    .user_pool_id(pool_id)
                    .username(&cx.address.name)
                    .password(password.expose())
                    .permanent(true)
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Handler<UserPoolSpec> for UserPools {
    /// Creates the pool, tagged in the create call itself.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UserPoolSpec) -> Result<String, ProviderError> {
        let username_attributes: Vec<UsernameAttributeType> = wanted
            .sign_in
            .iter()
            .filter(|s| *s != "username")
            .map(|s| UsernameAttributeType::from(s.as_str()))
            .collect();
        let schema = custom_schema(&wanted.custom_attributes);
        let out = self
            .calls
            .call("CreateUserPool", || {
                self.client
                    .create_user_pool()
                    .pool_name(&self.stack)
                    .policies(password_policy(wanted))
                    .set_auto_verified_attributes(Some(verified_attributes(wanted)))
                    .deletion_protection(deletion_protection(wanted))
                    .set_username_attributes((!username_attributes.is_empty()).then(|| username_attributes.clone()))
                    .set_schema((!schema.is_empty()).then(|| schema.clone()))
                    .set_user_pool_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.user_pool.and_then(|p| p.id).ok_or_else(|| ProviderError::missing("CreateUserPool", "pool id"))
    }

    /// Updates the pool: new custom attributes first, then its settings when they differ, then
    /// its tags (see [`UserPools::retag`]). UpdateUserPool resets every setting it is not sent
    /// and overwrites the tags, so the pool is read first and everything the file does not
    /// manage (triggers, messages, MFA, email and SMS configuration, account recovery, …) and
    /// its tags as they are are sent back.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &UserPoolSpec,
        wanted: &UserPoolSpec,
    ) -> Result<(), ProviderError> {
        let added: BTreeMap<String, String> = wanted
            .custom_attributes
            .iter()
            .filter(|(name, _)| !live.custom_attributes.contains_key(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !added.is_empty() {
            let schema = custom_schema(&added);
            self.calls
                .call("AddCustomAttributes", || {
                    self.client
                        .add_custom_attributes()
                        .user_pool_id(id)
                        .set_custom_attributes(Some(schema.clone()))
                        .send()
                })
                .await?;
        }
        let settings_changed = UserPoolSpec { tags: wanted.tags.clone(), ..live.clone() } != *wanted;
        if settings_changed {
            let described = self
                .calls
                .call("DescribeUserPool", || self.client.describe_user_pool().user_pool_id(id).send())
                .await?;
            let pool = described.user_pool.ok_or_else(|| ProviderError::missing("DescribeUserPool", "user pool"))?;
            self.calls
                .call("UpdateUserPool", || {
                    with_unmanaged_pool_settings(self.client.update_user_pool(), &pool)
                        .user_pool_id(id)
                        .policies(password_policy_over(pool.policies(), wanted))
                        .set_auto_verified_attributes(Some(verified_attributes(wanted)))
                        .deletion_protection(deletion_protection(wanted))
                        .set_user_pool_tags(pool.user_pool_tags().cloned())
                        .send()
                })
                .await?;
        }
        let changes =
            TagChanges::between(&live.tags, &wanted.tags).adopting(cx.adopt, ownership_tags(&self.stack, cx.address));
        self.retag(id, &changes).await
    }

    /// Deletes the pool (and with it every user in it).
    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &UserPoolSpec) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteUserPool", || self.client.delete_user_pool().user_pool_id(id).send()).await)
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &UserPoolSpec) -> Result<Option<String>, ProviderError> {
        Ok(owned_id(self.candidates().await?, &self.stack, cx.address))
    }
}

impl Handler<ClientSpec> for UserPools {
    /// Creates an app client with its full configuration.
    async fn create(&self, cx: &StepContext<'_>, wanted: &ClientSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let out = self
            .calls
            .call("CreateUserPoolClient", || {
                let builder = self.client.create_user_pool_client().user_pool_id(pool_id).client_name(&cx.address.name);
                with_client_settings!(builder, wanted).send()
            })
            .await?;
        out.user_pool_client
            .and_then(|c| c.client_id)
            .ok_or_else(|| ProviderError::missing("CreateUserPoolClient", "client id"))
    }

    /// Updates an app client. UpdateUserPoolClient resets every field it is not sent, so the
    /// client is read first and what the file does not manage (token validity, read and write
    /// attributes, identity providers, existence errors, token revocation, …) is sent back.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        _live: &ClientSpec,
        wanted: &ClientSpec,
    ) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let described = self
            .calls
            .call("DescribeUserPoolClient", || {
                self.client.describe_user_pool_client().user_pool_id(pool_id).client_id(id).send()
            })
            .await?;
        let live = described
            .user_pool_client
            .ok_or_else(|| ProviderError::missing("DescribeUserPoolClient", "user pool client"))?;
        let providers = if live.supported_identity_providers().is_empty() {
            vec!["COGNITO".to_string()]
        } else {
            live.supported_identity_providers().to_vec()
        };
        let default_redirect = live.default_redirect_uri().filter(|uri| wanted.callback_urls.iter().any(|c| c == uri));
        self.calls
            .call("UpdateUserPoolClient", || {
                let builder = self
                    .client
                    .update_user_pool_client()
                    .user_pool_id(pool_id)
                    .client_id(id)
                    .client_name(&cx.address.name)
                    .set_refresh_token_validity(Some(live.refresh_token_validity).filter(|days| *days > 0))
                    .set_access_token_validity(live.access_token_validity)
                    .set_id_token_validity(live.id_token_validity)
                    .set_token_validity_units(live.token_validity_units.clone())
                    .set_read_attributes(live.read_attributes.clone())
                    .set_write_attributes(live.write_attributes.clone())
                    .set_default_redirect_uri(default_redirect.map(str::to_string))
                    .set_analytics_configuration(live.analytics_configuration.clone())
                    .set_prevent_user_existence_errors(live.prevent_user_existence_errors.clone())
                    .set_enable_token_revocation(live.enable_token_revocation)
                    .set_enable_propagate_additional_user_context_data(
                        live.enable_propagate_additional_user_context_data,
                    )
                    .set_auth_session_validity(live.auth_session_validity)
                    .set_refresh_token_rotation(live.refresh_token_rotation.clone());
                with_client_settings!(builder, wanted).set_supported_identity_providers(Some(providers.clone())).send()
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &ClientSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("DeleteUserPoolClient", || {
                self.client.delete_user_pool_client().user_pool_id(pool_id).client_id(id).send()
            })
            .await;
        deleted(result)
    }
}

impl Handler<DomainSpec> for UserPools {
    /// Creates the hosted-UI domain; its id is the prefix.
    async fn create(&self, cx: &StepContext<'_>, wanted: &DomainSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        self.calls
            .call("CreateUserPoolDomain", || {
                self.client.create_user_pool_domain().user_pool_id(pool_id).domain(&wanted.domain).send()
            })
            .await?;
        Ok(wanted.domain.clone())
    }

    /// Waits until the domain is ACTIVE (AWS creates it asynchronously).
    async fn finish(&self, _cx: &StepContext<'_>, id: &str, _wanted: &DomainSpec) -> Result<(), ProviderError> {
        self.await_domain(id, |status| match status {
            Some(DomainStatusType::Active) => Ok(true),
            Some(DomainStatusType::Failed) => Err(format!("domain {id} failed to create")),
            _ => Ok(false),
        })
        .await
    }

    /// Deletes the domain and waits until it is gone (AWS deletes it asynchronously; until
    /// then the pool cannot be deleted nor the prefix taken again).
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &DomainSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("DeleteUserPoolDomain", || {
                self.client.delete_user_pool_domain().user_pool_id(pool_id).domain(id).send()
            })
            .await;
        deleted(result)?;
        self.await_domain(id, |status| Ok(status.is_none())).await
    }
}

impl UserPools {
    /// Polls DescribeUserPoolDomain until `done` says so for the domain's status (`None` when
    /// no such domain exists).
    async fn await_domain(
        &self,
        domain: &str,
        done: impl Fn(Option<&DomainStatusType>) -> Result<bool, String>,
    ) -> Result<(), ProviderError> {
        self.calls
            .wait_until(&format!("hosted-UI domain {domain} to settle"), || async {
                let out = self
                    .calls
                    .call("DescribeUserPoolDomain", || self.client.describe_user_pool_domain().domain(domain).send())
                    .await?;
                let status = out.domain_description().and_then(|d| d.status());
                match done(status) {
                    Ok(true) => Ok(Some(())),
                    Ok(false) => Ok(None),
                    Err(message) => Err(ProviderError::other("DescribeUserPoolDomain", message)),
                }
            })
            .await
    }
}

impl Handler<UserSpec> for UserPools {
    /// Creates a user without sending any message. The password is first set as the temporary
    /// one, so an interruption before [`Handler::finish`] leaves a user whose `password_status`
    /// the next plan shows as unfinished.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UserSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let attributes = user_attributes(&wanted.attributes)?;
        self.calls
            .call("AdminCreateUser", || {
                self.client
                    .admin_create_user()
                    .user_pool_id(pool_id)
                    .username(&cx.address.name)
                    .set_user_attributes(Some(attributes.clone()))
                    .set_temporary_password(cx.secret.map(|p| p.expose().to_string()))
                    .message_action(MessageActionType::Suppress)
                    .send()
            })
            .await?;
        Ok(cx.address.name.clone())
    }

    /// Makes the password permanent.
    async fn finish(&self, cx: &StepContext<'_>, _id: &str, wanted: &UserSpec) -> Result<(), ProviderError> {
        if wanted.password.is_none() {
            return Ok(());
        }
        self.set_permanent_password(cx, cx.id_of(&user_pool_address())?).await
    }

    /// Updates a user's attributes (set changed ones, delete removed ones) and finishes an
    /// interrupted password set-up.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &UserSpec,
        wanted: &UserSpec,
    ) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let changed: BTreeMap<String, String> = wanted
            .attributes
            .iter()
            .filter(|(k, v)| live.attributes.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed: Vec<String> =
            live.attributes.keys().filter(|k| !wanted.attributes.contains_key(*k)).cloned().collect();
        if !changed.is_empty() {
            let attributes = user_attributes(&changed)?;
            self.calls
                .call("AdminUpdateUserAttributes", || {
                    self.client
                        .admin_update_user_attributes()
                        .user_pool_id(pool_id)
                        .username(id)
                        .set_user_attributes(Some(attributes.clone()))
                        .send()
                })
                .await?;
        }
        if !removed.is_empty() {
            self.calls
                .call("AdminDeleteUserAttributes", || {
                    self.client
                        .admin_delete_user_attributes()
                        .user_pool_id(pool_id)
                        .username(id)
                        .set_user_attribute_names(Some(removed.clone()))
                        .send()
                })
                .await?;
        }
        if wanted.password_status.is_some() && live.password_status != wanted.password_status {
            self.set_permanent_password(cx, pool_id).await?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &UserSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("AdminDeleteUser", || self.client.admin_delete_user().user_pool_id(pool_id).username(id).send())
            .await;
        deleted(result)
    }

    /// A user whose create was answered "exists" is the stack's own: users are found by name.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &UserSpec) -> Result<Option<String>, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let out = self
            .calls
            .call("AdminGetUser", || {
                self.client.admin_get_user().user_pool_id(pool_id).username(&cx.address.name).send()
            })
            .await;
        Ok(found(out)?.map(|_| cx.address.name.clone()))
    }
}

fn pool_spec(pool: &UserPoolType) -> UserPoolSpec {
    let policy = pool.policies().and_then(|p| p.password_policy());
    let sign_in: Vec<String> = if pool.username_attributes().is_empty() {
        vec!["username".to_string()]
    } else {
        pool.username_attributes().iter().map(|a| a.as_str().to_string()).collect()
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
    UserPoolSpec {
        sign_in,
        custom_attributes,
        min_length: policy
            .and_then(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::minimum_length)
            .unwrap_or(8)
            .into(),
        require_uppercase: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_uppercase),
        require_lowercase: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_lowercase),
        require_numbers: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_numbers),
        require_symbols: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_symbols),
        temporary_password_validity_days: policy
            .map_or(7, aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::temporary_password_validity_days)
            .into(),
        auto_verified_attributes: pool.auto_verified_attributes().iter().map(|a| a.as_str().to_string()).collect(),
        deletion_protection: pool.deletion_protection() == Some(&DeletionProtectionType::Active),
        tags: user_tags(pool.user_pool_tags().into_iter().flatten()),
    }
}

fn password_policy(spec: &UserPoolSpec) -> UserPoolPolicyType {
    UserPoolPolicyType::builder().password_policy(password_rules(spec).build()).build()
}

/// The password rules the file manages.
fn password_rules(spec: &UserPoolSpec) -> aws_sdk_cognitoidentityprovider::types::builders::PasswordPolicyTypeBuilder {
    PasswordPolicyType::builder()
        .minimum_length(whole(spec.min_length))
        .require_uppercase(spec.require_uppercase)
        .require_lowercase(spec.require_lowercase)
        .require_numbers(spec.require_numbers)
        .require_symbols(spec.require_symbols)
        .temporary_password_validity_days(whole(spec.temporary_password_validity_days))
}

/// The live password and sign-in policy with the fields the file manages set to `spec`'s (the
/// password history and sign-in policy stay as they are).
fn password_policy_over(live: Option<&UserPoolPolicyType>, spec: &UserPoolSpec) -> UserPoolPolicyType {
    let history = live.and_then(|p| p.password_policy()).and_then(PasswordPolicyType::password_history_size);
    UserPoolPolicyType::builder()
        .password_policy(password_rules(spec).set_password_history_size(history).build())
        .set_sign_in_policy(live.and_then(|p| p.sign_in_policy()).cloned())
        .build()
}

/// `builder` with every setting of the live `pool` that the stack file does not manage, as
/// DescribeUserPool gave it. The deprecated `UnusedAccountValidityDays` is left out (AWS refuses
/// it beside `TemporaryPasswordValidityDays`), and so are the legacy verification message fields
/// when the template, which carries them, is there.
fn with_unmanaged_pool_settings(
    builder: aws_sdk_cognitoidentityprovider::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder,
    pool: &UserPoolType,
) -> aws_sdk_cognitoidentityprovider::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder {
    let admin = pool.admin_create_user_config().map(|c| {
        AdminCreateUserConfigType::builder()
            .allow_admin_create_user_only(c.allow_admin_create_user_only())
            .set_invite_message_template(c.invite_message_template().cloned())
            .build()
    });
    let legacy = pool.verification_message_template().is_none();
    builder
        .set_pool_name(pool.name().map(str::to_string))
        .set_lambda_config(pool.lambda_config().cloned())
        .set_verification_message_template(pool.verification_message_template().cloned())
        .set_sms_verification_message(pool.sms_verification_message().filter(|_| legacy).map(str::to_string))
        .set_email_verification_message(pool.email_verification_message().filter(|_| legacy).map(str::to_string))
        .set_email_verification_subject(pool.email_verification_subject().filter(|_| legacy).map(str::to_string))
        .set_sms_authentication_message(pool.sms_authentication_message().map(str::to_string))
        .set_user_attribute_update_settings(pool.user_attribute_update_settings().cloned())
        .set_mfa_configuration(pool.mfa_configuration().cloned())
        .set_device_configuration(pool.device_configuration().cloned())
        .set_email_configuration(pool.email_configuration().cloned())
        .set_sms_configuration(pool.sms_configuration().cloned())
        .set_admin_create_user_config(admin)
        .set_user_pool_add_ons(pool.user_pool_add_ons().cloned())
        .set_account_recovery_setting(pool.account_recovery_setting().cloned())
        .set_user_pool_tier(pool.user_pool_tier().cloned())
}

fn verified_attributes(spec: &UserPoolSpec) -> Vec<VerifiedAttributeType> {
    spec.auto_verified_attributes.iter().map(|a| VerifiedAttributeType::from(a.as_str())).collect()
}

fn deletion_protection(spec: &UserPoolSpec) -> DeletionProtectionType {
    if spec.deletion_protection { DeletionProtectionType::Active } else { DeletionProtectionType::Inactive }
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

fn user_attributes(attributes: &BTreeMap<String, String>) -> Result<Vec<AttributeType>, ProviderError> {
    attributes
        .iter()
        .map(|(name, value)| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| ProviderError::other("AttributeType", e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_a_pool_as_the_spec_it_was_created_with() {
        let desired = UserPoolSpec {
            sign_in: vec!["username".into()],
            custom_attributes: BTreeMap::new(),
            min_length: 12,
            require_uppercase: true,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            temporary_password_validity_days: 3,
            auto_verified_attributes: ["email".to_string()].into(),
            deletion_protection: true,
            tags: BTreeMap::new(),
        };
        let pool = UserPoolType::builder()
            .policies(password_policy(&desired))
            .set_auto_verified_attributes(Some(verified_attributes(&desired)))
            .deletion_protection(deletion_protection(&desired))
            .set_schema_attributes(Some(custom_schema(&BTreeMap::from([("team".into(), "string".into())]))))
            .build();
        // Schema names as sent to CreateUserPool carry no prefix; only read-backs do.
        assert_eq!(pool_spec(&pool), desired);
    }
}
