//! The resource model shared by discovery, planning and execution: kinds, addresses, attribute
//! values, and per-kind field rules (updatable in place or forcing replacement).

mod address;
mod desired;
pub mod policy_document;
mod reference;
mod sensitive;
mod spec;
pub mod tags;
mod value;

pub use address::{Address, AddressParseError, ResourceKind};
pub use desired::{
    DesiredResource, DesiredState, EXTRA_POLICY, INVOKE_POLICY, PASSWORD_SET, Target, function_name,
    function_role_address, identity_pool_address, permission_sid, rest_api_address, route_of_sid, user_pool_address,
};
pub use reference::{abstract_ids, reference, references, resolve, resolve_known};
pub use sensitive::{hide_like, placeholder, reveal};
pub use spec::{FieldValue, Sensitive, Spec, SpecError, rule_of};
pub use value::{Attributes, Value};

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
