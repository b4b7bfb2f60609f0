//! What a web client needs from a provisioned stack, read from the live state: ids, URLs and
//! (only on request) API key values; rendered as JSON, `KEY=value` lines, or an Amplify config.

mod amplify;

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) use self::amplify::AmplifyVersion;
use crate::live::LiveState;
use crate::plan::FORMAT_VERSION;
use crate::provider::{
    ApiKeySpec, ClientEndpoints, ClientSpec, FunctionSpec, IdentityPoolSpec, StageSpec, UserPoolSpec,
};
use crate::resource::{Address, ResourceKind, Spec, Target, function_name};
use crate::stack::Stack;

/// An API key: its id, and its value when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ApiKeyOutput {
    /// The key's id.
    pub id: String,
    /// The key's value (only with `--show-sensitive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// What a browser needs of an app client to sign in through the hosted UI, as AWS has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientSettings {
    /// Where the hosted UI may send the browser after sign-in.
    pub callback_urls: Vec<String>,
    /// Where the hosted UI may send the browser after sign-out.
    pub logout_urls: Vec<String>,
    /// OAuth grant types (`code`, `implicit`, `client_credentials`).
    pub oauth_flows: Vec<String>,
    /// OAuth scopes.
    pub oauth_scopes: Vec<String>,
}

impl ClientSettings {
    fn of(client: ClientSpec) -> Self {
        Self {
            callback_urls: client.callback_urls,
            logout_urls: client.logout_urls,
            oauth_flows: client.oauth_flows.into_iter().collect(),
            oauth_scopes: client.oauth_scopes.into_iter().collect(),
        }
    }
}

/// The stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Outputs {
    /// The JSON format's version.
    pub format_version: u32,
    /// The stack name.
    pub stack: String,
    /// The AWS region.
    pub region: String,
    /// The user pool's id.
    pub user_pool_id: Option<String>,
    /// App client name → client id.
    pub user_pool_clients: BTreeMap<String, String>,
    /// The hosted UI's base URL.
    pub hosted_ui_url: Option<String>,
    /// The identity pool's id.
    pub identity_pool_id: Option<String>,
    /// The API's invoke URL (with the stage).
    pub api_url: Option<String>,
    /// API key name → id (and value).
    pub api_keys: BTreeMap<String, ApiKeyOutput>,
    /// Function name in the file → Lambda function name.
    pub functions: BTreeMap<String, String>,
    /// What users sign in with (`username`, `email`, `phone_number`); not in the JSON.
    #[serde(skip)]
    pub sign_in: Vec<String>,
    /// App client name → its hosted-UI settings; not in the JSON.
    #[serde(skip)]
    pub client_settings: BTreeMap<String, ClientSettings>,
    /// Whether the identity pool gives guests credentials; not in the JSON.
    #[serde(skip)]
    pub allow_guest_access: Option<bool>,
    /// The endpoint that overrides Cognito user pools', if any; not in the JSON.
    #[serde(skip)]
    pub user_pool_endpoint: Option<String>,
    /// The endpoint that overrides Cognito identity pools', if any; not in the JSON.
    #[serde(skip)]
    pub identity_pool_endpoint: Option<String>,
}

impl Outputs {
    /// Collects the outputs of `stack` from `live`; the API's URL goes through
    /// the execute-api endpoint of `endpoints` when one overrides AWS's (see [`invoke_url`]),
    /// and a web client is told the Cognito endpoints that override AWS's.
    pub(crate) fn collect(stack: &Stack, live: &LiveState, endpoints: &ClientEndpoints) -> Self {
        let id = |kind: ResourceKind, name: &str| live.resources.get(&Address::new(kind, name)).map(|r| r.id.clone());
        let named = |kind: ResourceKind| {
            live.resources
                .values()
                .filter(move |r| r.address.kind == kind)
                .map(|r| (r.address.name.clone(), r.id.clone()))
        };
        let region = live.target.region.clone();
        let stage = live.resources.keys().find(|a| a.kind == StageSpec::KIND).map(|a| a.name.clone());
        let api_url = id(ResourceKind::RestApi, "main")
            .zip(stage)
            .map(|(api, stage)| invoke_url(&live.target, &api, &stage, endpoints.execute_api.as_deref()));
        let hosted_ui_url = id(ResourceKind::UserPoolDomain, "main")
            .map(|domain| hosted_ui_url(&domain, &live.target, endpoints.user_pool.as_deref()));
        let sign_in = live.each::<UserPoolSpec>().map(|(_, pool)| pool.sign_in).next();
        let allow_guest_access = live.each::<IdentityPoolSpec>().map(|(_, pool)| pool.allow_unauthenticated).next();
        Self {
            format_version: FORMAT_VERSION,
            stack: stack.name.clone(),
            region: region.clone(),
            user_pool_id: id(ResourceKind::UserPool, "main"),
            user_pool_clients: named(ClientSpec::KIND).collect(),
            hosted_ui_url,
            identity_pool_id: id(ResourceKind::IdentityPool, "main"),
            api_url,
            api_keys: named(ApiKeySpec::KIND).map(|(name, id)| (name, ApiKeyOutput { id, value: None })).collect(),
            functions: named(FunctionSpec::KIND)
                .map(|(name, _)| (name.clone(), function_name(&stack.name, &name)))
                .collect(),
            sign_in: sign_in.unwrap_or_default(),
            client_settings: live
                .each::<ClientSpec>()
                .map(|(client, spec)| (client.address.name.clone(), ClientSettings::of(spec)))
                .collect(),
            allow_guest_access,
            user_pool_endpoint: endpoints.user_pool.clone(),
            identity_pool_endpoint: endpoints.identity_pool.clone(),
        }
    }

    /// Whether nothing of the stack exists.
    pub(crate) fn is_empty(&self) -> bool {
        self.user_pool_id.is_none()
            && self.identity_pool_id.is_none()
            && self.api_url.is_none()
            && self.functions.is_empty()
            && self.api_keys.is_empty()
    }

    /// Pretty JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("outputs are plain data")
    }

    /// `AUTHDEMO_…=value` lines for shells and `.env` files, each name after `prefix` (e.g.
    /// `VITE_`, so that the bundler hands the values to the web app).
    pub(crate) fn to_env(&self, prefix: &str) -> String {
        let mut lines = vec![("REGION".to_string(), self.region.clone())];
        let mut add = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                lines.push((key.to_string(), value.clone()));
            }
        };
        add("USER_POOL_ID", &self.user_pool_id);
        add("HOSTED_UI_URL", &self.hosted_ui_url);
        add("IDENTITY_POOL_ID", &self.identity_pool_id);
        add("API_URL", &self.api_url);
        for (name, id) in &self.user_pool_clients {
            lines.push((format!("USER_POOL_CLIENT_ID_{}", env_name(name)), id.clone()));
        }
        for (name, key) in &self.api_keys {
            lines.push((format!("API_KEY_ID_{}", env_name(name)), key.id.clone()));
            if let Some(value) = &key.value {
                lines.push((format!("API_KEY_{}", env_name(name)), value.clone()));
            }
        }
        for (name, function) in &self.functions {
            lines.push((format!("FUNCTION_{}", env_name(name)), function.clone()));
        }
        lines.iter().map(|(key, value)| format!("{prefix}AUTHDEMO_{key}={value}\n")).collect()
    }
}

/// The base URL of a deployed stage, which a route's path follows: on AWS
/// `https://<api_id>.execute-api.<region>.<partition's DNS suffix>/<stage>`; through an endpoint
/// override of execute-api (see [`crate::provider::ClientEndpoints`]),
/// `<endpoint>/restapis/<api_id>/<stage>/_user_request_`, LocalStack's path-based scheme, so that
/// a client configured from `authdemo output` calls the same endpoint as authdemo does.
pub(crate) fn invoke_url(target: &Target, api_id: &str, stage: &str, endpoint: Option<&str>) -> String {
    match endpoint {
        Some(endpoint) => format!("{}/restapis/{api_id}/{stage}/_user_request_", endpoint.trim_end_matches('/')),
        None => format!("https://{api_id}.{}/{stage}", target.host("execute-api")),
    }
}

/// The base URL of a prefix domain's hosted UI, which `/oauth2/authorize` and the other
/// endpoints follow: `https://<host>` on AWS (see [`hosted_ui_host`]); through an endpoint override
/// of cognito-idp, `<endpoint>/_hosted_ui_/<host>`, path-based like [`invoke_url`], so that a web
/// client configured from `authdemo output` and `verify` reach the same endpoint as authdemo does.
pub(crate) fn hosted_ui_url(prefix: &str, target: &Target, endpoint: Option<&str>) -> String {
    let host = hosted_ui_host(prefix, target);
    match endpoint {
        Some(endpoint) => format!("{}/_hosted_ui_/{host}", endpoint.trim_end_matches('/')),
        None => format!("https://{host}"),
    }
}

/// The hosted UI's host for a prefix domain in the target's region: `auth-fips` in GovCloud, and
/// China's own domain there.
pub(crate) fn hosted_ui_host(prefix: &str, target: &Target) -> String {
    let (label, suffix) = match target.partition.as_str() {
        "aws-us-gov" => ("auth-fips", "amazoncognito.com"),
        "aws-cn" => ("auth", "amazoncognito.com.cn"),
        _ => ("auth", "amazoncognito.com"),
    };
    format!("{prefix}.{label}.{}.{suffix}", target.region)
}

fn env_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::live::LiveResource;
    use crate::resource::{Address, Target};
    use crate::stack::{LoadOptions, parse};

    #[test]
    fn the_invoke_url_is_on_the_partitions_domain() {
        let stack =
            parse(Path::new("s.yaml"), "stack: demo\n", &LoadOptions { var_overrides: &[], env: &|_| None }).unwrap();
        let target = Target { partition: "aws-cn".into(), region: "cn-north-1".into(), account: "1".into() };
        let mut live = LiveState { target, ..LiveState::default() };
        for (kind, name, id) in
            [(ResourceKind::RestApi, "main", "abc123"), (ResourceKind::ApiStage, "latest", "latest")]
        {
            let address = Address::new(kind, name);
            live.insert(LiveResource {
                address,
                id: id.into(),
                attributes: crate::resource::Attributes::new(),
                depends_on: Vec::new(),
                holds: None,
                notes: Vec::new(),
            });
        }
        let outputs = Outputs::collect(&stack, &live, &ClientEndpoints::default());
        assert_eq!(outputs.api_url.as_deref(), Some("https://abc123.execute-api.cn-north-1.amazonaws.com.cn/latest"));
        let overridden =
            ClientEndpoints { execute_api: Some("http://127.0.0.1:4566/".into()), ..ClientEndpoints::default() };
        let emulated = Outputs::collect(&stack, &live, &overridden);
        assert_eq!(emulated.api_url.as_deref(), Some("http://127.0.0.1:4566/restapis/abc123/latest/_user_request_"));
    }

    #[test]
    fn the_hosted_ui_is_on_the_partitions_domain() {
        let target = |partition: &str, region: &str| Target {
            partition: partition.into(),
            region: region.into(),
            account: "1".into(),
        };
        assert_eq!(hosted_ui_host("app", &target("aws", "eu-west-1")), "app.auth.eu-west-1.amazoncognito.com");
        assert_eq!(hosted_ui_host("app", &target("aws-cn", "cn-north-1")), "app.auth.cn-north-1.amazoncognito.com.cn");
        assert_eq!(
            hosted_ui_host("app", &target("aws-us-gov", "us-gov-west-1")),
            "app.auth-fips.us-gov-west-1.amazoncognito.com"
        );
    }

    #[test]
    fn the_hosted_ui_goes_through_the_cognito_endpoint_override_path_based() {
        let target = Target { partition: "aws".into(), region: "us-west-2".into(), account: "1".into() };
        assert_eq!(hosted_ui_url("app", &target, None), "https://app.auth.us-west-2.amazoncognito.com");
        assert_eq!(
            hosted_ui_url("app", &target, Some("http://127.0.0.1:4566/")),
            "http://127.0.0.1:4566/_hosted_ui_/app.auth.us-west-2.amazoncognito.com"
        );
    }

    #[test]
    fn env_lines_carry_the_prefix_before_every_name() {
        let stack =
            parse(Path::new("s.yaml"), "stack: demo\n", &LoadOptions { var_overrides: &[], env: &|_| None }).unwrap();
        let mut outputs = Outputs::collect(&stack, &LiveState::default(), &ClientEndpoints::default());
        outputs.user_pool_id = Some("pool".into());
        outputs.functions.insert("api".into(), "demo-api".into());
        let lines = outputs.to_env("VITE_");
        assert!(lines.lines().all(|line| line.starts_with("VITE_AUTHDEMO_")), "{lines}");
        assert!(lines.contains("VITE_AUTHDEMO_USER_POOL_ID=pool\n"), "{lines}");
        assert_eq!(outputs.to_env(""), lines.replace("VITE_", ""));
    }
}
