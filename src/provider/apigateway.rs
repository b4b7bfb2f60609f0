//! API Gateway REST APIs: the API (found by name, owned by tags), its paths, methods with Lambda
//! proxy integrations, CORS ([`cors`]), and the stage whose deployment carries the route table's
//! fingerprint.

mod cors;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType, IntegrationType, Method, Op, PatchOperation, RestApi,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::call::Calls;
use super::handler::{Handler, StepContext};
use super::iam::RoleSpec;
use super::lambda::PermissionSpec;
use super::{Serial, claim, owned_id};
use crate::error::{ProviderError, deleted, found};
use crate::live::{LiveResource, LiveState, creation_tags};
use crate::resource::policy_document::document;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{
    Address, DesiredResource, DesiredState, INVOKE_POLICY, ResourceKind, Spec, Target, reference, rest_api_address,
};
use crate::spec;
use crate::stack::{Api, Auth, Route};

pub(super) use cors::{GatewayResponseSpec, PreflightSpec};

/// The prefix of a deployment description before the routes' fingerprint.
const FINGERPRINT_PREFIX: &str = "authdemo routes ";

spec! {
    /// The REST API.
    pub(super) struct RestApiSpec for RestApi {
        /// `REGIONAL`.
        endpoint_type: String => ForcesReplacement,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// A path of the REST API.
    pub(super) struct ApiResourceSpec for ApiResource {
        /// The last segment of the path.
        path_part: String => ForcesReplacement,
    }
}

spec! {
    /// A method with its Lambda proxy integration.
    pub(super) struct RouteSpec for ApiRoute {
        /// `NONE` or `AWS_IAM`.
        authorization: String,
        /// Whether callers must send an API key.
        api_key_required: bool,
        /// The Lambda invocation URI.
        integration_uri: String,
    }
}

spec! {
    /// The stage and the deployment it serves.
    pub(super) struct StageSpec for ApiStage {
        /// The fingerprint of the route table the deployment was made from.
        routes_fingerprint: String,
        /// What the deployment serves, by route (`METHOD /path`): its authorization and whether
        /// it needs an API key. Read from the deployment itself, so a method changed and
        /// deployed by hand shows here even when the fingerprint matches.
        served: BTreeMap<String, String>,
        /// The deployment the stage serves (live only).
        deployment_id: Option<String>,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

/// The fingerprint of a route table and its CORS settings, carried in the stage's deployment
/// description.
fn routes_fingerprint(api: &Api) -> String {
    let mut hasher = Sha256::new();
    for route in &api.routes {
        hasher
            .update(format!("{} {} {} {:?} {}\n", route.method, route.path, route.function, route.auth, route.api_key));
    }
    if let Some(settings) = &api.cors {
        hasher.update(cors::fingerprint_line(settings));
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Adds the REST API to `state`: every path as a resource, every route as a method with its
/// Lambda proxy integration and invoke permission, the stage, and the invoke policy of
/// signed-in users on the authenticated role.
pub(super) fn desired(state: &mut DesiredState, target: &Target, api: &Api, tags: &BTreeMap<String, String>) {
    let rest_api = rest_api_address();
    let api_ref = reference(&rest_api);
    let spec = RestApiSpec { endpoint_type: "REGIONAL".into(), tags: tags.clone() };
    state.resources.push(DesiredResource::of(rest_api.clone(), &spec, Vec::new()));
    desired_paths(state, api);
    let mut routes = vec![rest_api.clone()];
    for route in &api.routes {
        let function = Address::new(ResourceKind::Function, &route.function);
        let address = Address::new(ResourceKind::ApiRoute, route.key());
        let mut depends_on = vec![rest_api.clone(), function.clone()];
        if route.path != "/" {
            depends_on.push(Address::new(ResourceKind::ApiResource, &route.path));
        }
        let spec = RouteSpec {
            authorization: if route.auth == Auth::Iam { "AWS_IAM" } else { "NONE" }.into(),
            api_key_required: route.api_key,
            integration_uri: target.regional_arn(
                "apigateway",
                &format!("lambda:path/2015-03-31/functions/{}/invocations", reference(&function)),
            ),
        };
        state.resources.push(DesiredResource::of(address.clone(), &spec, depends_on));
        let permission = PermissionSpec {
            function: reference(&function),
            source_arn: target.arn("execute-api", &format!("{api_ref}/*/{}", arn_route(route))),
        };
        let permission_address = Address::new(ResourceKind::LambdaPermission, route.key());
        state.resources.push(DesiredResource::of(permission_address, &permission, vec![function, rest_api.clone()]));
        routes.push(address);
    }
    let mut served: BTreeMap<String, String> = api
        .routes
        .iter()
        .map(|route| (route.key(), serving(if route.auth == Auth::Iam { "AWS_IAM" } else { "NONE" }, route.api_key)))
        .collect();
    if let Some(settings) = &api.cors {
        routes.extend(cors::desired(state, api, settings));
        served.extend(
            cors::preflight_paths(&api.routes)
                .into_iter()
                .map(|path| (format!("OPTIONS {path}"), serving("NONE", false))),
        );
    }
    let stage =
        StageSpec { routes_fingerprint: routes_fingerprint(api), served, deployment_id: None, tags: tags.clone() };
    state.resources.push(DesiredResource::of(Address::new(ResourceKind::ApiStage, &api.stage), &stage, routes));
    let invocable: Vec<String> = api
        .routes
        .iter()
        .filter(|r| r.auth == Auth::Iam)
        .map(|r| target.arn("execute-api", &format!("{api_ref}/{}/{}", api.stage, arn_route(r))))
        .collect();
    grant_invoke(state, invocable);
}

/// Adds every path of the API's routes as a resource under its parent.
fn desired_paths(state: &mut DesiredState, api: &Api) {
    for path in api_paths(&api.routes) {
        let (parent, part) = path.rsplit_once('/').unwrap_or_default();
        let mut depends_on = vec![rest_api_address()];
        if !parent.is_empty() {
            depends_on.push(Address::new(ResourceKind::ApiResource, parent));
        }
        let spec = ApiResourceSpec { path_part: part.to_string() };
        state.resources.push(DesiredResource::of(Address::new(ResourceKind::ApiResource, &path), &spec, depends_on));
    }
}

/// How a deployment serves one route, as [`StageSpec::served`] writes it.
pub(crate) fn serving(authorization: &str, api_key_required: bool) -> String {
    if api_key_required { format!("{authorization} + API key") } else { authorization.to_string() }
}

/// Every path of the routes and all their parents, sorted (parents first).
fn api_paths(routes: &[Route]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for route in routes {
        let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
        for depth in 1..=segments.len() {
            let path = format!("/{}", segments[..depth].join("/"));
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    paths.sort_unstable();
    paths
}

/// Lets the authenticated role invoke exactly the `invocable` method ARNs.
fn grant_invoke(state: &mut DesiredState, invocable: Vec<String>) {
    let authenticated = Address::new(ResourceKind::IamRole, "authenticated");
    let Some(role) = state.resources.iter_mut().find(|r| r.address == authenticated) else { return };
    if invocable.is_empty() {
        return;
    }
    let Ok(mut spec) = RoleSpec::from_attributes(&role.attributes) else { return };
    let statement = json!({ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": invocable });
    spec.policies.insert(INVOKE_POLICY.to_string(), document(vec![statement]));
    role.attributes = spec.to_attributes();
    role.depends_on.push(rest_api_address());
}

/// `METHOD/PATH` as execute-api ARNs write it: `*` for ANY and for path parameters, no leading `/`.
fn arn_route(route: &Route) -> String {
    let method = if route.method == "ANY" { "*" } else { route.method.as_str() };
    let path: Vec<&str> =
        route.path.trim_start_matches('/').split('/').map(|s| if s.starts_with('{') { "*" } else { s }).collect();
    format!("{method}/{}", path.join("/"))
}

/// The API Gateway side of the provider.
pub(super) struct RestApis {
    client: Client,
    stack: String,
    /// Where the APIs are, for their ARNs.
    target: Target,
    serial: Serial,
    calls: Calls,
}

/// Untags and tags the API Gateway resource at `path` (`/restapis/ID`, `/usageplans/ID`, …) as
/// `changes` say, removals first.
pub(super) async fn retag(
    client: &Client,
    calls: &Calls,
    target: &Target,
    path: &str,
    changes: &TagChanges,
) -> Result<(), ProviderError> {
    let arn = target.regional_arn("apigateway", &format!(":{path}"));
    let arn = arn.as_str();
    let untag = |keys: Vec<String>| async move {
        let send = || client.untag_resource().resource_arn(arn).set_tag_keys(Some(keys.clone())).send();
        calls.call("UntagResource", send).await.map(drop)
    };
    let tag = |tags: HashMap<String, String>| async move {
        let send = || client.tag_resource().resource_arn(arn).set_tags(Some(tags.clone())).send();
        calls.call("TagResource", send).await.map(drop)
    };
    changes.send(untag, tag).await
}

impl RestApis {
    /// The REST APIs of `stack` through `client`, at `target`; `serial` is held around the calls
    /// API Gateway allows only one at a time per account.
    pub(super) fn new(client: Client, stack: &str, target: &Target, serial: Serial, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), target: target.clone(), serial, calls }
    }

    /// The APIs named after the stack: id, tags and description of each.
    async fn candidates(&self) -> Result<Vec<(String, HashMap<String, String>, RestApi)>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "GetRestApis",
                |position| self.client.get_rest_apis().limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        Ok(listed
            .into_iter()
            .filter(|api| api.name() == Some(self.stack.as_str()))
            .filter_map(|api| Some((api.id.clone()?, api.tags.clone().unwrap_or_default(), api)))
            .collect())
    }

    /// Finds the stack's API, then its paths, routes and stages.
    pub(super) async fn discover(&self, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = rest_api_address();
        let Some((api_id, api, tags)) = claim(
            self.candidates()
                .await?
                .into_iter()
                .map(|(id, tags, api)| (id.clone(), tags.clone(), (id, api, user_tags(&tags))))
                .collect(),
            &self.stack,
            &address,
            live,
        )?
        else {
            return Ok(());
        };
        let endpoint = api
            .endpoint_configuration()
            .and_then(|e| e.types().first())
            .map(aws_sdk_apigateway::types::EndpointType::as_str)
            .unwrap_or_default();
        let spec = RestApiSpec { endpoint_type: endpoint.to_string(), tags };
        live.insert(LiveResource::of(address, api_id.clone(), &spec));
        self.discover_paths(&api_id, live).await?;
        self.discover_gateway_responses(&api_id, live).await?;
        self.discover_stages(&api_id, live).await
    }

    async fn discover_paths(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let resources = self
            .calls
            .all_pages(
                "GetResources",
                |position| {
                    self.client
                        .get_resources()
                        .rest_api_id(api_id)
                        .limit(500)
                        .embed("methods")
                        .set_position(position)
                        .send()
                },
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        for resource in resources {
            let path = resource.path().unwrap_or("/");
            let Some(resource_id) = resource.id() else { continue };
            if path != "/" {
                let spec = ApiResourceSpec { path_part: resource.path_part().unwrap_or_default().to_string() };
                live.insert(LiveResource::of(
                    Address::new(ResourceKind::ApiResource, path),
                    resource_id.to_string(),
                    &spec,
                ));
            }
            for (method, details) in resource.resource_methods().into_iter().flatten() {
                let details = match details.method_integration() {
                    Some(_) => details.clone(),
                    None => self.method(api_id, resource_id, method).await?,
                };
                if method == "OPTIONS" && cors::is_preflight(&details) {
                    cors::discover_preflight(live, path, resource_id, &details);
                    continue;
                }
                let spec = RouteSpec {
                    authorization: details.authorization_type().unwrap_or("NONE").to_string(),
                    api_key_required: details.api_key_required().unwrap_or(false),
                    integration_uri: details.method_integration().and_then(|i| i.uri()).unwrap_or_default().to_string(),
                };
                let address = Address::new(ResourceKind::ApiRoute, format!("{method} {path}"));
                live.insert(LiveResource::of(address, format!("{resource_id}/{method}"), &spec));
            }
        }
        Ok(())
    }

    /// A method's details, for listings that did not embed them.
    async fn method(&self, api_id: &str, resource_id: &str, method: &str) -> Result<Method, ProviderError> {
        let out = self
            .calls
            .call("GetMethod", || {
                self.client.get_method().rest_api_id(api_id).resource_id(resource_id).http_method(method).send()
            })
            .await?;
        Ok(Method::builder()
            .set_authorization_type(out.authorization_type().map(str::to_string))
            .set_api_key_required(out.api_key_required())
            .set_method_integration(out.method_integration().cloned())
            .set_method_responses(out.method_responses().cloned())
            .build())
    }

    async fn discover_stages(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let stages = self.calls.call("GetStages", || self.client.get_stages().rest_api_id(api_id).send()).await?;
        let methods = [ResourceKind::ApiRoute, ResourceKind::ApiPreflight];
        let routes: Vec<Address> = live.resources.keys().filter(|a| methods.contains(&a.kind)).cloned().collect();
        for stage in stages.item() {
            let Some(name) = stage.stage_name() else { continue };
            let deployment_id = stage.deployment_id().map(str::to_string);
            let deployment = match &deployment_id {
                Some(id) => found(
                    self.calls
                        .call("GetDeployment", || {
                            self.client
                                .get_deployment()
                                .rest_api_id(api_id)
                                .deployment_id(id)
                                .embed("apisummary")
                                .send()
                        })
                        .await,
                )?,
                None => None,
            };
            let description = deployment.as_ref().and_then(|d| d.description()).unwrap_or_default();
            let fingerprint = description.strip_prefix(FINGERPRINT_PREFIX).unwrap_or("(not deployed by authdemo)");
            let spec = StageSpec {
                routes_fingerprint: fingerprint.to_string(),
                served: deployment.as_ref().map(served_by).unwrap_or_default(),
                deployment_id,
                tags: user_tags(stage.tags().into_iter().flatten()),
            };
            // The stage serves the routes: it goes before them when the stack is torn down.
            let mut resource = LiveResource::of(Address::new(ResourceKind::ApiStage, name), name.to_string(), &spec);
            resource.depends_on.extend(routes.iter().cloned());
            live.insert(resource);
        }
        Ok(())
    }

    /// The id of the resource at `path` ("/" is the API's root).
    async fn resource_id(&self, cx: &StepContext<'_>, api_id: &str, path: &str) -> Result<String, ProviderError> {
        if path != "/" {
            return cx.id_of(&Address::new(ResourceKind::ApiResource, path)).map(str::to_string);
        }
        let resources = self
            .calls
            .call("GetResources", || self.client.get_resources().rest_api_id(api_id).limit(500).send())
            .await?;
        resources
            .items()
            .iter()
            .find(|r| r.path() == Some("/"))
            .and_then(|r| r.id())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::other("GetResources", format!("API {api_id} has no root resource")))
    }

    async fn put_integration(
        &self,
        api_id: &str,
        resource_id: &str,
        method: &str,
        uri: &str,
    ) -> Result<(), ProviderError> {
        self.calls
            .call("PutIntegration", || {
                self.client
                    .put_integration()
                    .rest_api_id(api_id)
                    .resource_id(resource_id)
                    .http_method(method)
                    .r#type(IntegrationType::AwsProxy)
                    .integration_http_method("POST")
                    .uri(uri)
                    .send()
            })
            .await?;
        Ok(())
    }

    async fn deploy(&self, api_id: &str, wanted: &StageSpec) -> Result<String, ProviderError> {
        let description = format!("{FINGERPRINT_PREFIX}{}", wanted.routes_fingerprint);
        let out = self
            .calls
            .call_alone("CreateDeployment", &self.serial, || {
                self.client.create_deployment().rest_api_id(api_id).description(&description).send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateDeployment", "deployment id"))
    }

    /// Deletes the deployments no stage uses (left by an interrupted run between the two calls
    /// of a stage's create).
    async fn delete_unused_deployments(&self, api_id: &str) -> Result<(), ProviderError> {
        let stages = self.calls.call("GetStages", || self.client.get_stages().rest_api_id(api_id).send()).await?;
        let used: Vec<&str> = stages.item().iter().filter_map(|s| s.deployment_id()).collect();
        let deployments = self
            .calls
            .all_pages(
                "GetDeployments",
                |position| self.client.get_deployments().rest_api_id(api_id).limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        for id in deployments.into_iter().filter_map(|d| d.id).filter(|id| !used.contains(&id.as_str())) {
            self.delete_deployment(api_id, &id).await?;
        }
        Ok(())
    }

    async fn delete_deployment(&self, api_id: &str, id: &str) -> Result<(), ProviderError> {
        let result = self
            .calls
            .call("DeleteDeployment", || self.client.delete_deployment().rest_api_id(api_id).deployment_id(id).send())
            .await;
        deleted(result)
    }
}

impl RestApis {
    /// Deletes the method `id` (`RESOURCE_ID/METHOD`, with its integration and responses); one
    /// already gone counts as deleted.
    async fn delete_method(&self, cx: &StepContext<'_>, id: &str) -> Result<(), ProviderError> {
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

impl Handler<RestApiSpec> for RestApis {
    /// Creates the API, tagged in the create call.
    async fn create(&self, cx: &StepContext<'_>, wanted: &RestApiSpec) -> Result<String, ProviderError> {
        let endpoint =
            EndpointConfiguration::builder().types(EndpointType::from(wanted.endpoint_type.as_str())).build();
        let out = self
            .calls
            .call("CreateRestApi", || {
                self.client
                    .create_rest_api()
                    .name(&self.stack)
                    .description(format!("authdemo stack {}", self.stack))
                    .endpoint_configuration(endpoint.clone())
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateRestApi", "API id"))
    }

    /// Retags the API (its endpoint type cannot change in place).
    async fn update(
        &self,
        _cx: &StepContext<'_>,
        id: &str,
        live: &RestApiSpec,
        wanted: &RestApiSpec,
    ) -> Result<(), ProviderError> {
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/restapis/{id}"), &changes).await
    }

    /// Deletes the API with everything in it.
    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &RestApiSpec) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteRestApi", || self.client.delete_rest_api().rest_api_id(id).send()).await)
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &RestApiSpec) -> Result<Option<String>, ProviderError> {
        Ok(owned_id(self.candidates().await?, &self.stack, cx.address))
    }
}

impl Handler<ApiResourceSpec> for RestApis {
    /// Creates a path under its parent.
    async fn create(&self, cx: &StepContext<'_>, wanted: &ApiResourceSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let parent = cx.address.name.rsplit_once('/').map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
        let parent_id = self.resource_id(cx, api_id, parent).await?;
        let out = self
            .calls
            .call("CreateResource", || {
                self.client
                    .create_resource()
                    .rest_api_id(api_id)
                    .parent_id(&parent_id)
                    .path_part(&wanted.path_part)
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateResource", "resource id"))
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &ApiResourceSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        deleted(
            self.calls
                .call("DeleteResource", || self.client.delete_resource().rest_api_id(api_id).resource_id(id).send())
                .await,
        )
    }
}

/// A method's address name `METHOD /PATH` and live id `RESOURCE_ID/METHOD`, split.
fn split_route(text: &str, separator: char) -> Result<(&str, &str), ProviderError> {
    text.split_once(separator).ok_or_else(|| ProviderError::other("route", format!("`{text}` is not a route")))
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
                    .api_key_required(wanted.api_key_required)
                    .send()
            })
            .await?;
        Ok(format!("{resource_id}/{method}"))
    }

    /// Puts the method's Lambda proxy integration.
    async fn finish(&self, cx: &StepContext<'_>, id: &str, wanted: &RouteSpec) -> Result<(), ProviderError> {
        let (resource_id, method) = split_route(id, '/')?;
        self.put_integration(cx.id_of(&rest_api_address())?, resource_id, method, &wanted.integration_uri).await
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
            self.put_integration(api_id, resource_id, method, &wanted.integration_uri).await?;
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
            && live.api_key_required().unwrap_or(false) == wanted.api_key_required;
        Ok(same.then(|| format!("{resource_id}/{method}")))
    }
}

impl Handler<StageSpec> for RestApis {
    /// Deploys the routes and creates the stage on that deployment.
    async fn create(&self, cx: &StepContext<'_>, wanted: &StageSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let deployment = self.deploy(api_id, wanted).await?;
        self.calls
            .call("CreateStage", || {
                self.client
                    .create_stage()
                    .rest_api_id(api_id)
                    .stage_name(&cx.address.name)
                    .deployment_id(&deployment)
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        Ok(cx.address.name.clone())
    }

    /// Deletes the deployments no stage uses.
    async fn finish(&self, cx: &StepContext<'_>, _id: &str, _wanted: &StageSpec) -> Result<(), ProviderError> {
        self.delete_unused_deployments(cx.id_of(&rest_api_address())?).await
    }

    /// Retags the stage, and when what it serves differs, redeploys: a new deployment, the
    /// stage moved to it, the old deployment deleted.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &StageSpec,
        wanted: &StageSpec,
    ) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/restapis/{api_id}/stages/{id}"), &changes).await?;
        if live.routes_fingerprint == wanted.routes_fingerprint && live.served == wanted.served {
            return Ok(());
        }
        let deployment = self.deploy(api_id, wanted).await?;
        self.calls
            .call("UpdateStage", || {
                self.client
                    .update_stage()
                    .rest_api_id(api_id)
                    .stage_name(id)
                    .patch_operations(replace("/deploymentId", &deployment))
                    .send()
            })
            .await?;
        match &live.deployment_id {
            Some(old) if !old.is_empty() => self.delete_deployment(api_id, old).await,
            _ => Ok(()),
        }
    }

    /// Deletes the stage, then its deployment.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, live: &StageSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        deleted(
            self.calls
                .call("DeleteStage", || self.client.delete_stage().rest_api_id(api_id).stage_name(id).send())
                .await,
        )?;
        match &live.deployment_id {
            Some(old) if !old.is_empty() => self.delete_deployment(api_id, old).await,
            _ => Ok(()),
        }
    }
}

/// What a deployment serves, from its API summary (path → method → settings).
fn served_by(
    deployment: &aws_sdk_apigateway::operation::get_deployment::GetDeploymentOutput,
) -> BTreeMap<String, String> {
    let mut served = BTreeMap::new();
    for (path, methods) in deployment.api_summary().into_iter().flatten() {
        for (method, snapshot) in methods {
            let authorization = snapshot.authorization_type().unwrap_or("NONE");
            served.insert(format!("{method} {path}"), serving(authorization, snapshot.api_key_required()));
        }
    }
    served
}

/// A patch operation replacing `path` with `value`.
pub(super) fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}
