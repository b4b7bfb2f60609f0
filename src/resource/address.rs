//! Resource kinds and addresses (`KIND.NAME`), the names plan output and flags use.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Expands the list of [`crate::kinds`] into [`ResourceKind`] and its rules.
macro_rules! define_kinds {
    ($(
        $(#[$doc:meta])*
        $kind:ident: $name:literal, $spec:path, $handler:ident, parent: $parent:expr,
            referenced: $referenced:literal, adopt: $adopt:literal, holds_data: $holds_data:literal;
    )*) => {
        /// Every kind of resource authdemo manages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum ResourceKind {
            $($(#[$doc])* $kind,)*
        }

        impl ResourceKind {
            /// Every kind, in declaration order.
            pub(crate) const ALL: &[ResourceKind] = &[$(Self::$kind,)*];

            /// The kind as written in addresses.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Self::$kind => $name,)*
                }
            }

            /// The kind of resource this kind lives in: replacing that one replaces this one too.
            pub(crate) fn parent_kind(self) -> Option<ResourceKind> {
                #[allow(clippy::enum_glob_use, reason = "the list names parents by variant")]
                use ResourceKind::*;
                match self {
                    $(Self::$kind => $parent,)*
                }
            }

            /// Whether other resources refer to this kind's physical ids (so discovery turns them
            /// into references, see [`super::reference`]).
            pub(crate) fn is_referenced(self) -> bool {
                match self {
                    $(Self::$kind => $referenced,)*
                }
            }

            /// Whether an untagged resource of this kind can be taken over with `--adopt` (its
            /// update adds the ownership tags).
            pub(crate) fn can_adopt(self) -> bool {
                match self {
                    $(Self::$kind => $adopt,)*
                }
            }

            /// Whether replacing a resource of this kind loses data users created (refused
            /// without `--allow-replace`).
            pub(crate) fn holds_data(self) -> bool {
                match self {
                    $(Self::$kind => $holds_data,)*
                }
            }
        }
    };
}

crate::kinds::with_kinds!(define_kinds);

impl ResourceKind {
    /// Whether creating or updating a resource of this kind takes a snapshot of what lives in
    /// its container (a stage deploys the API's current methods): it then runs after every other
    /// change to what lives there.
    pub(crate) fn snapshots_its_container(self) -> bool {
        matches!(self, Self::ApiStage)
    }

    /// Whether AWS deletes a resource of this kind along with its container (an API's paths,
    /// methods, gateway responses and stages with the API; a pool's clients and users with the
    /// pool; an identity pool's role attachment with the pool), so that deleting both needs
    /// only the container's call. Not a user pool's domain: AWS refuses to delete a pool with one.
    pub(crate) fn goes_with_its_container(self) -> bool {
        matches!(
            self,
            Self::ApiResource
                | Self::ApiRoute
                | Self::ApiPreflight
                | Self::ApiGatewayResponse
                | Self::ApiStage
                | Self::ApiAuthorizer
                | Self::UserPoolClient
                | Self::UserPoolResourceServer
                | Self::UserPoolUser
                | Self::IdentityPoolRoles
        )
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource's address, `KIND.NAME`, e.g. `user_pool_client.web`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Address {
    /// The resource kind.
    pub kind: ResourceKind,
    /// The logical name within the stack.
    pub name: String,
}

impl Address {
    /// The address of `kind` named `name`.
    pub(crate) fn new(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self { kind, name: name.into() }
    }

    /// The resource this one lives in, read from its kind and name: a path's parent path, a
    /// method's path, otherwise the one resource of its parent kind (a client's pool, a plan
    /// key's plan); `None` for resources that stand alone or whose parent their attributes name
    /// (a permission's function).
    pub(crate) fn container(&self) -> Option<Address> {
        let in_api = |path: &str| match path {
            "" | "/" => Address::new(ResourceKind::RestApi, "main"),
            path => Address::new(ResourceKind::ApiResource, path),
        };
        match self.kind {
            ResourceKind::ApiResource => self.name.rsplit_once('/').map(|(parent, _)| in_api(parent)),
            ResourceKind::ApiRoute => self.name.split_once(' ').map(|(_, path)| in_api(path)),
            ResourceKind::ApiPreflight => Some(in_api(&self.name)),
            ResourceKind::LambdaPermission => None,
            kind => kind.parent_kind().map(|parent| Address::new(parent, "main")),
        }
    }
}

impl Address {
    /// Whether this resource lives, directly or deeper, in `ancestor`.
    pub(crate) fn lives_in(&self, ancestor: &Address) -> bool {
        let mut next = self.container();
        while let Some(container) = next {
            if container == *ancestor {
                return true;
            }
            next = container.container();
        }
        false
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
pub(crate) struct AddressParseError(String);

fn kinds() -> String {
    ResourceKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Address {
    type Err = AddressParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once('.').ok_or_else(|| AddressParseError(s.into()))?;
        let kind = ResourceKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| AddressParseError(s.into()))?;
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
