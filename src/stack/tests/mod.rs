use std::path::Path;

use super::cors::DEFAULT_HEADERS;
use super::user_pool::PasswordPolicy;
use super::*;

mod cognito;
mod invalid;

use invalid::INVALID;

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
fn reads_the_permissions_boundary() {
    let text = "stack: demo\niam:\n  permissions_boundary: arn:aws:iam::123456789012:policy/b\n";
    let stack = parse_with(text, &[]).unwrap();
    assert_eq!(stack.permissions_boundary.as_deref(), Some("arn:aws:iam::123456789012:policy/b"));
    assert_eq!(parse_with("stack: demo\n", &[]).unwrap().permissions_boundary, None);
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
    GET /a: { function: apy, auth: jwt }
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
