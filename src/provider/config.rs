//! The AWS SDK configuration, built in one place: profile, region, endpoint, retries.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where to connect, from the command line and the stack file.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--region`, else the stack file's `region`, else the AWS config's.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url` (`AWS_ENDPOINT_URL` is read by the SDK itself).
    pub endpoint_url: Option<String>,
}

/// No region could be found anywhere.
#[derive(Debug, thiserror::Error)]
#[error("no AWS region is set: pass --region, add `region:` to the stack file, or set AWS_REGION")]
pub struct NoRegion;

/// Loads the SDK configuration with the standard credential chain (env, profiles, SSO, process).
pub async fn sdk_config(options: &ConnectOptions) -> Result<SdkConfig, NoRegion> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
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
