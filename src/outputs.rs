//! What a web client needs from a provisioned stack, read from the live state: ids, URLs and
//! (only on request) API key values; rendered as JSON, `KEY=value` lines, or an Amplify config.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::live::LiveState;
use crate::plan::FORMAT_VERSION;
use crate::resource::{Address, ResourceKind, function_name};
use crate::stack::Stack;

/// An API key: its id, and its value when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyOutput {
    /// The key's id.
    pub id: String,
    /// The key's value (only with `--show-sensitive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
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
}

impl Outputs {
    /// Collects the outputs of `stack` from `live`.
    pub fn collect(stack: &Stack, live: &LiveState) -> Self {
        let id = |kind: ResourceKind, name: &str| live.resources.get(&Address::new(kind, name)).map(|r| r.id.clone());
        let named = |kind: ResourceKind| {
            live.resources
                .values()
                .filter(move |r| r.address.kind == kind)
                .map(|r| (r.address.name.clone(), r.id.clone()))
        };
        let region = live.target.region.clone();
        let stage = live.resources.keys().find(|a| a.kind == ResourceKind::ApiStage).map(|a| a.name.clone());
        let api_url = id(ResourceKind::RestApi, "main")
            .zip(stage)
            .map(|(api, stage)| format!("https://{api}.{}/{stage}", live.target.host("execute-api")));
        let hosted_ui_url =
            id(ResourceKind::UserPoolDomain, "main").map(|d| format!("https://{}", hosted_ui_host(&d, &region)));
        Self {
            format_version: FORMAT_VERSION,
            stack: stack.name.clone(),
            region: region.clone(),
            user_pool_id: id(ResourceKind::UserPool, "main"),
            user_pool_clients: named(ResourceKind::UserPoolClient).collect(),
            hosted_ui_url,
            identity_pool_id: id(ResourceKind::IdentityPool, "main"),
            api_url,
            api_keys: named(ResourceKind::ApiKey).map(|(name, id)| (name, ApiKeyOutput { id, value: None })).collect(),
            functions: named(ResourceKind::Function)
                .map(|(name, _)| (name.clone(), function_name(&stack.name, &name)))
                .collect(),
        }
    }

    /// Whether nothing of the stack exists.
    pub fn is_empty(&self) -> bool {
        self.user_pool_id.is_none()
            && self.identity_pool_id.is_none()
            && self.api_url.is_none()
            && self.functions.is_empty()
            && self.api_keys.is_empty()
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("outputs are plain data")
    }

    /// `AUTHDEMO_…=value` lines for shells and `.env` files.
    pub fn to_env(&self) -> String {
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
        lines.iter().map(|(key, value)| format!("AUTHDEMO_{key}={value}\n")).collect()
    }

    /// A configuration an Amplify web client loads as is (`Amplify.configure(config)`).
    pub fn to_amplify(&self, stack: &Stack) -> String {
        let web_client = stack
            .identity_pool
            .as_ref()
            .and_then(|p| p.clients.first())
            .or_else(|| stack.user_pool.as_ref().and_then(|p| p.clients.keys().next()));
        let client = web_client.and_then(|name| stack.user_pool.as_ref()?.clients.get(name));
        let mut auth = json!({
            "region": self.region,
            "userPoolId": self.user_pool_id,
            "userPoolWebClientId": web_client.and_then(|name| self.user_pool_clients.get(name)),
            "identityPoolId": self.identity_pool_id,
            "mandatorySignIn": false,
        });
        if let (Some(url), Some(client)) = (&self.hosted_ui_url, client)
            && !client.oauth_flows.is_empty()
        {
            auth["oauth"] = json!({
                "domain": url.trim_start_matches("https://"),
                "scope": client.oauth_scopes,
                "redirectSignIn": client.callback_urls.first(),
                "redirectSignOut": client.logout_urls.first(),
                "responseType": if client.oauth_flows.iter().any(|f| f == "code") { "code" } else { "token" },
            });
        }
        let mut config = json!({ "Auth": auth });
        if let Some(url) = &self.api_url {
            config["API"] = json!({ "endpoints": [{ "name": self.stack, "endpoint": url, "region": self.region }] });
        }
        serde_json::to_string_pretty(&config).expect("outputs are plain data")
    }
}

/// The hosted UI's host for a prefix domain.
pub fn hosted_ui_host(prefix: &str, region: &str) -> String {
    format!("{prefix}.auth.{region}.amazoncognito.com")
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
        let outputs = Outputs::collect(&stack, &live);
        assert_eq!(outputs.api_url.as_deref(), Some("https://abc123.execute-api.cn-north-1.amazonaws.com.cn/latest"));
    }
}
