use super::*;
use crate::live::ForeignResource;
use crate::plan::{FieldChange, Plan, Reason};
use crate::resource::{Address, Attributes, ResourceKind, Value, user_pool_address};

fn strip(text: &str) -> String {
    let mut out = Vec::new();
    let mut stream = anstream::StripStream::new(&mut out);
    std::io::Write::write_all(&mut stream, text.as_bytes()).unwrap();
    String::from_utf8(out).unwrap()
}

fn change(address: Address, action: Action, fields: Vec<FieldChange>, after: Option<Attributes>) -> ResourceChange {
    ResourceChange {
        address,
        action,
        id: (action != Action::Create).then(|| "id-1".into()),
        reason: match action {
            Action::Create => Reason::Missing,
            Action::Delete => Reason::Orphan,
            Action::NoOp => Reason::Matches,
            Action::Update => Reason::Differs(fields.iter().map(|f| f.field.clone()).collect()),
            Action::Replace => Reason::Forced(fields.iter().map(|f| f.field.clone()).collect()),
        },
        changed_fields: fields,
        before: None,
        after,
        depends_on: vec![],
        notes: vec![],
        adopt: false,
    }
}

/// A plan with one change of each action, an ignored resource and a conflict.
fn plan_with_every_action() -> Plan {
    let user = Address::new(ResourceKind::UserPoolUser, "demo");
    Plan {
        stack: "demo".into(),
        account: "123456789012".into(),
        region: "us-west-2".into(),
        changes: vec![
            change(
                user_pool_address(),
                Action::Update,
                vec![FieldChange {
                    field: "password_policy.min_length".into(),
                    before: Some(Value::Int(8)),
                    after: Some(Value::Int(12)),
                    forces_replacement: false,
                }],
                None,
            ),
            change(
                Address::new(ResourceKind::UserPoolDomain, "main"),
                Action::Replace,
                vec![FieldChange {
                    field: "domain".into(),
                    before: Some(Value::Str("a".into())),
                    after: Some(Value::Str("b".into())),
                    forces_replacement: true,
                }],
                None,
            ),
            change(user, Action::Create, vec![], Some(Attributes::from([("password".into(), Value::Sensitive)]))),
            change(Address::new(ResourceKind::UserPoolClient, "old"), Action::Delete, vec![], None),
        ],
        ignored: vec![ForeignResource {
            address: user_pool_address(),
            id: "us-west-2_x".into(),
            reason: "no tags".into(),
            owner: None,
        }],
        conflicts: vec![ForeignResource {
            address: Address::new(ResourceKind::Function, "api"),
            id: "demo-api".into(),
            reason: "no tags".into(),
            owner: None,
        }],
    }
}

#[test]
fn renders_each_action_with_values_and_summary() {
    let plan = plan_with_every_action();
    let expected = "\
Stack demo in account 123456789012 (us-west-2):

! ignoring user_pool us-west-2_x: no tags; authdemo never modifies or deletes it

✗ conflict: function.api is already taken by demo-api: no tags.
    apply refuses to create a second one or to touch it; to take it over, pass --adopt function.api

  # user_pool.main will be updated in place
  ~ user_pool.main (id id-1)
      ~ password_policy.min_length: 8 → 12

  # user_pool_domain.main will be replaced: domain cannot change in place
  -/+ user_pool_domain.main (id id-1)
      ~ domain: \"a\" → \"b\" # forces replacement

  # user_pool_user.demo will be created
  + user_pool_user.demo
      + password = (sensitive)

  # user_pool_client.old will be destroyed: removed from the stack file
  - user_pool_client.old (id id-1)

Plan: 2 to add, 1 to change, 2 to destroy.
";
    assert_eq!(strip(&plan_text(&plan)), expected);
}

#[test]
fn says_so_when_nothing_changes() {
    let plan = Plan {
        stack: "demo".into(),
        account: "1".into(),
        region: "r".into(),
        changes: vec![change(user_pool_address(), Action::NoOp, vec![], None)],
        ignored: vec![],
        conflicts: vec![],
    };
    assert!(strip(&plan_text(&plan)).ends_with("No changes: AWS matches the stack file (1 resources checked).\n"));
}

fn plan_text(p: &Plan) -> String {
    super::plan(p)
}
