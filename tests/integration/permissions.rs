//! `authdemo permissions`: the printed policy allows every operation the tool really sends in
//! full plan / apply / plan / access / destroy cycles (recorded by the emulator), and the plan
//! policy no mutating one.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::api::{Project, shop_stack};
use crate::faults::seed_stack;
use crate::support::unique_stack;

/// The IAM action of an operation as the emulator records it: its name (Cognito, IAM, STS) or,
/// for the REST services, its request line.
pub(crate) fn iam_action(operation: &str) -> String {
    let Some((method, path)) = operation.split_once(' ') else {
        let service = match operation {
            "GetCallerIdentity" => "sts",
            "GetAccountAuthorizationDetails" => "iam",
            op if op.contains("IdentityPool") => "cognito-identity",
            op if op.contains("Role") || op.starts_with("GetPolicy") => "iam",
            _ => "cognito-idp",
        };
        return format!("{service}:{operation}");
    };
    let Some(rest) = path.strip_prefix("/2015-03-31/functions") else {
        return if path.starts_with("/2017-03-31/tags") {
            if method == "DELETE" { "lambda:UntagResource" } else { "lambda:TagResource" }.into()
        } else {
            format!("apigateway:{method}")
        };
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let action = match (method, parts.get(1).copied(), parts.len()) {
        ("GET", None, 0) => "ListFunctions",
        ("POST", None, 0) => "CreateFunction",
        ("GET", None, _) => "GetFunction",
        ("DELETE", None, _) => "DeleteFunction",
        ("GET", Some("configuration"), _) => "GetFunctionConfiguration",
        ("PUT", Some("configuration"), _) => "UpdateFunctionConfiguration",
        ("PUT", Some("code"), _) => "UpdateFunctionCode",
        ("GET", Some("policy"), _) => "GetPolicy",
        ("POST", Some("policy"), _) => "AddPermission",
        ("DELETE", Some("policy"), _) => "RemovePermission",
        _ => panic!("an unmapped Lambda call: {operation}"),
    };
    format!("lambda:{action}")
}

pub(crate) fn allowed(project: &Project, command: &str) -> BTreeSet<String> {
    let printed = project.command(&["permissions", "--for", command]).run().expect_code(0);
    let policy: Value = serde_json::from_str(&printed.stdout).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect()
}

fn check_cycle(text: &str) {
    let project = Project::new(text);
    let mut sent: Vec<(&str, Vec<String>)> = Vec::new();
    for (policy, args) in [
        ("plan", &["plan"][..]),
        ("apply", &["apply", "--auto-approve"]),
        ("plan", &["plan"]),
        ("plan", &["access"]),
        ("destroy", &["destroy", "--auto-approve"]),
    ] {
        let run = project.command(args).run().expect_code(0);
        sent.push((policy, run.calls()));
    }
    for (command, calls) in sent {
        let allowed = allowed(&project, command);
        for operation in calls {
            let action = iam_action(&operation);
            assert!(allowed.contains(&action), "`{operation}` ({action}) is missing from the {command} policy");
        }
    }
}

#[test]
fn the_printed_policies_allow_every_call_of_a_full_cycle() {
    check_cycle(&seed_stack(&unique_stack("perm")));
    check_cycle(&shop_stack(&unique_stack("permshop"), "", "iam", true));
}
