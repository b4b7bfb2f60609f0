//! Snapshots of the human plan from real runs: each shows only what changes, maps key by key and
//! IAM documents as line diffs.

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
                        "dynamodb:GetItem"
                        "dynamodb:Query"
              +         "dynamodb:Scan"
                      ]
                      "Effect": "Allow"
                      "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/items"
                    }
                  ]
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
