//! The user pool's resource servers: the APIs whose custom scopes (`IDENTIFIER/SCOPE`) app
//! clients ask for and Cognito authorizers check. Known by their identifier, which is also
//! their id; they belong to the pool.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::types::{ResourceServerScopeType, ResourceServerType};

use super::UserPools;
use crate::error::{ProviderError, deleted, found};
use crate::live::LiveResource;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, ResourceKind, user_pool_address};
use crate::spec;

spec! {
    /// A resource server with its custom scopes.
    pub(crate) struct ResourceServerSpec for UserPoolResourceServer {
        /// Its friendly name.
        name: String,
        /// Scope name → description.
        scopes: BTreeMap<String, String>,
    }
}

/// The scopes of `spec` as Cognito takes them.
fn scopes(spec: &ResourceServerSpec) -> Result<Vec<ResourceServerScopeType>, ProviderError> {
    spec.scopes
        .iter()
        .map(|(name, description)| {
            ResourceServerScopeType::builder()
                .scope_name(name)
                .scope_description(description)
                .build()
                .map_err(|e| ProviderError::other("CreateResourceServer", e.to_string()))
        })
        .collect()
}

/// The spec of a resource server as Cognito describes it.
fn spec_of(server: &ResourceServerType) -> ResourceServerSpec {
    ResourceServerSpec {
        name: server.name().unwrap_or_default().to_string(),
        scopes: server
            .scopes()
            .iter()
            .map(|s| (s.scope_name().to_string(), s.scope_description().to_string()))
            .collect(),
    }
}

impl UserPools {
    /// The pool's resource servers (ListResourceServers, 50 a page).
    pub(super) async fn resource_servers(&self, pool_id: &str) -> Result<Vec<LiveResource>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "ListResourceServers",
                |token| {
                    self.client
                        .list_resource_servers()
                        .user_pool_id(pool_id)
                        .max_results(50)
                        .set_next_token(token)
                        .send()
                },
                |out| (out.resource_servers, out.next_token),
            )
            .await?;
        Ok(listed
            .iter()
            .filter_map(|server| {
                let identifier = server.identifier()?;
                let address = Address::new(ResourceKind::UserPoolResourceServer, identifier);
                Some(LiveResource::of(address, identifier.to_string(), &spec_of(server)))
            })
            .collect())
    }
}

impl Kind for ResourceServerSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListResourceServers", "cognito-idp:ListResourceServers", On::UserPools, Sent::Reading),
        needs("DescribeResourceServer", "cognito-idp:DescribeResourceServer", On::UserPools, Sent::Changing),
        needs("CreateResourceServer", "cognito-idp:CreateResourceServer", On::UserPools, Sent::Changing),
        needs("UpdateResourceServer", "cognito-idp:UpdateResourceServer", On::UserPools, Sent::Changing),
        needs("DeleteResourceServer", "cognito-idp:DeleteResourceServer", On::UserPools, Sent::Deleting),
    ];
}

impl Handler<ResourceServerSpec> for UserPools {
    /// Creates the resource server; its id is its identifier.
    async fn create(&self, cx: &StepContext<'_>, wanted: &ResourceServerSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let scopes = scopes(wanted)?;
        let identifier = cx.address.name.as_str();
        self.calls
            .call("CreateResourceServer", || {
                self.client
                    .create_resource_server()
                    .user_pool_id(pool_id)
                    .identifier(identifier)
                    .name(&wanted.name)
                    .set_scopes(Some(scopes.clone()))
                    .send()
            })
            .await?;
        Ok(identifier.to_string())
    }

    /// Sets the name and the whole list of scopes (UpdateResourceServer replaces both).
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        _live: &ResourceServerSpec,
        wanted: &ResourceServerSpec,
    ) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let scopes = scopes(wanted)?;
        self.calls
            .call("UpdateResourceServer", || {
                self.client
                    .update_resource_server()
                    .user_pool_id(pool_id)
                    .identifier(id)
                    .name(&wanted.name)
                    .set_scopes(Some(scopes.clone()))
                    .send()
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &ResourceServerSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("DeleteResourceServer", || {
                self.client.delete_resource_server().user_pool_id(pool_id).identifier(id).send()
            })
            .await;
        deleted(result)
    }

    /// A create whose answer was lost finds the identifier taken in the pool.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &ResourceServerSpec) -> Result<Option<String>, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let identifier = cx.address.name.as_str();
        let described = self
            .calls
            .call("DescribeResourceServer", || {
                self.client.describe_resource_server().user_pool_id(pool_id).identifier(identifier).send()
            })
            .await;
        Ok(found(described)?.map(|_| identifier.to_string()))
    }
}
