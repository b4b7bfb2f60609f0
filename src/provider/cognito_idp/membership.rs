//! Which groups the stack's users are members of: read per user, and set to what the file says
//! (a membership added by hand is drift that apply removes).

use std::collections::BTreeSet;

use super::UserPools;
use crate::error::{ProviderError, deleted};

impl UserPools {
    /// The groups of the user `username`.
    pub(super) async fn groups_of(&self, pool_id: &str, username: &str) -> Result<BTreeSet<String>, ProviderError> {
        let groups = self
            .calls
            .all_pages(
                "AdminListGroupsForUser",
                |token| {
                    self.client
                        .admin_list_groups_for_user()
                        .user_pool_id(pool_id)
                        .username(username)
                        .limit(60)
                        .set_next_token(token)
                        .send()
                },
                |out| (out.groups.unwrap_or_default(), out.next_token),
            )
            .await?;
        Ok(groups.iter().filter_map(|g| g.group_name().map(str::to_string)).collect())
    }

    /// Adds `username` to the groups of `wanted` it is not in, and removes it from those of
    /// `live` the file no longer names (a group deleted meanwhile has no member left to remove).
    pub(super) async fn set_groups(
        &self,
        pool_id: &str,
        username: &str,
        live: Option<&BTreeSet<String>>,
        wanted: Option<&BTreeSet<String>>,
    ) -> Result<(), ProviderError> {
        let (live, wanted) = (live.cloned().unwrap_or_default(), wanted.cloned().unwrap_or_default());
        for group in wanted.difference(&live) {
            self.calls
                .call("AdminAddUserToGroup", || {
                    self.client
                        .admin_add_user_to_group()
                        .user_pool_id(pool_id)
                        .username(username)
                        .group_name(group)
                        .send()
                })
                .await?;
        }
        for group in live.difference(&wanted) {
            let result = self
                .calls
                .call("AdminRemoveUserFromGroup", || {
                    self.client
                        .admin_remove_user_from_group()
                        .user_pool_id(pool_id)
                        .username(username)
                        .group_name(group)
                        .send()
                })
                .await;
            deleted(result)?;
        }
        Ok(())
    }
}
