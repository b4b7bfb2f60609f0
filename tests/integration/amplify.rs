//! `output --format amplify` read by Amplify v6 itself: the configuration of an applied stack goes
//! through `Amplify.configure` and comes back from `Amplify.getConfig()` (tests/amplify, with
//! `@aws-amplify/core` pinned there), carrying the stack's live ids, OAuth settings and API.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::api::Project;
use crate::support::{emulator, unique_stack};

/// A stack like the seed application, with two callback URLs and a second client.
fn stack_text(stack: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  sign_in: [email]
  domain: {stack}
  clients:
    web:
      callback_urls: [\"http://localhost:3000/\", \"https://app.example.com/callback\"]
      logout_urls: [\"http://localhost:3000/\", \"https://app.example.com/\"]
      oauth: {{ flows: [code], scopes: [openid, email, profile, aws.cognito.signin.user.admin] }}
      auth_flows: [ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    admin: {{ auth_flows: [ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
api:
  stage: latest
  routes:
    GET /noauth: {{ function: api }}
    GET /auth: {{ function: api, auth: iam }}
"
    )
}

/// Feeds `config` to `Amplify.configure` (tests/amplify/configure.mjs): `Amplify.getConfig()`,
/// or Amplify's refusal.
fn amplify_configure(config: &str) -> Result<Value, String> {
    static SETUP: OnceLock<()> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    SETUP.get_or_init(|| {
        let setup =
            Command::new(root.join("scripts/npm-setup")).arg("tests/amplify").status().expect("run scripts/npm-setup");
        assert!(setup.success(), "scripts/npm-setup tests/amplify failed: @aws-amplify/core could not be installed");
    });
    let mut node = Command::new("node")
        .arg(root.join("tests/amplify/configure.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    node.stdin.take().unwrap().write_all(config.as_bytes()).unwrap();
    let out = node.wait_with_output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("getConfig() as JSON"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn amplify_v6_accepts_the_amplify_output_and_reads_the_stacks_values_from_it() {
    let stack = unique_stack("amplify");
    let project = Project::new(&stack_text(&stack));
    let run = |args: &[&str]| project.command(args).run();
    run(&["apply", "--auto-approve"]).expect_code(0);
    let out: Value = serde_json::from_str(&run(&["output"]).expect_code(0).stdout).unwrap();

    let ambiguous = run(&["output", "--format", "amplify"]).expect_code(1);
    assert!(ambiguous.stderr.contains("several clients (clients: admin, web)"), "{}", ambiguous.stderr);
    let unknown = run(&["output", "--format", "amplify", "--client", "mobile"]).expect_code(1);
    assert!(unknown.stderr.contains("no client `mobile` (clients: admin, web)"), "{}", unknown.stderr);

    let amplify = run(&["output", "--format", "amplify", "--client", "web"]).expect_code(0);
    let config = amplify_configure(&amplify.stdout).unwrap_or_else(|refused| panic!("{refused}\n{}", amplify.stdout));
    let cognito = &config["Auth"]["Cognito"];
    assert_eq!(cognito["userPoolId"], out["user_pool_id"]);
    assert_eq!(cognito["userPoolClientId"], out["user_pool_clients"]["web"]);
    assert_eq!(cognito["identityPoolId"], out["identity_pool_id"]);
    assert_eq!(cognito["allowGuestAccess"], true);
    assert_eq!(cognito["loginWith"]["email"], true);
    let oauth = &cognito["loginWith"]["oauth"];
    let endpoint = emulator().endpoint.trim_start_matches("http://");
    assert_eq!(oauth["domain"], format!("{endpoint}/_hosted_ui_/{stack}.auth.us-west-2.amazoncognito.com"));
    let mut scopes: Vec<&str> = oauth["scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["aws.cognito.signin.user.admin", "email", "openid", "profile"]);
    assert_eq!(oauth["redirectSignIn"], json!(["http://localhost:3000/", "https://app.example.com/callback"]));
    assert_eq!(oauth["redirectSignOut"], json!(["http://localhost:3000/", "https://app.example.com/"]));
    assert_eq!(oauth["responseType"], "code");
    assert_eq!(config["API"]["REST"]["api"], json!({ "endpoint": out["api_url"], "region": "us-west-2" }));

    // The old shape is no v6 configuration: Amplify v6 finds no Cognito settings in it.
    let v5 = run(&["output", "--format", "amplify", "--client", "web", "--amplify-version", "5"]).expect_code(0);
    let v5 = amplify_configure(&v5.stdout).unwrap();
    assert_eq!(v5["Auth"]["userPoolWebClientId"], out["user_pool_clients"]["web"]);
    assert!(v5["Auth"].get("Cognito").is_none(), "{v5}");

    let env = run(&["output", "--format", "env", "--prefix", "VITE_"]).expect_code(0);
    assert!(env.stdout.lines().all(|line| line.starts_with("VITE_AUTHDEMO_")), "{}", env.stdout);
    assert!(env.stdout.contains(&format!("VITE_AUTHDEMO_USER_POOL_ID={}\n", out["user_pool_id"].as_str().unwrap())));
    let misplaced = run(&["output", "--prefix", "VITE_"]).expect_code(1);
    assert!(misplaced.stderr.contains("--prefix applies to `--format env` only"), "{}", misplaced.stderr);

    run(&["destroy", "--auto-approve"]).expect_code(0);
}

#[test]
fn the_check_refuses_what_amplify_refuses() {
    let no_domain = json!({ "Auth": { "Cognito": {
        "userPoolId": "us-west-2_abc", "userPoolClientId": "client1",
        "loginWith": { "oauth": { "scopes": ["openid"], "redirectSignIn": ["http://localhost/"],
                                  "redirectSignOut": ["http://localhost/"], "responseType": "code" } },
    }}});
    let refused = amplify_configure(&no_domain.to_string()).unwrap_err();
    assert!(refused.contains("OAuthNotConfigureException"), "{refused}");
}
