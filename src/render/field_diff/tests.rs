use super::*;
use crate::resource::policy_document::document;

/// The lines as text: two spaces per depth, then the sign.
fn text(lines: &[Line]) -> String {
    let sign = |sign: Sign| match sign {
        Sign::Add => "+",
        Sign::Remove => "-",
        Sign::Change => "~",
        Sign::Same => " ",
    };
    lines.iter().map(|l| format!("{}{} {}\n", "  ".repeat(l.depth), sign(l.sign), l.text)).collect()
}

fn map(entries: &[(&str, &str)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect())
}

fn statement(actions: &[&str], resource: &str) -> serde_json::Value {
    serde_json::json!({ "Effect": "Allow", "Action": actions, "Resource": resource })
}

#[test]
fn a_map_shows_only_the_keys_that_change() {
    let before = map(&[("GREETING", "hello"), ("STAGE", "dev"), ("OLD", "x")]);
    let after = map(&[("GREETING", "hi"), ("STAGE", "dev"), ("NEW", "y")]);
    let expected = "\
~ environment:
  ~ GREETING: \"hello\" → \"hi\"
  + NEW = \"y\"
  - OLD = \"x\"
    # (1 unchanged key hidden)
";
    assert_eq!(text(&changed("environment", Some(&before), Some(&after))), expected);
}

#[test]
fn a_policy_statement_added_shows_its_lines_and_folds_the_others() {
    let invoke = document(vec![statement(&["execute-api:Invoke"], "arn:api/*")]);
    let before_extra = document(vec![statement(&["dynamodb:GetItem"], "arn:table")]);
    let after_extra = document(vec![statement(&["dynamodb:GetItem", "dynamodb:Scan"], "arn:table")]);
    let before = map(&[("authdemo-invoke", &invoke), ("extra", &before_extra)]);
    let after = map(&[("authdemo-invoke", &invoke), ("extra", &after_extra)]);
    let expected = "\
~ policies:
  ~ extra:
      {
        \"Statement\": [
          {
    -       \"Action\": \"dynamodb:GetItem\",
    +       \"Action\": [
    +         \"dynamodb:GetItem\",
    +         \"dynamodb:Scan\"
    +       ],
            \"Effect\": \"Allow\",
            \"Resource\": \"arn:table\"
          }
        ],
        \"Version\": \"2012-10-17\"
      }
    # (1 unchanged key hidden)
";
    assert_eq!(text(&changed("policies", Some(&before), Some(&after))), expected);
}

#[test]
fn statements_both_sides_have_are_folded() {
    let keep = statement(&["s3:GetObject"], "arn:bucket/*");
    let before = document(vec![keep.clone()]);
    let after = document(vec![keep, statement(&["s3:PutObject"], "arn:bucket/*")]);
    let expected = "\
~ trust_policy:
    {
      \"Statement\": [
        # (1 unchanged statement hidden)
  +     {
  +       \"Action\": \"s3:PutObject\",
  +       \"Effect\": \"Allow\",
  +       \"Resource\": \"arn:bucket/*\"
  +     }
      ],
      \"Version\": \"2012-10-17\"
    }
";
    assert_eq!(text(&changed("trust_policy", Some(&Value::Str(before)), Some(&Value::Str(after)))), expected);
}

#[test]
fn a_new_map_field_lists_every_key_and_documents_pretty() {
    let policy = document(vec![statement(&["logs:PutLogEvents"], "*")]);
    let lines = text(&created("policies", &map(&[("logs", &policy)])));
    assert!(lines.starts_with("+ policies:\n  + logs:\n    + {\n"), "{lines}");
    assert!(lines.contains("    +       \"Action\": \"logs:PutLogEvents\",\n"), "{lines}");
    let fields = created("policies", &map(&[("logs", &policy)]));
    let copied = serde_json::from_str::<serde_json::Value>(&texts(&fields[2..], Sign::Add)).unwrap();
    assert_eq!(copied.to_string(), policy, "the whole document, copied out, is the policy");
}

/// The text of the lines that `sign`, without their signs: what a reviewer copies out of a plan.
fn texts(lines: &[Line], sign: Sign) -> String {
    lines.iter().filter(|l| l.sign == sign).map(|l| format!("{}\n", l.text)).collect()
}

#[test]
fn a_statement_added_between_folded_ones_reads_as_json_and_parses_when_copied_out() {
    let (first, last) = (statement(&["s3:GetObject"], "arn:bucket/*"), statement(&["s3:DeleteObject"], "arn:bucket/*"));
    let added = statement(&["s3:PutObject", "s3:PutObjectTagging"], "arn:bucket/*");
    let before = document(vec![first.clone(), last.clone()]);
    let after = document(vec![first, added.clone(), last]);
    let lines = changed("policy", Some(&Value::Str(before)), Some(&Value::Str(after)));
    let expected = "\
~ policy:
    {
      \"Statement\": [
        # (1 unchanged statement hidden)
  +     {
  +       \"Action\": [
  +         \"s3:PutObject\",
  +         \"s3:PutObjectTagging\"
  +       ],
  +       \"Effect\": \"Allow\",
  +       \"Resource\": \"arn:bucket/*\"
  +     },
        # (1 unchanged statement hidden)
      ],
      \"Version\": \"2012-10-17\"
    }
";
    assert_eq!(text(&lines), expected);
    let copied = texts(&lines, Sign::Add);
    let statement: serde_json::Value = serde_json::from_str(copied.trim_end().trim_end_matches(',')).unwrap();
    assert_eq!(statement, added);
}

#[test]
fn scalars_and_short_lists_read_before_then_after() {
    assert_eq!(text(&changed("memory_mb", Some(&Value::Int(128)), Some(&Value::Int(256)))), "~ memory_mb: 128 → 256\n");
    let (old, new) = (Value::list(["code"]), Value::list(["code", "implicit"]));
    assert_eq!(
        text(&changed("oauth.flows", Some(&old), Some(&new))),
        "~ oauth.flows: [\"code\"] → [\"code\", \"implicit\"]\n"
    );
}

#[test]
fn long_lists_show_the_items_gained_and_lost() {
    let urls = |n: usize| Value::list((0..n).map(|i| format!("https://app-{i}.example.com/callback")));
    let lines = text(&changed("callback_urls", Some(&urls(3)), Some(&urls(4))));
    assert_eq!(
        lines,
        "~ callback_urls:\n  + \"https://app-3.example.com/callback\"\n    # (3 unchanged items hidden)\n"
    );
}
