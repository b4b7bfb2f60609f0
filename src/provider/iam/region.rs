//! The region a role serves, for the refusal of a stack whose roles serve another region.

use std::collections::HashMap;

use super::{REGION_TAG, RoleSpec};

/// The region a role serves: its tag, or for a role made before the tag existed, the region in
/// its trust policy's identity pool id (`REGION:uuid`) or in its log-group ARN.
pub(super) fn role_region(tags: &HashMap<String, String>, spec: &RoleSpec) -> Option<String> {
    if let Some(region) = tags.get(REGION_TAG) {
        return Some(region.clone());
    }
    let trust: serde_json::Value = serde_json::from_str(&spec.trust_policy).ok()?;
    let audience = trust["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"].as_str();
    if let Some((region, _)) = audience.and_then(|aud| aud.split_once(':')) {
        return Some(region.to_string());
    }
    let logging = spec.policies.get("authdemo-logging")?;
    let arn = logging.split('"').find(|text| text.starts_with("arn:") && text.contains(":logs:"))?;
    arn.split(':').nth(3).map(str::to_string)
}
