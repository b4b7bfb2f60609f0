//! User pool groups end to end: the groups, their members and the roles of the groups routes
//! name, read back from AWS; the identity pool's Token role mapping; a membership added by hand
//! is drift that apply removes; `access` gives each caller (a group's members included) its
//! verdict per route, `verify` signing in as a member of each group agrees, and a member taken
//! out of a group in the file no longer passes the group's route.

use aws_sdk_cognitoidentity::types::{AmbiguousRoleResolutionType, RoleMappingType};
use serde_json::Value;

use crate::api::{Applied, Project};
use crate::support::{emulator, unique_stack};

/// A stack with three groups (`readers` ranked before `admins`, `auditors` named by no route, so
/// without a role), an admin, a member of both (ranked as a reader, as Cognito ranks), a user in
/// no group, and routes for everyone, for signed-in users, for admins and for readers.
fn stack_text(stack: &str, admin_groups: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  password_policy: {{ require_symbols: false }}
  groups:
    admins: {{ precedence: 1, description: may delete }}
    readers: {{ precedence: 0 }}
    auditors: {{ precedence: 5 }}
  clients:
    web: {{ auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH] }}
  users:
    adminuser:
      attributes: {{ email: admin@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
      groups: {admin_groups}
    bothuser:
      attributes: {{ email: both@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
      groups: [admins, readers]
    demouser:
      attributes: {{ email: demo@example.com }}
      password: ${{env:DEMO_USER_PASSWORD}}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
api:
  stage: latest
  routes:
    GET /open:           {{ function: api, auth: none }}
    GET /items:          {{ function: api, auth: iam }}
    DELETE /items/{{id}}: {{ function: api, auth: iam, groups: [admins] }}
    GET /reports:        {{ function: api, auth: iam, groups: [readers] }}
"
    )
}

/// `stack_text` applied under a new name from `prefix`, adminuser in `admins`.
fn applied(prefix: &str) -> Applied {
    Applied::new(Project::new(&stack_text(&unique_stack(prefix), "[admins]")), &[])
}

/// What the tests read of the applied stack.
trait Members {
    async fn groups_of(&self, user: &str) -> Vec<String>;
    async fn role_policy(&self, role: &str, name: &str) -> String;
}

impl Members for Applied {
    /// The names of the groups of `user`.
    async fn groups_of(&self, user: &str) -> Vec<String> {
        let listed = emulator()
            .cognito()
            .admin_list_groups_for_user()
            .user_pool_id(self.output("/user_pool_id"))
            .username(user)
            .send()
            .await
            .unwrap();
        listed.groups().iter().filter_map(|g| g.group_name().map(str::to_string)).collect()
    }

    /// The role's inline policy `name`, URL-decoded.
    async fn role_policy(&self, role: &str, name: &str) -> String {
        let role = format!("{}-{role}", self.stack());
        let got = emulator().iam().get_role_policy().role_name(&role).policy_name(name).send().await.unwrap();
        percent_encoding::percent_decode_str(got.policy_document()).decode_utf8_lossy().into_owned()
    }
}

#[tokio::test]
async fn groups_roles_and_memberships_are_applied_and_a_membership_by_hand_is_drift() {
    let applied = applied("groups");
    let pool = applied.output("/user_pool_id");
    let cognito = emulator().cognito();
    let listed = cognito.list_groups().user_pool_id(&pool).send().await.unwrap();
    let group = |name: &str| listed.groups().iter().find(|g| g.group_name() == Some(name)).unwrap().clone();
    let admins = group("admins");
    assert_eq!((admins.precedence(), admins.description()), (Some(1), Some("may delete")));
    let role_arn = admins.role_arn().expect("a group a route names has a role");
    assert!(role_arn.ends_with(&format!(":role/authdemo/{0}/{0}-group-admins", applied.stack())), "{role_arn}");
    assert_eq!((group("auditors").precedence(), group("auditors").role_arn()), (Some(5), None));
    assert!(group("readers").role_arn().is_some_and(|arn| arn.ends_with("-group-readers")));
    assert_eq!(applied.groups_of("adminuser").await, ["admins"]);
    let mut both = applied.groups_of("bothuser").await;
    both.sort();
    assert_eq!(both, ["admins", "readers"]);
    assert!(applied.groups_of("demouser").await.is_empty());

    let group_invoke = applied.role_policy("group-admins", "authdemo-invoke").await;
    assert!(group_invoke.contains("/latest/DELETE/items/*") && group_invoke.contains("/latest/GET/items"));
    let everyone_invoke = applied.role_policy("authenticated", "authdemo-invoke").await;
    assert!(everyone_invoke.contains("/latest/GET/items") && !everyone_invoke.contains("DELETE"), "{everyone_invoke}");
    assert!(!everyone_invoke.contains("reports") && !group_invoke.contains("reports"), "{group_invoke}");
    let trust =
        emulator().iam().get_role().role_name(format!("{}-group-admins", applied.stack())).send().await.unwrap();
    let trust = percent_encoding::percent_decode_str(trust.role().unwrap().assume_role_policy_document().unwrap())
        .decode_utf8_lossy()
        .into_owned();
    assert!(trust.contains(r#""cognito-identity.amazonaws.com:amr":"authenticated""#), "{trust}");

    let identity_pool = applied.output("/identity_pool_id");
    let roles = emulator().identity().get_identity_pool_roles().identity_pool_id(&identity_pool).send().await.unwrap();
    let mappings = roles.role_mappings().unwrap();
    let client = applied.output("/user_pool_clients/web");
    let key = format!("cognito-idp.us-west-2.amazonaws.com/{pool}:{client}");
    let mapping = mappings.get(&key).unwrap_or_else(|| panic!("{key} in {mappings:?}"));
    assert_eq!(mapping.r#type(), &RoleMappingType::Token);
    assert_eq!(mapping.ambiguous_role_resolution(), Some(&AmbiguousRoleResolutionType::AuthenticatedRole));
    applied.project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);

    cognito
        .admin_add_user_to_group()
        .user_pool_id(&pool)
        .username("demouser")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let plan = applied.project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    assert!(plan.stdout.contains("user_pool_user.demouser"), "{}", plan.stdout);
    applied.project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert!(applied.groups_of("demouser").await.is_empty());
    applied.project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
}

/// `(route, caller) → verdict` of `access --format json`.
fn verdicts(project: &Project) -> Vec<(String, String, String)> {
    let run = project.command(&["access", "--format", "json"]).run().expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let mut verdicts = Vec::new();
    for route in report["routes"].as_array().unwrap() {
        for (caller, verdict) in route["callers"].as_object().unwrap() {
            let route = route["route"].as_str().unwrap().to_string();
            verdicts.push((route, caller.clone(), verdict.as_str().unwrap().to_string()));
        }
    }
    verdicts
}

/// `(route, caller, observed, result)` of `verify --format json` run with `args`, expecting `code`.
fn verified(project: &Project, args: &[&str], code: i32) -> Vec<(String, String, String, String)> {
    let mut all = vec!["verify", "--format", "json", "--settle", "3"];
    all.extend(args);
    let run = project.command(&all).run().expect_code(code);
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let field = |call: &Value, name: &str| call[name].as_str().unwrap_or_default().to_string();
    let calls = report["calls"].as_array().unwrap();
    calls.iter().map(|c| (field(c, "route"), field(c, "caller"), field(c, "observed"), field(c, "result"))).collect()
}

#[test]
fn access_and_verify_judge_each_group_and_a_member_taken_out_loses_the_group_route() {
    let applied = applied("groups-av");
    let expected = [
        ("DELETE /items/{id}", ["deny", "deny", "deny", "deny", "deny", "allow", "deny"]),
        ("GET /items", ["deny", "deny", "deny", "allow", "allow", "allow", "allow"]),
        ("GET /open", ["allow", "allow", "allow", "allow", "allow", "allow", "allow"]),
        ("GET /reports", ["deny", "deny", "deny", "deny", "deny", "deny", "allow"]),
    ];
    let callers = ["public", "api_key", "guest", "signed_in", "group:auditors", "group:admins", "group:readers"];
    let mut wanted = Vec::new();
    for (route, verdicts) in expected {
        for (caller, verdict) in callers.iter().zip(verdicts) {
            wanted.push((route.to_string(), (*caller).to_string(), verdict.to_string()));
        }
    }
    let mut got = verdicts(&applied.project);
    got.sort();
    wanted.sort();
    assert_eq!(got, wanted);
    let human = applied.project.command(&["access"]).run().expect_code(0);
    assert!(
        human.stdout.contains(&format!(
            "the identity pool's role mapping (Token) gives members of admins the group's role {}-group-admins",
            applied.stack()
        )),
        "{}",
        human.stdout
    );

    let calls = verified(&applied.project, &[], 0);
    let result = |calls: &[(String, String, String, String)], route: &str, caller: &str| {
        calls.iter().find(|c| c.0 == route && c.1 == caller).map(|c| (c.2.clone(), c.3.clone())).unwrap()
    };
    let pair = |observed: &str, outcome: &str| (observed.to_string(), outcome.to_string());
    assert_eq!(result(&calls, "DELETE /items/{id}", "group:admins"), pair("allowed", "agree"));
    assert_eq!(result(&calls, "DELETE /items/{id}", "signed_in"), pair("denied", "agree"));
    assert_eq!(result(&calls, "GET /items", "group:admins"), pair("allowed", "agree"));
    assert_eq!(result(&calls, "GET /items", "group:auditors").1, "skipped", "no user of the file ranks auditors first");
    // bothuser is in admins and readers: Cognito gives it the role of readers (precedence 0).
    assert_eq!(result(&calls, "GET /reports", "group:readers"), pair("allowed", "agree"));
    assert_eq!(result(&calls, "DELETE /items/{id}", "group:readers"), pair("denied", "agree"));

    applied.project.rewrite(&stack_text(&applied.stack(), "[]"));
    applied.project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let calls = verified(&applied.project, &["--user", "adminuser"], 0);
    assert_eq!(result(&calls, "DELETE /items/{id}", "signed_in"), pair("denied", "agree"));
    assert_eq!(result(&calls, "GET /items", "signed_in"), pair("allowed", "agree"));
    assert_eq!(result(&calls, "DELETE /items/{id}", "group:admins").1, "skipped", "admins has no member left");
}
