//! Resource kinds and addresses (`KIND.NAME`), the names plan output and flags use.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Every kind of resource authdemo manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// A Cognito user pool.
    UserPool,
    /// An app client of the user pool.
    UserPoolClient,
    /// The user pool's hosted-UI domain.
    UserPoolDomain,
    /// A user of the user pool.
    UserPoolUser,
    /// The Cognito identity pool.
    IdentityPool,
    /// An IAM role (the identity pool's authenticated and unauthenticated roles).
    IamRole,
    /// The identity pool's role attachment.
    IdentityPoolRoles,
    /// A Lambda function.
    Function,
    /// API Gateway's permission to invoke a function for one route.
    LambdaPermission,
    /// The REST API.
    RestApi,
    /// A path of the REST API (`/items`, `/items/{id}`).
    ApiResource,
    /// A method of a path with its Lambda proxy integration (`GET /items/{id}`).
    ApiRoute,
    /// The stage with its deployment of the routes.
    ApiStage,
    /// The usage plan (throttle, quota) on the API's stage.
    UsagePlan,
    /// An API key.
    ApiKey,
    /// An API key's link to the usage plan.
    UsagePlanKey,
}

impl ResourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [ResourceKind; 16] = [
        Self::UserPool,
        Self::UserPoolClient,
        Self::UserPoolDomain,
        Self::UserPoolUser,
        Self::IdentityPool,
        Self::IamRole,
        Self::IdentityPoolRoles,
        Self::Function,
        Self::LambdaPermission,
        Self::RestApi,
        Self::ApiResource,
        Self::ApiRoute,
        Self::ApiStage,
        Self::UsagePlan,
        Self::ApiKey,
        Self::UsagePlanKey,
    ];

    /// The kind as written in addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserPool => "user_pool",
            Self::UserPoolClient => "user_pool_client",
            Self::UserPoolDomain => "user_pool_domain",
            Self::UserPoolUser => "user_pool_user",
            Self::IdentityPool => "identity_pool",
            Self::IamRole => "iam_role",
            Self::IdentityPoolRoles => "identity_pool_roles",
            Self::Function => "function",
            Self::LambdaPermission => "lambda_permission",
            Self::RestApi => "rest_api",
            Self::ApiResource => "api_resource",
            Self::ApiRoute => "api_route",
            Self::ApiStage => "api_stage",
            Self::UsagePlan => "usage_plan",
            Self::ApiKey => "api_key",
            Self::UsagePlanKey => "usage_plan_key",
        }
    }
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

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource's address, `KIND.NAME`, e.g. `user_pool_client.web`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// The resource kind.
    pub kind: ResourceKind,
    /// The logical name within the stack.
    pub name: String,
}

impl Address {
    /// The address of `kind` named `name`.
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self { kind, name: name.into() }
    }

    /// The resource this one lives in, read from its kind and name: a client's pool, a path's
    /// parent path, a method's path, a plan key's plan; `None` for resources that stand alone.
    pub fn container(&self) -> Option<Address> {
        let in_api = |path: &str| match path {
            "" | "/" => Address::new(ResourceKind::RestApi, "main"),
            path => Address::new(ResourceKind::ApiResource, path),
        };
        match self.kind {
            ResourceKind::UserPoolClient | ResourceKind::UserPoolDomain | ResourceKind::UserPoolUser => {
                Some(Address::new(ResourceKind::UserPool, "main"))
            }
            ResourceKind::IdentityPoolRoles => Some(Address::new(ResourceKind::IdentityPool, "main")),
            ResourceKind::ApiResource => self.name.rsplit_once('/').map(|(parent, _)| in_api(parent)),
            ResourceKind::ApiRoute => self.name.split_once(' ').map(|(_, path)| in_api(path)),
            ResourceKind::ApiStage => Some(Address::new(ResourceKind::RestApi, "main")),
            ResourceKind::UsagePlanKey => Some(Address::new(ResourceKind::UsagePlan, "main")),
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a string is not an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a resource address: write KIND.NAME, e.g. user_pool.main (kinds: {kinds})", kinds = kinds())]
pub struct AddressParseError(String);

fn kinds() -> String {
    ResourceKind::ALL.map(ResourceKind::as_str).join(", ")
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once('.').ok_or_else(|| AddressParseError(s.into()))?;
        let kind =
            ResourceKind::ALL.into_iter().find(|k| k.as_str() == kind).ok_or_else(|| AddressParseError(s.into()))?;
        if name.is_empty() {
            return Err(AddressParseError(s.into()));
        }
        Ok(Address::new(kind, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let address: Address = "user_pool_client.web".parse().unwrap();
        assert_eq!(address, Address::new(ResourceKind::UserPoolClient, "web"));
        assert_eq!(address.to_string(), "user_pool_client.web");
        assert!("pool.main".parse::<Address>().is_err());
        assert!("user_pool.".parse::<Address>().is_err());
    }

    #[test]
    fn knows_what_each_resource_lives_in() {
        let container = |a: &str| a.parse::<Address>().unwrap().container().map(|c| c.to_string());
        assert_eq!(container("api_resource./items/{id}").as_deref(), Some("api_resource./items"));
        assert_eq!(container("api_resource./items").as_deref(), Some("rest_api.main"));
        assert_eq!(container("api_route.GET /items").as_deref(), Some("api_resource./items"));
        assert_eq!(container("api_route.GET /").as_deref(), Some("rest_api.main"));
        assert_eq!(container("user_pool_client.web").as_deref(), Some("user_pool.main"));
        assert_eq!(container("function.api"), None);
    }
}
