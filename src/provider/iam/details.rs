//! Every role of the account with its policies and tags in one paged read,
//! GetAccountAuthorizationDetails (filter Role), in place of ListRoles and four calls per role
//! (GetRole, ListRolePolicies, each GetRolePolicy, ListAttachedRolePolicies).

use std::collections::HashMap;

use aws_sdk_iam::types::{EntityType, RoleDetail};

use super::{RoleSpec, Roles};
use crate::error::ProviderError;
use crate::resource::policy_document::canonical_from_aws;
use crate::resource::tags::user_tags;

/// The most entities AWS answers in one page.
const PAGE: i32 = 1000;

/// One role as the account's details show it.
pub(super) struct RoleFound {
    /// Its name.
    pub name: String,
    /// Its ARN (the role's id).
    pub arn: String,
    /// All its tags.
    pub tags: HashMap<String, String>,
    /// Its settings.
    pub spec: RoleSpec,
}

impl Roles {
    /// The roles of the account that `keep` (given a role's path and name) keeps.
    pub(super) async fn roles_found(&self, keep: impl Fn(&str, &str) -> bool) -> Result<Vec<RoleFound>, ProviderError> {
        let roles = self
            .calls
            .all_pages(
                "GetAccountAuthorizationDetails",
                |marker| {
                    let read = self.client.get_account_authorization_details().filter(EntityType::Role);
                    read.max_items(PAGE).set_marker(marker).send()
                },
                |out| (out.role_detail_list.unwrap_or_default(), out.marker.filter(|_| out.is_truncated)),
            )
            .await?;
        Ok(roles
            .into_iter()
            .filter(|role| keep(role.path().unwrap_or_default(), role.role_name().unwrap_or_default()))
            .map(found)
            .collect())
    }
}

fn found(role: RoleDetail) -> RoleFound {
    let tags: HashMap<String, String> =
        role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    let policies = role
        .role_policy_list()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap_or_default().to_string(),
                canonical_from_aws(p.policy_document().unwrap_or_default()),
            )
        })
        .collect();
    let managed_policies = role.attached_managed_policies().iter().filter_map(|p| p.policy_arn.clone()).collect();
    let spec = RoleSpec {
        trust_policy: canonical_from_aws(role.assume_role_policy_document().unwrap_or_default()),
        policies,
        managed_policies,
        tags: user_tags(&tags),
        permissions_boundary: role.permissions_boundary().and_then(|b| b.permissions_boundary_arn.clone()),
    };
    RoleFound { name: role.role_name.unwrap_or_default(), arn: role.arn.unwrap_or_default(), tags, spec }
}
