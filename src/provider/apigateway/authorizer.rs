//! The API's Cognito user pool authorizer (`api_authorizer.cognito`): one per API, on the
//! stack's user pool, reading the token from the `Authorization` header. The `auth: cognito`
//! routes name it; API Gateway then checks each call's token (and the route's scopes) itself.

use std::collections::BTreeSet;

use aws_sdk_apigateway::types::{AuthorizerType, Op, PatchOperation};

use super::RestApis;
use crate::error::{ProviderError, deleted};
use crate::live::{LiveResource, LiveState};
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{
    Address, DesiredResource, DesiredState, ResourceKind, Target, reference, rest_api_address, user_pool_address,
};
use crate::spec;
use crate::stack::{Api, Auth};

/// The authorization type of the routes the authorizer guards.
pub(super) const COGNITO_USER_POOLS: &str = "COGNITO_USER_POOLS";

/// Where the authorizer reads the token.
const IDENTITY_SOURCE: &str = "method.request.header.Authorization";

spec! {
    /// A Cognito user pool authorizer.
    pub(crate) struct AuthorizerSpec for ApiAuthorizer {
        /// `COGNITO_USER_POOLS`.
        authorizer_type @ "type": String => ForcesReplacement,
        /// The ARNs of the user pools whose tokens pass.
        provider_arns: BTreeSet<String>,
        /// Where the token is read (`method.request.header.Authorization`).
        identity_source: String,
    }
}

/// The address of the API's Cognito authorizer.
pub(crate) fn authorizer_address() -> Address {
    Address::new(ResourceKind::ApiAuthorizer, "cognito")
}

/// The authorization type a route's `auth` asks of API Gateway.
pub(crate) fn authorization_type(auth: Auth) -> &'static str {
    match auth {
        Auth::None => "NONE",
        Auth::Iam => "AWS_IAM",
        Auth::Cognito => COGNITO_USER_POOLS,
    }
}

/// Adds the Cognito authorizer to `state` when a route of `api` needs it; its address then.
pub(super) fn desired(state: &mut DesiredState, target: &Target, api: &Api) -> Option<Address> {
    if !api.routes.iter().any(|route| route.auth == Auth::Cognito) {
        return None;
    }
    let pool = user_pool_address();
    let spec = AuthorizerSpec {
        authorizer_type: COGNITO_USER_POOLS.into(),
        provider_arns: BTreeSet::from([target.arn("cognito-idp", &format!("userpool/{}", reference(&pool)))]),
        identity_source: IDENTITY_SOURCE.into(),
    };
    let address = authorizer_address();
    state.resources.push(DesiredResource::of(address.clone(), &spec, vec![rest_api_address(), pool]));
    Some(address)
}

/// The patches turning the authorizer `live` into `wanted`: the identity source replaced, the
/// provider ARNs added and removed one by one (UpdateAuthorizer's way with lists).
fn patches(live: &AuthorizerSpec, wanted: &AuthorizerSpec) -> Vec<PatchOperation> {
    let patch = |op: Op, path: &str, value: &str| PatchOperation::builder().op(op).path(path).value(value).build();
    let mut patches = Vec::new();
    if live.identity_source != wanted.identity_source {
        patches.push(patch(Op::Replace, "/identitySource", &wanted.identity_source));
    }
    patches
        .extend(wanted.provider_arns.difference(&live.provider_arns).map(|arn| patch(Op::Add, "/providerARNs", arn)));
    patches.extend(
        live.provider_arns.difference(&wanted.provider_arns).map(|arn| patch(Op::Remove, "/providerARNs", arn)),
    );
    patches
}

impl RestApis {
    /// The API's authorizers, by name, in `live`.
    pub(super) async fn discover_authorizers(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "GetAuthorizers",
                |position| self.client.get_authorizers().rest_api_id(api_id).limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        for authorizer in listed {
            let (Some(id), Some(name)) = (authorizer.id(), authorizer.name()) else { continue };
            let spec = AuthorizerSpec {
                authorizer_type: authorizer.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                provider_arns: authorizer.provider_arns().iter().cloned().collect(),
                identity_source: authorizer.identity_source().unwrap_or_default().to_string(),
            };
            live.insert(LiveResource::of(Address::new(ResourceKind::ApiAuthorizer, name), id.to_string(), &spec));
        }
        Ok(())
    }

    /// The id of the API's authorizer named `name`, if there is one.
    async fn authorizer_named(&self, api_id: &str, name: &str) -> Result<Option<String>, ProviderError> {
        let mut live = LiveState::default();
        self.discover_authorizers(api_id, &mut live).await?;
        Ok(live.resources.get(&Address::new(ResourceKind::ApiAuthorizer, name)).map(|r| r.id.clone()))
    }
}

impl Kind for AuthorizerSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetAuthorizers", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateAuthorizer", "apigateway:POST", On::Apis, Sent::Changing),
        needs("UpdateAuthorizer", "apigateway:PATCH", On::Apis, Sent::Changing),
        needs("DeleteAuthorizer", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<AuthorizerSpec> for RestApis {
    /// Creates the authorizer; its name is the address's.
    async fn create(&self, cx: &StepContext<'_>, wanted: &AuthorizerSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let out = self
            .calls
            .call("CreateAuthorizer", || {
                self.client
                    .create_authorizer()
                    .rest_api_id(api_id)
                    .name(&cx.address.name)
                    .r#type(AuthorizerType::from(wanted.authorizer_type.as_str()))
                    .set_provider_arns(Some(wanted.provider_arns.iter().cloned().collect()))
                    .identity_source(&wanted.identity_source)
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateAuthorizer", "authorizer id"))
    }

    /// Puts back the identity source and the user pools, then redeploys the stages: a change
    /// to an authorizer takes effect only in a new deployment.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &AuthorizerSpec,
        wanted: &AuthorizerSpec,
    ) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let patches = patches(live, wanted);
        self.calls
            .call("UpdateAuthorizer", || {
                self.client
                    .update_authorizer()
                    .rest_api_id(api_id)
                    .authorizer_id(id)
                    .set_patch_operations(Some(patches.clone()))
                    .send()
            })
            .await?;
        self.redeploy_stages(api_id).await
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &AuthorizerSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let result = self
            .calls
            .call("DeleteAuthorizer", || self.client.delete_authorizer().rest_api_id(api_id).authorizer_id(id).send())
            .await;
        deleted(result)
    }

    /// A create whose answer was lost finds the authorizer of its name.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &AuthorizerSpec) -> Result<Option<String>, ProviderError> {
        self.authorizer_named(cx.id_of(&rest_api_address())?, &cx.address.name).await
    }
}
