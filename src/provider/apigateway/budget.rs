//! AWS's size limits on the policies the API derives, met before any call: a function's resource
//! policy (20,480 bytes) holds one statement per route until that would come near the limit, then
//! one statement for the function on this API and stage; the authenticated role's invoke policy
//! lists exact method ARNs until the role's inline policies (10,240 characters without
//! whitespace) would not fit, then collapses them to the narrowest wildcards that match exactly
//! the same routes. [`check`] refuses a desired state whose roles still do not fit.

use serde_json::json;

use crate::provider::iam::RoleSpec;
use crate::resource::{DesiredState, Spec, Target};

/// IAM's limit on a role's inline policies together, in characters without whitespace.
pub(crate) const ROLE_POLICIES_LIMIT: usize = 10_240;
/// Lambda's limit on a function's resource policy, in bytes.
pub(crate) const FUNCTION_POLICY_LIMIT: usize = 20_480;
/// The share of [`FUNCTION_POLICY_LIMIT`] per-route statements may take (the rest is margin
/// for what AWS adds to a stored statement).
const FUNCTION_POLICY_BUDGET: usize = FUNCTION_POLICY_LIMIT * 3 / 4;
/// The longest an API id is (`abcde12345`), for a reference not yet resolved.
const ID_LENGTH: usize = 10;

/// The length `text` will have in AWS once its references are ids and an offline target's
/// placeholders (`ACCOUNT`, `REGION`) are a real account and the longest region name.
pub(super) fn aws_length(text: &str, target: &Target) -> usize {
    let mut length = text.len();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else { break };
        length = length - (end + 1) + ID_LENGTH;
        rest = &rest[start + end + 1..];
    }
    let occurrences = |placeholder: &str| text.matches(&format!(":{placeholder}:")).count();
    if target.account == "ACCOUNT" {
        length += occurrences("ACCOUNT") * ("123456789012".len() - "ACCOUNT".len());
    }
    if target.region == "REGION" {
        length += occurrences("REGION") * ("ap-southeast-4".len() - "REGION".len());
    }
    length
}

/// Whether one statement per route for `routes` (each `(statement id, source ARN)`) of the
/// function `function_arn` would come near the function's resource-policy limit.
pub(super) fn consolidate_permissions(function_arn: &str, routes: &[(String, String)], target: &Target) -> bool {
    let size: usize = routes
        .iter()
        .map(|(sid, source)| {
            let statement = json!({
                "Sid": sid, "Effect": "Allow", "Principal": { "Service": "apigateway.amazonaws.com" },
                "Action": "lambda:InvokeFunction", "Resource": function_arn,
                "Condition": { "ArnLike": { "AWS:SourceArn": source } },
            });
            aws_length(&statement.to_string(), target) + 1
        })
        .sum();
    size > FUNCTION_POLICY_BUDGET
}

/// The resources of the invoke policy: the `iam` route ARNs (`METHOD/PATH` after `prefix`) as
/// they are when `fits` says so, else collapsed level by level (deepest first) to `METHOD/…/*`
/// wildcards that match no route of `others` (a route that cannot be cut at a level is cut at
/// the next deeper one that keeps it exact, or kept whole); the most collapsed list when none fits.
pub(super) fn invoke_resources(
    prefix: &str,
    iam: &[String],
    others: &[String],
    fits: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let exact: Vec<String> = iam.iter().map(|route| format!("{prefix}{route}")).collect();
    if fits(&exact) {
        return exact;
    }
    let deepest = iam.iter().map(|route| route.matches('/').count()).max().unwrap_or(0);
    let mut collapsed = exact;
    for depth in (0..deepest).rev() {
        collapsed = Vec::new();
        for route in iam {
            let wildcard = (depth..route.matches('/').count())
                .find_map(|d| collapse(route, d, others))
                .unwrap_or_else(|| route.clone());
            let resource = format!("{prefix}{wildcard}");
            if !collapsed.contains(&resource) {
                collapsed.push(resource);
            }
        }
        if fits(&collapsed) {
            break;
        }
    }
    collapsed
}

/// `route` (`METHOD/a/b/c`) cut to its method and first `depth` path segments followed by `/*`,
/// if that is narrower than the route and can match no route of `others`.
fn collapse(route: &str, depth: usize, others: &[String]) -> Option<String> {
    let parts: Vec<&str> = route.split('/').collect();
    if parts.len() <= depth + 1 {
        return None;
    }
    let fixed = &parts[..=depth];
    others.iter().all(|other| !overlaps(fixed, other)).then(|| format!("{}/*", fixed.join("/")))
}

/// Whether `FIXED/*` and the route ARN `other` could match one request (a `*` path segment on
/// either side counts as a match of everything after it, which errs towards overlap).
fn overlaps(fixed: &[&str], other: &str) -> bool {
    let other: Vec<&str> = other.split('/').collect();
    for (i, segment) in fixed.iter().enumerate() {
        match other.get(i) {
            Some(&"*") if i == 0 => {}
            _ if i == 0 && *segment == "*" => {}
            Some(&"*") => return true,
            _ if *segment == "*" => return true,
            Some(o) if o == segment => {}
            _ => return false,
        }
    }
    other.len() > fixed.len()
}

/// The characters the inline policies of `role` take in AWS.
pub(super) fn role_size(role: &RoleSpec, target: &Target) -> usize {
    role.policies.values().map(|document| aws_length(document, target)).sum()
}

/// Refuses a desired state whose roles' inline policies cannot fit IAM's limit, with the
/// figure and the limit.
pub(crate) fn check(state: &DesiredState, target: &Target) -> Result<(), String> {
    let mut problems = Vec::new();
    for resource in state.resources.iter().filter(|r| r.address.kind == RoleSpec::KIND) {
        let Ok(role) = RoleSpec::from_attributes(&resource.attributes) else { continue };
        let size = role_size(&role, target);
        if size > ROLE_POLICIES_LIMIT {
            problems.push(format!(
                "{}: its inline policies take {size} characters without whitespace, past IAM's limit of \
                 {ROLE_POLICIES_LIMIT} per role (even with the invoke policy's ARNs collapsed to wildcards that \
                 keep the same routes); give fewer routes `auth: iam`, group them under fewer paths, or shorten \
                 the function's `policy`",
                resource.address
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn collapsed_wildcards_match_exactly_the_iam_routes() {
        let iam = routes(&["GET/items/a", "GET/items/b", "POST/items/a", "GET/open/x"]);
        let others = routes(&["GET/open/y", "OPTIONS/items/a", "*/other", "GET/items"]);
        let exact = invoke_resources("P/", &iam, &others, |_| true);
        assert_eq!(exact, routes(&["P/GET/items/a", "P/GET/items/b", "P/POST/items/a", "P/GET/open/x"]));
        let collapsed = invoke_resources("P/", &iam, &others, |list| list.len() <= 3);
        assert_eq!(collapsed, routes(&["P/GET/items/*", "P/POST/items/*", "P/GET/open/x"]));
        let at_most = invoke_resources("P/", &iam, &others, |_| false);
        assert_eq!(at_most, routes(&["P/GET/items/*", "P/POST/items/*", "P/GET/open/x"]));
    }

    #[test]
    fn a_wildcard_never_reaches_a_route_that_is_not_iam() {
        assert!(overlaps(&["GET", "items"], "GET/items/*"));
        assert!(overlaps(&["GET", "items"], "*/items/x"));
        assert!(overlaps(&["*", "items"], "OPTIONS/items/x"));
        assert!(overlaps(&["GET"], "GET/"));
        assert!(!overlaps(&["GET", "items"], "GET/items"));
        assert!(!overlaps(&["GET", "items"], "POST/items/x"));
        assert!(overlaps(&["GET", "*"], "GET/a/b"));
    }

    #[test]
    fn placeholders_count_at_their_aws_length() {
        let target = Target { partition: "aws".into(), region: "REGION".into(), account: "ACCOUNT".into() };
        let text = "arn:aws:execute-api:REGION:ACCOUNT:${rest_api.api.id}/v1/GET/x";
        assert_eq!(
            aws_length(text, &target),
            "arn:aws:execute-api:ap-southeast-4:123456789012:abcde12345/v1/GET/x".len()
        );
    }
}
