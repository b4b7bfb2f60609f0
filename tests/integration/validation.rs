//! Malformed stack files: exit 1, every error with file:line:column and field, and no AWS request
//! at all (the endpoint is a port where nothing listens, so any request would fail differently).

use std::net::TcpListener;

use crate::support::{StackFile, authdemo};

/// A loopback endpoint where nothing listens.
fn dead_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// (stack file, expected `line:column: field` in the message)
const CASES: &[(&str, &str)] = &[
    ("stack: demo\nunknown: 1\n", "2:1: unknown"),
    ("stack: demo\nregoin: us-west-2\n", "2:1: regoin"),
    ("region: us-west-2\n", "1:1: stack"),
    ("stack: Demo_Stack\n", "1:8: stack"),
    ("stack: demo\nregion: moon-base\n", "2:9: region"),
    ("stack: demo-${var.missing}\n", "1:8: stack"),
    ("stack: demo-${env:AUTHDEMO_TEST_NEVER_SET}\n", "1:8: stack"),
    ("stack: demo\nusage_plan: {}\n", "2:13: usage_plan"),
    ("stack: demo\napi: {}\n", "2:6: api.stage"),
    ("stack: demo\napi:\n  stage: v1\n", "3:3: api.routes"),
    (
        "stack: demo\napi:\n  stage: v1\n  routes:\n    GET /x: { function: f, api_key: true }\n",
        "5:37: api.routes.GET /x.api_key",
    ),
    (
        "stack: demo\nfunctions:\n  api: { runtime: nodejs24.x, handler: a.b, code: missing-dir }\n",
        "3:51: functions.api.code",
    ),
    ("stack: demo\napi:\n  stage: v1\n  routes:\n    GET /x: { function: nope }\n", "5:25: api.routes.GET /x.function"),
    (
        "stack: demo\nfoo: 1\nfunctions:\n  api: { runtime: nodejs24.x, handler: a.b, code: missing-dir }\napi:\n  stage: v1\n  routes:\n    GET /x: { function: nope }\n",
        "8:25: api.routes.GET /x.function",
    ),
    (
        "stack: demo\nuser_pool:\n  domain: AWS\n  clients: { web: {} }\nidentity_pool:\n  clients: [mobile]\n",
        "6:13: identity_pool.clients",
    ),
    ("stack: demo\napi:\n  stage: v1\n  routes:\n    GET /health/: { function: f }\n", "5:5: api.routes.GET /health/"),
    ("stack: demo\napi:\n  stage: v1\n  routes:\n    GET /a//b: { function: f }\n", "5:5: api.routes.GET /a//b"),
    (
        "stack: demo\napi:\n  stage: v1\n  routes:\n    GET /items/{id}: { function: f }\n    GET /items/{key}/tags: { function: f }\n",
        "6:5: api.routes.GET /items/{key}/tags",
    ),
    (
        "stack: demo\nfunctions:\n  api:\n    runtime: nodejs24.x\n    handler: a.b\n    code: c\n    environment: { LAMBDA_TASK_ROOT: /x }\n",
        "7:20: functions.api.environment.LAMBDA_TASK_ROOT",
    ),
    ("stack: demo\nuser_pool: nope\n", "2:12: user_pool"),
    ("stack: demo\nuser_pool:\n  clients: [web]\n", "3:12: user_pool.clients"),
    (
        "stack: demo\nuser_pool:\n  password_policy:\n    min_length: 100\n",
        "4:17: user_pool.password_policy.min_length",
    ),
    (
        "stack: demo\nuser_pool:\n  password_policy:\n    require_symbol: true\n",
        "4:5: user_pool.password_policy.require_symbol",
    ),
    ("stack: demo\nuser_pool:\n  deletion_protection: maybe\n", "3:24: user_pool.deletion_protection"),
    ("stack: demo\nuser_pool:\n  sign_in: [email, username]\n", "3:12: user_pool.sign_in"),
    ("stack: demo\nuser_pool:\n  auto_verified_attributes: [name]\n", "3:30: user_pool.auto_verified_attributes[0]"),
    ("stack: demo\nuser_pool:\n  domain: amazon-login\n", "3:11: user_pool.domain"),
    ("stack: demo\nuser_pool:\n  domain: -leading-dash\n", "3:11: user_pool.domain"),
    ("stack: demo\nuser_pool:\n  custom_attributes: { a-b: string }\n", "3:24: user_pool.custom_attributes.a-b"),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      logout_urls: [\"ftp://x\"]\n",
        "5:21: user_pool.clients.web.logout_urls[0]",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      oauth: { flows: [token], scopes: [openid] }\n",
        "5:24: user_pool.clients.web.oauth.flows[0]",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    m2m:\n      oauth: { flows: [client_credentials], scopes: [openid] }\n",
        "5:24: user_pool.clients.m2m.oauth.flows[0]",
    ),
    (
        "stack: demo\nuser_pool:\n  clients:\n    web:\n      auth_flows: ALLOW_USER_SRP_AUTH\n",
        "5:19: user_pool.clients.web.auth_flows",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    carol:\n      password: \"plain\"\n",
        "5:17: user_pool.users.carol.password",
    ),
    (
        "stack: demo\nuser_pool:\n  users:\n    carol:\n      attributes: { phone: \"1\" }\n",
        "5:21: user_pool.users.carol.attributes.phone",
    ),
    ("stack: demo\nuser_pool:\n  users:\n    \"carol smith\": {}\n", "4:5: user_pool.users.carol smith"),
    ("stack: demo\nuser_pool:\n  users:\n    carol:\n      pasword: x\n", "5:7: user_pool.users.carol.pasword"),
    ("stack: demo\nstack: other\n", "2:1: duplicate key"),
    ("stack: demo\n---\nstack: other\n", "2:1: a second YAML document"),
    ("stack: [unclosed\n", "2:1: invalid YAML"),
];

#[test]
fn every_malformed_stack_fails_with_location_and_field_before_any_request() {
    assert!(CASES.len() >= 25);
    let endpoint = dead_endpoint();
    let mut failures = Vec::new();
    for (text, expected) in CASES {
        let file = StackFile::new(text);
        let run =
            authdemo(&["plan", "--endpoint-url", &endpoint]).file(&file.path()).env("AWS_MAX_ATTEMPTS", "1").run();
        let wanted = format!("{}:{expected}", file.path().display());
        let ok = run.code == 1
            && run.stderr.contains(&wanted)
            && run.stderr.contains("nothing was sent to AWS")
            && !run.stderr.contains("could not reach AWS");
        if !ok {
            failures.push(format!("{text:?}: wanted exit 1 and `{wanted}`, got {}:\n{}", run.code, run.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_error_of_a_file_is_reported_at_once_with_a_hint() {
    let file = StackFile::new("stack: demo\nuser_pool:\n  pasword_policy: {}\n  domain: aws\n");
    let run = authdemo(&["validate"]).file(&file.path()).run().expect_code(1);
    assert!(run.stderr.contains("3:3: user_pool.pasword_policy: unknown field"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: did you mean `password_policy`?"), "{}", run.stderr);
    assert!(run.stderr.contains("4:11: user_pool.domain"), "{}", run.stderr);
    assert!(run.stderr.contains("2 errors in"), "{}", run.stderr);
}

#[test]
fn apply_and_destroy_validate_before_calling_aws() {
    let file = StackFile::new("stack: demo\nuser_pool:\n  domain: UPPER\n");
    for command in ["apply", "destroy"] {
        let run = authdemo(&[command, "--auto-approve"]).file(&file.path()).emulated().run().expect_code(1);
        assert!(run.stderr.contains("3:11: user_pool.domain"), "{}", run.stderr);
        assert!(run.calls().is_empty(), "{command} called AWS: {:?}", run.calls());
    }
}
