//! The session policy Cognito puts on every guest's credentials, which `access` intersects with
//! the unauthenticated role's policies.

use super::INVOKE;
use crate::access::policy::{NamedPolicy, evaluate};

/// The AWS managed policy Cognito's enhanced flow (GetCredentialsForIdentity) puts on every
/// guest's credentials as a session policy: a guest can do only what both this and the
/// unauthenticated role allow (AWS managed policy reference, version v3).
pub(super) const GUEST_SESSION_POLICY_NAME: &str = "AmazonCognitoUnAuthedIdentitiesSessionPolicy";

/// The actions of [`GUEST_SESSION_POLICY_NAME`], on `*`.
const GUEST_SESSION_ACTIONS: &[&str] = &[
    "rum:PutRumEvents",
    "sagemaker:InvokeEndpoint",
    "polly:*",
    "comprehend:*",
    "translate:*",
    "transcribe:*",
    "rekognition:*",
    "mobiletargeting:*",
    "firehose:*",
    "personalize:*",
    "geo:GetMap*",
    "geo:SearchPlaceIndex*",
    "geo:GetPlace",
    "geo:CalculateRoute*",
    "geo:*Geofence",
    "geo:*Geofences",
    "geo:*DevicePosition*",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptTo",
    "kms:ReEncryptFrom",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
];

/// Whether Cognito's session policy on guest credentials lets them invoke `arn`.
pub(super) fn guest_session_allows(arn: &str) -> bool {
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": GUEST_SESSION_ACTIONS, "Resource": "*" }],
    });
    let policy = NamedPolicy::parse(GUEST_SESSION_POLICY_NAME, &document.to_string())
        .expect("the session policy is a valid document");
    evaluate(&[policy], INVOKE, arn).allows()
}
