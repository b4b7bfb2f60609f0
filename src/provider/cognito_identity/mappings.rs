//! The identity pool's role mappings for the stack's user pool, as `IdentityPoolRolesSpec`
//! writes them (`CLIENT_ID TYPE:AMBIGUOUS_ROLE_RESOLUTION`) and as the SDK types carry them.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_cognitoidentity::types::{AmbiguousRoleResolutionType, RoleMapping, RoleMappingType};

use crate::error::ProviderError;

/// The role mappings of the stack's user pool (provider `own_user_pool`), as
/// [`IdentityPoolRolesSpec::role_mappings`] writes them; `None` when it has none.
pub(super) fn own_mappings(
    mappings: Option<&HashMap<String, RoleMapping>>,
    own_user_pool: Option<&str>,
) -> Option<BTreeSet<String>> {
    let own = format!("{}:", own_user_pool?);
    let found: BTreeSet<String> = mappings?
        .iter()
        .filter_map(|(provider, mapping)| {
            let client_id = provider.strip_prefix(&own)?;
            let resolution = mapping.ambiguous_role_resolution().map_or("", |r| r.as_str());
            Some(format!("{client_id} {}:{resolution}", mapping.r#type().as_str()))
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// The role mapping `TYPE:AMBIGUOUS_ROLE_RESOLUTION` stands for (a `Token` mapping; the file
/// makes no `Rules` mapping).
pub(super) fn role_mapping(mapping: &str) -> Result<RoleMapping, ProviderError> {
    let (kind, resolution) = mapping.split_once(':').unwrap_or((mapping, ""));
    RoleMapping::builder()
        .r#type(RoleMappingType::from(kind))
        .set_ambiguous_role_resolution((!resolution.is_empty()).then(|| AmbiguousRoleResolutionType::from(resolution)))
        .build()
        .map_err(|e| ProviderError::other("RoleMapping", e.to_string()))
}
