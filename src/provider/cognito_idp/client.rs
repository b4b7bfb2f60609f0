//! The user pool's app clients.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, OAuthFlowType};
use futures::future::try_join_all;

use super::UserPools;
use crate::error::{ProviderError, deleted, found};
use crate::live::LiveResource;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::provider::ownership::several_claim;
use crate::resource::{Address, ResourceKind, user_pool_address};
use crate::spec;

spec! {
    /// An app client's settings.
    pub(crate) struct ClientSpec for UserPoolClient {
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

impl UserPools {
    /// The pool's app clients, (name, id) each. Clients are known by name, and two of one name
    /// (a create repeated after a server error) stop the run: which one is in use is not for the
    /// tool to guess.
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
        let clients: Vec<(String, String)> =
            listed.into_iter().filter_map(|c| Some((c.client_name?, c.client_id?))).collect();
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, id) in &clients {
            by_name.entry(name).or_default().push(id);
        }
        if let Some((name, ids)) = by_name.into_iter().find(|(_, ids)| ids.len() > 1) {
            let address = Address::new(ResourceKind::UserPoolClient, name);
            return Err(several_claim(&address, &self.stack, ids.into_iter()));
        }
        Ok(clients)
    }

    pub(super) async fn clients(&self, pool_id: &str) -> Result<Vec<LiveResource>, ProviderError> {
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
}

impl Kind for ClientSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListUserPoolClients", "cognito-idp:ListUserPoolClients", On::UserPools, Sent::Reading),
        needs("DescribeUserPoolClient", "cognito-idp:DescribeUserPoolClient", On::UserPools, Sent::Reading),
        needs("CreateUserPoolClient", "cognito-idp:CreateUserPoolClient", On::UserPools, Sent::Changing),
        needs("UpdateUserPoolClient", "cognito-idp:UpdateUserPoolClient", On::UserPools, Sent::Changing),
        needs("DeleteUserPoolClient", "cognito-idp:DeleteUserPoolClient", On::UserPools, Sent::Deleting),
    ];
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

    /// The pool's client of this name: the pool is the stack's, and so are its clients.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &ClientSpec) -> Result<Option<String>, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let clients = self.client_ids(pool_id).await?;
        Ok(clients.into_iter().find(|(name, _)| *name == cx.address.name).map(|(_, id)| id))
    }
}
