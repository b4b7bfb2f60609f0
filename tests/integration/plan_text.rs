//! Snapshots of the human plan from real runs: each shows only what changes, maps key by key and
//! IAM documents as line diffs of valid JSON.

use crate::api::Project;
use crate::support::{emulator, unique_stack};

fn stack_text(stack: &str, domain: &str, greeting: &str, actions: &str) -> String {
    format!(
        "stack: {stack}
user_pool:
  domain: {domain}
  clients:
    web: {{}}
functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
    environment: {{ GREETING: {greeting}, STAGE: dev }}
    policy:
      - {{ Effect: Allow, Action: [{actions}], Resource: \"arn:aws:dynamodb:us-east-1:123456789012:table/items\" }}
"
    )
}

/// The plan's text with the stack name and the physical ids masked, so it compares across runs.
fn masked(text: &str, stack: &str) -> String {
    text.replace(stack, "STACK")
        .lines()
        .map(|line| match (line.find("(id "), line.rfind(')')) {
            (Some(start), Some(end)) if end > start => format!("{}(id …){}", &line[..start], &line[end + 1..]),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Applies `first`, then plans `second` (or destroys with `--dry-run`) and returns the text.
fn plan_after(stack: &str, first: &str, second: Option<&str>) -> String {
    let project = Project::new(first);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let planned = match second {
        Some(text) => {
            project.rewrite(text);
            project.command(&["plan"]).run().expect_code(0)
        }
        None => project.command(&["destroy", "--dry-run"]).run().expect_code(0),
    };
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
    masked(&planned.stdout, stack)
}

#[test]
fn a_policy_statement_added_shows_one_line() {
    let stack = unique_stack("pt-policy");
    let text = plan_after(
        &stack,
        &stack_text(&stack, &stack, "hello", "dynamodb:GetItem, dynamodb:Query"),
        Some(&stack_text(&stack, &stack, "hello", "dynamodb:GetItem, dynamodb:Query, dynamodb:Scan")),
    );
    let expected = r#"Stack STACK in account 123456789012 (us-west-2):

  # iam_role.fn-api will be updated in place
  ~ iam_role.fn-api (id …)
      ~ policies:
          ~ authdemo-extra:
                {
                  "Statement": [
                    {
                      "Action": [
                        "dynamodb:GetItem",
                        "dynamodb:Query",
              +         "dynamodb:Scan"
                      ],
                      "Effect": "Allow",
                      "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/items"
                    }
                  ],
                  "Version": "2012-10-17"
                }
            # (1 unchanged key hidden)

Plan: 0 to add, 1 to change, 0 to destroy. (4 unchanged)"#;
    assert_eq!(text, expected);
}

#[test]
fn an_environment_variable_changed_shows_that_key_only() {
    let stack = unique_stack("pt-env");
    let actions = "dynamodb:GetItem";
    let text = plan_after(
        &stack,
        &stack_text(&stack, &stack, "hello", actions),
        Some(&stack_text(&stack, &stack, "hi", actions)),
    );
    let expected = r#"Stack STACK in account 123456789012 (us-west-2):

  # function.api will be updated in place
  ~ function.api (id …)
      ~ environment:
          ~ GREETING: "hello" → "hi"
            # (1 unchanged key hidden)

Plan: 0 to add, 1 to change, 0 to destroy. (4 unchanged)"#;
    assert_eq!(text, expected);
}

#[tokio::test]
async fn a_tag_added_by_hand_is_drift_shown_key_by_key() {
    let stack = unique_stack("pt-tag");
    let project = Project::new(&stack_text(&stack, &stack, "hello", "dynamodb:GetItem"));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let function = format!("arn:aws:lambda:us-west-2:123456789012:function:{stack}-api");
    let owner = std::collections::HashMap::from([("owner".to_string(), "bob".to_string())]);
    emulator().lambda().tag_resource().resource(function).set_tags(Some(owner)).send().await.unwrap();
    let planned = project.command(&["plan"]).run().expect_code(0);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
    let expected = r#"Stack STACK in account 123456789012 (us-west-2):

  # function.api will be updated in place
  ~ function.api (id …)
      ~ tags:
          - owner = "bob"

Plan: 0 to add, 1 to change, 0 to destroy. (4 unchanged)"#;
    assert_eq!(masked(&planned.stdout, &stack), expected);
}

#[test]
fn a_replacement_names_the_field_that_forces_it() {
    let stack = unique_stack("pt-replace");
    let actions = "dynamodb:GetItem";
    let text = plan_after(
        &stack,
        &stack_text(&stack, &stack, "hello", actions),
        Some(&stack_text(&stack, &format!("{stack}-b"), "hello", actions)),
    );
    let expected = r#"Stack STACK in account 123456789012 (us-west-2):

  # user_pool_domain.main will be replaced: domain cannot change in place
  -/+ user_pool_domain.main (id …)
      ~ domain: "STACK" → "STACK-b" # forces replacement

Plan: 1 to add, 0 to change, 1 to destroy. (4 unchanged)"#;
    assert_eq!(text, expected);
}

#[test]
fn destroy_lists_every_resource_it_deletes_and_what_they_hold() {
    let stack = unique_stack("pt-destroy");
    let text = plan_after(&stack, &stack_text(&stack, &stack, "hello", "dynamodb:GetItem"), None);
    let expected = r"Stack STACK in account 123456789012 (us-west-2):

  # function.api will be destroyed
  - function.api (id …)

  # iam_role.fn-api will be destroyed
  - iam_role.fn-api (id …)

  # user_pool_domain.main will be destroyed
  - user_pool_domain.main (id …)

  # user_pool_client.web will be destroyed
  - user_pool_client.web (id …)

  # user_pool.main will be destroyed
  - user_pool.main (id …)
      note: deleting it deletes its 0 users

Plan: 0 to add, 0 to change, 5 to destroy.";
    assert_eq!(text, expected);
}

/// A stack whose roles hold documents: the function's and the identity pool's; `changed` adds
/// an action to the function's second statement, a third statement, and a signed-in users' policy.
fn iam_stack(stack: &str, changed: bool) -> String {
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/items";
    let (actions, more) = if changed {
        let queue = "arn:aws:sqs:us-east-1:123456789012:jobs";
        (
            "s3:GetObject, s3:PutObject",
            format!("      - {{ Effect: Allow, Action: [sqs:SendMessage], Resource: \"{queue}\" }}\n"),
        )
    } else {
        ("s3:GetObject", String::new())
    };
    let signed_in = if changed {
        format!(
            "  authenticated_policy:\n    - {{ Effect: Allow, Action: [dynamodb:GetItem], Resource: \"{table}\" }}\n"
        )
    } else {
        String::new()
    };
    format!(
        "stack: {stack}
user_pool:
  clients:
    web: {{}}
identity_pool:
  allow_unauthenticated: true
  clients: [web]
{signed_in}functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
    policy:
      - {{ Effect: Allow, Action: [dynamodb:GetItem], Resource: \"{table}\" }}
      - {{ Effect: Allow, Action: [{actions}], Resource: \"arn:aws:s3:::bucket/*\" }}
{more}"
    )
}

/// Each policy document the plan shows for an IAM resource it adds or changes, as the new
/// document reads in the plan: its added and unchanged lines, without the folded ones.
fn iam_documents(plan: &str) -> Vec<String> {
    let mut documents = Vec::new();
    let mut in_iam = false;
    let mut lines = plan.lines();
    while let Some(line) = lines.next() {
        if let Some(header) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ') && !l.starts_with('#')) {
            let (sign, address) = header.split_once(' ').unwrap_or_default();
            in_iam = address.starts_with("iam_") && ["+", "~", "-/+"].contains(&sign);
            continue;
        }
        let Some(column) = line.strip_suffix('{').filter(|l| in_iam && l.ends_with(' ')).map(str::len) else {
            continue;
        };
        let mut document = String::from("{\n");
        for line in lines.by_ref() {
            let (sign, text) = (line.get(column - 2..column - 1).unwrap_or(" "), line.get(column..).unwrap_or(""));
            if sign != "-" && !text.trim_start().starts_with("# (") {
                document.push_str(text);
                document.push('\n');
            }
            if text == "}" {
                break;
            }
        }
        documents.push(document);
    }
    documents
}

/// Parses each document, failing with the plan when one is not JSON; returns how many there were.
fn parse_all(documents: &[String], plan: &str) -> usize {
    for document in documents {
        let parsed = serde_json::from_str::<serde_json::Value>(document);
        let parsed = parsed.unwrap_or_else(|e| panic!("{e} in\n{document}\nof the plan\n{plan}"));
        assert!(parsed["Statement"].is_array(), "{document}");
    }
    documents.len()
}

#[test]
fn every_policy_document_of_added_and_changed_iam_resources_parses_as_json() {
    let stack = unique_stack("pt-json");
    let project = Project::new(&iam_stack(&stack, false));
    let added = project.command(&["plan"]).run().expect_code(0).stdout;
    // Three roles' trust policies, and the function's logging and extra policies.
    assert_eq!(parse_all(&iam_documents(&added), &added), 5, "{added}");
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    project.rewrite(&iam_stack(&stack, true));
    let changed = project.command(&["plan"]).run().expect_code(0).stdout;
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
    assert!(changed.contains("+         \"s3:PutObject\""), "{changed}");
    assert!(changed.contains("# (1 unchanged statement hidden)"), "{changed}");
    assert_eq!(parse_all(&iam_documents(&changed), &changed), 2, "{changed}");
}
