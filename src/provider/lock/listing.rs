//! The stack's lock generations as ListRoles shows them, and which of them a holder deletes.

use std::collections::BTreeMap;

use super::{Holder, KEEP_FOR, Locks};
use crate::error::ProviderError;

/// The generations of `listed` (number, creation time) that the holder of `generation` deletes
/// at `now`: below the previous one, and older than a generation created [`KEEP_FOR`] ago or
/// more (which was created only after they were let go).
pub(super) fn old_generations(listed: &[(u64, u64)], generation: u64, now: u64) -> Vec<u64> {
    let kept_long_enough = |g: u64| listed.iter().any(|(h, created)| *h > g && created + KEEP_FOR <= now);
    listed.iter().map(|(g, _)| *g).filter(|g| *g + 2 <= generation && kept_long_enough(*g)).collect()
}

/// The stack's lock generations as ListRoles shows them.
pub(super) struct Listing {
    /// Each generation with when it was created (AWS's time).
    pub generations: Vec<(u64, u64)>,
    /// The holders whose generation's Description says they let go.
    pub let_go: BTreeMap<u64, Holder>,
}

impl Locks {
    /// The stack's lock generations AWS lists, with when each was created (AWS's time) and, for
    /// those whose Description says their holder let go, that holder.
    pub(super) async fn listing(&self) -> Result<Listing, ProviderError> {
        let path = self.path();
        let roles = self
            .calls
            .all_pages(
                "ListRoles",
                |marker| self.client.list_roles().path_prefix(&path).set_marker(marker).send(),
                |page| (page.roles, page.marker),
            )
            .await?;
        let prefix = format!("authdemo-lock-{}.", self.stack);
        let mut listing = Listing { generations: Vec::new(), let_go: BTreeMap::new() };
        for role in &roles {
            let Some(generation) = role.role_name().strip_prefix(&prefix).and_then(|n| n.parse().ok()) else {
                continue;
            };
            listing.generations.push((generation, u64::try_from(role.create_date().secs()).unwrap_or_default()));
            if let Some(holder) = role.description().and_then(Holder::let_go_from) {
                listing.let_go.insert(generation, holder);
            }
        }
        Ok(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_goes_only_once_a_later_one_has_existed_for_keep_for() {
        let listed = [(3, 1_000), (4, 1_100), (5, 1_200)];
        assert_eq!(old_generations(&listed, 6, 1_250), Vec::<u64>::new(), "every later one is fresh");
        assert_eq!(old_generations(&listed, 6, 1_100 + KEEP_FOR), vec![3], "4 has stood for KEEP_FOR");
        assert_eq!(old_generations(&listed, 6, 1_200 + KEEP_FOR), vec![3, 4], "5, the previous, stays");
        assert_eq!(old_generations(&listed, 6, u64::MAX / 2), vec![3, 4]);
    }
}
