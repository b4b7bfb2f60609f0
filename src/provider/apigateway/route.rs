//! The API's routes: a method of a path with its Lambda proxy integration.

use std::collections::BTreeSet;

use aws_sdk_apigateway::types::{IntegrationType, Method, Op, PatchOperation};

use super::{RestApis, replace, split_route};
use crate::error::{ProviderError, deleted, found};
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::rest_api_address;
use crate::spec;
use crate::stack::Route;

spec! {
    /// A method with its Lambda proxy integration.
    pub(crate) struct RouteSpec for ApiRoute {
        /// `NONE`, `AWS_IAM` or `COGNITO_USER_POOLS`.
        authorization: String,
        /// The authorizer of a `COGNITO_USER_POOLS` method.
        authorizer: Option<String>,
        /// The OAuth scopes of which a `COGNITO_USER_POOLS` method asks one in the access token.
        scopes: BTreeSet<String>,
        /// Whether callers must send an API key.
        api_key_required: bool,
        /// The Lambda invocation URI.
        integration_uri: String,
    }
}

/// `METHOD/PATH` as execute-api ARNs write it: `*` for ANY and for path parameters, no leading `/`.
pub(super) fn arn_route(route: &Route) -> String {
    let method = if route.method == "ANY" { "*" } else { route.method.as_str() };
    let path: Vec<&str> =
        route.path.trim_start_matches('/').split('/').map(|s| if s.starts_with('{') { "*" } else { s }).collect();
    format!("{method}/{}", path.join("/"))
}

/// The patches moving a method's authorizer and scopes from `live` to `wanted`: the authorizer
/// replaced, the scopes added and removed one by one (UpdateMethod's way with lists). The
/// authorizer goes first, so a method becoming COGNITO_USER_POOLS has one when it does.
fn authorizer_patches(live: &RouteSpec, wanted: &RouteSpec) -> Vec<PatchOperation> {
    let patch =
        |op: Op, value: &str| PatchOperation::builder().op(op).path("/authorizationScopes").value(value).build();
    let mut patches = Vec::new();
    if live.authorizer != wanted.authorizer {
        patches.push(replace("/authorizerId", wanted.authorizer.as_deref().unwrap_or_default()));
    }
    patches.extend(wanted.scopes.difference(&live.scopes).map(|scope| patch(Op::Add, scope)));
    patches.extend(live.scopes.difference(&wanted.scopes).map(|scope| patch(Op::Remove, scope)));
    patches
}

/// What answers a method: a Lambda function (proxy) or API Gateway itself (MOCK).
pub(super) enum Integration<'a> {
    /// The function whose invocation URI this is.
    LambdaProxy {
        /// The invocation URI.
        uri: &'a str,
    },
    /// API Gateway, with this `application/json` request template.
    Mock {
        /// The template (it sets the status of the response).
        request_template: &'a str,
    },
}

impl RestApis {
    /// A method's details, for listings that did not embed them.
    pub(super) async fn method(&self, api_id: &str, resource_id: &str, method: &str) -> Result<Method, ProviderError> {
        let out = self
            .calls
            .call("GetMethod", || {
                self.client.get_method().rest_api_id(api_id).resource_id(resource_id).http_method(method).send()
            })
            .await?;
        Ok(Method::builder()
            .set_authorization_type(out.authorization_type().map(str::to_string))
            .set_authorizer_id(out.authorizer_id().map(str::to_string))
            .set_authorization_scopes(out.authorization_scopes.clone())
            .set_api_key_required(out.api_key_required())
            .set_method_integration(out.method_integration().cloned())
            .set_method_responses(out.method_responses().cloned())
            .build())
    }

    /// Puts the integration of `method` on the resource `resource_id` (the one writer of
    /// PutIntegration, which replaces any integration there).
    pub(super) async fn put_integration(
        &self,
        api_id: &str,
        resource_id: &str,
        method: &str,
        integration: Integration<'_>,
    ) -> Result<(), ProviderError> {
        let builder = self.client.put_integration().rest_api_id(api_id).resource_id(resource_id).http_method(method);
        let builder = match integration {
            Integration::LambdaProxy { uri } => {
                builder.r#type(IntegrationType::AwsProxy).integration_http_method("POST").uri(uri)
            }
            Integration::Mock { request_template } => {
                builder.r#type(IntegrationType::Mock).request_templates("application/json", request_template)
            }
        };
        self.calls.call("PutIntegration", || builder.clone().send()).await?;
        Ok(())
    }

    /// Deletes the method `id` (`RESOURCE_ID/METHOD`, with its integration and responses); one
    /// already gone counts as deleted.
    pub(super) async fn delete_method(&self, cx: &StepContext<'_>, id: &str) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let (resource_id, method) = split_route(id, '/')?;
        let result = self
            .calls
            .call("DeleteMethod", || {
                self.client.delete_method().rest_api_id(api_id).resource_id(resource_id).http_method(method).send()
            })
            .await;
        deleted(result)
    }
}

impl Kind for RouteSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetMethod", "apigateway:GET", On::Apis, Sent::Reading),
        needs("PutMethod", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("PutIntegration", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("UpdateMethod", "apigateway:PATCH", On::Apis, Sent::Changing),
        needs("DeleteMethod", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<RouteSpec> for RestApis {
    /// Creates a method; the id is `RESOURCE_ID/METHOD`.
    async fn create(&self, cx: &StepContext<'_>, wanted: &RouteSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let (method, path) = split_route(&cx.address.name, ' ')?;
        let resource_id = self.resource_id(cx, api_id, path).await?;
        self.calls
            .call("PutMethod", || {
                self.client
                    .put_method()
                    .rest_api_id(api_id)
                    .resource_id(&resource_id)
                    .http_method(method)
                    .authorization_type(&wanted.authorization)
                    .set_authorizer_id(wanted.authorizer.clone())
                    .set_authorization_scopes(
                        Some(wanted.scopes.iter().cloned().collect()).filter(|s: &Vec<String>| !s.is_empty()),
                    )
                    .api_key_required(wanted.api_key_required)
                    .send()
            })
            .await?;
        Ok(format!("{resource_id}/{method}"))
    }

    /// Puts the method's Lambda proxy integration.
    async fn finish(&self, cx: &StepContext<'_>, id: &str, wanted: &RouteSpec) -> Result<(), ProviderError> {
        let (resource_id, method) = split_route(id, '/')?;
        let integration = Integration::LambdaProxy { uri: &wanted.integration_uri };
        self.put_integration(cx.id_of(&rest_api_address())?, resource_id, method, integration).await
    }

    /// Updates a method's authorization and API key flag in one patch call, and its integration.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &RouteSpec,
        wanted: &RouteSpec,
    ) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let (resource_id, method) = split_route(id, '/')?;
        let mut patches = Vec::new();
        if live.authorization != wanted.authorization {
            patches.push(replace("/authorizationType", &wanted.authorization));
        }
        if live.api_key_required != wanted.api_key_required {
            patches.push(replace("/apiKeyRequired", &wanted.api_key_required.to_string()));
        }
        patches.extend(authorizer_patches(live, wanted));
        if !patches.is_empty() {
            self.calls
                .call("UpdateMethod", || {
                    self.client
                        .update_method()
                        .rest_api_id(api_id)
                        .resource_id(resource_id)
                        .http_method(method)
                        .set_patch_operations(Some(patches.clone()))
                        .send()
                })
                .await?;
        }
        if live.integration_uri != wanted.integration_uri {
            let integration = Integration::LambdaProxy { uri: &wanted.integration_uri };
            self.put_integration(api_id, resource_id, method, integration).await?;
        }
        Ok(())
    }

    /// Deletes a method (and its integration).
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &RouteSpec) -> Result<(), ProviderError> {
        self.delete_method(cx, id).await
    }

    /// A repeated PutMethod finds its method there: it counts only with the wanted
    /// authorization and API key flag (the integration is put by `finish`).
    async fn find(&self, cx: &StepContext<'_>, wanted: &RouteSpec) -> Result<Option<String>, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let (method, path) = split_route(&cx.address.name, ' ')?;
        let resource_id = self.resource_id(cx, api_id, path).await?;
        let Some(live) = found(self.method(api_id, &resource_id, method).await)? else { return Ok(None) };
        let same = live.authorization_type() == Some(wanted.authorization.as_str())
            && live.authorizer_id() == wanted.authorizer.as_deref()
            && live.api_key_required().unwrap_or(false) == wanted.api_key_required;
        Ok(same.then(|| format!("{resource_id}/{method}")))
    }
}
