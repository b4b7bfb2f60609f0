//! The stack lock: two runs that change one stack at the same time would each create the
//! resources whose names AWS does not keep unique (user pool, identity pool, REST API, usage
//! plan, API keys), so `apply` and `destroy` hold a lock that needs no store of the user's.
//!
//! The lock is a chain of generations, each an IAM role that nothing can assume:
//! `authdemo-lock-<stack>.<N>` under the path `/authdemo-lock/<stack>/`. IAM role names are unique
//! in an account and CreateRole is the one call that decides (its reads may lag, its uniqueness
//! does not), so exactly one run creates generation N: the holder is whoever created the highest
//! generation. A run takes the lock by creating the generation after the highest it sees, once
//! that one's holder let go (its Description says so, which ListRoles shows without a GetRole;
//! `unlock` and earlier versions tag it `authdemo:lock-released`), its lease ran out (90 s after
//! its last renewal, on AWS's clock), or it was a process of this machine's process table that no
//! longer runs. No run ever deletes a generation another run may still create or hold: a
//! generation goes only once a later one has existed for [`KEEP_FOR`]. The holder renews its
//! lease every 30 s, stops sending changes ([`Fence`]) when it could not renew in time or sees a
//! later generation, and describes its generation let go when it is done. The README ("Two runs
//! on one stack") gives the safety argument.

mod clock;
mod fence;
mod holder;
mod listing;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_iam::Client;
use tokio::time::Instant;

pub(crate) use self::clock::AwsClock;
use self::clock::DATE_RESOLUTION;
pub(crate) use self::fence::Fence;
pub(crate) use self::holder::Holder;
use self::listing::{Listing, old_generations};
use super::call::Calls;
use crate::error::{ErrorClass, ProviderError, deleted, found};

/// How long a lock stays valid after its holder's last renewal.
const LEASE: Duration = Duration::from_secs(90);
/// How often the holder renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// How often a waiting run looks again.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long after a change AWS's lists (ListUserPools, GetRestApis, ListIdentityPools,
/// GetUsagePlans, GetApiKeys) may still miss it: a run reads the account again no sooner than
/// this after the previous holder let go.
pub(crate) const LISTING_SETTLE: Duration = Duration::from_secs(5);
/// How long a generation of the lock stays after a later one was created (seconds): only a read
/// older than this could miss every later generation and create this one again.
const KEEP_FOR: u64 = 300;

/// Nothing may assume the lock role: it only exists.
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Why a run could not take its stack's lock.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    /// Another run holds it and did not let go in time.
    #[error("stack {stack} is being changed by another run ({holder}); nothing was changed")]
    Held {
        /// The stack.
        stack: String,
        /// Who holds it and since when.
        holder: String,
    },
    /// AWS refused a call.
    #[error(transparent)]
    Aws(#[from] ProviderError),
}

/// A run's first read of the account, before it took the lock.
pub(crate) struct FirstRead {
    /// When it began (this machine's clock).
    pub began: SystemTime,
    /// The ids of every resource it found.
    pub ids: BTreeSet<String>,
}

/// The lock as a run saw it before its first read of the account began.
pub(crate) struct Observed {
    /// The generations listed, with when each was created.
    listed: Vec<(u64, u64)>,
    /// The highest generation known.
    top: u64,
    /// What the run saw of it.
    seen: Seen,
}

impl Observed {
    /// Whether a run held the lock before and let go (or is done): a `destroy` then takes the
    /// next generation while it reads, before it knows whether anything is left to delete.
    pub(crate) fn free_after_a_holder(&self) -> bool {
        self.top > 0 && matches!(self.seen, Seen::Free(_))
    }
}

/// What the previous holder of the lock left.
#[derive(Debug, Clone)]
struct Previous {
    /// Until when (AWS's time) it may have changed the stack.
    done: u64,
    /// The ids it created of the kinds AWS lists late, if it let go and said so.
    created: Option<Vec<String>>,
    /// Whether the run saw it done before its first read began, and took the next generation
    /// from that sight (so that nobody held the lock in between).
    before_read: bool,
}

/// The lock of one stack, held while it lives; [`StackLock::release`] gives it back.
pub(crate) struct StackLock {
    locks: Locks,
    generation: u64,
    /// This run, as it holds the generation.
    holder: Holder,
    /// The previous holder; `None` when no run held the lock before.
    previous: Option<Previous>,
    /// Generations old enough to delete when this run lets go.
    old: Vec<u64>,
    renewal: tokio::task::JoinHandle<()>,
}

impl StackLock {
    /// Whether `first_read` may miss what an earlier holder changed. It cannot when no run held
    /// the lock before; when the previous holder was done, and AWS's lists had settled, before
    /// the read began (AWS's clock); or when the run saw the previous holder let go before the
    /// read began, took the next generation from that sight, and the read found every resource
    /// that holder said it created of the kinds AWS lists late (no clock involved).
    pub(crate) fn read_may_be_stale(&self, first_read: &FirstRead) -> bool {
        let Some(previous) = &self.previous else { return false };
        if previous.done + settle() <= self.locks.clock.at(first_read.began) {
            return false;
        }
        let all_found = previous.created.as_ref().is_some_and(|ids| ids.iter().all(|id| first_read.ids.contains(id)));
        !(previous.before_read && all_found)
    }

    /// Waits until what the previous holder changed shows in AWS's lists.
    pub(crate) async fn settled(&self) {
        let Some(previous) = &self.previous else { return };
        let wait = self.locks.clock.until(previous.done + settle());
        if !wait.is_zero() {
            tracing::info!("waiting {wait:?} for AWS's lists to show what the previous run changed");
            tokio::time::sleep(wait).await;
        }
    }

    /// Gives the lock back: says in this run's generation's Description that it let go, now,
    /// having created what it created (the next run takes the generation after it), then
    /// deletes generations old enough to go.
    pub(crate) async fn release(self) {
        self.renewal.abort();
        self.locks.fence.close("it was let go");
        let now = self.locks.clock.now();
        let let_go = Holder { released: Some(now), created: Some(self.locks.fence.created_ids()), ..self.holder };
        let description = let_go.let_go_description();
        let name = self.locks.name(self.generation);
        let describe = || self.locks.client.update_role().role_name(&name).description(&description).send();
        if let Err(error) = self.locks.calls.call("UpdateRole", describe).await {
            tracing::warn!(%error, "could not release the stack lock; its lease runs out by itself");
        }
        for generation in self.old {
            if let Err(error) = self.locks.delete(generation).await {
                tracing::warn!(%error, "could not delete an old generation of the stack lock");
            }
        }
    }
}

/// `LISTING_SETTLE` and the two clocks' uncertainty, in seconds.
fn settle() -> u64 {
    LISTING_SETTLE.as_secs() + 2 * DATE_RESOLUTION
}

/// What a run sees of the highest generation it knows.
enum Seen {
    /// Nobody holds it; what its holder, if any, left.
    Free(Option<Previous>),
    /// Another run holds it.
    Held(Holder),
    /// This process holds it, as its create wrote: the create took effect, though its answer
    /// was lost.
    Mine(Holder),
}

/// The lock roles of one stack.
#[derive(Clone)]
pub(super) struct Locks {
    client: Client,
    stack: String,
    calls: Calls,
    fence: Arc<Fence>,
    clock: AwsClock,
}

impl Locks {
    /// The lock of `stack` through a client of `config`; `calls` are the run's (the lock's own
    /// pass its fence).
    pub(super) fn new(config: &aws_config::SdkConfig, stack: &str, calls: &Calls) -> Self {
        let clock = AwsClock::default();
        let client =
            Client::from_conf(aws_sdk_iam::config::Builder::from(config).interceptor(clock.interceptor()).build());
        Self { client, stack: stack.to_string(), calls: calls.unfenced(), fence: calls.fence(), clock }
    }

    fn name(&self, generation: u64) -> String {
        format!("authdemo-lock-{}.{generation}", self.stack)
    }

    fn path(&self) -> String {
        format!("/authdemo-lock/{}/", self.stack)
    }

    /// What the lock is now: its generations, the highest (at least `known`), and who holds it
    /// (from the listing when its holder let go, else from GetRole).
    pub(super) async fn observe(&self, known: u64) -> Result<Observed, ProviderError> {
        let Listing { generations: listed, mut let_go } = self.listing().await?;
        let top = listed.iter().map(|(generation, _)| *generation).max().unwrap_or(0).max(known);
        let seen = if top == 0 {
            Seen::Free(None)
        } else if let Some(holder) = let_go.remove(&top) {
            self.judge(holder)
        } else {
            self.seen(top).await?
        };
        Ok(Observed { listed, top, seen })
    }

    /// Takes the lock, starting from what the run `observed` before its first read (if it
    /// did), waiting up to `timeout` for another holder; `waiting` is told who holds it the
    /// first time the run has to wait.
    pub(super) async fn acquire(
        &self,
        timeout: Duration,
        waiting: &dyn Fn(&Holder),
        mut observed: Option<Observed>,
    ) -> Result<StackLock, LockError> {
        let started = Instant::now();
        let (mut told, mut known) = (false, 0);
        let mut tried: Option<(u64, Option<Previous>)> = None;
        loop {
            let before_read = observed.is_some();
            let Observed { listed, top, seen } = match observed.take() {
                Some(observed) => observed,
                None => self.observe(known).await?,
            };
            let holder = match seen {
                Seen::Free(previous) => {
                    let previous = previous.map(|p| Previous { before_read, ..p });
                    tried = Some((top + 1, previous.clone()));
                    let sent = Instant::now();
                    match self.create(top + 1).await {
                        Ok(holder) => return Ok(self.held((top + 1, holder), previous, sent, &listed)),
                        Err(error) if error.class == ErrorClass::AlreadyExists => {
                            known = top + 1;
                            continue;
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
                Seen::Mine(holder) => {
                    // Its create's answer was lost: what it saw before it, or the worst case.
                    let unknown = Some(Previous { done: self.clock.now(), created: None, before_read: false });
                    let previous = tried.take().filter(|(generation, _)| *generation == top).map_or(unknown, |t| t.1);
                    return Ok(self.held((top, holder), previous, Instant::now(), &listed));
                }
                Seen::Held(holder) => holder,
            };
            if started.elapsed() >= timeout {
                return Err(LockError::Held { stack: self.stack.clone(), holder: holder.describe() });
            }
            if !told {
                waiting(&holder);
                told = true;
            }
            tokio::time::sleep(POLL_EVERY.min(timeout.saturating_sub(started.elapsed()))).await;
        }
    }

    /// What the run sees of `generation`, which exists.
    async fn seen(&self, generation: u64) -> Result<Seen, ProviderError> {
        let Some(holder) = self.holder_of(generation).await? else {
            // It exists (it was listed, or CreateRole said so) but IAM's reads do not show it
            // yet: a run took it a moment ago.
            let now = self.clock.now();
            let who = "a run that took it a moment ago".to_string();
            let process = String::new();
            let (host, pid, since, lease_until) = (String::new(), 0, now, now);
            let holder = Holder { who, host, pid, process, since, lease_until, released: None, created: None };
            return Ok(Seen::Held(holder));
        };
        Ok(self.judge(holder))
    }

    /// What the run sees of a generation that `holder` holds or held.
    fn judge(&self, holder: Holder) -> Seen {
        if holder.is_this_process() && holder.released.is_none() {
            return Seen::Mine(holder);
        }
        match holder.done_by(self.clock.now()) {
            Some(done) => {
                tracing::info!(holder = %holder.describe(), "the stack lock is free");
                let created = holder.created.filter(|_| holder.released.is_some());
                Seen::Free(Some(Previous { done, created, before_read: false }))
            }
            None => Seen::Held(holder),
        }
    }

    /// This run holds `generation`, as `holder`, since `sent`: its fence opens, its lease is
    /// renewed, and the generations `listed` that are old enough go when it lets go.
    fn held(
        &self,
        (generation, holder): (u64, Holder),
        previous: Option<Previous>,
        sent: Instant,
        listed: &[(u64, u64)],
    ) -> StackLock {
        self.fence.allow_until((sent + LEASE - fence::MARGIN).into_std());
        let old = old_generations(listed, generation, self.clock.now());
        let renewal = self.renew_in_background(generation);
        StackLock { locks: self.clone(), generation, holder, previous, old, renewal }
    }

    /// Creates `generation`, held by this process: the holder it wrote.
    async fn create(&self, generation: u64) -> Result<Holder, ProviderError> {
        let holder = Holder::this_process(self.clock.now(), LEASE.as_secs());
        let tags = holder.tags()?;
        let name = self.name(generation);
        self.calls
            .call("CreateRole", || {
                self.client
                    .create_role()
                    .role_name(&name)
                    .path(self.path())
                    .assume_role_policy_document(TRUST)
                    .description(format!("authdemo: the lock of stack {}", self.stack))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await?;
        Ok(holder)
    }

    /// Who holds (or held) `generation`, if IAM's reads show it: as its Description says, once
    /// it let go, else as its tags say.
    async fn holder_of(&self, generation: u64) -> Result<Option<Holder>, ProviderError> {
        let name = self.name(generation);
        let got = found(self.calls.call("GetRole", || self.client.get_role().role_name(&name).send()).await)?;
        let Some(role) = got.and_then(|out| out.role) else { return Ok(None) };
        if let Some(holder) = role.description().and_then(Holder::let_go_from) {
            return Ok(Some(holder));
        }
        let tags = role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        Ok(Some(Holder::from_tags(&tags)))
    }

    /// Who holds the lock now, if anyone (with the generation): the highest one listed, unless
    /// it was let go or its holder is done.
    pub(super) async fn holder(&self) -> Result<Option<(u64, Holder)>, ProviderError> {
        let listing = self.listing().await?;
        let Some(top) = listing.generations.iter().map(|(g, _)| *g).max() else { return Ok(None) };
        if listing.let_go.contains_key(&top) {
            return Ok(None);
        }
        let holder = self.holder_of(top).await?.filter(|h| h.done_by(self.clock.now()).is_none());
        Ok(holder.map(|holder| (top, holder)))
    }

    /// Breaks the lock: tags `generation` released (with nothing said of what its holder
    /// created), so that the next run takes the one after.
    pub(super) async fn break_lock(&self, generation: u64) -> Result<(), ProviderError> {
        let tags = vec![Holder::released_tag(self.clock.now())?];
        let name = self.name(generation);
        let tag = || self.client.tag_role().role_name(&name).set_tags(Some(tags.clone())).send();
        self.calls.call("TagRole", tag).await.map(drop)
    }

    /// Notes that this run created `id`, of a kind AWS lists late.
    pub(super) fn created(&self, id: &str) {
        self.fence.created(id);
    }

    /// Deletes the role of `generation` (one already gone counts as deleted).
    async fn delete(&self, generation: u64) -> Result<(), ProviderError> {
        let name = self.name(generation);
        deleted(self.calls.call("DeleteRole", || self.client.delete_role().role_name(&name).send()).await)
    }

    /// Renews this run's lease on `generation` every [`RENEW_EVERY`] until aborted, moving the
    /// fence with each renewal, and closes the fence when a later generation shows.
    fn renew_in_background(&self, generation: u64) -> tokio::task::JoinHandle<()> {
        let locks = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if let Err(error) = locks.renew(generation).await {
                    tracing::warn!(%error, "could not renew the stack lock");
                }
                match locks.listing().await {
                    Ok(listing) if listing.generations.iter().any(|(g, _)| *g > generation) => {
                        locks.fence.close("another run took it over");
                        tracing::warn!("the stack lock was taken over by another run: this run sends no more changes");
                        return;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not read the stack lock"),
                }
            }
        })
    }

    async fn renew(&self, generation: u64) -> Result<(), ProviderError> {
        let sent = Instant::now();
        let lease = Holder::lease_tag(self.clock.now() + LEASE.as_secs())?;
        let name = self.name(generation);
        let client = &self.client;
        self.calls.call("TagRole", || client.tag_role().role_name(&name).tags(lease.clone()).send()).await?;
        self.fence.allow_until((sent + LEASE - fence::MARGIN).into_std());
        Ok(())
    }
}
