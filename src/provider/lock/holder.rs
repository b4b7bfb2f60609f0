//! Who holds a generation of a stack's lock, as its tags say: the run, its process (told apart
//! from every other process that ever ran, so that a dead holder on this machine is known dead)
//! and its lease. A holder that lets go says so in the role's Description, with when and what it
//! created, which ListRoles returns (tags only GetRole does): the next run sees the lock free
//! from its listing alone. `unlock` (and versions before the Description) tag it released.

use std::collections::HashMap;

use aws_sdk_iam::types::Tag;

use crate::error::ProviderError;

const HOLDER_TAG: &str = "authdemo:lock-holder";
const HOST_TAG: &str = "authdemo:lock-host";
const PID_TAG: &str = "authdemo:lock-pid";
const PROCESS_TAG: &str = "authdemo:lock-process";
const SINCE_TAG: &str = "authdemo:lock-since";
const LEASE_TAG: &str = "authdemo:lock-lease-until";
const RELEASED_TAG: &str = "authdemo:lock-released";
const CREATED_TAG: &str = "authdemo:lock-created";
/// What starts the Description of a generation whose holder let go; the holder follows as JSON.
const LET_GO: &str = "authdemo lock, let go: ";
/// The longest Description IAM allows a role.
const DESCRIPTION_MAX: usize = 1000;

/// Who holds (or held) one generation of a stack's lock, from its tags.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Holder {
    /// `user@host pid N` (and the CI run, when there is one).
    pub who: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id on that host.
    pub pid: u32,
    /// Its process among every process that ran: boot, pid namespace, pid and start time
    /// (empty where that cannot be told).
    pub process: String,
    /// When it took the lock (AWS's time, seconds since the epoch).
    pub since: u64,
    /// When its lease runs out (AWS's time, seconds since the epoch).
    pub lease_until: u64,
    /// When it let go of the lock (AWS's time), if it did.
    pub released: Option<u64>,
    /// The ids it created of the kinds AWS lists late, when it let go and they fit its
    /// Description (or, from an earlier version, one tag).
    pub created: Option<Vec<String>>,
}

impl Holder {
    /// This process, as it would hold a lock from `now` (AWS's time) for `lease` seconds.
    pub(super) fn this_process(now: u64, lease: u64) -> Self {
        let host = host_name();
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "someone".into());
        let pid = std::process::id();
        let mut who = format!("{user}@{host} pid {pid}");
        if let (Ok(repository), Ok(run)) = (std::env::var("GITHUB_REPOSITORY"), std::env::var("GITHUB_RUN_ID")) {
            who.push_str(&format!(" run {run} of {repository}"));
        }
        let process = process_key(pid).unwrap_or_default();
        let (since, lease_until) = (now, now + lease);
        Self { who: tag_safe(&who), host, pid, process, since, lease_until, released: None, created: None }
    }

    /// The holder the tags name; one without the holder tag is "an unknown run" whose lease
    /// has run out (a lock role made by hand, or one whose tags are not visible yet).
    pub(super) fn from_tags(tags: &HashMap<String, String>) -> Self {
        let number = |key: &str| tags.get(key).and_then(|v| v.parse::<u64>().ok());
        Self {
            who: tags.get(HOLDER_TAG).cloned().unwrap_or_else(|| "an unknown run".into()),
            host: tags.get(HOST_TAG).cloned().unwrap_or_default(),
            pid: tags.get(PID_TAG).and_then(|v| v.parse().ok()).unwrap_or_default(),
            process: tags.get(PROCESS_TAG).cloned().unwrap_or_default(),
            since: number(SINCE_TAG).unwrap_or_default(),
            lease_until: number(LEASE_TAG).unwrap_or_default(),
            released: number(RELEASED_TAG),
            created: tags.get(CREATED_TAG).map(|ids| ids.split_whitespace().map(String::from).collect()),
        }
    }

    /// The tags that say who holds the lock and until when.
    pub(super) fn tags(&self) -> Result<Vec<Tag>, ProviderError> {
        let mut pairs = vec![
            (HOLDER_TAG, self.who.clone()),
            (HOST_TAG, self.host.clone()),
            (PID_TAG, self.pid.to_string()),
            (SINCE_TAG, self.since.to_string()),
            (LEASE_TAG, self.lease_until.to_string()),
        ];
        if !self.process.is_empty() {
            pairs.push((PROCESS_TAG, self.process.clone()));
        }
        if let Some(released) = self.released {
            pairs.push((RELEASED_TAG, released.to_string()));
        }
        if let Some(created) = &self.created {
            pairs.push((CREATED_TAG, created.join(" ")));
        }
        pairs.into_iter().map(|(key, value)| tag(key, value)).collect()
    }

    /// The tag that marks a generation let go of at `at` (AWS's time), with nothing said of
    /// what its holder created (`unlock`'s: the next run then waits for the lists).
    pub(super) fn released_tag(at: u64) -> Result<Tag, ProviderError> {
        tag(RELEASED_TAG, at.to_string())
    }

    /// The Description that says this holder let go (at `released`, having created `created`),
    /// in IAM's characters; `created` is left out when it would not fit (the next run then
    /// waits for the lists).
    pub(super) fn let_go_description(&self) -> String {
        let described = |holder: &Self| {
            let json = serde_json::to_string(holder).expect("a holder serializes");
            // Other characters can only stand inside JSON strings, where '-' keeps it valid.
            format!("{LET_GO}{json}").chars().map(|c| if c.is_ascii() { c } else { '-' }).collect::<String>()
        };
        let description = described(self);
        if description.len() <= DESCRIPTION_MAX {
            return description;
        }
        described(&Self { created: None, ..self.clone() })
    }

    /// The holder that `description` says let go, if it says so.
    pub(super) fn let_go_from(description: &str) -> Option<Self> {
        let holder: Self = serde_json::from_str(description.strip_prefix(LET_GO)?).ok()?;
        holder.released.is_some().then_some(holder)
    }

    /// The tag that moves a holder's lease to `until` (AWS's time).
    pub(super) fn lease_tag(until: u64) -> Result<Tag, ProviderError> {
        tag(LEASE_TAG, until.to_string())
    }

    /// Until when this holder may have changed the stack (AWS's time), if it no longer holds
    /// the lock at `now`: when it let go, when its lease ran out, or now for a process of this
    /// machine that is gone. `None` while it holds the lock.
    pub(crate) fn done_by(&self, now: u64) -> Option<u64> {
        if let Some(released) = self.released {
            return Some(released);
        }
        if now > self.lease_until {
            return Some(self.lease_until);
        }
        self.is_gone().then_some(now)
    }

    /// Whether the holder is a process of this machine's process table (same boot, same pid
    /// namespace) that no longer runs: a pid alone would misfire across containers that share
    /// a host name, and after the pid is reused, so its start time must match too.
    fn is_gone(&self) -> bool {
        let Some((table, _)) = self.process.rsplit_once('/').and_then(|(rest, _)| rest.rsplit_once('/')) else {
            return false;
        };
        let Some(mine) = process_key(std::process::id()) else { return false };
        mine.starts_with(&format!("{table}/")) && process_key(self.pid).as_deref() != Some(self.process.as_str())
    }

    /// Whether this process is the holder.
    pub(super) fn is_this_process(&self) -> bool {
        process_key(std::process::id()).is_some_and(|mine| mine == self.process)
            || (self.process.is_empty() && self.host == host_name() && self.pid == std::process::id())
    }

    /// `since 2026-12-01 10:00:00 UTC, by …`.
    pub(crate) fn describe(&self) -> String {
        format!("since {}, by {}", utc(self.since), self.who)
    }
}

/// One tag.
fn tag(key: &str, value: String) -> Result<Tag, ProviderError> {
    Tag::builder().key(key).value(value).build().map_err(|e| ProviderError::other("Tag", e.to_string()))
}

/// `boot/pid-namespace/pid/start-time` of process `pid` of this machine, if it runs and
/// `/proc` tells.
fn process_key(pid: u32) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: the fields after it start at the last ')'.
    let started = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.to_string();
    let namespace = namespace.to_string_lossy().trim_start_matches("pid:[").trim_end_matches(']').to_string();
    Some(tag_safe(&format!("{}/{namespace}/{pid}/{started}", boot.trim())))
}

/// This machine's host name.
pub(super) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| tag_safe(h.trim()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// `text` with only the characters IAM tag values allow.
fn tag_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || " _.:/=+-@".contains(c) { c } else { '-' }).take(256).collect()
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub(super) fn utc(seconds: u64) -> String {
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
    fn a_holder_is_done_once_it_let_go_its_lease_ran_out_or_its_process_is_gone() {
        let mut holder = Holder::this_process(1_000, 90);
        assert!(holder.is_this_process());
        assert_eq!(holder.done_by(1_000), None, "this very process holds it");
        assert_eq!(holder.done_by(1_091), Some(1_090), "the lease ran out");
        let table = holder.process.rsplit_once('/').unwrap().0.rsplit_once('/').unwrap().0.to_string();
        holder.process = format!("{table}/{}/1", u32::MAX);
        holder.pid = u32::MAX;
        assert_eq!(holder.done_by(1_000), Some(1_000), "a process of this process table that does not run");
        holder.process = format!("{table}/{}/1", std::process::id());
        holder.pid = std::process::id();
        assert_eq!(holder.done_by(1_000), Some(1_000), "this pid, but started at another time: reused");
        holder.process = format!("other-boot/1/{}/1", u32::MAX);
        holder.pid = u32::MAX;
        assert_eq!(holder.done_by(1_000), None, "another machine or container: only the lease tells");
        holder.released = Some(1_010);
        assert_eq!(holder.done_by(1_000), Some(1_010), "it let go");
    }

    #[test]
    fn holders_round_trip_through_their_tags_and_read_well() {
        let holder = Holder {
            who: "ci@runner pid 7".into(),
            host: "runner".into(),
            pid: 7,
            process: "boot/4026531836/7/99".into(),
            since: 0,
            lease_until: 90,
            released: Some(80),
            created: Some(vec!["us-west-2_abc".into(), "k1".into()]),
        };
        let tags = holder.tags().unwrap().into_iter().map(|t| (t.key, t.value)).collect();
        assert_eq!(Holder::from_tags(&tags), holder);
        assert_eq!(Holder::let_go_from(&holder.let_go_description()), Some(holder.clone()));
        let holding = Holder { released: None, ..holder.clone() };
        assert_eq!(Holder::let_go_from(&holding.let_go_description()), None, "a holder that did not let go");
        assert_eq!(Holder::let_go_from("authdemo: the lock of stack demo"), None, "as CreateRole describes it");
        let many = Holder { created: Some(vec!["x".repeat(40); 30]), ..holder.clone() };
        let description = many.let_go_description();
        assert!(description.len() <= DESCRIPTION_MAX, "{}", description.len());
        assert_eq!(Holder::let_go_from(&description), Some(Holder { created: None, ..many }), "too many to say");
        let abroad = Holder { who: "jürgen@host pid 7".into(), ..holder.clone() };
        let description = abroad.let_go_description();
        assert!(description.is_ascii(), "IAM allows only some characters: {description}");
        assert_eq!(Holder::let_go_from(&description).unwrap().who, "j-rgen@host pid 7");
        assert_eq!(holder.describe(), "since 1970-01-01 00:00:00 UTC, by ci@runner pid 7");
        assert_eq!(utc(1_796_119_200), "2026-12-01 10:00:00 UTC");
    }
}
