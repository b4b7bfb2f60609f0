//! What each resource kind's provider file declares beside its spec and handler, so that adding
//! a kind touches no shared table: the IAM actions of its calls, and its hooks into the desired
//! state and discovery. The registry ([`super::registry`]) collects them for every kind of
//! [`crate::kinds`]; a kind without an `impl Kind` does not compile.

use std::future::Future;

use super::AwsProvider;
use super::iam_actions::Permission;
use crate::error::ProviderError;
use crate::live::LiveState;
use crate::resource::{DesiredState, Spec};
use crate::stack::Stack;

/// A resource kind as its provider file declares it.
pub(super) trait Kind: Spec {
    /// The IAM action(s) of the calls its handler and discovery send (STS's and the stack
    /// lock's, which no kind sends, are in [`super::iam_actions::SHARED`]).
    const PERMISSIONS: &'static [Permission];

    /// Adds the resources of this kind that `stack` asks for to `state`, after every service
    /// module added its own (a kind whose service module derives it leaves this empty).
    fn desired(_stack: &Stack, _state: &mut DesiredState) {}

    /// Reads the stack's resources of this kind into `live`, after every service module
    /// discovered its own, so the ids of their containers are known (a kind whose service
    /// module discovers it leaves this empty).
    fn discover(
        _provider: &AwsProvider,
        _desired: &DesiredState,
        _live: &mut LiveState,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send {
        async { Ok(()) }
    }
}
