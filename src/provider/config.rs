//! The AWS SDK configuration, built in one place: profile, region, endpoint, timeouts, retries.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where to connect, from the command line and the stack file.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
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
pub struct NoRegion;

/// Loads the SDK configuration with the standard credential chain (env, profiles, SSO, process).
/// Every call gets an attempt timeout (the SDK sets none by default, so an endpoint that accepts
/// the connection and never answers would hang the run). The SDK's own retries are off: each
/// retry goes through [`super::Calls`], which paces it under the rate limits.
pub async fn sdk_config(options: &ConnectOptions) -> Result<SdkConfig, NoRegion> {
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

/// The endpoint override that applies to calls of deployed APIs (execute-api), by the rule every
/// SDK client follows for its own service: `AWS_ENDPOINT_URL_EXECUTE_API` (or `execute-api`'s
/// `endpoint_url` in the profile's services section), else the global override
/// (`--endpoint-url`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`). `None` on AWS itself.
pub fn execute_api_endpoint(config: &SdkConfig) -> Option<String> {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("Execute API")
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
    fn execute_api_takes_its_own_override_then_the_global_one() {
        const GLOBAL: &[(&str, &str)] = &[("AWS_ENDPOINT_URL", "http://global:1")];
        const BOTH: &[(&str, &str)] =
            &[("AWS_ENDPOINT_URL", "http://global:1"), ("AWS_ENDPOINT_URL_EXECUTE_API", "http://apis:2")];
        assert_eq!(execute_api_endpoint(&config(BOTH, None)).as_deref(), Some("http://apis:2"));
        assert_eq!(execute_api_endpoint(&config(GLOBAL, None)).as_deref(), Some("http://global:1"));
        assert_eq!(execute_api_endpoint(&config(&[], Some("http://flag:3"))).as_deref(), Some("http://flag:3"));
        assert_eq!(execute_api_endpoint(&config(&[], None)), None, "on AWS itself");
    }
}
