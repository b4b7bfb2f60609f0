//! CORS on the REST API: each routed path's preflight (an OPTIONS method with a MOCK integration
//! whose integration response carries the CORS headers) and the gateway responses `DEFAULT_4XX`
//! and `DEFAULT_5XX` with the same origin (their kind is [`super::gateway_response`]'s), so that
//! the errors API Gateway answers itself (a missing API key, a throttled call) can be read by the
//! page.
//!
//! A header carries one origin. With one origin (or `*`) it is a static value. With several, the
//! preflight's integration response template echoes the request's `Origin` when it is listed
//! (with `Vary: Origin`), and the gateway responses, which cannot choose, carry `*`: their
//! bodies are AWS's error messages, readable by anyone with curl anyway.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_apigateway::types::{IntegrationType, Method};

use super::gateway_response::{GATEWAY_RESPONSES, GatewayResponseSpec};
use super::route::Integration;
use super::{RestApis, split_route};
use crate::error::{ProviderError, found};
use crate::live::{LiveResource, LiveState};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, DesiredResource, DesiredState, ResourceKind, rest_api_address};
use crate::spec;
use crate::stack::{Api, Cors, Route};

/// The headers a preflight's method response declares (so its integration response may set them).
const PREFLIGHT_HEADERS: &[&str] = &[
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Max-Age",
    "Vary",
];

/// The MOCK integration's request template: the status its response takes.
const MOCK_REQUEST: &str = r#"{"statusCode": 200}"#;

/// What `ANY` allows.
const ANY_METHODS: &[&str] = &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// How a preflight's method is open to every caller, as [`PreflightSpec::method`] writes it
/// after the integration type.
const OPEN: &str = "authorization NONE, no API key";

spec! {
    /// The CORS preflight of one path: `OPTIONS` answered by API Gateway itself.
    pub(in crate::provider) struct PreflightSpec for ApiPreflight {
        /// How the method is set up; anything else (changed by hand) is replaced.
        method: String => ForcesReplacement,
        /// The origins allowed, sorted (`*` alone for any).
        allow_origins: Vec<String>,
        /// `Access-Control-Allow-Headers`.
        allow_headers: String,
        /// `Access-Control-Allow-Methods`: the path's routes' methods and OPTIONS.
        allow_methods: String,
        /// `Access-Control-Max-Age`.
        max_age_s: Option<i64>,
    }
}

/// The paths that get a preflight: every routed path but those with an `OPTIONS` route of their
/// own (its function answers the preflights there).
pub(super) fn preflight_paths(routes: &[Route]) -> BTreeSet<&str> {
    let own: BTreeSet<&str> = routes.iter().filter(|r| r.method == "OPTIONS").map(|r| r.path.as_str()).collect();
    routes.iter().map(|r| r.path.as_str()).filter(|path| !own.contains(path)).collect()
}

/// What the stage's fingerprint adds for `cors`: the API serves its headers only once deployed.
pub(super) fn fingerprint_line(cors: &Cors) -> String {
    format!("cors {:?} {:?} {}\n", cors.origins, cors.headers, cors.max_age_s)
}

/// Adds the preflights and gateway responses of `api` under `cors` to `state`; returns their
/// addresses (the stage deploys them).
pub(super) fn desired(state: &mut DesiredState, api: &Api, cors: &Cors) -> Vec<Address> {
    let rest_api = rest_api_address();
    let allow_headers = cors.headers.join(",");
    let mut added = Vec::new();
    for path in preflight_paths(&api.routes) {
        let mut methods: BTreeSet<&str> = BTreeSet::from(["OPTIONS"]);
        for route in api.routes.iter().filter(|r| r.path == path) {
            if route.method == "ANY" {
                methods.extend(ANY_METHODS);
            } else {
                methods.insert(&route.method);
            }
        }
        let spec = PreflightSpec {
            method: format!("MOCK, {OPEN}"),
            allow_origins: cors.origins.clone(),
            allow_headers: allow_headers.clone(),
            allow_methods: methods.into_iter().collect::<Vec<_>>().join(","),
            max_age_s: Some(cors.max_age_s),
        };
        let mut depends_on = vec![rest_api.clone()];
        if path != "/" {
            depends_on.push(Address::new(ResourceKind::ApiResource, path));
        }
        let address = Address::new(ResourceKind::ApiPreflight, path);
        state.resources.push(DesiredResource::of(address.clone(), &spec, depends_on));
        added.push(address);
    }
    let allow_origin = match cors.origins.as_slice() {
        [one] => one.clone(),
        _ => "*".to_string(),
    };
    for response_type in GATEWAY_RESPONSES {
        let spec = GatewayResponseSpec { allow_origin: allow_origin.clone(), allow_headers: allow_headers.clone() };
        let address = Address::new(ResourceKind::ApiGatewayResponse, *response_type);
        state.resources.push(DesiredResource::of(address.clone(), &spec, vec![rest_api.clone()]));
        added.push(address);
    }
    added
}

/// `value` as a static mapping value: in single quotes.
pub(super) fn quoted(value: &str) -> String {
    format!("'{value}'")
}

/// A static mapping value without its quotes.
pub(super) fn unquoted(value: &str) -> &str {
    value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(value)
}

pub(super) fn header_key(prefix: &str, header: &str) -> String {
    format!("{prefix}.header.{header}")
}

/// The integration response template that echoes the request's `Origin` when it is one of
/// `origins` (several): a header mapping can only hold one static value.
fn echo_template(origins: &[String]) -> String {
    let listed: Vec<String> = origins.iter().map(|o| format!("$origin == \"{o}\"")).collect();
    format!(
        "#set($origin = $input.params(\"Origin\"))\n\
         #if($origin == \"\")#set($origin = $input.params(\"origin\"))#end\n\
         #if({})#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end\n",
        listed.join(" || ")
    )
}

/// The origins an [`echo_template`] lists; none if `template` is not one.
fn echoed_origins(template: &str) -> Vec<String> {
    let origins: Vec<String> = template
        .split("$origin == \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(origin, _)| origin.to_string()))
        .filter(|origin| !origin.is_empty())
        .collect();
    if echo_template(&origins) == template { origins } else { Vec::new() }
}

/// The preflight's integration response: its header mappings and, for several origins, the
/// template that echoes the allowed one.
fn integration_response(spec: &PreflightSpec) -> (HashMap<String, String>, Option<String>) {
    let header = |name| header_key("method.response", name);
    let mut parameters = HashMap::from([
        (header("Access-Control-Allow-Headers"), quoted(&spec.allow_headers)),
        (header("Access-Control-Allow-Methods"), quoted(&spec.allow_methods)),
    ]);
    if let Some(seconds) = spec.max_age_s {
        parameters.insert(header("Access-Control-Max-Age"), quoted(&seconds.to_string()));
    }
    match spec.allow_origins.as_slice() {
        [one] => {
            parameters.insert(header("Access-Control-Allow-Origin"), quoted(one));
            (parameters, None)
        }
        several => {
            parameters.insert(header("Vary"), quoted("Origin"));
            (parameters, Some(echo_template(several)))
        }
    }
}

/// A live OPTIONS method read as a preflight.
fn read_preflight(method: &Method) -> PreflightSpec {
    let integration = method.method_integration();
    let declared = method
        .method_responses()
        .and_then(|responses| responses.get("200"))
        .and_then(|response| response.response_parameters())
        .is_some_and(|declared| {
            PREFLIGHT_HEADERS.iter().all(|h| declared.contains_key(&header_key("method.response", h)))
        });
    let mock_request = integration
        .and_then(|i| i.request_templates())
        .and_then(|templates| templates.get("application/json"))
        .is_some_and(|template| template == MOCK_REQUEST);
    let setup = format!(
        "{}, authorization {}, {}{}{}",
        integration.and_then(|i| i.r#type()).map_or("no integration", IntegrationType::as_str),
        method.authorization_type().unwrap_or("NONE"),
        if method.api_key_required().unwrap_or(false) { "API key required" } else { "no API key" },
        if declared { "" } else { ", CORS headers not declared" },
        if mock_request || integration.is_none() { "" } else { ", another request template" },
    );
    let response = integration.and_then(|i| i.integration_responses()).and_then(|responses| responses.get("200"));
    let parameters = response.and_then(|r| r.response_parameters()).cloned().unwrap_or_default();
    let mapped = |name| parameters.get(&header_key("method.response", name)).map(|v| unquoted(v).to_string());
    let allow_origins = match mapped("Access-Control-Allow-Origin") {
        Some(origin) => vec![origin],
        None => response
            .and_then(|r| r.response_templates())
            .and_then(|templates| templates.get("application/json"))
            .map(|template| echoed_origins(template))
            .unwrap_or_default(),
    };
    PreflightSpec {
        method: setup,
        allow_origins,
        allow_headers: mapped("Access-Control-Allow-Headers").unwrap_or_default(),
        allow_methods: mapped("Access-Control-Allow-Methods").unwrap_or_default(),
        max_age_s: mapped("Access-Control-Max-Age").and_then(|v| v.parse().ok()),
    }
}

/// Whether the OPTIONS method `method` is a preflight rather than a route (a Lambda proxy).
pub(super) fn is_preflight(method: &Method) -> bool {
    method.method_integration().and_then(|i| i.r#type()) != Some(&IntegrationType::AwsProxy)
}

/// Records the preflight `method` of `path` (resource `resource_id`) in `live`.
pub(super) fn discover_preflight(live: &mut LiveState, path: &str, resource_id: &str, method: &Method) {
    let address = Address::new(ResourceKind::ApiPreflight, path);
    live.insert(LiveResource::of(address, format!("{resource_id}/OPTIONS"), &read_preflight(method)));
}

impl RestApis {
    async fn put_preflight_integration(
        &self,
        api_id: &str,
        resource_id: &str,
        wanted: &PreflightSpec,
    ) -> Result<(), ProviderError> {
        let (parameters, template) = integration_response(wanted);
        self.calls
            .call("PutIntegrationResponse", || {
                self.client
                    .put_integration_response()
                    .rest_api_id(api_id)
                    .resource_id(resource_id)
                    .http_method("OPTIONS")
                    .status_code("200")
                    .set_response_parameters(Some(parameters.clone()))
                    .set_response_templates(
                        template.clone().map(|t| HashMap::from([("application/json".to_string(), t)])),
                    )
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Kind for PreflightSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetMethod", "apigateway:GET", On::Apis, Sent::Reading),
        needs("PutMethod", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("PutMethodResponse", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("PutIntegration", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("PutIntegrationResponse", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("DeleteMethod", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl super::Handler<PreflightSpec> for RestApis {
    /// Creates the OPTIONS method, open to anyone, and its 200 response declaring the CORS
    /// headers; the id is `RESOURCE_ID/OPTIONS`.
    async fn create(&self, cx: &super::StepContext<'_>, _wanted: &PreflightSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let resource_id = self.resource_id(cx, api_id, &cx.address.name).await?;
        self.calls
            .call("PutMethod", || {
                self.client
                    .put_method()
                    .rest_api_id(api_id)
                    .resource_id(&resource_id)
                    .http_method("OPTIONS")
                    .authorization_type("NONE")
                    .api_key_required(false)
                    .send()
            })
            .await?;
        let declared: HashMap<String, bool> =
            PREFLIGHT_HEADERS.iter().map(|h| (header_key("method.response", h), false)).collect();
        self.calls
            .call("PutMethodResponse", || {
                self.client
                    .put_method_response()
                    .rest_api_id(api_id)
                    .resource_id(&resource_id)
                    .http_method("OPTIONS")
                    .status_code("200")
                    .set_response_parameters(Some(declared.clone()))
                    .send()
            })
            .await?;
        Ok(format!("{resource_id}/OPTIONS"))
    }

    /// Puts the MOCK integration and its response with the headers (both calls replace).
    async fn finish(&self, cx: &super::StepContext<'_>, id: &str, wanted: &PreflightSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let (resource_id, _) = split_route(id, '/')?;
        let integration = Integration::Mock { request_template: MOCK_REQUEST };
        self.put_integration(api_id, resource_id, "OPTIONS", integration).await?;
        self.put_preflight_integration(api_id, resource_id, wanted).await
    }

    /// Puts the integration response with the new headers.
    async fn update(
        &self,
        cx: &super::StepContext<'_>,
        id: &str,
        _live: &PreflightSpec,
        wanted: &PreflightSpec,
    ) -> Result<(), ProviderError> {
        let (resource_id, _) = split_route(id, '/')?;
        self.put_preflight_integration(cx.id_of(&rest_api_address())?, resource_id, wanted).await
    }

    /// Deletes the OPTIONS method (with its integration and responses).
    async fn delete(&self, cx: &super::StepContext<'_>, id: &str, _live: &PreflightSpec) -> Result<(), ProviderError> {
        self.delete_method(cx, id).await
    }

    /// A repeated create finds the method there when it is open and declares the headers (the
    /// integration is put by `finish`).
    async fn find(
        &self,
        cx: &super::StepContext<'_>,
        _wanted: &PreflightSpec,
    ) -> Result<Option<String>, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let resource_id = self.resource_id(cx, api_id, &cx.address.name).await?;
        let Some(live) = found(self.method(api_id, &resource_id, "OPTIONS").await)? else { return Ok(None) };
        let created = read_preflight(&live).method == format!("no integration, {OPEN}");
        Ok(created.then(|| format!("{resource_id}/OPTIONS")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Spec;

    fn route(method: &str, path: &str) -> Route {
        Route {
            method: method.into(),
            path: path.into(),
            function: "api".into(),
            auth: crate::stack::Auth::None,
            api_key: false,
            scopes: Vec::new(),
            groups: Vec::new(),
        }
    }

    #[test]
    fn each_routed_path_allows_its_methods_and_one_with_its_own_options_route_is_left_alone() {
        let api = Api {
            stage: "v1".into(),
            routes: vec![
                route("GET", "/a"),
                route("POST", "/a"),
                route("ANY", "/b"),
                route("OPTIONS", "/c"),
                route("GET", "/c"),
            ],
            cors: None,
        };
        let cors = Cors { origins: vec!["*".into()], headers: vec!["Content-Type".into()], max_age_s: 5 };
        let mut state = DesiredState {
            stack: "s".into(),
            resources: Vec::new(),
            secrets: std::collections::BTreeMap::new(),
            unset_secrets: std::collections::BTreeMap::new(),
            sensitive: std::collections::BTreeMap::new(),
            hidden_maps: std::collections::BTreeSet::new(),
            artifacts: std::collections::BTreeMap::new(),
        };
        let added = desired(&mut state, &api, &cors);
        let names: Vec<String> = added.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "api_preflight./a",
                "api_preflight./b",
                "api_gateway_response.DEFAULT_4XX",
                "api_gateway_response.DEFAULT_5XX"
            ]
        );
        let methods = |i: usize| PreflightSpec::from_attributes(&state.resources[i].attributes).unwrap().allow_methods;
        assert_eq!(methods(0), "GET,OPTIONS,POST");
        assert_eq!(methods(1), "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT");
        let error = GatewayResponseSpec::from_attributes(&state.resources[2].attributes).unwrap();
        assert_eq!(error.allow_origin, "*");
    }

    #[test]
    fn an_echo_template_reads_back_its_origins_and_nothing_else() {
        let origins = vec!["http://localhost:3000".to_string(), "https://app.example.com".to_string()];
        let template = echo_template(&origins);
        assert_eq!(echoed_origins(&template), origins);
        assert!(echoed_origins(&template.replace("#end\n", "#end\n#set($x = 1)\n")).is_empty());
    }

    #[test]
    fn one_origin_is_a_static_header_and_several_are_echoed() {
        let mut spec = PreflightSpec {
            method: format!("MOCK, {OPEN}"),
            allow_origins: vec!["http://localhost:3000".into()],
            allow_headers: "Content-Type".into(),
            allow_methods: "GET,OPTIONS".into(),
            max_age_s: Some(600),
        };
        let (parameters, template) = integration_response(&spec);
        assert_eq!(parameters["method.response.header.Access-Control-Allow-Origin"], "'http://localhost:3000'");
        assert_eq!(parameters["method.response.header.Access-Control-Max-Age"], "'600'");
        assert_eq!(template, None);
        spec.allow_origins.push("https://app.example.com".into());
        let (parameters, template) = integration_response(&spec);
        assert!(!parameters.contains_key("method.response.header.Access-Control-Allow-Origin"));
        assert_eq!(parameters["method.response.header.Vary"], "'Origin'");
        assert!(template.unwrap().contains("$origin == \"https://app.example.com\""));
    }
}
