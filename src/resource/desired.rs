//! The desired state: the resources a validated stack file asks for, as attributes to diff
//! (each kind's provider module derives its own), and the names derived from the stack's.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::{Address, Attributes, FieldRule, ResourceKind};
use crate::artifact::Artifact;
use crate::secret::{Secret, SecretRef};

/// One resource the stack file asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DesiredResource {
    /// Its address.
    pub address: Address,
    /// Its settings.
    pub attributes: Attributes,
    /// The rule of each field (from its kind's [`super::Spec`]).
    pub rules: &'static [(&'static str, FieldRule)],
    /// Resources that must exist before it.
    pub depends_on: Vec<Address>,
}

/// Everything the stack file asks for, plus what is sent but not diffed: secrets and code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DesiredState {
    /// The stack name.
    pub stack: String,
    /// The resources, parents before children.
    pub resources: Vec<DesiredResource>,
    /// The secret each resource sends on create, e.g. a user's password.
    pub secrets: BTreeMap<Address, Secret>,
    /// The resources whose secret comes from an environment variable that is not set, with
    /// that variable: apply refuses to create or change them.
    pub unset_secrets: BTreeMap<Address, String>,
    /// Code packages by function (their hashes are attributes).
    pub artifacts: BTreeMap<Address, Artifact>,
    /// The clear values of the placeholders that stand for values from `${env:…}` in the
    /// attributes (see [`super::sensitive`]).
    pub sensitive: BTreeMap<String, Secret>,
    /// Map fields (a function's `environment`) whose live entries the file no longer names are
    /// hidden like sensitive values: one may be a secret the file stopped sourcing from
    /// `${env:…}`.
    pub hidden_maps: BTreeSet<(Address, &'static str)>,
}

/// Where the stack goes: the partition, region and account that every ARN and host name names,
/// built here and nowhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Target {
    /// The AWS partition: `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    /// The AWS region.
    pub region: String,
    /// The AWS account id.
    pub account: String,
}

impl Target {
    /// The target of the caller whose ARN (from `sts:GetCallerIdentity`) is `caller_arn`, in
    /// `region`; an ARN that cannot be read means the standard partition.
    pub(crate) fn of_caller(caller_arn: &str, region: &str, account: &str) -> Self {
        let partition = caller_arn.split(':').nth(1).filter(|p| p.starts_with("aws")).unwrap_or("aws");
        Self { partition: partition.to_string(), region: region.to_string(), account: account.to_string() }
    }

    /// The DNS suffix of the partition's service endpoints.
    pub(crate) fn dns_suffix(&self) -> &'static str {
        match self.partition.as_str() {
            "aws-cn" => "amazonaws.com.cn",
            "aws-iso" => "c2s.ic.gov",
            "aws-iso-b" => "sc2s.sgov.gov",
            "aws-iso-e" => "cloud.adc-e.uk",
            "aws-iso-f" => "csp.hci.ic.gov",
            _ => "amazonaws.com",
        }
    }

    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{}:{}:{resource}", self.partition, self.region, self.account)
    }

    /// `arn:PARTITION:SERVICE:REGION:RESOURCE`, for ARNs whose fifth field is not an account
    /// (API Gateway's integration URIs: `…:apigateway:REGION:lambda:path/…`).
    pub(crate) fn regional_arn(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{}:{resource}", self.partition, self.region)
    }

    /// The host name of `service` in the region, e.g. `cognito-idp.us-west-2.amazonaws.com`.
    pub(crate) fn host(&self, service: &str) -> String {
        format!("{service}.{}.{}", self.region, self.dns_suffix())
    }
}

impl DesiredState {
    /// Records the secret the stack file gives `address`, set or not.
    pub(crate) fn add_secret(&mut self, address: &Address, secret: Option<&SecretRef>) {
        let Some(secret) = secret else { return };
        match &secret.value {
            Some(value) => drop(self.secrets.insert(address.clone(), value.clone())),
            None => drop(self.unset_secrets.insert(address.clone(), secret.env.clone())),
        }
    }

    /// The resource at `address`, if the stack asks for it.
    pub(crate) fn get(&self, address: &Address) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| &r.address == address)
    }
}

/// `password_status` of a user whose permanent password is set (an interrupted create leaves
/// the password temporary; the next apply finishes it).
pub(crate) const PASSWORD_SET: &str = "permanent";

/// The address of the stack's user pool.
pub(crate) fn user_pool_address() -> Address {
    Address::new(ResourceKind::UserPool, "main")
}

/// The address of the stack's identity pool.
pub(crate) fn identity_pool_address() -> Address {
    Address::new(ResourceKind::IdentityPool, "main")
}

/// The name of the inline policy holding a role's statements from the stack file.
pub(crate) const EXTRA_POLICY: &str = "authdemo-extra";

/// The name of the inline policy letting signed-in users invoke the `auth: iam` routes.
pub(crate) const INVOKE_POLICY: &str = "authdemo-invoke";

/// The address of the stack's REST API.
pub(crate) fn rest_api_address() -> Address {
    Address::new(ResourceKind::RestApi, "main")
}

/// The physical name of a stack's function.
pub(crate) fn function_name(stack: &str, function: &str) -> String {
    format!("{stack}-{function}")
}

/// The address of a function's execution role.
pub(crate) fn function_role_address(function: &str) -> Address {
    Address::new(ResourceKind::IamRole, format!("fn-{function}"))
}

/// The statement id of the permission for `route_key` in its function's policy: the key itself,
/// every character but letters and digits written `_XX` (hex), so [`route_of_sid`] can read it
/// back; keys too long for a statement id (100 characters) get a hash instead.
pub(crate) fn permission_sid(route_key: &str) -> String {
    let mut sid = String::from("authdemo-");
    for byte in route_key.bytes() {
        if byte.is_ascii_alphanumeric() {
            sid.push(byte as char);
        } else {
            sid.push_str(&format!("_{byte:02X}"));
        }
    }
    if sid.len() <= 100 {
        return sid;
    }
    let digest = Sha256::digest(route_key.as_bytes());
    format!("authdemo-h{}", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

/// The route key a statement id was made from, if it was made by [`permission_sid`] from a short key.
pub(crate) fn route_of_sid(sid: &str) -> Option<String> {
    let encoded = sid.strip_prefix("authdemo-")?;
    let bytes = encoded.as_bytes();
    let mut key = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = encoded.get(i + 1..i + 3)?;
            key.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            key.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(key).ok().filter(|k| k.contains(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_hosts_follow_the_callers_partition() {
        let gov = Target::of_caller("arn:aws-us-gov:iam::123456789012:user/ci", "us-gov-west-1", "123456789012");
        assert_eq!(gov.arn("logs", "log-group:x"), "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:x");
        assert_eq!(gov.host("cognito-idp"), "cognito-idp.us-gov-west-1.amazonaws.com");
        let china = Target::of_caller("arn:aws-cn:sts::123456789012:assumed-role/ci/s", "cn-north-1", "123456789012");
        assert_eq!(china.regional_arn("apigateway", "lambda:path/x"), "arn:aws-cn:apigateway:cn-north-1:lambda:path/x");
        assert_eq!(china.host("execute-api"), "execute-api.cn-north-1.amazonaws.com.cn");
        assert_eq!(Target::of_caller("", "us-west-2", "1").partition, "aws");
    }

    #[test]
    fn permission_ids_encode_the_route_reversibly() {
        let sid = permission_sid("GET /items/{id}");
        assert_eq!(sid, "authdemo-GET_20_2Fitems_2F_7Bid_7D");
        assert_eq!(route_of_sid(&sid).as_deref(), Some("GET /items/{id}"));
        let long = format!("GET /{}", "segment/".repeat(20));
        assert!(permission_sid(&long).len() <= 100);
        assert_eq!(route_of_sid(&permission_sid(&long)), None);
    }
}
