//! `authdemo access`: the matrix of who can call what on the seed and a larger stack, read from
//! the live deployment; policies put or attached by hand change it (and plan shows them as
//! drift, apply puts it back); and access itself only reads.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::{Project, shop_stack};
use crate::faults::seed_stack;
use crate::permissions::{allowed, iam_action};
use crate::support::{emulator, unique_stack};
use crate::user_pool::is_read_only;

/// Verdicts of one route: public, api_key, guest, signed_in.
type Row = [&'static str; 4];

/// Runs `access --format json` and checks that it only read, and only what `permissions --for
/// plan` allows.
fn access(project: &Project) -> Value {
    let run = project.command(&["access", "--format", "json"]).run().expect_code(0);
    let calls = run.calls();
    let mutating: Vec<&String> = calls.iter().filter(|op| !is_read_only(op)).collect();
    assert!(mutating.is_empty(), "access made mutating calls: {mutating:?}");
    let allowed = allowed(project, "plan");
    for operation in &calls {
        assert!(allowed.contains(&iam_action(operation)), "`{operation}` is missing from the plan policy");
    }
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The report's verdicts, by route.
fn matrix(report: &Value) -> BTreeMap<String, [String; 4]> {
    assert_eq!(report["format_version"], 1);
    let routes = report["routes"].as_array().unwrap();
    routes
        .iter()
        .map(|route| {
            let verdict = |caller: &str| route["callers"][caller].as_str().unwrap().to_string();
            let row = ["public", "api_key", "guest", "signed_in"].map(verdict);
            (route["route"].as_str().unwrap().to_string(), row)
        })
        .collect()
}

fn expected(rows: &[(&str, Row)]) -> BTreeMap<String, [String; 4]> {
    rows.iter().map(|(route, row)| ((*route).to_string(), row.map(str::to_string))).collect()
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect()
}

const SEED: [(&str, Row); 2] =
    [("GET /auth", ["deny", "deny", "deny", "allow"]), ("GET /noauth", ["deny", "allow", "allow", "allow"])];

#[tokio::test]
async fn the_seed_opens_auth_to_signed_in_users_and_a_hand_made_guest_grant_is_warned_of_and_undone() {
    let stack = unique_stack("access");
    let project = Project::new(&seed_stack(&stack));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let report = access(&project);
    assert_eq!(report["stack"], stack.as_str());
    assert_eq!(matrix(&report), expected(&SEED));
    assert_eq!(warnings(&report), Vec::<String>::new());
    let signed_in = report["routes"][0]["reasons"]["signed_in"].as_str().unwrap();
    assert!(signed_in.contains(&format!("role {stack}-authenticated allows execute-api:Invoke")), "{signed_in}");

    let guest_role = format!("{stack}-unauthenticated");
    emulator().grant_invoke_on_everything(&guest_role).await;
    let report = access(&project);
    assert_eq!(
        matrix(&report),
        expected(&[
            ("GET /auth", ["deny", "deny", "deny", "allow"]),
            ("GET /noauth", ["deny", "allow", "allow", "allow"])
        ])
    );
    let warned = warnings(&report).join("\n");
    assert!(
        warned.contains(&format!("the unauthenticated role {guest_role} allows execute-api:Invoke on `*`")),
        "{warned}"
    );
    assert!(
        warned.contains(&format!(
            "GET /auth: the unauthenticated role {guest_role} allows execute-api:Invoke on this iam route (policy by-hand): \
             guests are kept out only by Cognito's session policy AmazonCognitoUnAuthedIdentitiesSessionPolicy"
        )),
        "{warned}"
    );
    let guest = report["routes"][0]["reasons"]["guest"].as_str().unwrap();
    assert!(guest.contains("policy by-hand"), "{guest}");
    assert!(guest.contains("AmazonCognitoUnAuthedIdentitiesSessionPolicy"), "{guest}");

    let plan = project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(plan.stdout.contains("iam_role.unauthenticated"), "{}", plan.stdout);
    assert!(plan.stdout.contains("by-hand"), "{}", plan.stdout);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let report = access(&project);
    assert_eq!(matrix(&report), expected(&SEED));
    assert_eq!(warnings(&report), Vec::<String>::new());
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[tokio::test]
async fn a_larger_stack_mixes_open_keyed_and_iam_routes_and_an_attached_deny_closes_one() {
    let stack = unique_stack("accshop");
    let project = Project::new(&shop_stack(&stack, "", "iam", true));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let open = ["allow", "allow", "allow", "allow"];
    let iam = ["deny", "deny", "deny", "allow"];
    let shop = [
        ("ANY /proxy/{proxy+}", open),
        ("GET /", open),
        ("GET /items", open),
        ("POST /items", iam),
        ("DELETE /items/{id}", iam),
        ("GET /items/{id}", iam),
    ];
    let report = access(&project);
    assert_eq!(matrix(&report), expected(&shop));
    let open_routes = ["ANY /proxy/{proxy+}", "GET /", "GET /items"]
        .map(|r| format!("{r}: guests can call it without an API key, so no usage plan throttles or limits it"));
    let mut warned = warnings(&report);
    warned.sort();
    assert_eq!(warned, open_routes);
    let guest = report["routes"].as_array().unwrap().iter().find(|r| r["route"] == "POST /items").unwrap();
    assert!(guest["reasons"]["guest"].as_str().unwrap().contains("gives guests no credentials"), "{guest}");

    let iam_client = emulator().iam();
    let freeze = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Freeze","Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*/DELETE/*"}]}"#;
    let created =
        iam_client.create_policy().policy_name(format!("{stack}-freeze")).policy_document(freeze).send().await.unwrap();
    let policy_arn = created.policy().and_then(|p| p.arn()).unwrap().to_string();
    let role = format!("{stack}-authenticated");
    iam_client.attach_role_policy().role_name(&role).policy_arn(&policy_arn).send().await.unwrap();
    let report = access(&project);
    let mut frozen = expected(&shop);
    frozen.insert("DELETE /items/{id}".into(), ["deny"; 4].map(str::to_string));
    assert_eq!(matrix(&report), frozen);
    let delete = report["routes"].as_array().unwrap().iter().find(|r| r["route"] == "DELETE /items/{id}").unwrap();
    let why = delete["reasons"]["signed_in"].as_str().unwrap();
    assert!(
        why.contains(&format!("denies execute-api:Invoke explicitly (policy {policy_arn}, statement Freeze)")),
        "{why}"
    );

    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_eq!(matrix(&access(&project)), expected(&shop));
    iam_client.delete_policy().policy_arn(&policy_arn).send().await.unwrap();
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[test]
fn access_before_apply_says_what_is_missing() {
    let stack = unique_stack("accnone");
    let project = Project::new(&seed_stack(&stack));
    let run = project.command(&["access"]).run().expect_code(1);
    assert!(run.stderr.contains(&format!("stack `{stack}` has no REST API in AWS yet")), "{}", run.stderr);
}
