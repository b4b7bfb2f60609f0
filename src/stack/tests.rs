use std::path::Path;

use super::cors::DEFAULT_HEADERS;
use super::user_pool::PasswordPolicy;
use super::*;

const VALID: &str = "\
stack: demo-${var.env}
vars:
  env: dev
user_pool:
  domain: demo-${var.env}
  clients:
    web:
      callback_urls: [\"http://localhost:3000/\"]
      oauth: { flows: [code], scopes: [openid] }
  users:
    alice:
      attributes: { email: alice@example.com }
      password: ${env:ALICE_PASSWORD}
";

fn parse_with(text: &str, vars: &[(&str, &str)]) -> Result<Stack, Diagnostics> {
    let env = |name: &str| (name == "ALICE_PASSWORD").then(|| "Secret-123".to_string());
    let overrides: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    parse(Path::new("s.yaml"), text, &LoadOptions { var_overrides: &overrides, env: &env })
}

#[test]
fn reads_a_valid_stack_with_defaults_and_interpolation() {
    let stack = parse_with(VALID, &[("env", "pr-42")]).unwrap();
    assert_eq!(stack.name, "demo-pr-42");
    let pool = stack.user_pool.unwrap();
    assert_eq!(pool.domain.as_deref(), Some("demo-pr-42"));
    assert_eq!(pool.password_policy, PasswordPolicy::default());
    assert_eq!(pool.sign_in, SignIn::Username);
    assert_eq!(pool.clients["web"].auth_flows.len(), 3);
    let password = pool.users["alice"].password.as_ref().and_then(|p| p.value.as_ref());
    assert_eq!(password.map(super::super::secret::Secret::expose), Some("Secret-123"));
}

/// (stack file, expected "line:column", expected field path, expected words in the message)
const INVALID: &[(&str, &str, &str, &str)] = &[
    ("stack: demo\nfoo: 1\n", "2:1", "foo", "unknown field"),
    ("stak: demo\n", "1:1", "stak", "unknown field"),
    ("stack: demo\ntags:\n  aws:created-by: me\n", "3:3", "tags.aws:created-by", "reserved prefix"),
    ("stack: demo\ntags:\n  authdemo:id: x\n", "3:3", "tags.authdemo:id", "reserved prefix"),
    ("stack: demo\ntags: { \"a*b\": x }\n", "2:9", "tags.a*b", "contains `*`"),
    ("stack: demo\ntags: { team: \"a,b\" }\n", "2:15", "tags.team", "contains `,`"),
    ("stack: demo\ntags: { team: \"${var.nope}\" }\n", "2:15", "tags.team", "undefined variable `nope`"),
    ("stack: demo\ntags: [team]\n", "2:7", "tags", "expected a mapping"),
    ("region: us-west-2\n", "1:1", "stack", "required field is missing"),
    ("stack: Demo\n", "1:8", "stack", "not a valid stack name"),
    ("stack: a-very-long-stack-name-that-is-over-32\n", "1:8", "stack", "not a valid stack name"),
    ("stack: demo\nregion: mars\n", "2:9", "region", "not an AWS region"),
    ("stack: demo-${var.nope}\n", "1:8", "stack", "undefined variable `nope`"),
    ("stack: demo-${env:AUTHDEMO_UNSET_FOR_TEST}\n", "1:8", "stack", "is not set"),
    ("stack: demo-${foo}\n", "1:8", "stack", "unknown reference"),
    ("stack: demo\nusage_plan: {}\n", "2:13", "usage_plan", "needs an API stage"),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api }\nusage_plan:\n  throttle: { rate: 0, burst: 1 }\n  quota: { limit: 5, period: DAY }\n",
        "12:21",
        "usage_plan.throttle.rate",
        "out of range",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api }\nusage_plan:\n  throttle: { rate: 1, burst: 1 }\n  quota: { limit: 5, period: YEAR }\n",
        "13:30",
        "usage_plan.quota.period",
        "not allowed",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api }\nusage_plan:\n  throttle: { rate: 1, burst: 1 }\n  quota: { limit: 5, period: DAY }\n  api_keys: [a, a]\n",
        "14:17",
        "usage_plan.api_keys[1]",
        "duplicate entry",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api }\nusage_plan:\n  throttle: { rate: 1, burst: 1 }\n  quota: { limit: 5, period: DAY }\n  api_keys: [{ name: p, value: \"${env:ALICE_PASSWORD}\" }]\n",
        "14:32",
        "usage_plan.api_keys[0].value",
        "20 to 128",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: nowhere\n",
        "6:11",
        "functions.api.code",
        "does not exist",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: node20\n    handler: api.handler\n    code: examples/api\n",
        "4:14",
        "functions.api.runtime",
        "not allowed",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    code: examples/api\n",
        "4:5",
        "functions.api.handler",
        "required field is missing",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\n    memory_mb: 64\n",
        "7:16",
        "functions.api.memory_mb",
        "out of range",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\n    environment: { AWS_REGION: x }\n",
        "7:20",
        "functions.api.environment.AWS_REGION",
        "reserved by Lambda",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\n    environment: { LAMBDA_TASK_ROOT: x, LAMBDA_RUNTIME_DIR: y }\n",
        "7:41",
        "functions.api.environment.LAMBDA_RUNTIME_DIR",
        "reserved by Lambda",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\n    environment: { 2FA: x }\n",
        "7:20",
        "functions.api.environment.2FA",
        "not a valid environment variable name",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: apy }\n",
        "10:25",
        "api.routes.GET /a.function",
        "is not a function",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    FETCH /a: { function: api }\n",
        "10:5",
        "api.routes.FETCH /a",
        "not an HTTP method",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a//b: { function: api }\n",
        "10:5",
        "api.routes.GET /a//b",
        "has an empty segment",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET //: { function: api }\n",
        "10:5",
        "api.routes.GET //",
        "has an empty segment",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a-b: { function: api }\n    GET /a+b: { function: api }\n",
        "11:5",
        "api.routes.GET /a+b",
        "not a valid path segment",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /items/{id}: { function: api }\n    GET /items/{key}/tags: { function: api }\n",
        "11:5",
        "api.routes.GET /items/{key}/tags",
        "two parameter names at `/items/`",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api }\n    GET /health/: { function: api }\n",
        "11:5",
        "api.routes.GET /health/",
        "ends with `/`",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  routes: {}\n",
        "8:3",
        "api.stage",
        "required field is missing",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  routes: {}\n",
        "8:11",
        "api.routes",
        "no routes",
    ),
    ("stack: demo\napi:\n  stage: v1\n", "3:3", "api.routes", "no routes"),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api, api_key: true }\n",
        "10:39",
        "api.routes.GET /a.api_key",
        "no `usage_plan`",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: api.handler\n    code: examples/api\napi:\n  stage: v1\n  routes:\n    GET /a: { function: api, auth: cognito }\n",
        "10:36",
        "api.routes.GET /a.auth",
        "not allowed",
    ),
    ("stack: demo\nidentity_pool: {}\n", "2:16", "identity_pool", "credentials to nobody"),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web: {}\nidentity_pool:\n  clients: [mobile]\n",
        "6:13",
        "identity_pool.clients",
        "`mobile` is not a client",
    ),
    ("stack: demo\nidentity_pool:\n  clients: [web]\n", "3:13", "identity_pool.clients", "`web` is not a client"),
    (
        "stack: demo\nidentity_pool:\n  allow_unauthenticated: true\n  clients: []\n  unauthenticated_policy: [{ Effect: Allow, Action: s3:GetObject }]\n",
        "5:30",
        "identity_pool.unauthenticated_policy[0].Resource",
        "exactly one of `Resource`",
    ),
    (
        "stack: demo\nidentity_pool:\n  allow_unauthenticated: false\n  unauthenticated_policy: [{ Effect: Allow, Action: s3:GetObject, Resource: \"*\" }]\n",
        "4:27",
        "identity_pool.unauthenticated_policy",
        "would never apply",
    ),
    (
        "stack: demo\nidentity_pool:\n  allow_unauthenticated: true\n  authenticated_policy:\n    - { Effect: Allow, Action: [GetObject], Resource: \"*\" }\n",
        "5:32",
        "identity_pool.authenticated_policy[0].Action",
        "not an IAM action",
    ),
    (
        "stack: demo\nidentity_pool:\n  allow_unauthenticated: true\n  authenticated_policy:\n    - { Effect: Permit, Action: [s3:GetObject], Resource: \"*\" }\n",
        "5:17",
        "identity_pool.authenticated_policy[0].Effect",
        "not allowed",
    ),
    ("stack: demo\nuser_pool: [1]\n", "2:12", "user_pool", "expected a mapping"),
    ("stack: demo\nuser_pool:\n  pasword_policy: {}\n", "3:3", "user_pool.pasword_policy", "unknown field"),
    (
        "stack: demo\nuser_pool:\n  password_policy: { min_length: 3 }\n",
        "3:34",
        "user_pool.password_policy.min_length",
        "out of range",
    ),
    (
        "stack: demo\nuser_pool:\n  password_policy: { min_length: eight }\n",
        "3:34",
        "user_pool.password_policy.min_length",
        "whole number",
    ),
    (
        "stack: demo\nuser_pool:\n  password_policy: { require_numbers: yes }\n",
        "3:39",
        "user_pool.password_policy.require_numbers",
        "true or false",
    ),
    ("stack: demo\nuser_pool:\n  sign_in: [username, email]\n", "3:12", "user_pool.sign_in", "must be [username]"),
    ("stack: demo\nuser_pool:\n  sign_in: [mail]\n", "3:13", "user_pool.sign_in[0]", "not allowed"),
    (
        "stack: demo\nuser_pool:\n  auto_verified_attributes: [email, email]\n",
        "3:37",
        "user_pool.auto_verified_attributes[1]",
        "duplicate",
    ),
    ("stack: demo\nuser_pool:\n  domain: my-aws-login\n", "3:11", "user_pool.domain", "domain prefix"),
    ("stack: demo\nuser_pool:\n  domain: Bad_Domain\n", "3:11", "user_pool.domain", "domain prefix"),
    (
        "stack: demo\nuser_pool:\n  custom_attributes: { team: text }\n",
        "3:30",
        "user_pool.custom_attributes.team",
        "not allowed",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      callback_url: []\n",
        "5:7",
        "user_pool.clients.web.callback_url",
        "unknown field",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      callback_urls: [\"http://example.com/\"]\n",
        "5:23",
        "user_pool.clients.web.callback_urls[0]",
        "redirect URL",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      oauth: { flows: [code], scopes: [openid] }\n",
        "5:7",
        "user_pool.clients.web.callback_urls",
        "callback URL",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      oauth: { flows: [code, client_credentials], scopes: [openid] }\n      callback_urls: [\"https://a.b/\"]\n",
        "5:30",
        "user_pool.clients.web.oauth.flows[1]",
        "needs a client secret",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    m2m:\n      oauth: { flows: [client_credentials], scopes: [openid] }\n",
        "5:24",
        "user_pool.clients.m2m.oauth.flows[0]",
        "needs a client secret",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      oauth: { flows: [code] }\n      callback_urls: [\"https://a.b/\"]\n",
        "5:16",
        "user_pool.clients.web.oauth",
        "both `flows` and `scopes`",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      oauth: { flows: [code], scopes: [opnid] }\n      callback_urls: [\"https://a.b/\"]\n",
        "5:40",
        "user_pool.clients.web.oauth.scopes[0]",
        "not allowed",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      auth_flows: [USER_SRP_AUTH]\n",
        "5:20",
        "user_pool.clients.web.auth_flows[0]",
        "not allowed",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    \"bad name\": {}\n",
        "4:5",
        "user_pool.clients.bad name",
        "not a valid name",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    bob:\n      password: hunter2\n",
        "5:17",
        "user_pool.users.bob.password",
        "from the environment",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    bob:\n      attributes: { emial: b@c.d }\n",
        "5:21",
        "user_pool.users.bob.attributes.emial",
        "unknown user attribute",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    bob:\n      attributes: { email: bob }\n",
        "5:28",
        "user_pool.users.bob.attributes.email",
        "not an email",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    bob:\n      attributes: { \"custom:team\": x }\n",
        "5:21",
        "user_pool.users.bob.attributes.custom:team",
        "unknown user attribute",
    ),
    (
        "stack: demo\nuser_pool:\n  sign_in: [email]\n  users:\n    bob: {}\n",
        "5:5",
        "user_pool.users.bob",
        "must be an email address",
    ),
    ("stack: demo\n---\nstack: other\n", "2:1", "", "second YAML document"),
    ("---\nstack: Demo\n--- # b\nstack: other\n", "3:1", "", "second YAML document"),
    ("stack: demo\n...\n# c\n  region: x\n", "4:3", "", "second YAML document"),
    ("stack: demo\n...\n---\n", "3:1", "", "second YAML document"),
    ("stack: demo\nstack: again\n", "2:1", "", "duplicate key `stack`"),
    ("stack: demo\n  bad: [\n", "2:6", "", "invalid YAML"),
    ("- a\n- b\n", "1:1", "", "must be a mapping"),
    ("base: &b\n  x: 1\nstack: demo\n", "2:4", "", "anchors and aliases"),
    ("stack: demo\nvars:\n  env: dev\n", "3:3", "--var envv", "does not declare"),
];

#[test]
fn reports_each_invalid_stack_with_location_field_and_message() {
    assert!(INVALID.len() >= 25);
    let mut mismatches = Vec::new();
    for (text, at, path, words) in INVALID {
        let vars: &[(&str, &str)] = if path.starts_with("--var") { &[("envv", "x")] } else { &[] };
        let error = parse_with(text, vars).expect_err(text);
        let found = error.items.iter().find(|d| d.path == *path && d.message.contains(words));
        let Some(diagnostic) = found else {
            mismatches.push(format!("{text:?}: expected `{path}`: {words}, got {:?}", error.items));
            continue;
        };
        let location = format!("{}:{}", diagnostic.location.line, diagnostic.location.column);
        if &location != at || !error.to_string().contains(&format!("s.yaml:{at}: ")) {
            mismatches.push(format!("{text:?}: expected at {at}, got {diagnostic:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn reads_tags_with_interpolation_and_bounds_their_number() {
    let stack =
        parse_with("stack: demo\nvars: { env: dev }\ntags: { team: payments, env: \"${var.env}\" }\n", &[]).unwrap();
    let wanted: BTreeMap<String, String> =
        [("env", "dev"), ("team", "payments")].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(stack.tags, wanted);
    assert!(parse_with("stack: demo\n", &[]).unwrap().tags.is_empty());
    let many: String = (0..48).map(|i| format!("  k{i}: v\n")).collect();
    let error = parse_with(&format!("stack: demo\ntags:\n{many}"), &[]).unwrap_err();
    assert_eq!(error.items.len(), 1, "{error}");
    assert!(error.to_string().contains("s.yaml:3:3: tags: 48 tags are too many"), "{error}");
    let most: String = (0..47).map(|i| format!("  k{i}: v\n")).collect();
    assert_eq!(parse_with(&format!("stack: demo\ntags:\n{most}"), &[]).unwrap().tags.len(), 47);
}

#[test]
fn reports_every_error_at_once_in_file_order() {
    let text = "stack: Bad\nuser_pool:\n  domain: aws\n  password_policy: { min_length: 1 }\n  nope: 1\n";
    let error = parse_with(text, &[]).unwrap_err();
    let paths: Vec<&str> = error.items.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["stack", "user_pool.domain", "user_pool.password_policy.min_length", "user_pool.nope"]);
}

#[test]
fn checks_passwords_against_the_policy_without_echoing_them() {
    let text = "stack: demo\nuser_pool:\n  password_policy: { min_length: 12 }\n  users:\n    bob:\n      password: ${env:ALICE_PASSWORD}\n";
    let error = parse_with(text, &[]).unwrap_err();
    assert_eq!(error.items[0].path, "user_pool.users.bob.password");
    assert!(error.items[0].message.contains("10 characters long; the policy requires at least 12"));
    assert!(!error.to_string().contains("Secret-123"));
    assert_eq!(
        user_pool::policy_violation("lower-case-1", &PasswordPolicy::default()).as_deref(),
        Some("contains no uppercase letter, which the policy requires")
    );
    assert_eq!(user_pool::policy_violation("Upper-case-1", &PasswordPolicy::default()), None);
}

#[test]
fn never_echoes_a_secret_in_a_diagnostic() {
    let text = "stack: demo\nuser_pool:\n  users:\n    bob:\n      password: ${env:ALICE_PASSWORD}x\n";
    let error = parse_with(text, &[]).unwrap_err().to_string();
    assert!(error.contains("from the environment"));
    assert!(!error.contains("Secret-123"), "{error}");
}

#[test]
fn cuts_long_quoted_values_to_a_readable_length() {
    let domain = "x".repeat(100_000);
    let error = parse_with(&format!("stack: demo\nuser_pool:\n  domain: {domain}\n"), &[]).unwrap_err();
    let message = &error.items[0].message;
    assert_eq!(message, &format!("`{}…` is not a valid hosted-UI domain prefix", "x".repeat(60)));
    assert!(error.to_string().len() < 400, "{error}");
}

#[test]
fn reports_errors_that_other_errors_used_to_hide() {
    let text = "\
stack: demo
foo: 1
user_pool:
  domain: AWS
  clients:
    web: { oauth: { flows: [token], scopes: [opnid] } }
identity_pool:
  clients: [mobile]
functions:
  api: { runtime: node20, handler: api.handler, code: examples/api }
api:
  stage: v1
  routes:
    GET /a: { function: apy, auth: cognito }
usage_plan:
  throttle: 5
  quota: { limit: 5, period: YEAR }
  api_keys: [{ name: \"bad name\", value: plain }]
";
    let error = parse_with(text, &[]).unwrap_err();
    let paths: Vec<&str> = error.items.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "foo",
            "user_pool.domain",
            "user_pool.clients.web.oauth.flows[0]",
            "user_pool.clients.web.oauth.scopes[0]",
            "identity_pool.clients",
            "functions.api.runtime",
            "api.routes.GET /a.function",
            "api.routes.GET /a.auth",
            "usage_plan.throttle",
            "usage_plan.quota.period",
            "usage_plan.api_keys[0]",
            "usage_plan.api_keys[0].value",
        ]
    );
}

#[test]
fn names_the_route_that_chose_a_parameter_name_first() {
    let routes = "    GET /{proxy+}: { function: api }\n    GET /items/{id}: { function: api }\n    GET /{id}: { function: api }\n    PUT /items/{key}/tags: { function: api }\n";
    let text = format!(
        "stack: demo\nfunctions:\n  api: {{ runtime: nodejs24.x, handler: a.b, code: examples/api }}\napi:\n  stage: v1\n  routes:\n{routes}"
    );
    let error = parse_with(&text, &[]).unwrap_err();
    let hints: Vec<&str> = error.items.iter().filter_map(|d| d.hint.as_deref()).collect();
    assert_eq!(
        hints,
        [
            "API Gateway allows one name per level: `GET /{proxy+}` names it `{proxy+}`; use `{proxy+}` here too",
            "API Gateway allows one name per level: `GET /items/{id}` names it `{id}`; use `{id}` here too",
        ]
    );
}

#[test]
fn reads_one_document_with_explicit_markers() {
    let stack = parse_with("# a stack\n---\nstack: demo\nregion: us-west-2\n...\n# the end\n", &[]).unwrap();
    assert_eq!((stack.name.as_str(), stack.region.as_deref()), ("demo", Some("us-west-2")));
}

#[test]
fn lets_functions_set_the_environment_variables_lambda_does_not_reserve() {
    let environment =
        "{ AWS_LAMBDA_EXEC_WRAPPER: /opt/wrap, LANG: C.UTF-8, TZ: UTC, NODE_OPTIONS: --enable-source-maps }";
    let text = format!(
        "stack: demo\nfunctions:\n  api: {{ runtime: nodejs24.x, handler: a.b, code: examples/api, environment: {environment} }}\n"
    );
    let stack = parse_with(&text, &[]).unwrap();
    let names: Vec<&str> = stack.functions["api"].environment.keys().map(String::as_str).collect();
    assert_eq!(names, ["AWS_LAMBDA_EXEC_WRAPPER", "LANG", "NODE_OPTIONS", "TZ"]);
}

#[test]
fn hints_at_the_escape_for_an_iam_policy_variable() {
    let function = |resource: &str| {
        format!(
            "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: a.b\n    code: examples/api\n    policy:\n      - {{ Effect: Allow, Action: s3:GetObject, Resource: \"arn:aws:s3:::notes/{resource}/*\" }}\n"
        )
    };
    let error = parse_with(&function("${aws:username}"), &[]).unwrap_err();
    assert_eq!(error.items[0].path, "functions.api.policy[0].Resource");
    assert_eq!(error.items[0].message, "unknown reference `${aws:username}`");
    assert_eq!(
        error.items[0].hint.as_deref(),
        Some("for an IAM policy variable, write `$${aws:username}`: `$${` is a literal `${`")
    );
    let stack = parse_with(&function("$${aws:username}"), &[]).unwrap();
    assert_eq!(stack.functions["api"].policy[0]["Resource"][0], "arn:aws:s3:::notes/${aws:username}/*");
}

/// A stack with one route and `cors` (a line under `api:`, or nothing), with or without a client
/// whose callback URL is on `http://localhost:3000`.
fn with_cors(cors: &str, callback: bool) -> String {
    let clients = if callback {
        "user_pool:\n  clients:\n    web: { callback_urls: [\"http://localhost:3000/in\"] }\n"
    } else {
        ""
    };
    format!(
        "stack: demo\n{clients}functions:\n  api: {{ runtime: nodejs24.x, handler: api.handler, code: examples/api }}\napi:\n  stage: v1\n  routes:\n    GET /a: {{ function: api }}\n    ANY /b: {{ function: api }}\n{cors}"
    )
}

fn cors_of(text: &str) -> Option<Cors> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("s.yaml");
    let env = |_: &str| None;
    parse(&file, text, &LoadOptions { var_overrides: &[], env: &env }).unwrap().api.unwrap().cors
}

#[test]
fn cors_defaults_to_the_callback_origins_and_can_be_set_or_turned_off() {
    let default = cors_of(&with_cors("", true)).unwrap();
    assert_eq!(default.origins, ["http://localhost:3000"]);
    assert_eq!(default.headers, DEFAULT_HEADERS);
    assert_eq!(default.max_age_s, 600);
    assert_eq!(cors_of(&with_cors("", false)), None);
    assert_eq!(cors_of(&with_cors("  cors: false\n", true)), None);
    assert_eq!(cors_of(&with_cors("  cors: true\n", true)), Some(default));
    let set = "  cors: { origins: [\"https://B.example.com:443\", \"http://a.example.com\"], headers: [X-Trace, x-api-key], max_age_s: 0 }\n";
    let set = cors_of(&with_cors(set, false)).unwrap();
    assert_eq!(set.origins, ["http://a.example.com", "https://b.example.com"]);
    assert_eq!(set.headers.last().map(String::as_str), Some("X-Trace"));
    assert_eq!(set.headers.len(), DEFAULT_HEADERS.len() + 1);
    assert_eq!(set.max_age_s, 0);
}

#[test]
fn reports_each_invalid_cors_setting_with_its_location() {
    for (cors, callback, expected) in [
        (
            "  cors: { origins: [localhost:3000] }\n",
            true,
            "12:21: api.cors.origins[0]: `localhost:3000` is not an origin: it has no scheme",
        ),
        (
            "  cors: { origins: [\"http://localhost:3000/\"] }\n",
            true,
            "12:21: api.cors.origins[0]: `http://localhost:3000/` is not an origin: it has a path",
        ),
        ("  cors: { origins: [\"*\", \"http://a.com\"] }\n", true, "12:20: api.cors.origins: `*` allows every origin"),
        (
            "  cors: { origins: [\"http://a.com\", \"HTTP://A.com:80\"] }\n",
            true,
            "12:37: api.cors.origins[1]: duplicate entry",
        ),
        ("  cors: { origins: [] }\n", true, "12:20: api.cors.origins: no origin is listed"),
        ("  cors: true\n", false, "9:9: api.cors: CORS needs origins"),
        ("  cors: { max_age_s: 60 }\n", false, "9:11: api.cors.origins: CORS needs origins"),
        ("  cors: { max_age_s: 100000 }\n", true, "12:22: api.cors.max_age_s: 100000 is out of range"),
        ("  cors: { headers: [\"X Trace\"] }\n", true, "12:21: api.cors.headers[0]: `X Trace` is not a header name"),
        ("  cors: { origin: [\"http://a.com\"] }\n", true, "12:11: api.cors.origin: unknown field"),
        ("  cors: maybe\n", true, "12:9: api.cors: expected true or false"),
    ] {
        let text = with_cors(cors, callback);
        let errors = parse_with(&text, &[]).unwrap_err().to_string();
        assert!(errors.contains(expected), "{cors}: expected `{expected}` in:\n{errors}");
    }
}
