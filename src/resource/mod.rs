//! The resource model shared by discovery, planning and execution: kinds, addresses, attribute
//! values, and per-kind field rules (updatable in place or forcing replacement).

mod address;
mod desired;
mod value;

pub use address::{Address, ResourceKind};
pub use desired::{DesiredResource, DesiredState, PASSWORD_SET, desired_state, user_pool_address};
pub use value::{AttributeReads, Attributes, Value};

/// How a change to one field is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Changed in place by an update call.
    Updatable,
    /// Cannot change after creation: a change means a new resource.
    ForcesReplacement,
    /// A map whose entries can be added in place, but changing or removing one forces replacement.
    AddOnly,
    /// Sent on create only and never read back: not compared.
    WriteOnly,
}

impl ResourceKind {
    /// The rule for `field` of this kind. Fields not listed are updatable.
    pub fn field_rule(self, field: &str) -> FieldRule {
        match (self, field) {
            (Self::UserPool, "sign_in") => FieldRule::ForcesReplacement,
            (Self::UserPool, "custom_attributes") => FieldRule::AddOnly,
            (Self::UserPoolDomain, "domain") => FieldRule::ForcesReplacement,
            (Self::UserPoolUser, "password") => FieldRule::WriteOnly,
            _ => FieldRule::Updatable,
        }
    }

    /// Whether replacing a resource of this kind loses data users created (refused without
    /// `--allow-replace`).
    pub fn holds_data(self) -> bool {
        matches!(self, Self::UserPool)
    }
}
