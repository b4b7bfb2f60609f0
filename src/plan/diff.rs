//! The pure diff: desired × live → [`Plan`]. The action per resource is chosen in one place,
//! [`choose_action`]; deletes come only from live resources the desired state does not name.

use std::collections::BTreeMap;

use super::{Action, FieldChange, Plan, Reason, ResourceChange};
use crate::graph::Graph;
use crate::live::{LiveResource, LiveState};
use crate::resource::{Address, Attributes, DesiredState, FieldRule, Value, references, resolve_known, rule_of};

/// Plans the changes that make `live` match `desired`.
pub(crate) fn plan(desired: &DesiredState, live: &LiveState) -> Plan {
    let mut changes: BTreeMap<Address, ResourceChange> = BTreeMap::new();
    for resource in dependency_order(desired.resources.iter().map(|r| (&r.address, &r.depends_on))) {
        let wanted = desired.get(&resource).expect("ordered from the desired resources");
        let existing = live.resources.get(&resource);
        let is_new = |address: &Address| {
            changes.get(address).is_some_and(|c| matches!(c.action, Action::Create | Action::Replace))
        };
        let replaced_parent = wanted.depends_on.iter().find(|parent| {
            Some(parent.kind) == resource.kind.parent_kind()
                && changes.get(*parent).is_some_and(|c| c.action == Action::Replace)
        });
        let changed_fields = match existing {
            Some(existing) => diff_fields(wanted.rules, &existing.attributes, &wanted.attributes, &is_new),
            None => Vec::new(),
        };
        let adopt = live.adopted.contains(&resource);
        let (action, reason) = choose_action(existing.is_some(), adopt, &changed_fields, replaced_parent);
        let mut notes = notes(wanted.rules, &wanted.attributes, existing, action);
        if let Some(env) = desired.unset_secrets.get(&resource).filter(|_| action != Action::NoOp) {
            notes.push(format!("its secret comes from ${{env:{env}}}, which is not set: apply refuses to change it"));
        }
        let change = ResourceChange {
            address: resource.clone(),
            action,
            id: existing.map(|e| e.id.clone()),
            reason,
            changed_fields,
            before: existing.map(|e| e.attributes.clone()),
            after: Some(wanted.attributes.clone()),
            depends_on: wanted.depends_on.clone(),
            notes,
            adopt,
        };
        changes.insert(resource, change);
    }
    let mut ordered: Vec<ResourceChange> =
        desired.resources.iter().filter_map(|r| changes.remove(&r.address)).collect();
    let orphans = live.resources.values().filter(|r| desired.get(&r.address).is_none());
    ordered.extend(orphans.map(|orphan| deletion(orphan, Reason::Orphan)));
    show_known_ids(&mut ordered, live);
    let (conflicts, ignored) = live
        .foreign
        .iter()
        .cloned()
        .partition(|f| desired.get(&f.address).is_some() && !live.resources.contains_key(&f.address));
    Plan {
        stack: desired.stack.clone(),
        account: live.target.account.clone(),
        region: live.target.region.clone(),
        changes: ordered,
        ignored,
        conflicts,
    }
}

/// Plans the deletion of everything the stack owns.
pub(crate) fn plan_destroy(stack: &str, live: &LiveState) -> Plan {
    let order = dependency_order(live.resources.values().map(|r| (&r.address, &r.depends_on)));
    let mut changes: Vec<ResourceChange> =
        order.iter().rev().map(|a| deletion(&live.resources[a], Reason::Destroy)).collect();
    show_known_ids(&mut changes, live);
    Plan {
        stack: stack.to_string(),
        account: live.target.account.clone(),
        region: live.target.region.clone(),
        changes,
        ignored: live.foreign.clone(),
        conflicts: Vec::new(),
    }
}

/// Replaces the references in `changes` by the ids they stand for wherever those are known:
/// every live id on the before side, and on the after side the ids of resources that stay.
/// References remain only for values not known yet (the id of what is created or replaced).
fn show_known_ids(changes: &mut [ResourceChange], live: &LiveState) {
    let live_ids: BTreeMap<Address, String> =
        live.resources.values().map(|r| (r.address.clone(), r.id.clone())).collect();
    let mut staying = live_ids.clone();
    for change in changes.iter().filter(|c| matches!(c.action, Action::Create | Action::Replace)) {
        staying.remove(&change.address);
    }
    let known = |attributes: &mut Attributes, ids: &BTreeMap<Address, String>| {
        for value in attributes.values_mut() {
            *value = resolve_known(value, ids);
        }
    };
    for change in changes {
        if let Some(before) = &mut change.before {
            known(before, &live_ids);
        }
        if let Some(after) = &mut change.after {
            known(after, &staying);
        }
        for field in &mut change.changed_fields {
            field.before = field.before.as_ref().map(|v| resolve_known(v, &live_ids));
            field.after = field.after.as_ref().map(|v| resolve_known(v, &staying));
        }
    }
}

/// The one place an action is chosen.
fn choose_action(
    exists: bool,
    adopt: bool,
    changed: &[FieldChange],
    replaced_parent: Option<&Address>,
) -> (Action, Reason) {
    if !exists {
        return (Action::Create, Reason::Missing);
    }
    if let Some(parent) = replaced_parent {
        return (Action::Replace, Reason::ParentReplaced(parent.clone()));
    }
    let forcing: Vec<String> = changed.iter().filter(|c| c.forces_replacement).map(|c| c.field.clone()).collect();
    if !forcing.is_empty() {
        return (Action::Replace, Reason::Forced(forcing));
    }
    if !changed.is_empty() {
        return (Action::Update, Reason::Differs(changed.iter().map(|c| c.field.clone()).collect()));
    }
    if adopt {
        return (Action::Update, Reason::Adopted);
    }
    (Action::NoOp, Reason::Matches)
}

fn deletion(resource: &LiveResource, reason: Reason) -> ResourceChange {
    ResourceChange {
        address: resource.address.clone(),
        action: Action::Delete,
        id: Some(resource.id.clone()),
        reason,
        changed_fields: Vec::new(),
        before: Some(resource.attributes.clone()),
        after: None,
        depends_on: resource.depends_on.clone(),
        notes: lost_data(resource).into_iter().collect(),
        adopt: false,
    }
}

/// Compares the desired fields with the live ones. Only desired fields are compared: every
/// desired resource lists all the fields it manages. A field that refers to a resource this plan
/// creates or replaces changes too, since that resource's id will be new (`is_new`).
fn diff_fields(
    rules: &[(&str, FieldRule)],
    live: &Attributes,
    desired: &Attributes,
    is_new: &dyn Fn(&Address) -> bool,
) -> Vec<FieldChange> {
    desired
        .iter()
        .filter_map(|(field, after)| {
            let rule = rule_of(rules, field);
            let before = live.get(field);
            let refers_to_new = references(after).iter().any(is_new);
            if rule == FieldRule::WriteOnly || (before == Some(after) && !refers_to_new) {
                return None;
            }
            let forces_replacement = match rule {
                FieldRule::ForcesReplacement => true,
                FieldRule::AddOnly => !only_adds(before, after),
                FieldRule::Updatable | FieldRule::WriteOnly => false,
            };
            Some(FieldChange {
                field: field.clone(),
                before: before.cloned(),
                after: Some(after.clone()),
                forces_replacement,
            })
        })
        .collect()
}

/// Whether `after` keeps every entry of `before` unchanged and only adds new ones.
fn only_adds(before: Option<&Value>, after: &Value) -> bool {
    match (before, after) {
        (None, _) => true,
        (Some(Value::Map(old)), Value::Map(new)) => old.iter().all(|(k, v)| new.get(k) == Some(v)),
        _ => false,
    }
}

/// What the reviewer should know: what discovery noticed, write-only fields not compared, and
/// the data a replacement loses.
fn notes(
    rules: &[(&str, FieldRule)],
    desired: &Attributes,
    existing: Option<&LiveResource>,
    action: Action,
) -> Vec<String> {
    let mut notes: Vec<String> = existing.map(|e| e.notes.clone()).unwrap_or_default();
    notes.extend(
        desired
            .keys()
            .filter(|field| {
                existing.is_some() && action != Action::NoOp && rule_of(rules, field) == FieldRule::WriteOnly
            })
            .map(|field| format!("{field} is set on create only: AWS cannot hand it back, so it is not compared")),
    );
    if action == Action::Replace {
        notes.extend(existing.and_then(lost_data));
    }
    notes
}

/// The note on what deleting `resource` loses, if it holds data.
fn lost_data(resource: &LiveResource) -> Option<String> {
    resource.holds.as_ref().map(|holds| format!("deleting it deletes its {holds}"))
}

/// Addresses with their dependencies first.
fn dependency_order<'a>(resources: impl Iterator<Item = (&'a Address, &'a Vec<Address>)>) -> Vec<Address> {
    let mut graph = Graph::default();
    let resources: Vec<_> = resources.collect();
    for (address, _) in &resources {
        graph.add_node((*address).clone());
    }
    for (address, parents) in &resources {
        for parent in parents.iter().filter(|p| resources.iter().any(|(a, _)| a == p)) {
            graph.add_edge(parent.clone(), (*address).clone());
        }
    }
    graph.topological_order().expect("resources depend only on their parents, so there is no cycle")
}

#[cfg(test)]
mod tests;
