//! `authdemo verify`: the calls agree with the verdicts of `access` on a fresh seed stack and on
//! a larger one (signing in by SRP there); deleting the authenticated role's invoke policy by
//! hand makes the signed-in call disagree with what the file means until `apply` puts it back; no
//! secret reaches the output; and verify changes nothing in AWS but the identities GetId makes.

use serde_json::Value;

use crate::api::Project;
use crate::faults::seed_stack;
use crate::permissions::{allowed, iam_action};
use crate::support::{Run, emulator, unique_stack};
use crate::user_pool::is_read_only;

/// The password `Project` gives the stack's user.
const PASSWORD: &str = "Api-Passw0rd";

/// Cognito's sign-in calls and the stranger's sign-up attempt: public APIs that need no IAM permission.
const SIGN_IN: [&str; 5] = ["InitiateAuth", "RespondToAuthChallenge", "GetId", "GetCredentialsForIdentity", "SignUp"];

/// Runs `verify --format json`, expecting `code`, waiting at most 3 s for a call that disagrees
/// (nothing changes meanwhile); checks that it changed nothing but through signing in, and read
/// only what the plan policy allows.
fn verify(project: &Project, code: i32) -> (Run, Value) {
    let run = project.command(&["verify", "--format", "json", "--settle", "3"]).run().expect_code(code);
    let calls = run.calls();
    assert!(calls.iter().any(|op| op == "GetId"), "a guest and the user signed in: {calls:?}");
    let mutating: Vec<&String> =
        calls.iter().filter(|op| !is_read_only(op) && !SIGN_IN.contains(&op.as_str())).collect();
    assert!(mutating.is_empty(), "verify made mutating calls: {mutating:?}");
    let policy = allowed(project, "plan");
    for operation in calls.iter().filter(|op| !SIGN_IN.contains(&op.as_str())) {
        assert!(policy.contains(&iam_action(operation)), "`{operation}` is missing from the plan policy");
    }
    let report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run, report)
}

/// `(route, caller, result)` of every call of the report.
fn results(report: &Value) -> Vec<(String, String, String)> {
    assert_eq!(report["format_version"], 1);
    let calls = report["calls"].as_array().unwrap();
    let field = |call: &Value, name: &str| call[name].as_str().unwrap().to_string();
    calls.iter().map(|c| (field(c, "route"), field(c, "caller"), field(c, "result"))).collect()
}

fn all_agree(report: &Value, calls: usize) {
    let results = results(report);
    assert_eq!(results.len(), calls, "{report:#}");
    let disagreeing: Vec<_> = results.iter().filter(|(_, _, result)| result != "agree").collect();
    assert!(disagreeing.is_empty(), "{report:#}");
    assert_eq!(report["agree"], true);
}

#[tokio::test]
async fn the_seed_agrees_until_the_invoke_policy_is_deleted_and_again_after_apply() {
    let stack = unique_stack("verify");
    let project = Project::new(&seed_stack(&stack));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let (_, report) = verify(&project, 0);
    all_agree(&report, 8);
    assert_eq!(report["user"], "demouser (USER_PASSWORD_AUTH)");

    let human = project.command(&["verify", "-vv"]).run().expect_code(0);
    assert!(human.stdout.contains("GET /auth    signed_in  allow     200     allowed    agree"), "{}", human.stdout);
    assert!(human.stdout.contains("GET /auth    guest      deny      403     denied     agree"), "{}", human.stdout);
    assert!(human.stdout.contains("All 8 calls made agree with what the stack file means."), "{}", human.stdout);
    let shown = project.command(&["output", "--show-sensitive"]).run().expect_code(0);
    let outputs: Value = serde_json::from_str(&shown.stdout).unwrap();
    let key = outputs["api_keys"]["web-client"]["value"].as_str().unwrap();
    for secret in [PASSWORD, key] {
        assert!(!human.output().contains(secret), "a secret in the output or the logs:\n{}", human.output());
    }

    let role = format!("{stack}-authenticated");
    emulator().iam().delete_role_policy().role_name(&role).policy_name("authdemo-invoke").send().await.unwrap();
    let (_, report) = verify(&project, 1);
    let failing: Vec<_> = results(&report).into_iter().filter(|(_, _, result)| result != "agree").collect();
    assert_eq!(failing, [("GET /auth".to_string(), "signed_in".to_string(), "mismatch".to_string())]);
    let human = project.command(&["verify", "--settle", "3"]).run().expect_code(1);
    let said = "  - GET /auth as signed_in: the stack file means allow (through the gateway, 2xx/4xx from the function); \
                observed 403 denied: User: ";
    assert!(human.stdout.contains(said), "{}", human.stdout);
    assert!(human.stdout.contains("`authdemo access` says deny of the live configuration"), "{}", human.stdout);
    assert_eq!(report["calls"][3]["access"], "deny", "{report:#}");

    // The grant comes back while verify runs, as a new grant reaches IAM's every endpoint only
    // seconds after an apply: verify tries the disagreeing call again until it agrees.
    let settling = project.command(&["verify", "--settle", "60"]).spawn();
    std::thread::sleep(std::time::Duration::from_secs(3));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let waited = settling.wait_with_output().unwrap();
    assert!(waited.status.success(), "verify waited for the grant: {}", String::from_utf8_lossy(&waited.stdout));
    all_agree(&verify(&project, 0).1, 8);
    let unknown = project.command(&["verify", "--user", "nobody"]).run().expect_code(1);
    assert!(unknown.stderr.contains("--user nobody: the stack file has no such user"), "{}", unknown.stderr);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

/// Open, keyed and iam routes, with path parameters; a client that allows SRP only.
fn larger_stack(stack: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  clients:
    web: {{ auth_flows: [ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
  users:
    shopper:
      attributes: {{ email: shopper@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
functions:
  list: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
  change: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
api:
  stage: v1
  routes:
    GET /: {{ function: list }}
    GET /items: {{ function: list, api_key: true }}
    GET /items/{{id}}: {{ function: list, auth: iam, api_key: true }}
    POST /items: {{ function: change, auth: iam }}
    ANY /proxy/{{proxy+}}: {{ function: list }}
usage_plan:
  throttle: {{ rate: 50, burst: 100 }}
  quota: {{ limit: 1000, period: DAY }}
  api_keys: [web]
"
    )
}

#[test]
fn a_larger_stack_agrees_with_srp_sign_in_and_parameters_filled_in() {
    let project = Project::new(&larger_stack(&unique_stack("verifyshop")));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let (_, report) = verify(&project, 0);
    all_agree(&report, 20);
    assert_eq!(report["user"], "shopper (SRP)");
    let observed = |route: &str, caller: &str| {
        let calls = report["calls"].as_array().unwrap();
        let call = calls.iter().find(|c| c["route"] == route && c["caller"] == caller).unwrap();
        (call["observed"].as_str().unwrap().to_string(), call["status"].as_u64())
    };
    assert_eq!(observed("GET /items/{id}", "signed_in"), ("allowed".into(), Some(200)));
    assert_eq!(observed("GET /items/{id}", "guest"), ("denied".into(), Some(403)));
    assert_eq!(observed("ANY /proxy/{proxy+}", "public"), ("allowed".into(), Some(200)));
    assert_eq!(observed("GET /items", "public"), ("denied".into(), Some(403)));
    assert_eq!(observed("POST /items", "api_key"), ("denied".into(), Some(403)));
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
