//! The desired state: the resources a validated [`Stack`] asks for, as attributes to diff.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::policy_document::document;
use super::{Address, Attributes, ResourceKind, Value, reference};
use crate::artifact::Artifact;
use crate::secret::Secret;
use crate::stack::{Api, Auth, Function, IdentityPool, Route, SignIn, Stack, UsagePlan, UserPool};

/// One resource the stack file asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredResource {
    /// Its address.
    pub address: Address,
    /// Its settings.
    pub attributes: Attributes,
    /// Resources that must exist before it.
    pub depends_on: Vec<Address>,
}

/// Everything the stack file asks for, plus what is sent but not diffed: secrets and code.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredState {
    /// The stack name.
    pub stack: String,
    /// The resources, parents before children.
    pub resources: Vec<DesiredResource>,
    /// Secret values by resource and field, e.g. a user's password.
    pub secrets: BTreeMap<(Address, String), Secret>,
    /// Code packages by function (their hashes are attributes).
    pub artifacts: BTreeMap<Address, Artifact>,
}

/// Where the stack goes: ARNs name the region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The AWS region.
    pub region: String,
    /// The AWS account id.
    pub account: String,
}

impl DesiredState {
    /// The resource at `address`, if the stack asks for it.
    pub fn get(&self, address: &Address) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| &r.address == address)
    }
}

/// `password_status` of a user whose permanent password is set (an interrupted create leaves
/// the password temporary; the next apply finishes it).
pub const PASSWORD_SET: &str = "permanent";

/// The address of the stack's user pool.
pub fn user_pool_address() -> Address {
    Address::new(ResourceKind::UserPool, "main")
}

/// The address of the stack's identity pool.
pub fn identity_pool_address() -> Address {
    Address::new(ResourceKind::IdentityPool, "main")
}

/// The name of the inline policy holding a role's statements from the stack file.
pub const EXTRA_POLICY: &str = "authdemo-extra";

/// The name of the inline policy letting signed-in users invoke the `auth: iam` routes.
pub const INVOKE_POLICY: &str = "authdemo-invoke";

/// The address of the stack's REST API.
pub fn rest_api_address() -> Address {
    Address::new(ResourceKind::RestApi, "main")
}

/// The physical name of a stack's function.
pub fn function_name(stack: &str, function: &str) -> String {
    format!("{stack}-{function}")
}

/// The address of a function's execution role.
pub fn function_role_address(function: &str) -> Address {
    Address::new(ResourceKind::IamRole, format!("fn-{function}"))
}

/// The statement id of the permission for `route_key` in its function's policy: the key itself,
/// every character but letters and digits written `_XX` (hex), so [`route_of_sid`] can read it
/// back; keys too long for a statement id (100 characters) get a hash instead.
pub fn permission_sid(route_key: &str) -> String {
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
pub fn route_of_sid(sid: &str) -> Option<String> {
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

/// The fingerprint of a route table, carried in the stage's deployment description.
pub fn routes_fingerprint(routes: &[Route]) -> String {
    let mut hasher = Sha256::new();
    for route in routes {
        hasher
            .update(format!("{} {} {} {:?} {}\n", route.method, route.path, route.function, route.auth, route.api_key));
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Derives the desired state from a stack going to `target`.
pub fn desired_state(stack: &Stack, target: &Target) -> DesiredState {
    let mut state = DesiredState {
        stack: stack.name.clone(),
        resources: Vec::new(),
        secrets: BTreeMap::new(),
        artifacts: BTreeMap::new(),
    };
    if let Some(pool) = &stack.user_pool {
        add_user_pool(&mut state, pool);
    }
    if let Some(pool) = &stack.identity_pool {
        add_identity_pool(&mut state, pool);
    }
    for (name, function) in &stack.functions {
        add_function(&mut state, target, name, function);
    }
    if let Some(api) = &stack.api {
        add_api(&mut state, target, api);
        if let Some(plan) = &stack.usage_plan {
            add_usage_plan(&mut state, &api.stage, plan);
        }
    }
    state
}

/// The usage plan on the API's stage, each API key, and each key's link to the plan.
fn add_usage_plan(state: &mut DesiredState, stage: &str, plan: &UsagePlan) {
    let address = Address::new(ResourceKind::UsagePlan, "main");
    state.resources.push(DesiredResource {
        address: address.clone(),
        attributes: Attributes::from([
            ("throttle.rate".into(), Value::Int(plan.rate)),
            ("throttle.burst".into(), Value::Int(plan.burst)),
            ("quota.limit".into(), Value::Int(plan.quota_limit)),
            ("quota.period".into(), Value::Str(plan.quota_period.clone())),
            ("api_stages".into(), Value::list([format!("{}:{stage}", reference(&rest_api_address()))])),
        ]),
        depends_on: vec![rest_api_address(), Address::new(ResourceKind::ApiStage, stage)],
    });
    for key in &plan.api_keys {
        let key_address = Address::new(ResourceKind::ApiKey, &key.name);
        let mut attributes = Attributes::from([("enabled".into(), Value::Bool(true))]);
        if let Some(value) = &key.value {
            attributes.insert("value".into(), Value::Sensitive);
            state.secrets.insert((key_address.clone(), "value".into()), value.clone());
        }
        state.resources.push(DesiredResource { address: key_address.clone(), attributes, depends_on: Vec::new() });
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::UsagePlanKey, &key.name),
            attributes: Attributes::from([("key".into(), Value::Str(reference(&key_address)))]),
            depends_on: vec![address.clone(), key_address],
        });
    }
}

/// A function and its execution role (Lambda trust, logging to its own log group, `policy`).
fn add_function(state: &mut DesiredState, target: &Target, name: &str, function: &Function) {
    let role = function_role_address(name);
    let physical = function_name(&state.stack, name);
    let log_group = format!("arn:aws:logs:{}:{}:log-group:/aws/lambda/{physical}:*", target.region, target.account);
    let mut policies = BTreeMap::from([(
        "authdemo-logging".to_string(),
        document(vec![json!({
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group,
        })]),
    )]);
    if !function.policy.is_empty() {
        policies.insert(EXTRA_POLICY.to_string(), document(function.policy.clone()));
    }
    let trust = document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": "lambda.amazonaws.com" },
        "Action": "sts:AssumeRole",
    })]);
    state.resources.push(DesiredResource {
        address: role.clone(),
        attributes: Attributes::from([
            ("trust_policy".into(), Value::Str(trust)),
            ("policies".into(), Value::Map(policies)),
        ]),
        depends_on: Vec::new(),
    });
    let address = Address::new(ResourceKind::Function, name);
    state.resources.push(DesiredResource {
        address: address.clone(),
        attributes: Attributes::from([
            ("runtime".into(), Value::Str(function.runtime.clone())),
            ("handler".into(), Value::Str(function.handler.clone())),
            ("memory_mb".into(), Value::Int(function.memory_mb)),
            ("timeout_s".into(), Value::Int(function.timeout_s)),
            ("environment".into(), Value::Map(function.environment.clone())),
            ("code_sha256".into(), Value::Str(function.code.sha256.clone())),
            ("role".into(), Value::Str(reference(&role))),
        ]),
        depends_on: vec![role],
    });
    state.artifacts.insert(address, function.code.clone());
}

/// The REST API: every path as a resource, every route as a method with its Lambda proxy
/// integration and invoke permission, the stage, and the invoke policy of signed-in users.
fn add_api(state: &mut DesiredState, target: &Target, api: &Api) {
    let rest_api = rest_api_address();
    let api_ref = reference(&rest_api);
    state.resources.push(DesiredResource {
        address: rest_api.clone(),
        attributes: Attributes::from([("endpoint_type".into(), Value::Str("REGIONAL".into()))]),
        depends_on: Vec::new(),
    });
    let mut paths: Vec<String> = Vec::new();
    for route in &api.routes {
        let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
        for depth in 1..=segments.len() {
            let path = format!("/{}", segments[..depth].join("/"));
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    paths.sort_unstable();
    for path in &paths {
        let (parent, part) = path.rsplit_once('/').expect("paths start with /");
        let mut depends_on = vec![rest_api.clone()];
        if !parent.is_empty() {
            depends_on.push(Address::new(ResourceKind::ApiResource, parent));
        }
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::ApiResource, path),
            attributes: Attributes::from([("path_part".into(), Value::Str(part.to_string()))]),
            depends_on,
        });
    }
    let mut routes = Vec::new();
    for route in &api.routes {
        let function = Address::new(ResourceKind::Function, &route.function);
        let address = Address::new(ResourceKind::ApiRoute, route.key());
        let mut depends_on = vec![rest_api.clone(), function.clone()];
        if route.path != "/" {
            depends_on.push(Address::new(ResourceKind::ApiResource, &route.path));
        }
        let uri = format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
            target.region,
            reference(&function)
        );
        state.resources.push(DesiredResource {
            address: address.clone(),
            attributes: Attributes::from([
                ("authorization".into(), Value::Str(if route.auth == Auth::Iam { "AWS_IAM" } else { "NONE" }.into())),
                ("api_key_required".into(), Value::Bool(route.api_key)),
                ("integration_uri".into(), Value::Str(uri)),
            ]),
            depends_on,
        });
        let source =
            format!("arn:aws:execute-api:{}:{}:{api_ref}/*/{}", target.region, target.account, arn_route(route));
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::LambdaPermission, route.key()),
            attributes: Attributes::from([
                ("function".into(), Value::Str(reference(&function))),
                ("source_arn".into(), Value::Str(source)),
            ]),
            depends_on: vec![function, rest_api.clone()],
        });
        routes.push(address);
    }
    routes.insert(0, rest_api.clone());
    state.resources.push(DesiredResource {
        address: Address::new(ResourceKind::ApiStage, &api.stage),
        attributes: Attributes::from([("routes_fingerprint".into(), Value::Str(routes_fingerprint(&api.routes)))]),
        depends_on: routes,
    });
    let invocable: Vec<String> = api
        .routes
        .iter()
        .filter(|r| r.auth == Auth::Iam)
        .map(|r| {
            format!("arn:aws:execute-api:{}:{}:{api_ref}/{}/{}", target.region, target.account, api.stage, arn_route(r))
        })
        .collect();
    let authenticated = Address::new(ResourceKind::IamRole, "authenticated");
    if let Some(role) = state.resources.iter_mut().find(|r| r.address == authenticated)
        && !invocable.is_empty()
    {
        if let Some(Value::Map(policies)) = role.attributes.get_mut("policies") {
            let statement = json!({ "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": invocable });
            policies.insert(INVOKE_POLICY.to_string(), document(vec![statement]));
        }
        role.depends_on.push(rest_api);
    }
}

/// `METHOD/PATH` as execute-api ARNs write it: `*` for ANY and for path parameters, no leading `/`.
fn arn_route(route: &Route) -> String {
    let method = if route.method == "ANY" { "*" } else { route.method.as_str() };
    let path: Vec<&str> =
        route.path.trim_start_matches('/').split('/').map(|s| if s.starts_with('{') { "*" } else { s }).collect();
    format!("{method}/{}", path.join("/"))
}

/// The identity pool, its two roles (trusting exactly this pool) and the role attachment.
fn add_identity_pool(state: &mut DesiredState, pool: &IdentityPool) {
    let address = identity_pool_address();
    let clients: Vec<Address> = pool.clients.iter().map(|c| Address::new(ResourceKind::UserPoolClient, c)).collect();
    let mut depends_on = clients.clone();
    if !clients.is_empty() {
        depends_on.insert(0, user_pool_address());
    }
    state.resources.push(DesiredResource {
        address: address.clone(),
        attributes: Attributes::from([
            ("allow_unauthenticated".into(), Value::Bool(pool.allow_unauthenticated)),
            ("providers".into(), Value::set(clients.iter().map(reference))),
            ("server_side_token_check".into(), Value::Bool(pool.server_side_token_check)),
        ]),
        depends_on,
    });
    let mut roles = vec![("authenticated", &pool.authenticated_policy)];
    if pool.allow_unauthenticated {
        roles.push(("unauthenticated", &pool.unauthenticated_policy));
    }
    let mut attachment = BTreeMap::new();
    let mut role_addresses = Vec::new();
    for (kind, statements) in roles {
        let role = Address::new(ResourceKind::IamRole, kind);
        let mut policies = BTreeMap::new();
        if !statements.is_empty() {
            policies.insert(EXTRA_POLICY.to_string(), document(statements.clone()));
        }
        state.resources.push(DesiredResource {
            address: role.clone(),
            attributes: Attributes::from([
                ("trust_policy".into(), Value::Str(identity_trust_policy(&address, kind))),
                ("policies".into(), Value::Map(policies)),
            ]),
            depends_on: vec![address.clone()],
        });
        attachment.insert(kind.to_string(), reference(&role));
        role_addresses.push(role);
    }
    role_addresses.insert(0, address);
    state.resources.push(DesiredResource {
        address: Address::new(ResourceKind::IdentityPoolRoles, "main"),
        attributes: Attributes::from([("roles".into(), Value::Map(attachment))]),
        depends_on: role_addresses,
    });
}

/// Trust for Cognito identities of `pool`, `amr` being `authenticated` or `unauthenticated`.
fn identity_trust_policy(pool: &Address, amr: &str) -> String {
    document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Federated": "cognito-identity.amazonaws.com" },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": { "cognito-identity.amazonaws.com:aud": reference(pool) },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
    })])
}

fn add_user_pool(state: &mut DesiredState, pool: &UserPool) {
    let pool_address = user_pool_address();
    let policy = &pool.password_policy;
    let sign_in = match pool.sign_in {
        SignIn::Username => vec!["username"],
        SignIn::Email => vec!["email"],
        SignIn::PhoneNumber => vec!["phone_number"],
        SignIn::EmailOrPhoneNumber => vec!["email", "phone_number"],
    };
    state.resources.push(DesiredResource {
        address: pool_address.clone(),
        attributes: Attributes::from([
            ("sign_in".into(), Value::list(sign_in)),
            ("custom_attributes".into(), Value::Map(pool.custom_attributes.clone())),
            ("password_policy.min_length".into(), Value::Int(policy.min_length)),
            ("password_policy.require_uppercase".into(), Value::Bool(policy.require_uppercase)),
            ("password_policy.require_lowercase".into(), Value::Bool(policy.require_lowercase)),
            ("password_policy.require_numbers".into(), Value::Bool(policy.require_numbers)),
            ("password_policy.require_symbols".into(), Value::Bool(policy.require_symbols)),
            (
                "password_policy.temporary_password_validity_days".into(),
                Value::Int(policy.temporary_password_validity_days),
            ),
            ("auto_verified_attributes".into(), Value::set(pool.auto_verified_attributes.clone())),
            ("deletion_protection".into(), Value::Bool(pool.deletion_protection)),
        ]),
        depends_on: Vec::new(),
    });
    if let Some(domain) = &pool.domain {
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::UserPoolDomain, "main"),
            attributes: Attributes::from([("domain".into(), Value::Str(domain.clone()))]),
            depends_on: vec![pool_address.clone()],
        });
    }
    for (name, client) in &pool.clients {
        state.resources.push(DesiredResource {
            address: Address::new(ResourceKind::UserPoolClient, name),
            attributes: Attributes::from([
                ("callback_urls".into(), Value::list(client.callback_urls.clone())),
                ("logout_urls".into(), Value::list(client.logout_urls.clone())),
                ("oauth_flows".into(), Value::set(client.oauth_flows.clone())),
                ("oauth_scopes".into(), Value::set(client.oauth_scopes.clone())),
                ("auth_flows".into(), Value::set(client.auth_flows.clone())),
            ]),
            depends_on: vec![pool_address.clone()],
        });
    }
    for (name, user) in &pool.users {
        let address = Address::new(ResourceKind::UserPoolUser, name);
        let mut attributes = Attributes::from([("attributes".into(), Value::Map(user.attributes.clone()))]);
        if let Some(password) = &user.password {
            attributes.insert("password".into(), Value::Sensitive);
            attributes.insert("password_status".into(), Value::Str(PASSWORD_SET.into()));
            state.secrets.insert((address.clone(), "password".into()), password.clone());
        }
        state.resources.push(DesiredResource { address, attributes, depends_on: vec![pool_address.clone()] });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
