//! The stack's lock around `apply` and `destroy`, and `authdemo unlock`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::bail;

use super::change::confirm;
use super::{connect, load_stack, require_approval_path};
use crate::cli::{LockArgs, StackArgs, UnlockArgs};
use crate::plan::Plan;
use crate::provider::{AwsProvider, FirstRead, Holder, LockError, Observed, StackLock};

/// A run's first read of the account that found changes, with the stack's lock as the run saw
/// it before that read began: the lock is taken from that sight.
pub(super) struct BeforeLock {
    read: FirstRead,
    observed: Observed,
}

/// What [`with_lock`] needs of a first read that began at `began`, after the run `observed`
/// the lock, and planned `plan`: nothing if the plan changes nothing (no lock is taken).
pub(super) fn first_read(began: SystemTime, observed: Observed, plan: &Plan) -> Option<BeforeLock> {
    plan.has_changes().then_some(BeforeLock { read: FirstRead { began, ids: plan.ids() }, observed })
}

/// Runs `body` with `provider`, holding the stack's lock when `first` is set (the run's first
/// read found changes), and releases the lock however `body` ends (see [`holding`]).
pub(super) async fn with_lock<T>(
    provider: AwsProvider,
    first: Option<BeforeLock>,
    args: &LockArgs,
    stack: &StackArgs,
    body: impl AsyncFnOnce(AwsProvider, bool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let held = match first {
        Some(BeforeLock { read, observed }) => Some((take_lock(&provider, args, stack, observed).await?, read)),
        None => None,
    };
    holding(provider, held, body).await
}

/// Runs `body` with `provider` while the run holds `held` (the lock, with the run's first
/// read), and releases it however `body` ends. `body` is told whether to read the account
/// again under the lock: when another run may have changed the stack since that first read (it
/// held the lock after the read began, or let go too shortly before for AWS's lists to show
/// what it created), so that a run that waited for another acts on what that one left; the
/// read waits until those lists settled.
pub(super) async fn holding<T>(
    provider: AwsProvider,
    held: Option<(StackLock, FirstRead)>,
    body: impl AsyncFnOnce(AwsProvider, bool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let (lock, read_again) = match held {
        Some((lock, read)) => {
            let stale = lock.read_may_be_stale(&read);
            if stale {
                lock.settled().await;
            }
            (Some(lock), stale)
        }
        None => (None, false),
    };
    let result = body(provider, read_again).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    result
}

/// Takes the stack's lock from what the run `observed`, saying on stderr whom it waits for.
pub(super) async fn take_lock(
    provider: &AwsProvider,
    args: &LockArgs,
    stack: &StackArgs,
    observed: Observed,
) -> anyhow::Result<StackLock> {
    let waiting = |holder: &Holder| {
        eprintln!(
            "waiting for the stack's lock, held {} (up to --lock-timeout {} s)",
            holder.describe(),
            args.lock_timeout
        );
    };
    let taken = provider.lock(Duration::from_secs(args.lock_timeout), &waiting, Some(observed)).await;
    taken.map_err(|error| match error {
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
    let Some((generation, holder)) = provider.lock_holder().await? else {
        println!("stack {} is not locked", stack.name);
        return Ok(ExitCode::SUCCESS);
    };
    println!("stack {} is locked {}", stack.name, holder.describe());
    if !args.auto_approve && !confirm("Break this lock? Do so only if that run is gone.").await? {
        bail!("unlock cancelled: the lock stays");
    }
    provider.unlock(generation).await?;
    println!("the lock of stack {} is broken", stack.name);
    Ok(ExitCode::SUCCESS)
}
