//! The resource model shared by discovery, planning and execution: kinds, addresses, attribute
//! values, and per-kind field rules (updatable in place or forcing replacement).

mod address;
mod desired;
pub mod policy_document;
mod reference;
mod spec;
mod value;

pub use address::{Address, AddressParseError, ResourceKind};
pub use desired::{
    DesiredResource, DesiredState, EXTRA_POLICY, INVOKE_POLICY, PASSWORD_SET, Target, function_name,
    function_role_address, identity_pool_address, permission_sid, rest_api_address, route_of_sid, user_pool_address,
};
pub use reference::{abstract_ids, reference, references, resolve};
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

impl ResourceKind {
    /// The kind of resource this kind lives in: replacing that one replaces this one too.
    pub fn parent_kind(self) -> Option<ResourceKind> {
        match self {
            Self::UserPoolClient | Self::UserPoolDomain | Self::UserPoolUser => Some(Self::UserPool),
            Self::IdentityPoolRoles => Some(Self::IdentityPool),
            Self::LambdaPermission => Some(Self::Function),
            Self::ApiResource | Self::ApiRoute | Self::ApiStage => Some(Self::RestApi),
            Self::UsagePlanKey => Some(Self::UsagePlan),
            Self::UserPool
            | Self::IdentityPool
            | Self::IamRole
            | Self::Function
            | Self::RestApi
            | Self::UsagePlan
            | Self::ApiKey => None,
        }
    }

    /// Whether other resources refer to this kind's physical ids (so discovery turns them into
    /// references, see [`reference`]).
    pub fn is_referenced(self) -> bool {
        matches!(
            self,
            Self::UserPool
                | Self::UserPoolClient
                | Self::IdentityPool
                | Self::IamRole
                | Self::Function
                | Self::RestApi
                | Self::ApiKey
        )
    }

    /// Whether an untagged resource of this kind can be taken over with `--adopt` (its update
    /// adds the ownership tags).
    pub fn can_adopt(self) -> bool {
        matches!(self, Self::UserPool | Self::IdentityPool | Self::IamRole | Self::Function)
    }

    /// Whether replacing a resource of this kind loses data users created (refused without
    /// `--allow-replace`).
    pub fn holds_data(self) -> bool {
        matches!(self, Self::UserPool)
    }
}
