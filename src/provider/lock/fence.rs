//! The fence of a lock's holder: once its lease may have run out without a renewal (or another
//! run holds a later generation), the run sends no more changes, so that a run that took the
//! lock over never changes the stack alongside it. It also keeps the ids of what the run created
//! that AWS lists late, for the lock's release to tell the next run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ProviderError;

/// How long before its lease runs out a holder stops sending changes: covers the two clocks'
/// uncertainty and a call already on its way.
pub(super) const MARGIN: Duration = Duration::from_secs(10);

/// Until when the run may send changes; unset (no limit) when it holds no lock.
#[derive(Debug, Default)]
pub(crate) struct Fence {
    until: Mutex<Option<Result<Instant, &'static str>>>,
    created: Mutex<Vec<String>>,
}

impl Fence {
    /// Changes may go out until `until` (this machine's monotonic clock).
    pub(super) fn allow_until(&self, until: Instant) {
        *self.guard() = Some(Ok(until));
    }

    /// No more changes: `why` says what happened to the lock.
    pub(crate) fn close(&self, why: &'static str) {
        *self.guard() = Some(Err(why));
    }

    /// Refuses a change `operation` once the fence is closed or its time has passed.
    pub(crate) fn check(&self, operation: &str) -> Result<(), ProviderError> {
        let why = match *self.guard() {
            None => return Ok(()),
            Some(Ok(until)) if Instant::now() < until => return Ok(()),
            Some(Ok(_)) => "its lease could not be renewed in time",
            Some(Err(why)) => why,
        };
        Err(ProviderError::other(
            operation,
            format!("not sent: this run no longer holds the stack's lock ({why}); run it again"),
        ))
    }

    /// Notes that the run created `id` (of a kind AWS lists late).
    pub(super) fn created(&self, id: &str) {
        self.created.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id.to_string());
    }

    /// The ids the run created of the kinds AWS lists late.
    pub(super) fn created_ids(&self) -> Vec<String> {
        self.created.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Option<Result<Instant, &'static str>>> {
        self.until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_lets_changes_through_until_its_time_or_its_close() {
        let fence = Fence::default();
        assert!(fence.check("CreateRole").is_ok(), "no lock, no fence");
        fence.allow_until(Instant::now() + Duration::from_mins(1));
        assert!(fence.check("CreateRole").is_ok());
        fence.allow_until(Instant::now().checked_sub(Duration::from_secs(1)).unwrap());
        let refused = fence.check("CreateRole").unwrap_err();
        assert!(refused.message.contains("lease could not be renewed"), "{}", refused.message);
        fence.close("another run took it over");
        assert!(fence.check("DeleteRole").unwrap_err().message.contains("another run took it over"));
    }
}
