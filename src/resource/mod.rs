//! The resource model shared by discovery, planning and execution: kinds, addresses, attribute
//! values, and per-kind field rules (updatable in place or forcing replacement).

mod address;
mod desired;
pub(crate) mod policy_document;
mod reference;
mod sensitive;
mod spec;
pub(crate) mod tags;
mod value;

pub(crate) use address::{Address, AddressParseError, ResourceKind};
pub(crate) use desired::{
    DesiredResource, DesiredState, EXTRA_POLICY, INVOKE_POLICY, PASSWORD_SET, Target, function_name,
    function_role_address, identity_pool_address, permission_sid, rest_api_address, route_of_sid, user_pool_address,
};
pub(crate) use reference::{abstract_ids, reference, references, resolve, resolve_known};
pub(crate) use sensitive::{hide_like, hide_unlike, reveal};
pub(crate) use spec::{FieldValue, Sensitive, Spec, SpecError, rule_of};
pub(crate) use value::{Attributes, Value};

/// How a change to one field is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldRule {
    /// Changed in place by an update call.
    Updatable,
    /// Cannot change after creation: a change means a new resource.
    ForcesReplacement,
    /// A map whose entries can be added in place, but changing or removing one forces replacement.
    AddOnly,
    /// Sent on create only and never read back: not compared.
    WriteOnly,
}
