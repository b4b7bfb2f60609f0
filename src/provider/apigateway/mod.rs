//! API Gateway REST APIs: the API (found by name, owned by tags), its paths, methods with Lambda
//! proxy integrations, CORS ([`cors`]), and the stage whose deployment carries the route table's
//! fingerprint. One file per kind: [`rest_api`], [`path`], [`route`], [`stage`], [`cors`] (the
//! preflights) and [`gateway_response`]; this one derives their desired state and discovers them.

mod authorizer;
mod budget;
mod cors;
mod gateway_response;
mod path;
mod rest_api;
mod route;
mod stage;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{Op, PatchOperation};
use serde_json::json;

use super::Serial;
use super::call::Calls;
use super::handler::{Handler, StepContext};
use super::iam::RoleSpec;
use super::lambda::{FunctionSpec, PermissionSpec};
use super::ownership::{claim, send_tags};
use crate::error::ProviderError;
use crate::live::{LiveResource, LiveState};
use crate::resource::policy_document::document;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{
    Address, DesiredResource, DesiredState, INVOKE_POLICY, ResourceKind, Spec, Target, function_name, permission_sid,
    reference, rest_api_address,
};
use crate::stack::{Api, Auth, Route};

pub(crate) use authorizer::{AuthorizerSpec, authorization_type};
pub(crate) use budget::check as check_budgets;
pub(super) use cors::PreflightSpec;
pub(super) use gateway_response::GatewayResponseSpec;
pub(super) use path::ApiResourceSpec;
use path::desired_paths;
pub(super) use rest_api::RestApiSpec;
pub(crate) use route::RouteSpec;
use route::arn_route;
pub(crate) use stage::StageSpec;
pub(crate) use stage::serving;
use stage::{routes_fingerprint, stages_serve_routes};

/// Adds the REST API to `state`: every path as a resource, every route as a method with its
/// Lambda proxy integration and invoke permission, the stage, and the invoke policy of
/// signed-in users on the authenticated role.
pub(super) fn desired(state: &mut DesiredState, target: &Target, api: &Api, tags: &BTreeMap<String, String>) {
    let rest_api = rest_api_address();
    let spec = RestApiSpec { endpoint_type: "REGIONAL".into(), tags: tags.clone() };
    state.resources.push(DesiredResource::of(rest_api.clone(), &spec, Vec::new()));
    desired_paths(state, api);
    let authorizer = authorizer::desired(state, target, api);
    let mut routes = vec![rest_api.clone()];
    for route in &api.routes {
        let function = FunctionSpec::address(&route.function);
        let address = Address::new(ResourceKind::ApiRoute, route.key());
        let mut depends_on = vec![rest_api.clone(), function.clone()];
        if route.path != "/" {
            depends_on.push(ApiResourceSpec::address(&route.path));
        }
        let cognito = authorizer.as_ref().filter(|_| route.auth == Auth::Cognito);
        depends_on.extend(cognito.cloned());
        let spec = RouteSpec {
            authorization: authorization_type(route.auth).into(),
            authorizer: cognito.map(reference),
            scopes: route.scopes.iter().cloned().collect(),
            api_key_required: route.api_key,
            integration_uri: target.regional_arn(
                "apigateway",
                &format!("lambda:path/2015-03-31/functions/{}/invocations", reference(&function)),
            ),
        };
        state.resources.push(DesiredResource::of(address.clone(), &spec, depends_on));
        routes.push(address);
    }
    permissions(state, target, api);
    let mut served: BTreeMap<String, String> =
        api.routes.iter().map(|route| (route.key(), serving(authorization_type(route.auth), route.api_key))).collect();
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
    state.resources.push(DesiredResource::of(StageSpec::address(&api.stage), &stage, routes));
    grant_invoke(state, target, api);
}

/// API Gateway's permissions to invoke each routed function: one statement per route (scoped
/// to the API and the route, any stage), or, when those would come near the function's
/// resource-policy limit, one per function (scoped to the API and its stage).
fn permissions(state: &mut DesiredState, target: &Target, api: &Api) {
    let rest_api = rest_api_address();
    let api_ref = reference(&rest_api);
    let mut by_function: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for route in &api.routes {
        let source_arn = target.arn("execute-api", &format!("{api_ref}/*/{}", arn_route(route)));
        by_function.entry(&route.function).or_default().push((route.key(), source_arn));
    }
    for (name, routes) in by_function {
        let function = FunctionSpec::address(name);
        let arn = target.arn("lambda", &format!("function:{}", function_name(&state.stack, name)));
        let sids: Vec<(String, String)> = routes.iter().map(|(key, arn)| (permission_sid(key), arn.clone())).collect();
        let statements = if budget::consolidate_permissions(&arn, &sids, target) {
            vec![(name.to_string(), target.arn("execute-api", &format!("{api_ref}/{}/*/*", api.stage)))]
        } else {
            routes
        };
        for (key, source_arn) in statements {
            let permission = PermissionSpec { function: reference(&function), source_arn };
            let address = Address::new(ResourceKind::LambdaPermission, key);
            state.resources.push(DesiredResource::of(address, &permission, vec![function.clone(), rest_api.clone()]));
        }
    }
}

/// Lets each role of signed-in users invoke exactly the methods of the `auth: iam` routes its
/// callers may call: the authenticated role those without `groups`, a group's role those and
/// the routes naming its group (see `provider::group_roles`).
fn grant_invoke(state: &mut DesiredState, target: &Target, api: &Api) {
    let everyone = |route: &Route| route.auth == Auth::Iam && route.groups.is_empty();
    grant_role(state, target, api, &RoleSpec::address("authenticated"), &everyone);
    let groups: BTreeSet<&String> = api.routes.iter().filter(|r| r.auth == Auth::Iam).flat_map(|r| &r.groups).collect();
    for group in groups {
        let member = |route: &Route| everyone(route) || (route.auth == Auth::Iam && route.groups.contains(group));
        grant_role(state, target, api, &super::group_roles::group_role(group), &member);
    }
}

/// Lets `role` invoke exactly the methods of the routes `allowed` takes: their ARNs, or
/// wildcards matching exactly those routes when the ARNs would not fit the role.
fn grant_role(state: &mut DesiredState, target: &Target, api: &Api, role: &Address, allowed: &dyn Fn(&Route) -> bool) {
    let Some(role) = state.resources.iter_mut().find(|r| r.address == *role) else { return };
    let (iam, others): (Vec<_>, Vec<_>) = api.routes.iter().partition(|r| allowed(r));
    if iam.is_empty() {
        return;
    }
    let Ok(mut spec) = RoleSpec::from_attributes(&role.attributes) else { return };
    let iam: Vec<String> = iam.into_iter().map(arn_route).collect();
    let mut others: Vec<String> = others.into_iter().map(arn_route).collect();
    if api.cors.is_some() {
        others.extend(
            cors::preflight_paths(&api.routes).into_iter().map(|p| format!("OPTIONS/{}", p.trim_start_matches('/'))),
        );
    }
    let statement = |resources: &[String]| {
        document(vec![json!({ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resources })])
    };
    spec.policies.remove(INVOKE_POLICY);
    let room = budget::ROLE_POLICIES_LIMIT.saturating_sub(budget::role_size(&spec, target));
    let prefix = target.arn("execute-api", &format!("{}/{}/", reference(&rest_api_address()), api.stage));
    let fits = |resources: &[String]| budget::aws_length(&statement(resources), target) <= room;
    let invocable = budget::invoke_resources(&prefix, &iam, &others, fits);
    spec.policies.insert(INVOKE_POLICY.to_string(), statement(&invocable));
    role.attributes = spec.to_attributes();
    role.depends_on.push(rest_api_address());
}

/// The API Gateway side of the provider. A stack has one REST API, and its `calls` send the
/// changes to it one at a time (see [`Calls::changes_one_at_a_time`]).
pub(super) struct RestApis {
    client: Client,
    stack: String,
    /// Where the APIs are, for their ARNs.
    target: Target,
    serial: Serial,
    calls: Calls,
    /// What this run already knows of its APIs, so that it need not read it back.
    known: Mutex<Known>,
}

/// What a run learnt of its APIs from its own answers.
#[derive(Default)]
struct Known {
    /// The root resource id of each API, by API id (from its creation or discovery).
    roots: BTreeMap<String, String>,
    /// The APIs this run created: they hold nothing the run did not make.
    created: BTreeSet<String>,
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
    let untag = |keys| client.untag_resource().resource_arn(&arn).set_tag_keys(Some(keys)).send();
    let tag = |tags| client.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send();
    send_tags(calls, changes, ("UntagResource", untag), ("TagResource", tag)).await
}

impl RestApis {
    /// The REST APIs of `stack` through `client`, at `target`; `serial` is held around the calls
    /// API Gateway allows only one at a time per account.
    pub(super) fn new(client: Client, stack: &str, target: &Target, serial: Serial, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), target: target.clone(), serial, calls, known: Mutex::default() }
    }

    /// Notes the root resource id of API `api_id`, and whether this run created the API.
    fn learn(&self, api_id: &str, root_id: &str, created: bool) {
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.roots.insert(api_id.to_string(), root_id.to_string());
        if created {
            known.created.insert(api_id.to_string());
        }
    }

    /// What this run knows of API `api_id`: its root resource id, and whether the run created it.
    fn known(&self, api_id: &str) -> (Option<String>, bool) {
        let known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (known.roots.get(api_id).cloned(), known.created.contains(api_id))
    }

    /// Finds the stack's API, then reads its authorizers, paths and routes, gateway responses
    /// and stages at once.
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
        let mut parts: [LiveState; 4] = std::array::from_fn(|_| LiveState::adopting(&live.adoptable));
        let [authorizers, paths, responses, stages] = &mut parts;
        tokio::try_join!(
            self.discover_authorizers(&api_id, authorizers),
            self.discover_paths(&api_id, paths),
            self.discover_gateway_responses(&api_id, responses),
            self.discover_stages(&api_id, stages),
        )?;
        for part in parts {
            live.merge(part);
        }
        stages_serve_routes(live);
        Ok(())
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
            if path == "/" {
                self.learn(api_id, resource_id, false);
            } else {
                let spec = ApiResourceSpec { path_part: resource.path_part().unwrap_or_default().to_string() };
                live.insert(LiveResource::of(ApiResourceSpec::address(path), resource_id.to_string(), &spec));
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
                    authorizer: details.authorizer_id().filter(|id| !id.is_empty()).map(str::to_string),
                    scopes: details.authorization_scopes().iter().cloned().collect(),
                    api_key_required: details.api_key_required().unwrap_or(false),
                    integration_uri: details.method_integration().and_then(|i| i.uri()).unwrap_or_default().to_string(),
                };
                let address = Address::new(ResourceKind::ApiRoute, format!("{method} {path}"));
                live.insert(LiveResource::of(address, format!("{resource_id}/{method}"), &spec));
            }
        }
        Ok(())
    }
}

/// A method's address name `METHOD /PATH` and live id `RESOURCE_ID/METHOD`, split.
fn split_route(text: &str, separator: char) -> Result<(&str, &str), ProviderError> {
    text.split_once(separator).ok_or_else(|| ProviderError::other("route", format!("`{text}` is not a route")))
}

/// A patch operation replacing `path` with `value`.
pub(super) fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}
