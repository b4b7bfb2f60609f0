//! The warnings of the report: grants wider than the routes need, routes open to guests or
//! strangers, and routes their stage serves differently.

use super::guest_session::GUEST_SESSION_POLICY_NAME;
use super::{AWS_IAM, Caller, Deployment, INVOKE, LiveRoute, Role, RouteAccess, Verdict};
use crate::access::policy::{Effect, OneOrMany, Statement, applicable, wildcard_match};

/// The warning naming the routes a stranger can call after signing themselves up, beyond
/// what the public can with or without the stack's API key (which web pages carry).
pub(super) fn strangers_routes(routes: &[RouteAccess]) -> Option<String> {
    let names: Vec<&str> = routes
        .iter()
        .filter(|r| r.callers.get(&Caller::Anyone) == Some(&Verdict::Allow))
        .filter(|r| [Caller::Public, Caller::ApiKey].iter().all(|c| r.callers.get(c) != Some(&Verdict::Allow)))
        .map(|r| r.route.as_str())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "self sign-up is on: anyone holding an app client's id can create a user, sign in and call {} \
             (set `user_pool.self_sign_up: false` unless that is what you want)",
            names.join(", ")
        )
    })
}

/// Warnings for the Allow statements of `role` that grant Invoke on this API's routes more
/// widely than the routes need: on `*`, by exclusion, or on other APIs or stages too.
pub(super) fn wide_grants(deployment: &Deployment, label: &str, role: &Role) -> Vec<String> {
    let arns: Vec<String> = deployment.routes.iter().map(|r| deployment.method_arn(r)).collect();
    let mut warnings = Vec::new();
    for policy in &role.policies {
        let allows = |s: &&Statement| s.effect == Effect::Allow && s.covers_action(INVOKE);
        for statement in policy.document.statements.items().iter().filter(allows) {
            let covered = arns.iter().any(|arn| statement.covers_resource(arn));
            let widths: Vec<String> = if statement.not_resource.is_some() && covered {
                vec!["every resource but those its NotResource names".into()]
            } else {
                let patterns = statement.resource.iter().flat_map(OneOrMany::items);
                let relevant = patterns.filter(|p| arns.iter().any(|arn| wildcard_match(p, arn)));
                relevant.filter_map(|pattern| width(deployment, pattern)).collect()
            };
            for what in widths {
                warnings
                    .push(format!("the {label} role {} allows {INVOKE} on {what} (policy {})", role.name, policy.name));
            }
        }
    }
    warnings
}

/// How a resource pattern that covers some of this API's routes is wider than this API's
/// stage, if it is.
fn width(deployment: &Deployment, pattern: &str) -> Option<String> {
    if pattern == "*" {
        return Some("`*`: every API and stage of every account".into());
    }
    let Some(rest) = pattern.strip_prefix(&deployment.api_prefix()) else {
        return Some(format!("`{pattern}`, which covers other APIs too"));
    };
    let stage = rest.split('/').next().unwrap_or_default();
    (stage != deployment.stage).then(|| format!("`{pattern}`, which covers other stages of the API too"))
}

/// Warnings for the routes guests can call: an iam route the unauthenticated role opens, and
/// any route guests call without a key (so no usage plan throttles it); and for routes whose
/// stage serves other settings than the method's.
pub(super) fn open_routes(deployment: &Deployment, routes: &[RouteAccess]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (route, access) in deployment.routes.iter().map(|r| (r, routes.iter().find(|a| a.route == r.key()))) {
        let Some(access) = access else { continue };
        let guest = access.callers[&Caller::Guest] == Verdict::Allow;
        if route.authorization == AWS_IAM {
            warnings.extend(guest_grant(deployment, route, &access.route, guest));
        }
        if guest && !route.api_key_required {
            warnings.push(format!(
                "{}: guests can call it without an API key, so no usage plan throttles or limits it",
                access.route
            ));
        }
        if let Some(deployed) = &route.deployed_differently {
            warnings.push(format!(
                "{}: the stage's deployment serves it {deployed}, not as its method is set: an apply of the stack deploys it",
                access.route
            ));
        }
    }
    warnings
}

/// The warning for an iam route that the unauthenticated role allows guests to invoke: wider
/// than the routes need, whether or not Cognito's session policy stops guests today.
fn guest_grant(deployment: &Deployment, route: &LiveRoute, name: &str, guest_allowed: bool) -> Option<String> {
    let role = deployment.guest_role.as_ref()?;
    let arn = deployment.method_arn(route);
    let grants: Vec<String> = applicable(&role.policies, INVOKE, &arn)
        .filter(|(_, statement)| statement.effect == Effect::Allow)
        .map(|(grant, _)| grant.policy)
        .collect();
    if grants.is_empty() {
        return None;
    }
    let consequence = if guest_allowed {
        "guests can call this iam route".to_string()
    } else {
        format!("guests are kept out only by Cognito's session policy {GUEST_SESSION_POLICY_NAME}")
    };
    Some(format!(
        "{name}: the unauthenticated role {} allows {INVOKE} on this iam route (policy {}): {consequence}",
        role.name,
        grants.join(", ")
    ))
}
