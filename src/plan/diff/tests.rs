use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::live::{ForeignResource, LiveResource};
use crate::plan::AroundDelete;
use crate::resource::{DesiredResource, ResourceKind, Target, user_pool_address};

fn pool_attrs(min_length: i64, sign_in: &str) -> Attributes {
    Attributes::from([
        ("password_policy.min_length".into(), Value::Int(min_length)),
        ("sign_in".into(), Value::list([sign_in])),
        ("custom_attributes".into(), Value::Map(BTreeMap::from([("team".into(), "string".into())]))),
    ])
}

/// The field rules of the kinds these tests use, as their specs declare them.
fn rules_of(kind: ResourceKind) -> &'static [(&'static str, FieldRule)] {
    match kind {
        ResourceKind::UserPool => {
            &[("sign_in", FieldRule::ForcesReplacement), ("custom_attributes", FieldRule::AddOnly)]
        }
        ResourceKind::UserPoolUser => &[("password", FieldRule::WriteOnly)],
        _ => &[],
    }
}

fn client(name: &str) -> Address {
    Address::new(ResourceKind::UserPoolClient, name)
}

fn desired(resources: Vec<(Address, Attributes)>) -> DesiredState {
    DesiredState {
        stack: "demo".into(),
        resources: resources
            .into_iter()
            .map(|(address, attributes)| {
                let depends_on = if address == user_pool_address() { vec![] } else { vec![user_pool_address()] };
                let rules = rules_of(address.kind);
                DesiredResource { address, attributes, rules, depends_on }
            })
            .collect(),
        secrets: BTreeMap::new(),
        unset_secrets: BTreeMap::new(),
        sensitive: BTreeMap::new(),
        hidden_maps: BTreeSet::new(),
        artifacts: BTreeMap::new(),
    }
}

fn live(resources: Vec<(Address, Attributes)>) -> LiveState {
    let target = Target { partition: "aws".into(), region: "us-west-2".into(), account: "123456789012".into() };
    let mut state = LiveState { target, ..LiveState::default() };
    for (address, attributes) in resources {
        let depends_on = if address == user_pool_address() { vec![] } else { vec![user_pool_address()] };
        state.insert(LiveResource {
            id: format!("id-{}", address.name),
            address,
            attributes,
            depends_on,
            holds: None,
            notes: vec![],
        });
    }
    state
}

fn client_attrs(url: &str) -> Attributes {
    Attributes::from([("callback_urls".into(), Value::list([url]))])
}

fn action_of(plan: &Plan, address: &Address) -> Action {
    plan.changes.iter().find(|c| &c.address == address).map(|c| c.action).expect("address in plan")
}

#[test]
fn creates_what_does_not_exist() {
    let plan = plan(&desired(vec![(user_pool_address(), pool_attrs(8, "username"))]), &live(vec![]));
    assert_eq!(action_of(&plan, &user_pool_address()), Action::Create);
    assert_eq!(plan.summary().add, 1);
    assert!(plan.has_changes());
}

#[test]
fn no_op_when_live_matches() {
    let attrs = pool_attrs(8, "username");
    let plan = plan(&desired(vec![(user_pool_address(), attrs.clone())]), &live(vec![(user_pool_address(), attrs)]));
    assert_eq!(action_of(&plan, &user_pool_address()), Action::NoOp);
    assert!(!plan.has_changes());
}

#[test]
fn updates_an_updatable_field_in_place_with_old_and_new_values() {
    let plan = plan(
        &desired(vec![(user_pool_address(), pool_attrs(12, "username"))]),
        &live(vec![(user_pool_address(), pool_attrs(8, "username"))]),
    );
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.changed_fields.len(), 1);
    assert_eq!(change.changed_fields[0].field, "password_policy.min_length");
    assert_eq!(change.changed_fields[0].before, Some(Value::Int(8)));
    assert_eq!(change.changed_fields[0].after, Some(Value::Int(12)));
    assert_eq!(plan.summary().change, 1);
}

#[test]
fn replaces_on_a_field_that_cannot_change_and_replaces_children_with_it() {
    let plan = plan(
        &desired(vec![(user_pool_address(), pool_attrs(8, "email")), (client("web"), client_attrs("https://a/"))]),
        &live(vec![(user_pool_address(), pool_attrs(8, "username")), (client("web"), client_attrs("https://a/"))]),
    );
    assert_eq!(action_of(&plan, &user_pool_address()), Action::Replace);
    assert!(plan.changes[0].changed_fields[0].forces_replacement);
    assert_eq!(action_of(&plan, &client("web")), Action::Replace);
    assert!(plan.changes[1].reason.to_string().contains("user_pool.main is replaced"));
    assert_eq!(plan.summary(), crate::plan::Summary { add: 2, change: 0, destroy: 2 });
}

#[test]
fn custom_attributes_may_be_added_in_place_but_not_removed() {
    let mut more = pool_attrs(8, "username");
    more.insert(
        "custom_attributes".into(),
        Value::Map(BTreeMap::from([("team".into(), "string".into()), ("level".into(), "number".into())])),
    );
    let added = plan(
        &desired(vec![(user_pool_address(), more.clone())]),
        &live(vec![(user_pool_address(), pool_attrs(8, "username"))]),
    );
    assert_eq!(action_of(&added, &user_pool_address()), Action::Update);
    let removed = plan(
        &desired(vec![(user_pool_address(), pool_attrs(8, "username"))]),
        &live(vec![(user_pool_address(), more)]),
    );
    assert_eq!(action_of(&removed, &user_pool_address()), Action::Replace);
}

#[test]
fn deletes_only_orphans_of_the_stack() {
    let attrs = pool_attrs(8, "username");
    let plan = plan(
        &desired(vec![(user_pool_address(), attrs.clone()), (client("web"), client_attrs("https://a/"))]),
        &live(vec![
            (user_pool_address(), attrs),
            (client("web"), client_attrs("https://a/")),
            (client("old"), client_attrs("https://b/")),
        ]),
    );
    assert_eq!(action_of(&plan, &client("old")), Action::Delete);
    assert_eq!(action_of(&plan, &client("web")), Action::NoOp);
    assert_eq!(plan.changes.last().map(|c| c.reason.to_string()).as_deref(), Some("removed from the stack file"));
}

#[test]
fn write_only_fields_are_not_compared_and_say_so() {
    let address = Address::new(ResourceKind::UserPoolUser, "demo");
    let email = |to: &str| Value::Map(BTreeMap::from([("email".into(), to.into())]));
    let wanted = Attributes::from([("password".into(), Value::Sensitive), ("attributes".into(), email("a@x"))]);
    let pool = || (user_pool_address(), pool_attrs(8, "username"));
    let live_user = |to: &str| (address.clone(), Attributes::from([("attributes".into(), email(to))]));
    let unchanged =
        plan(&desired(vec![pool(), (address.clone(), wanted.clone())]), &live(vec![pool(), live_user("a@x")]));
    assert_eq!(action_of(&unchanged, &address), Action::NoOp);
    assert!(unchanged.changes[1].notes.is_empty(), "nothing to say of what does not change");
    let changed = plan(&desired(vec![pool(), (address.clone(), wanted)]), &live(vec![pool(), live_user("b@x")]));
    assert_eq!(action_of(&changed, &address), Action::Update);
    assert!(changed.changes[1].notes[0].contains("set on create only"));
}

#[test]
fn refuses_replacing_a_pool_unless_allowed() {
    let plan = plan(
        &desired(vec![(user_pool_address(), pool_attrs(8, "email"))]),
        &live(vec![(user_pool_address(), pool_attrs(8, "username"))]),
    );
    assert_eq!(plan.refused_replacements(&[]).len(), 1);
    assert!(plan.refused_replacements(&[user_pool_address()]).is_empty());
}

#[test]
fn destroy_deletes_children_first_and_keeps_foreign_resources_out() {
    let mut state =
        live(vec![(user_pool_address(), pool_attrs(8, "username")), (client("web"), client_attrs("https://a/"))]);
    state.foreign.push(ForeignResource {
        address: user_pool_address(),
        id: "foreign".into(),
        reason: "no tags".into(),
        owner: None,
    });
    let plan = plan_destroy("demo", &state);
    let order: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(order, ["user_pool_client.web", "user_pool.main"]);
    assert!(plan.changes.iter().all(|c| c.action == Action::Delete && c.id.as_deref() != Some("foreign")));
    assert_eq!(plan.ignored.len(), 1);
}

#[test]
fn a_field_referring_to_a_replaced_resource_changes_even_when_its_text_is_equal() {
    let providers = Attributes::from([("providers".into(), Value::set([crate::resource::reference(&client("web"))]))]);
    let identity = crate::resource::identity_pool_address();
    let mut wanted = desired(vec![
        (user_pool_address(), pool_attrs(8, "email")),
        (client("web"), client_attrs("https://a/")),
        (identity.clone(), providers.clone()),
    ]);
    wanted.resources[2].depends_on = vec![user_pool_address(), client("web")];
    let plan = plan(
        &wanted,
        &live(vec![
            (user_pool_address(), pool_attrs(8, "username")),
            (client("web"), client_attrs("https://a/")),
            (identity.clone(), providers),
        ]),
    );
    assert_eq!(action_of(&plan, &client("web")), Action::Replace, "lives in the replaced pool");
    assert_eq!(
        action_of(&plan, &identity),
        Action::Update,
        "refers to the new client id, but does not live in the pool"
    );
}

#[test]
fn the_before_side_shows_live_ids_and_the_after_side_only_what_is_not_known_yet() {
    let refers =
        |address: &Address| Attributes::from([("clients".into(), Value::set([crate::resource::reference(address)]))]);
    let identity = crate::resource::identity_pool_address();
    let mut wanted = desired(vec![
        (user_pool_address(), pool_attrs(8, "email")),
        (client("web"), client_attrs("https://a/")),
        (identity.clone(), refers(&client("web"))),
    ]);
    wanted.resources[2].depends_on = vec![user_pool_address(), client("web")];
    let mut current = live(vec![
        (user_pool_address(), pool_attrs(12, "email")),
        (client("web"), client_attrs("https://a/")),
        (identity.clone(), refers(&client("web"))),
    ]);
    let kept = plan(&wanted, &current);
    let pool = kept.changes.iter().find(|c| c.address == identity).unwrap();
    assert_eq!(pool.before.as_ref().unwrap()["clients"], Value::list(["id-web"]));
    assert_eq!(pool.after.as_ref().unwrap()["clients"], Value::list(["id-web"]), "the client stays: its id is known");

    current.resources.get_mut(&user_pool_address()).unwrap().attributes = pool_attrs(8, "username");
    let replaced = plan(&wanted, &current);
    let pool = replaced.changes.iter().find(|c| c.address == identity).unwrap();
    let field = &pool.changed_fields[0];
    assert_eq!(field.before, Some(Value::list(["id-web"])));
    assert_eq!(
        field.after,
        Some(Value::list([crate::resource::reference(&client("web"))])),
        "the new client's id is not known yet"
    );
}

#[test]
fn a_delete_knows_whether_its_container_goes_for_good_or_is_replaced_and_what_goes_inside_it() {
    let domain = Address::new(ResourceKind::UserPoolDomain, "main");
    let state = live(vec![
        (user_pool_address(), pool_attrs(8, "username")),
        (client("web"), client_attrs("https://a/")),
        (domain.clone(), Attributes::new()),
    ]);
    let destroyed = plan_destroy("demo", &state).deletions_by_address();
    let gone = AroundDelete { container_goes: true, container_goes_for_good: true, inside: vec![] };
    assert_eq!(destroyed.around(&client("web")), gone, "the pool goes, and what is in it");
    assert_eq!(destroyed.around(&domain), gone);
    assert_eq!(destroyed.around(&user_pool_address()).inside, [client("web"), domain.clone()]);
    assert!(client("web").kind.goes_with_its_container(), "the client needs no call of its own");
    assert!(!domain.kind.goes_with_its_container(), "a pool's domain needs its own delete");

    let only_clients = live(vec![(client("web"), client_attrs("https://a/"))]);
    let pool_stays = plan_destroy("demo", &only_clients).deletions_by_address();
    assert_eq!(pool_stays.around(&client("web")), AroundDelete::default(), "the pool stays: the client needs its call");

    let replaced = plan(
        &desired(vec![(user_pool_address(), pool_attrs(8, "email")), (client("web"), client_attrs("https://a/"))]),
        &live(vec![(user_pool_address(), pool_attrs(8, "username")), (client("web"), client_attrs("https://a/"))]),
    );
    let around = replaced.deletions_by_address().around(&client("web"));
    assert!(around.container_goes && !around.container_goes_for_good, "the pool comes back: {around:?}");
}
