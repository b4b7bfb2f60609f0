//! The stack lock: two runs that change one stack at the same time would each create the
//! resources whose names AWS does not keep unique (user pool, identity pool, REST API, usage
//! plan, API keys), so `apply` and `destroy` hold a lock that needs no store of the user's.
//!
//! The lock is an IAM role, `authdemo-lock-<stack>` under the path `/authdemo-lock/`, that
//! nothing can assume. IAM role names are unique in an account, so CreateRole either creates it
//! (the lock is ours) or answers EntityAlreadyExists (someone holds it). Its tags say who holds
//! it, since when, from which host and process, and until when its lease runs; the holder
//! renews the lease every 30 s, and deletes the role when it is done. A lock whose lease ran
//! out, or whose holder was a process on this host that no longer runs, is stale: the next run
//! deletes it and takes it. `authdemo unlock` deletes one by hand.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use super::call::Calls;
use crate::error::{ErrorClass, ProviderError, deleted, found};

/// How long a lock stays valid after its holder's last renewal.
const LEASE: Duration = Duration::from_secs(90);
/// How often the holder renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// How often a waiting run looks again.
const POLL_EVERY: Duration = Duration::from_secs(2);

const HOLDER_TAG: &str = "authdemo:lock-holder";
const HOST_TAG: &str = "authdemo:lock-host";
const PID_TAG: &str = "authdemo:lock-pid";
const SINCE_TAG: &str = "authdemo:lock-since";
const LEASE_TAG: &str = "authdemo:lock-lease-until";

/// Nothing may assume the lock role: it only exists.
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Who holds a stack's lock, from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    /// `user@host pid N` (and the CI run, when there is one).
    pub who: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id on that host.
    pub pid: u32,
    /// When it took the lock (seconds since the epoch).
    pub since: u64,
    /// When its lease runs out (seconds since the epoch).
    pub lease_until: u64,
}

impl Holder {
    /// This process, as it would hold a lock from now.
    fn this_process(now: u64) -> Self {
        let host = host_name();
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "someone".into());
        let pid = std::process::id();
        let mut who = format!("{user}@{host} pid {pid}");
        if let (Ok(repository), Ok(run)) = (std::env::var("GITHUB_REPOSITORY"), std::env::var("GITHUB_RUN_ID")) {
            who.push_str(&format!(" run {run} of {repository}"));
        }
        Self { who: tag_safe(&who), host, pid, since: now, lease_until: now + LEASE.as_secs() }
    }

    fn from_tags(tags: &HashMap<String, String>) -> Option<Self> {
        let number = |key: &str| tags.get(key).and_then(|v| v.parse::<u64>().ok());
        Some(Self {
            who: tags.get(HOLDER_TAG)?.clone(),
            host: tags.get(HOST_TAG).cloned().unwrap_or_default(),
            pid: tags.get(PID_TAG).and_then(|v| v.parse().ok()).unwrap_or_default(),
            since: number(SINCE_TAG).unwrap_or_default(),
            lease_until: number(LEASE_TAG).unwrap_or_default(),
        })
    }

    fn tags(&self) -> Result<Vec<Tag>, ProviderError> {
        [
            (HOLDER_TAG, self.who.clone()),
            (HOST_TAG, self.host.clone()),
            (PID_TAG, self.pid.to_string()),
            (SINCE_TAG, self.since.to_string()),
            (LEASE_TAG, self.lease_until.to_string()),
        ]
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::other("Tag", e.to_string()))
    }

    /// Whether the lock can be taken from this holder: its lease ran out, or it was a process
    /// of this host that no longer runs.
    pub(crate) fn is_stale(&self, now: u64) -> bool {
        now > self.lease_until || (self.host == host_name() && !process_runs(self.pid))
    }

    /// Whether this process is the holder.
    fn is_this_process(&self) -> bool {
        self.host == host_name() && self.pid == std::process::id()
    }

    /// `since 2026-12-01 10:00:00 UTC, by …`.
    pub(crate) fn describe(&self) -> String {
        format!("since {}, by {}", utc(self.since), self.who)
    }
}

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

/// The lock of one stack, held while it lives; [`StackLock::release`] gives it back.
pub(crate) struct StackLock {
    locks: Locks,
    renewal: tokio::task::JoinHandle<()>,
}

impl StackLock {
    /// Gives the lock back (deletes the lock role), unless another run has taken it meanwhile.
    pub(crate) async fn release(self) {
        self.renewal.abort();
        let released = async {
            if self.locks.holder().await?.is_some_and(|holder| holder.is_this_process()) {
                self.locks.delete().await?;
            } else {
                tracing::warn!("the stack lock was taken over by another run while this one held it");
            }
            Ok::<_, ProviderError>(())
        };
        if let Err(error) = released.await {
            tracing::warn!(%error, "could not release the stack lock; its lease runs out by itself");
        }
    }
}

/// The lock role of one stack.
#[derive(Clone)]
pub(super) struct Locks {
    client: Client,
    name: String,
    calls: Calls,
}

impl Locks {
    /// The lock of `stack` through `client`.
    pub(super) fn new(client: Client, stack: &str, calls: Calls) -> Self {
        Self { client, name: format!("authdemo-lock-{stack}"), calls }
    }

    fn stack(&self) -> &str {
        self.name.trim_start_matches("authdemo-lock-")
    }

    /// Takes the lock, waiting up to `timeout` for another holder; `waiting` is told who holds
    /// it the first time the run has to wait.
    pub(super) async fn acquire(&self, timeout: Duration, waiting: &dyn Fn(&Holder)) -> Result<StackLock, LockError> {
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            let me = Holder::this_process(now());
            match self.create(&me).await {
                Ok(()) => return Ok(StackLock { locks: self.clone(), renewal: self.renew_in_background(me) }),
                Err(error) if error.class != ErrorClass::AlreadyExists => return Err(error.into()),
                Err(_) => {}
            }
            let Some(holder) = self.holder().await? else {
                // Released between our create and our look: try again shortly.
                tokio::time::sleep(POLL_EVERY / 10).await;
                continue;
            };
            if holder.is_this_process() {
                // Our create took effect but its answer was lost.
                return Ok(StackLock { locks: self.clone(), renewal: self.renew_in_background(holder) });
            }
            if holder.is_stale(now()) {
                tracing::info!(holder = %holder.describe(), "taking over a stale stack lock");
                self.delete().await?;
                continue;
            }
            if started.elapsed() >= timeout {
                return Err(LockError::Held { stack: self.stack().to_string(), holder: holder.describe() });
            }
            if !told {
                waiting(&holder);
                told = true;
            }
            tokio::time::sleep(POLL_EVERY.min(timeout.saturating_sub(started.elapsed()))).await;
        }
    }

    async fn create(&self, me: &Holder) -> Result<(), ProviderError> {
        let tags = me.tags()?;
        self.calls
            .call("CreateRole", || {
                self.client
                    .create_role()
                    .role_name(&self.name)
                    .path("/authdemo-lock/")
                    .assume_role_policy_document(TRUST)
                    .description(format!("authdemo: the lock of stack {}", self.stack()))
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await
            .map(drop)
    }

    /// Who holds the lock, if anyone.
    pub(super) async fn holder(&self) -> Result<Option<Holder>, ProviderError> {
        let got = found(self.calls.call("GetRole", || self.client.get_role().role_name(&self.name).send()).await)?;
        let Some(role) = got.and_then(|out| out.role) else { return Ok(None) };
        let tags: HashMap<String, String> =
            role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        Ok(Some(Holder::from_tags(&tags).unwrap_or(Holder {
            who: "an unknown run".into(),
            host: String::new(),
            pid: 0,
            since: 0,
            lease_until: 0,
        })))
    }

    /// Deletes the lock role (one already gone counts as deleted).
    pub(super) async fn delete(&self) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteRole", || self.client.delete_role().role_name(&self.name).send()).await)
    }

    /// Renews the lease of `me` every [`RENEW_EVERY`] until aborted.
    fn renew_in_background(&self, mut me: Holder) -> tokio::task::JoinHandle<()> {
        let locks = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                me.lease_until = now() + LEASE.as_secs();
                match locks.holder().await {
                    Ok(Some(holder)) if holder.is_this_process() => {}
                    Ok(_) => {
                        tracing::warn!("the stack lock was taken over by another run: no longer renewing it");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "could not read the stack lock to renew it");
                        continue;
                    }
                }
                let Ok(tags) = me.tags() else { return };
                let renewed = locks
                    .calls
                    .call("TagRole", || {
                        locks.client.tag_role().role_name(&locks.name).set_tags(Some(tags.clone())).send()
                    })
                    .await;
                if let Err(error) = renewed {
                    tracing::warn!(%error, "could not renew the stack lock");
                }
            }
        })
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// This machine's host name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| tag_safe(h.trim()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Whether process `pid` of this host still runs (and is an authdemo); where that cannot be
/// told (no `/proc`), it is taken to run, and the lease decides.
fn process_runs(pid: u32) -> bool {
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("authdemo"))
}

/// `text` with only the characters IAM tag values allow.
fn tag_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || " _.:/=+-@".contains(c) { c } else { '-' }).take(256).collect()
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days.cast_signed() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_stale_once_its_lease_ran_out_or_its_local_holder_is_gone() {
        let mut holder = Holder::this_process(1_000);
        assert!(!holder.is_stale(1_000), "this very process holds it");
        assert!(holder.is_stale(1_000 + LEASE.as_secs() + 1), "the lease ran out");
        holder.pid = u32::MAX;
        assert!(holder.is_stale(1_000), "a process of this host that does not run");
        holder.host = "elsewhere".into();
        assert!(!holder.is_stale(1_000), "elsewhere only the lease tells");
    }

    #[test]
    fn holders_round_trip_through_their_tags_and_read_well() {
        let holder = Holder { who: "ci@runner pid 7".into(), host: "runner".into(), pid: 7, since: 0, lease_until: 90 };
        let tags = holder.tags().unwrap().into_iter().map(|t| (t.key, t.value)).collect();
        assert_eq!(Holder::from_tags(&tags), Some(holder.clone()));
        assert_eq!(holder.describe(), "since 1970-01-01 00:00:00 UTC, by ci@runner pid 7");
        assert_eq!(utc(1_796_119_200), "2026-12-01 10:00:00 UTC");
    }
}
