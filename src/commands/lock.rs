//! The stack's lock around `apply` and `destroy`, and `authdemo unlock`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;

use super::change::confirm;
use super::{connect, load_stack, require_approval_path};
use crate::cli::{LockArgs, StackArgs, UnlockArgs};
use crate::provider::{AwsProvider, Holder, LockError, StackLock};

/// Runs `body` with `provider`, holding the stack's lock when `needed` (telling `body` whether
/// it holds it), and releases the lock however `body` ends: `apply` and `destroy` plan again
/// under it, so that a run that waited for another acts on what that one left.
pub(super) async fn with_lock<T>(
    provider: AwsProvider,
    needed: bool,
    args: &LockArgs,
    stack: &StackArgs,
    body: impl AsyncFnOnce(AwsProvider, bool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let lock = if needed { Some(take_lock(&provider, args, stack).await?) } else { None };
    let result = body(provider, lock.is_some()).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    result
}

/// Takes the stack's lock, saying on stderr whom it waits for.
async fn take_lock(provider: &AwsProvider, args: &LockArgs, stack: &StackArgs) -> anyhow::Result<StackLock> {
    let waiting = |holder: &Holder| {
        eprintln!(
            "waiting for the stack's lock, held {} (up to --lock-timeout {} s)",
            holder.describe(),
            args.lock_timeout
        );
    };
    provider.lock(Duration::from_secs(args.lock_timeout), &waiting).await.map_err(|error| match error {
        LockError::Held { .. } => anyhow::anyhow!(
            "{error}.\n  Wait for it, pass a longer --lock-timeout, or if that run is gone, run `{}`",
            stack.command_line("unlock", "")
        ),
        other @ LockError::Aws(_) => other.into(),
    })
}

/// `authdemo unlock`: breaks the stack's lock after saying who holds it and asking.
pub(super) async fn unlock(args: &UnlockArgs) -> anyhow::Result<ExitCode> {
    require_approval_path(args.auto_approve, "unlock", &args.stack)?;
    let stack = load_stack(&args.stack)?;
    let (provider, _) = connect(&args.aws, &stack).await?;
    let Some(holder) = provider.lock_holder().await? else {
        println!("stack {} is not locked", stack.name);
        return Ok(ExitCode::SUCCESS);
    };
    println!("stack {} is locked {}", stack.name, holder.describe());
    if !args.auto_approve && !confirm("Break this lock? Do so only if that run is gone.").await? {
        bail!("unlock cancelled: the lock stays");
    }
    provider.unlock().await?;
    println!("the lock of stack {} is broken", stack.name);
    Ok(ExitCode::SUCCESS)
}
