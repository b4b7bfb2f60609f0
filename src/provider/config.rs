//! The AWS SDK configuration, built in one place: profile, region, endpoint, timeouts, retries.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where to connect, from the command line and the stack file.
#[derive(Debug, Clone)]
pub(crate) struct ConnectOptions {
    /// `--region`, else the stack file's `region`, else the AWS config's.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url` (`AWS_ENDPOINT_URL` is read by the SDK itself).
    pub endpoint_url: Option<String>,
    /// `--call-timeout`: how long one try of a call may take.
    pub attempt_timeout: Duration,
}

/// No region could be found anywhere.
#[derive(Debug, thiserror::Error)]
#[error("no AWS region is set: pass --region, add `region:` to the stack file, or set AWS_REGION")]
pub(crate) struct NoRegion;

/// Loads the SDK configuration with the standard credential chain (env, profiles, SSO, process).
/// Every call gets an attempt timeout (the SDK sets none by default, so an endpoint that accepts
/// the connection and never answers would hang the run). The SDK's own retries are off: each
/// retry goes through [`super::Calls`], which paces it under the rate limits.
pub(crate) async fn sdk_config(options: &ConnectOptions) -> Result<SdkConfig, NoRegion> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.attempt_timeout.min(Duration::from_secs(5)))
        .operation_attempt_timeout(options.attempt_timeout)
        .operation_timeout(options.attempt_timeout)
        .build();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).retry_config(RetryConfig::disabled());
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    if config.region().is_none_or(|r| r.as_ref().is_empty()) {
        return Err(NoRegion);
    }
    Ok(config)
}

/// The endpoint overrides that apply to what the stack's clients call (a web app, `verify`):
/// each `None` on AWS itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientEndpoints {
    /// Calls of deployed APIs (execute-api).
    pub execute_api: Option<String>,
    /// Cognito user pools (sign-in).
    pub user_pool: Option<String>,
    /// Cognito identity pools (credentials).
    pub identity_pool: Option<String>,
}

impl ClientEndpoints {
    /// The overrides `config` sets for the three services.
    pub(crate) fn of(config: &SdkConfig) -> Self {
        Self {
            execute_api: service_endpoint(config, "Execute API"),
            user_pool: service_endpoint(config, "Cognito Identity Provider"),
            identity_pool: service_endpoint(config, "Cognito Identity"),
        }
    }
}

/// The endpoint override that applies to `service_id`, by the rule every SDK client follows for
/// its own service: `AWS_ENDPOINT_URL_<SERVICE ID>` (e.g. `AWS_ENDPOINT_URL_EXECUTE_API`, or the
/// service's `endpoint_url` in the profile's services section), else the global override
/// (`--endpoint-url`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`). `None` on AWS itself.
pub(crate) fn service_endpoint(config: &SdkConfig, service_id: &str) -> Option<String> {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id(service_id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field of the key is set");
    let specific = config.service_config().and_then(|service| service.load_config(key));
    specific.or_else(|| config.endpoint_url().map(str::to_string)).filter(|url| !url.is_empty())
}

#[cfg(test)]
mod tests {
    use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

    use super::*;

    /// Environment variables read the way aws-config's own loader reads them: the
    /// service-specific variable (`<ENV>_<SERVICE ID in upper snake case>`), else the global one.
    #[derive(Debug)]
    struct Variables(&'static [(&'static str, &'static str)]);

    impl LoadServiceConfig for Variables {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            let specific = format!("{}_{}", key.env(), key.service_id().to_uppercase().replace(' ', "_"));
            let get = |name: &str| self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string());
            get(&specific).or_else(|| get(key.env()))
        }
    }

    fn config(variables: &'static [(&'static str, &'static str)], endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder().service_config(Variables(variables));
        builder.set_endpoint_url(endpoint.map(str::to_string));
        builder.build()
    }

    #[test]
    fn each_service_takes_its_own_override_then_the_global_one() {
        const GLOBAL: &[(&str, &str)] = &[("AWS_ENDPOINT_URL", "http://global:1")];
        const BOTH: &[(&str, &str)] = &[
            ("AWS_ENDPOINT_URL", "http://global:1"),
            ("AWS_ENDPOINT_URL_EXECUTE_API", "http://apis:2"),
            ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://pools:4"),
        ];
        let both = ClientEndpoints::of(&config(BOTH, None));
        assert_eq!(both.execute_api.as_deref(), Some("http://apis:2"));
        assert_eq!(both.user_pool.as_deref(), Some("http://pools:4"));
        assert_eq!(both.identity_pool.as_deref(), Some("http://global:1"));
        assert_eq!(service_endpoint(&config(GLOBAL, None), "Execute API").as_deref(), Some("http://global:1"));
        assert_eq!(
            service_endpoint(&config(&[], Some("http://flag:3")), "Execute API").as_deref(),
            Some("http://flag:3")
        );
        assert_eq!(ClientEndpoints::of(&config(&[], None)), ClientEndpoints::default(), "on AWS itself");
    }
}
