//! The plan: a value describing every change, computed by the pure function [`plan`] from the
//! desired and live states. Rendering and execution are elsewhere.

mod diff;

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) use diff::{plan, plan_destroy};

use crate::live::ForeignResource;
use crate::resource::{Address, Attributes, Spec, Value};

/// The version of the JSON plan format (`format_version`); bumped on any incompatible change.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// What happens to one resource (after Terraform's `plans.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Already as desired.
    NoOp,
    /// Does not exist yet.
    Create,
    /// Changed in place.
    Update,
    /// Deleted, then created anew.
    Replace,
    /// Deleted.
    Delete,
}

/// Why a resource gets its action: it explains the action, never drives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// It does not exist yet.
    Missing,
    /// The resource it lives in is replaced.
    ParentReplaced(Address),
    /// These fields cannot change in place.
    Forced(Vec<String>),
    /// These fields differ.
    Differs(Vec<String>),
    /// This run takes it over.
    Adopted,
    /// It is as the file wants it.
    Matches,
    /// The stack file no longer names it.
    Orphan,
    /// `authdemo destroy` removes everything the stack owns.
    Destroy,
}

impl Reason {
    /// Whether the reason tells a reviewer more than the action and the changed fields already
    /// do (a replacement's cause, an orphan, an adoption), so that plans print it.
    pub(crate) fn adds_to_action(&self) -> bool {
        matches!(self, Self::ParentReplaced(_) | Self::Forced(_) | Self::Adopted | Self::Orphan)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("does not exist yet"),
            Self::ParentReplaced(parent) => write!(f, "{parent} is replaced, and this lives in it"),
            Self::Forced(fields) => write!(f, "{} cannot change in place", fields.join(", ")),
            Self::Differs(fields) => {
                write!(f, "{} differ{}", fields.join(", "), if fields.len() == 1 { "s" } else { "" })
            }
            Self::Adopted => f.write_str("adopted: it gets the ownership tags"),
            Self::Matches => f.write_str("matches the stack file"),
            Self::Orphan => f.write_str("removed from the stack file"),
            Self::Destroy => f.write_str("the stack is destroyed"),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FieldChange {
    /// The field name.
    pub field: String,
    /// The live value (absent for new fields).
    pub before: Option<Value>,
    /// The desired value (absent for removed fields).
    pub after: Option<Value>,
    /// Whether this difference alone forces replacement.
    pub forces_replacement: bool,
}

/// What happens to one resource and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ResourceChange {
    /// The resource.
    pub address: Address,
    /// The action.
    pub action: Action,
    /// The live physical id, when it exists.
    pub id: Option<String>,
    /// Explains the action (never drives it).
    pub reason: Reason,
    /// The fields that differ.
    pub changed_fields: Vec<FieldChange>,
    /// The live attributes, when it exists.
    pub before: Option<Attributes>,
    /// The desired attributes, unless it is deleted.
    pub after: Option<Attributes>,
    /// The resources it depends on (its parents).
    pub depends_on: Vec<Address>,
    /// Things the reviewer should know (e.g. write-only fields).
    pub notes: Vec<String>,
    /// Whether this run takes the resource over (`--adopt`): it gets the ownership tags.
    pub adopt: bool,
}

impl ResourceChange {
    /// The live fields before the change read as `S`, when the resource is of `S`'s kind.
    pub(crate) fn before_as<S: Spec>(&self) -> Option<S> {
        let before = self.before.as_ref().filter(|_| self.address.kind == S::KIND)?;
        S::from_attributes(before).ok()
    }
}

/// A plan's deletions (replacements included) by address.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deletions(BTreeMap<Address, Action>);

/// What the delete of one resource needs to know of the plan's other deletions.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct AroundDelete {
    /// The plan deletes or replaces a container of it: a resource of a kind that AWS deletes
    /// along with its container needs no call of its own
    /// ([`crate::resource::ResourceKind::goes_with_its_container`]).
    pub container_goes: bool,
    /// The plan deletes a container of it for good (not to create it again): the container's
    /// delete may wait for what this delete leaves settling.
    pub container_goes_for_good: bool,
    /// The resources inside it that the plan deletes too.
    pub inside: Vec<Address>,
}

impl Deletions {
    /// What the plan deletes around `address`.
    pub(crate) fn around(&self, address: &Address) -> AroundDelete {
        let containers: Vec<Action> =
            self.0.iter().filter(|(container, _)| address.lives_in(container)).map(|(_, action)| *action).collect();
        AroundDelete {
            container_goes: !containers.is_empty(),
            container_goes_for_good: containers.contains(&Action::Delete),
            inside: self.0.keys().filter(|inner| inner.lives_in(address)).cloned().collect(),
        }
    }
}

/// How many resources a plan adds, changes and destroys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub(crate) struct Summary {
    /// Created, including the create half of replacements.
    pub add: usize,
    /// Updated in place.
    pub change: usize,
    /// Deleted, including the delete half of replacements.
    pub destroy: usize,
}

/// Every change for one stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Plan {
    /// The stack name.
    pub stack: String,
    /// The AWS account the plan was made against.
    pub account: String,
    /// The region the plan was made against.
    pub region: String,
    /// Every resource of the stack, in dependency order, including unchanged ones.
    pub changes: Vec<ResourceChange>,
    /// Same-named resources that are not the stack's and are left alone.
    pub ignored: Vec<ForeignResource>,
    /// Resources the stack wants whose name a foreign resource already holds: apply refuses
    /// until the user adopts them (`--adopt ADDRESS`) or removes them.
    pub conflicts: Vec<ForeignResource>,
}

impl Plan {
    /// Counts of adds, changes and destroys.
    pub(crate) fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::NoOp => {}
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Delete => summary.destroy += 1,
            }
        }
        summary
    }

    /// The ids of every live resource the plan found.
    pub(crate) fn ids(&self) -> std::collections::BTreeSet<String> {
        self.changes.iter().filter_map(|change| change.id.clone()).collect()
    }

    /// Whether applying the plan would change anything.
    pub(crate) fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// The deletions, replacements included.
    pub(crate) fn deletions(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace))
    }

    /// The deletions by address, for each delete to know what the plan deletes around it.
    pub(crate) fn deletions_by_address(&self) -> Deletions {
        Deletions(self.deletions().map(|c| (c.address.clone(), c.action)).collect())
    }

    /// The deletions (of resources removed from the file) that lose data and are not in
    /// `allowed`.
    pub(crate) fn refused_deletions(&self, allowed: &[Address]) -> Vec<&ResourceChange> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Delete && c.address.kind.holds_data() && !allowed.contains(&c.address))
            .collect()
    }

    /// The replacements of resources that hold data and are not in `allowed`.
    pub(crate) fn refused_replacements(&self, allowed: &[Address]) -> Vec<&ResourceChange> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Replace && c.address.kind.holds_data() && !allowed.contains(&c.address))
            .collect()
    }
}
