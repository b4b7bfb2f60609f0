//! What the executor asks of whoever carries out a plan (AWS, or a fake in tests): one
//! [`Step`] at a time, through the [`Runner`] trait. A leaf module, so that the executor
//! (`apply`) and the AWS side (`provider`) need not know each other.

use std::collections::BTreeMap;
use std::future::Future;

use crate::error::ProviderError;
use crate::plan::ResourceChange;
use crate::resource::Address;

/// What one step does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Operation {
    /// Deletes the live resource.
    Delete,
    /// Creates the resource.
    Create,
    /// Changes the live resource in place.
    Update,
}

/// One unit of work: an operation on a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Step {
    /// The resource.
    pub address: Address,
    /// The operation.
    pub operation: Operation,
}

/// Carries out one step against AWS (or a fake in tests).
pub(crate) trait Runner: Send + Sync + 'static {
    /// Runs `step` for `change`; `ids` holds the physical ids of every resource known so far.
    /// Returns the new physical id after a create.
    fn run(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> impl Future<Output = Result<Option<String>, ProviderError>> + Send;
}
