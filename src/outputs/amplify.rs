//! The stack's outputs as the configuration `Amplify.configure(config)` takes: aws-amplify v6's
//! `ResourcesConfig` (`Auth.Cognito`, `API.REST`) by default, or v5's older shape. What does not
//! exist is left out, never `null`.

use serde_json::{Map, Value, json};

use super::{ClientSettings, Outputs};

/// The name of the REST API in a v6 configuration (`get({ apiName: "api", path: "/auth" })`):
/// the same in every environment, so the web app's code does not change with `--var env=…`.
const REST_API_NAME: &str = "api";

/// Which release of aws-amplify the configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AmplifyVersion {
    /// aws-amplify v5: `Auth.{region, userPoolId, userPoolWebClientId, oauth}`, `API.endpoints[]`.
    #[value(name = "5")]
    V5,
    /// aws-amplify v6: `Auth.Cognito.{userPoolId, userPoolClientId, identityPoolId, loginWith}`,
    /// `API.REST.api`.
    #[value(name = "6")]
    V6,
}

/// Why the user pool client of the configuration cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AmplifyError {
    /// `--client` names a client the user pool does not have.
    #[error("the user pool has no client `{name}` ({}); pick one with `--client NAME`", list(.clients))]
    UnknownClient {
        /// The name asked for.
        name: String,
        /// The clients that exist.
        clients: Vec<String>,
    },
    /// The user pool has several clients and `--client` names none of them.
    #[error("the user pool has several clients ({}): pick the one the web app signs in with, `--client NAME`", list(.clients))]
    AmbiguousClient {
        /// The clients that exist.
        clients: Vec<String>,
    },
}

/// v6's `loginWith` flag for a sign-in attribute of the pool.
fn login_with_key(attribute: &str) -> &str {
    match attribute {
        "phone_number" => "phone",
        other => other,
    }
}

fn list(clients: &[String]) -> String {
    if clients.is_empty() { "it has none".to_string() } else { format!("clients: {}", clients.join(", ")) }
}

/// The user pool client a configuration signs in with: its id and hosted-UI settings.
struct WebClient<'a> {
    id: &'a str,
    settings: Option<&'a ClientSettings>,
}

/// The hosted UI's OAuth settings of the chosen client.
struct HostedUi<'a> {
    domain: &'a str,
    settings: &'a ClientSettings,
    response_type: &'static str,
}

impl Outputs {
    /// The Amplify configuration for `version`, signing in with the user pool client `client`
    /// (without it: the pool's only client).
    pub(crate) fn to_amplify(&self, version: AmplifyVersion, client: Option<&str>) -> Result<String, AmplifyError> {
        let client = self.web_client(client)?;
        let config = match version {
            AmplifyVersion::V6 => self.amplify_v6(client.as_ref()),
            AmplifyVersion::V5 => self.amplify_v5(client.as_ref()),
        };
        Ok(serde_json::to_string_pretty(&config).expect("outputs are plain data"))
    }

    fn web_client(&self, wanted: Option<&str>) -> Result<Option<WebClient<'_>>, AmplifyError> {
        let names = || self.user_pool_clients.keys().cloned().collect();
        let (name, id) = match wanted {
            Some(name) => self
                .user_pool_clients
                .get_key_value(name)
                .ok_or_else(|| AmplifyError::UnknownClient { name: name.to_string(), clients: names() })?,
            None => match self.user_pool_clients.len() {
                0 => return Ok(None),
                1 => self.user_pool_clients.iter().next().expect("one client"),
                _ => return Err(AmplifyError::AmbiguousClient { clients: names() }),
            },
        };
        Ok(Some(WebClient { id, settings: self.client_settings.get(name) }))
    }

    /// The hosted UI, when the pool has a domain and the client a browser's OAuth flow.
    fn hosted_ui<'a>(&'a self, client: &WebClient<'a>) -> Option<HostedUi<'a>> {
        // Amplify takes a host (and path) and always calls `https://<domain>/…`.
        let url = self.hosted_ui_url.as_deref()?;
        let domain = url.split_once("://").map_or(url, |(_, rest)| rest);
        let settings = client.settings?;
        let has = |flow: &str| settings.oauth_flows.iter().any(|f| f == flow);
        let response_type = if has("code") {
            "code"
        } else if has("implicit") {
            "token"
        } else {
            return None;
        };
        Some(HostedUi { domain, settings, response_type })
    }

    fn amplify_v6(&self, client: Option<&WebClient<'_>>) -> Value {
        let mut cognito = Map::new();
        if let (Some(pool), Some(client)) = (&self.user_pool_id, client) {
            cognito.insert("userPoolId".into(), json!(pool));
            cognito.insert("userPoolClientId".into(), json!(client.id));
            let mut login_with: Map<String, Value> =
                self.sign_in.iter().map(|attribute| (login_with_key(attribute).into(), json!(true))).collect();
            if let Some(ui) = self.hosted_ui(client) {
                let oauth = json!({
                    "domain": ui.domain,
                    "scopes": ui.settings.oauth_scopes,
                    "redirectSignIn": ui.settings.callback_urls,
                    "redirectSignOut": ui.settings.logout_urls,
                    "responseType": ui.response_type,
                });
                login_with.insert("oauth".into(), oauth);
            }
            if !login_with.is_empty() {
                cognito.insert("loginWith".into(), Value::Object(login_with));
            }
        }
        if let Some(pool) = &self.identity_pool_id {
            cognito.insert("identityPoolId".into(), json!(pool));
            cognito.insert("allowGuestAccess".into(), json!(self.allow_guest_access.unwrap_or(false)));
        }
        if let (Some(endpoint), true) = (&self.user_pool_endpoint, cognito.contains_key("userPoolId")) {
            cognito.insert("userPoolEndpoint".into(), json!(endpoint));
        }
        if let (Some(endpoint), true) = (&self.identity_pool_endpoint, cognito.contains_key("identityPoolId")) {
            cognito.insert("identityPoolEndpoint".into(), json!(endpoint));
        }
        let mut config = Map::new();
        if !cognito.is_empty() {
            config.insert("Auth".into(), json!({ "Cognito": cognito }));
        }
        if let Some(url) = &self.api_url {
            config
                .insert("API".into(), json!({ "REST": { REST_API_NAME: { "endpoint": url, "region": self.region } } }));
        }
        let key_values: Map<String, Value> =
            self.api_keys.iter().filter_map(|(name, key)| Some((name.clone(), json!(key.value.as_ref()?)))).collect();
        if !key_values.is_empty() {
            config.insert("custom".into(), json!({ "apiKeys": key_values }));
        }
        Value::Object(config)
    }

    fn amplify_v5(&self, client: Option<&WebClient<'_>>) -> Value {
        let mut auth = Map::new();
        auth.insert("region".into(), json!(self.region));
        if let Some(pool) = &self.user_pool_id {
            auth.insert("userPoolId".into(), json!(pool));
        }
        if let Some(client) = client {
            auth.insert("userPoolWebClientId".into(), json!(client.id));
            if let Some(ui) = self.hosted_ui(client) {
                let oauth = json!({
                    "domain": ui.domain,
                    "scope": ui.settings.oauth_scopes,
                    "redirectSignIn": ui.settings.callback_urls.first(),
                    "redirectSignOut": ui.settings.logout_urls.first(),
                    "responseType": ui.response_type,
                });
                auth.insert("oauth".into(), oauth);
            }
        }
        if let Some(pool) = &self.identity_pool_id {
            auth.insert("identityPoolId".into(), json!(pool));
        }
        auth.insert("mandatorySignIn".into(), json!(!self.allow_guest_access.unwrap_or(false)));
        let mut config = json!({ "Auth": auth });
        if let Some(url) = &self.api_url {
            config["API"] = json!({ "endpoints": [{ "name": self.stack, "endpoint": url, "region": self.region }] });
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::outputs::ApiKeyOutput;
    use crate::plan::FORMAT_VERSION;

    fn outputs() -> Outputs {
        let web = ClientSettings {
            callback_urls: vec!["http://localhost:3000/".into(), "https://app.example.com/".into()],
            logout_urls: vec!["http://localhost:3000/".into(), "https://app.example.com/bye".into()],
            oauth_flows: vec!["code".into()],
            oauth_scopes: vec!["email".into(), "openid".into()],
        };
        Outputs {
            format_version: FORMAT_VERSION,
            stack: "demo-dev".into(),
            region: "us-west-2".into(),
            user_pool_id: Some("us-west-2_abc".into()),
            user_pool_clients: BTreeMap::from([("web".into(), "client1".into())]),
            hosted_ui_url: Some("https://demo-dev.auth.us-west-2.amazoncognito.com".into()),
            identity_pool_id: Some("us-west-2:1234".into()),
            api_url: Some("https://a1.execute-api.us-west-2.amazonaws.com/latest".into()),
            api_keys: BTreeMap::new(),
            functions: BTreeMap::new(),
            sign_in: vec!["email".into(), "phone_number".into()],
            client_settings: BTreeMap::from([("web".into(), web)]),
            allow_guest_access: Some(true),
            user_pool_endpoint: None,
            identity_pool_endpoint: None,
        }
    }

    fn config(outputs: &Outputs, version: AmplifyVersion, client: Option<&str>) -> Value {
        serde_json::from_str(&outputs.to_amplify(version, client).unwrap()).unwrap()
    }

    #[test]
    fn v6_is_the_resources_config_of_amplify_configure_with_every_redirect_url() {
        let expected = json!({
            "Auth": { "Cognito": {
                "userPoolId": "us-west-2_abc",
                "userPoolClientId": "client1",
                "identityPoolId": "us-west-2:1234",
                "allowGuestAccess": true,
                "loginWith": {
                    "email": true,
                    "phone": true,
                    "oauth": {
                        "domain": "demo-dev.auth.us-west-2.amazoncognito.com",
                        "scopes": ["email", "openid"],
                        "redirectSignIn": ["http://localhost:3000/", "https://app.example.com/"],
                        "redirectSignOut": ["http://localhost:3000/", "https://app.example.com/bye"],
                        "responseType": "code",
                    },
                },
            }},
            "API": { "REST": { "api": {
                "endpoint": "https://a1.execute-api.us-west-2.amazonaws.com/latest",
                "region": "us-west-2",
            }}},
        });
        assert_eq!(config(&outputs(), AmplifyVersion::V6, None), expected);
    }

    #[test]
    fn endpoint_overrides_and_key_values_shown_on_request_reach_the_web_client() {
        let mut emulated = outputs();
        emulated.user_pool_endpoint = Some("http://127.0.0.1:4566".into());
        emulated.identity_pool_endpoint = Some("http://127.0.0.1:4567".into());
        emulated.api_keys.insert("web-client".into(), ApiKeyOutput { id: "k1".into(), value: None });
        let hidden = config(&emulated, AmplifyVersion::V6, None);
        assert_eq!(hidden["Auth"]["Cognito"]["userPoolEndpoint"], "http://127.0.0.1:4566");
        assert_eq!(hidden["Auth"]["Cognito"]["identityPoolEndpoint"], "http://127.0.0.1:4567");
        emulated.hosted_ui_url =
            Some("http://127.0.0.1:4566/_hosted_ui_/demo-dev.auth.us-west-2.amazoncognito.com".into());
        assert_eq!(
            config(&emulated, AmplifyVersion::V6, None)["Auth"]["Cognito"]["loginWith"]["oauth"]["domain"],
            "127.0.0.1:4566/_hosted_ui_/demo-dev.auth.us-west-2.amazoncognito.com",
            "Amplify calls https://<domain>/oauth2/authorize: the emulator's port answers TLS too"
        );
        assert!(hidden.get("custom").is_none(), "no key value unless --show-sensitive fetched it");
        emulated.api_keys.get_mut("web-client").unwrap().value = Some("secret-value".into());
        let shown = config(&emulated, AmplifyVersion::V6, None);
        assert_eq!(shown["custom"], json!({ "apiKeys": { "web-client": "secret-value" } }));
    }

    #[test]
    fn v5_keeps_the_old_shape() {
        let expected = json!({
            "Auth": {
                "region": "us-west-2",
                "userPoolId": "us-west-2_abc",
                "userPoolWebClientId": "client1",
                "identityPoolId": "us-west-2:1234",
                "mandatorySignIn": false,
                "oauth": {
                    "domain": "demo-dev.auth.us-west-2.amazoncognito.com",
                    "scope": ["email", "openid"],
                    "redirectSignIn": "http://localhost:3000/",
                    "redirectSignOut": "http://localhost:3000/",
                    "responseType": "code",
                },
            },
            "API": { "endpoints": [{
                "name": "demo-dev",
                "endpoint": "https://a1.execute-api.us-west-2.amazonaws.com/latest",
                "region": "us-west-2",
            }]},
        });
        assert_eq!(config(&outputs(), AmplifyVersion::V5, None), expected);
    }

    #[test]
    fn absent_pools_and_api_are_left_out_not_null() {
        let mut identity_only = outputs();
        identity_only.user_pool_id = None;
        identity_only.user_pool_clients.clear();
        identity_only.api_url = None;
        identity_only.allow_guest_access = Some(false);
        assert_eq!(
            config(&identity_only, AmplifyVersion::V6, None),
            json!({ "Auth": { "Cognito": { "identityPoolId": "us-west-2:1234", "allowGuestAccess": false } } })
        );
        let mut api_only = identity_only;
        api_only.identity_pool_id = None;
        api_only.api_url = outputs().api_url;
        assert_eq!(
            config(&api_only, AmplifyVersion::V6, None).as_object().unwrap().keys().collect::<Vec<_>>(),
            ["API"]
        );
    }

    #[test]
    fn a_client_without_a_browser_flow_or_a_pool_without_a_domain_has_no_oauth() {
        let mut machine = outputs();
        machine.client_settings.get_mut("web").unwrap().oauth_flows = vec!["client_credentials".into()];
        assert!(config(&machine, AmplifyVersion::V6, None)["Auth"]["Cognito"]["loginWith"].get("oauth").is_none());
        let mut no_domain = outputs();
        no_domain.hosted_ui_url = None;
        assert!(config(&no_domain, AmplifyVersion::V6, None)["Auth"]["Cognito"]["loginWith"].get("oauth").is_none());
    }

    #[test]
    fn client_picks_one_of_several_and_refuses_to_guess_or_an_unknown_name() {
        let mut two = outputs();
        two.user_pool_clients.insert("admin".into(), "client2".into());
        let error = two.to_amplify(AmplifyVersion::V6, None).unwrap_err().to_string();
        assert_eq!(
            error,
            "the user pool has several clients (clients: admin, web): pick the one the web app signs in with, `--client NAME`"
        );
        assert_eq!(config(&two, AmplifyVersion::V6, Some("admin"))["Auth"]["Cognito"]["userPoolClientId"], "client2");
        assert_eq!(config(&two, AmplifyVersion::V5, Some("admin"))["Auth"]["userPoolWebClientId"], "client2");
        let error = two.to_amplify(AmplifyVersion::V6, Some("mobile")).unwrap_err().to_string();
        assert_eq!(error, "the user pool has no client `mobile` (clients: admin, web); pick one with `--client NAME`");
    }
}
