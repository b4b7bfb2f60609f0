//! The live state: what exists in AWS that belongs to the stack, found by deterministic name and
//! confirmed by ownership tags, plus the same-named resources that are not ours (foreign).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::resource::{
    Address, Attributes, DesiredState, Spec, Target, Value, hide_like, hide_unlike, references, resolve,
};

/// Tag naming the stack that owns a resource.
pub(crate) const STACK_TAG: &str = "authdemo:stack";
/// Tag naming the resource's address within its stack.
pub(crate) const ADDRESS_TAG: &str = "authdemo:id";

/// A resource of the stack as it exists in AWS.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LiveResource {
    /// Its address.
    pub address: Address,
    /// Its physical id (pool id, client id, domain prefix, username, …).
    pub id: String,
    /// Its settings, normalized like the desired attributes.
    pub attributes: Attributes,
    /// The resources it lives in (its parent).
    pub depends_on: Vec<Address>,
    /// What it holds that users made and that deleting it loses, e.g. `3 users`.
    pub holds: Option<String>,
    /// What discovery noticed that a reviewer should know, e.g. users the file no longer names.
    pub notes: Vec<String>,
}

impl LiveResource {
    /// The live resource at `address` with physical id `id` and the fields of `spec`; what it
    /// depends on is filled in by [`LiveState::link`].
    pub(crate) fn of<S: Spec>(address: Address, id: String, spec: &S) -> Self {
        Self { address, id, attributes: spec.to_attributes(), depends_on: Vec::new(), holds: None, notes: Vec::new() }
    }
}

/// A same-named resource without the stack's ownership tags: never modified, never deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ForeignResource {
    /// The address whose name it shares.
    pub address: Address,
    /// Its physical id.
    pub id: String,
    /// Why it is not ours.
    pub reason: String,
    /// The other authdemo stack it belongs to, if it has one (then `--adopt` cannot take it).
    pub owner: Option<String>,
}

impl ForeignResource {
    /// The same-named resource `id` with `tags`, seen from `address` of `stack`; `None` when
    /// it is the stack's own.
    pub(crate) fn of(address: &Address, id: String, tags: &HashMap<String, String>, stack: &str) -> Option<Self> {
        let reason = check_ownership(tags, stack, address).err()?;
        let owner = tags.get(STACK_TAG).filter(|owner| *owner != stack).cloned();
        Some(Self { address: address.clone(), id, reason, owner })
    }

    /// What the user can do about it.
    pub(crate) fn hint(&self) -> String {
        match &self.owner {
            Some(owner) => {
                format!("it is stack `{owner}`'s: give one of the two stacks another name, or destroy `{owner}` first")
            }
            None => format!("to take it over, pass --adopt {}", self.address),
        }
    }
}

/// Everything discovery found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LiveState {
    /// The partition, region and account looked at.
    pub target: Target,
    /// The stack's resources by address.
    pub resources: BTreeMap<Address, LiveResource>,
    /// Same-named resources that belong to someone else.
    pub foreign: Vec<ForeignResource>,
    /// Addresses whose untagged same-named resource may be taken over (`--adopt`).
    pub adoptable: BTreeSet<Address>,
    /// Addresses whose resource discovery took over; they get the ownership tags on apply.
    pub adopted: BTreeSet<Address>,
}

impl LiveState {
    /// Hides the live value of every field whose desired value is sensitive, in the same form.
    pub(crate) fn hide_sensitive(&mut self, desired: &DesiredState) {
        for wanted in &desired.resources {
            let Some(live) = self.resources.get_mut(&wanted.address) else { continue };
            hide_like(&desired.stack, &wanted.attributes, &mut live.attributes);
            for (_, field) in desired.hidden_maps.iter().filter(|(address, _)| *address == wanted.address) {
                hide_unlike(&desired.stack, wanted.attributes.get(*field), live.attributes.get_mut(*field));
            }
        }
    }
}

impl LiveState {
    /// The resource at `address` with its fields read as `S` (references to other resources
    /// resolved to their physical ids); `None` when there is none, or it is not of `S`'s kind.
    pub(crate) fn spec<S: Spec>(&self, address: &Address) -> Option<S> {
        let resource = self.resources.get(address).filter(|r| r.address.kind == S::KIND)?;
        S::from_attributes(&resolved(&resource.attributes, &self.ids())).ok()
    }

    /// Every resource of `S`'s kind, with its fields read as `S` (see [`LiveState::spec`]).
    pub(crate) fn each<S: Spec>(&self) -> impl Iterator<Item = (&LiveResource, S)> {
        let ids = self.ids();
        let of_kind = self.resources.values().filter(|r| r.address.kind == S::KIND);
        of_kind.filter_map(move |r| Some((r, S::from_attributes(&resolved(&r.attributes, &ids)).ok()?)))
    }

    /// Each resource's physical id.
    fn ids(&self) -> BTreeMap<Address, String> {
        self.resources.values().map(|r| (r.address.clone(), r.id.clone())).collect()
    }

    /// An empty state in which the untagged resources of `adoptable` may be taken over.
    pub(crate) fn adopting(adoptable: &BTreeSet<Address>) -> Self {
        Self { adoptable: adoptable.clone(), ..Self::default() }
    }

    /// Moves what `part` found into this state.
    pub(crate) fn merge(&mut self, part: LiveState) {
        self.resources.extend(part.resources);
        self.foreign.extend(part.foreign);
        self.adopted.extend(part.adopted);
    }

    /// Records a resource of the stack.
    pub(crate) fn insert(&mut self, resource: LiveResource) {
        self.resources.insert(resource.address.clone(), resource);
    }

    /// Makes each resource depend on what it lives in and on the resources its attributes refer
    /// to, when those exist, so that deletes run children first. References in text and lists
    /// (a role ARN, a pool id in a trust policy) come before those in maps (policies, environment
    /// variables, which users write), and a reference that would close a cycle is left out.
    pub(crate) fn link(&mut self) {
        let present: BTreeSet<Address> = self.resources.keys().cloned().collect();
        let mut edges: BTreeMap<Address, BTreeSet<Address>> = BTreeMap::new();
        for resource in self.resources.values() {
            let own = resource.depends_on.iter().cloned().chain(resource.address.container());
            edges.insert(resource.address.clone(), own.filter(|a| present.contains(a)).collect());
        }
        for in_maps in [false, true] {
            for resource in self.resources.values() {
                let values = resource.attributes.values().filter(|v| matches!(v, Value::Map(_)) == in_maps);
                for target in values.flat_map(references).filter(|a| present.contains(a) && *a != resource.address) {
                    if !reaches(&edges, &target, &resource.address) {
                        edges.entry(resource.address.clone()).or_default().insert(target);
                    }
                }
            }
        }
        for resource in self.resources.values_mut() {
            resource.depends_on = edges.remove(&resource.address).unwrap_or_default().into_iter().collect();
        }
    }
}

/// Whether `to` can be reached from `from` along `edges`.
fn reaches(edges: &BTreeMap<Address, BTreeSet<Address>>, from: &Address, to: &Address) -> bool {
    let mut seen = BTreeSet::new();
    let mut pending = vec![from];
    while let Some(next) = pending.pop() {
        if next == to {
            return true;
        }
        if seen.insert(next) {
            pending.extend(edges.get(next).into_iter().flatten());
        }
    }
    false
}

/// The tags every resource the stack creates carries.
pub(crate) fn ownership_tags(stack: &str, address: &Address) -> HashMap<String, String> {
    HashMap::from([(STACK_TAG.to_string(), stack.to_string()), (ADDRESS_TAG.to_string(), address.to_string())])
}

/// The tags a resource the stack creates is created with: the ownership tags and the stack
/// file's `tags`.
pub(crate) fn creation_tags(
    stack: &str,
    address: &Address,
    tags: &BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut all: HashMap<String, String> = tags.clone().into_iter().collect();
    all.extend(ownership_tags(stack, address));
    all
}

/// Whether a resource with `tags` carries no authdemo ownership tag at all (made by hand or by
/// another tool): only such a resource can be adopted.
pub(crate) fn is_untagged(tags: &HashMap<String, String>) -> bool {
    !tags.contains_key(STACK_TAG) && !tags.contains_key(ADDRESS_TAG)
}

/// Whether a resource with `tags` belongs to `address` of `stack`; if not, why.
pub(crate) fn check_ownership(tags: &HashMap<String, String>, stack: &str, address: &Address) -> Result<(), String> {
    match (tags.get(STACK_TAG), tags.get(ADDRESS_TAG)) {
        (Some(s), Some(a)) if s == stack && *a == address.to_string() => Ok(()),
        (Some(s), _) if s != stack => Err(format!("it belongs to another authdemo stack, `{s}`")),
        (Some(_), Some(a)) => Err(format!("it is tagged as `{a}`, not `{address}`")),
        _ => Err(format!("it has no `{STACK_TAG}`/`{ADDRESS_TAG}` ownership tags (made by hand or by another tool)")),
    }
}

/// `attributes` with their references resolved to the physical ids of `ids` (a reference to a
/// resource without an id stays as it is).
fn resolved(attributes: &Attributes, ids: &BTreeMap<Address, String>) -> Attributes {
    attributes.iter().map(|(k, v)| (k.clone(), resolve(v, ids).unwrap_or_else(|_| v.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{ResourceKind, reference};

    #[test]
    fn owns_only_resources_tagged_with_stack_and_address() {
        let address = Address::new(ResourceKind::UserPool, "main");
        let tags = ownership_tags("demo", &address);
        assert_eq!(check_ownership(&tags, "demo", &address), Ok(()));
        assert!(check_ownership(&tags, "other", &address).unwrap_err().contains("`demo`"));
        assert!(check_ownership(&HashMap::new(), "demo", &address).unwrap_err().contains("no `authdemo:stack`"));
        let elsewhere = Address::new(ResourceKind::UserPool, "second");
        assert!(check_ownership(&tags, "demo", &elsewhere).unwrap_err().contains("tagged as"));
    }

    #[test]
    fn links_containers_and_references_without_cycles() {
        let function = Address::new(ResourceKind::Function, "a");
        let role = Address::new(ResourceKind::IamRole, "fn-a");
        let mut live = LiveState::default();
        let text = |s: String| crate::resource::Value::Str(s);
        let policy = crate::resource::Value::Map([("extra".to_string(), reference(&function))].into());
        live.insert(LiveResource {
            address: function.clone(),
            id: "arn:function".into(),
            attributes: Attributes::from([("role".to_string(), text(reference(&role)))]),
            depends_on: Vec::new(),
            holds: None,
            notes: Vec::new(),
        });
        live.insert(LiveResource {
            address: role.clone(),
            id: "arn:role".into(),
            attributes: Attributes::from([("policies".to_string(), policy)]),
            depends_on: Vec::new(),
            holds: None,
            notes: Vec::new(),
        });
        live.link();
        assert_eq!(live.resources[&function].depends_on, std::slice::from_ref(&role), "the role reference wins");
        assert!(live.resources[&role].depends_on.is_empty(), "the policy's reference back would close a cycle");
    }
}
