//! `iam:`: settings of every IAM role the stack creates. For now its permissions boundary, the
//! managed policy that caps what the roles may do whatever their own policies say.

use serde_json::Value;

use super::reader::{Field, Reader, opt};
use super::schema::{object, text};

const FIELDS: &[&str] = &["permissions_boundary"];

/// Reads and validates `iam`: the boundary's ARN, if it names one (`Some(None)` when it names
/// none, `None` when invalid).
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>) -> Option<Option<String>> {
    let fields = r.mapping(field, FIELDS)?;
    let boundary = opt(&fields, "permissions_boundary", |f| {
        r.string_matching(
            f,
            is_policy_arn,
            "is not the ARN of a managed policy",
            "e.g. `arn:aws:iam::123456789012:policy/authdemo-boundary`",
        )
    });
    match boundary {
        None => Some(None),
        Some(read) => read.map(Some),
    }
}

/// Whether `arn` is a managed policy's ARN: `arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME`,
/// the account 12 digits (or `aws` for AWS's own policies).
pub(crate) fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "iam", "", account, resource] = parts[..] else { return false };
    let account_ok = account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    let name = resource.strip_prefix("policy/").and_then(|p| p.rsplit('/').next()).unwrap_or_default();
    partition.starts_with("aws")
        && account_ok
        && !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
}

/// The schema of `iam`.
pub(super) fn schema() -> Value {
    object(
        FIELDS,
        &[],
        vec![(
            "permissions_boundary",
            text(
                "ARN of a managed policy every role of the stack carries as its permissions boundary \
                 (see `authdemo permissions --for boundary`); --permissions-boundary wins.",
            ),
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::is_policy_arn;

    #[test]
    fn a_boundary_is_a_managed_policy_arn() {
        assert!(is_policy_arn("arn:aws:iam::123456789012:policy/authdemo-boundary"));
        assert!(is_policy_arn("arn:aws-cn:iam::123456789012:policy/ci/authdemo-boundary"));
        assert!(is_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(!is_policy_arn("arn:aws:iam::123456789012:role/authdemo-boundary"));
        assert!(!is_policy_arn("arn:aws:iam::12345:policy/x"));
        assert!(!is_policy_arn("arn:aws:iam:us-east-1:123456789012:policy/x"));
        assert!(!is_policy_arn("arn:aws:iam::123456789012:policy/"));
        assert!(!is_policy_arn("authdemo-boundary"));
    }
}
