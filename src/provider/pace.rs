//! Client-side pacing: AWS's control-plane limits are per account and cannot be raised, so
//! every call takes a token from the buckets of the quotas it counts against (one per service,
//! or per category of operations for Cognito user pools, and one per operation where AWS sets
//! one), waiting when a bucket is empty. A bucket starts
//! full, as an idle account has it, so one run alone sends its burst at once and then at the
//! quota's rate. A throttling answer says another run shares the account: the quota it concerns
//! (the call's bucket nearest to empty) switches to paced mode, where it holds one token at a
//! time and, for a fast quota, refills at half the speed per answer (recovering on successes).
//! The other quotas of the service keep their pace. Cognito user pools' quotas are per category
//! of operations (UserRead 120/s, UserCreation 50/s, ...). Services and operations without
//! published limits (IAM, STS, most of identity pools') are not paced until they throttle; then a
//! guessed quota paces them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The AWS services authdemo calls, each with its own quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Service {
    /// API Gateway (REST APIs, usage plans, keys).
    ApiGateway,
    /// Lambda.
    Lambda,
    /// Cognito user pools.
    CognitoIdp,
    /// Cognito identity pools.
    CognitoIdentity,
    /// IAM.
    Iam,
    /// STS.
    Sts,
}

/// A quota: a bucket of `burst` tokens refilled at `per_second`; `published` when AWS documents
/// it (an unpublished one is a guess that applies only once the service has throttled).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quota {
    burst: f64,
    per_second: f64,
    published: bool,
}

const fn quota(burst: f64, per_second: f64) -> Quota {
    Quota { burst, per_second, published: true }
}

/// The pace of a service without published limits once it has throttled a call.
const UNPUBLISHED: Quota = Quota { burst: 1.0, per_second: 5.0, published: false };

/// The share of each quota the run uses: arrival times at AWS jitter with the network, so a run
/// paced at exactly the limit would now and then go over it.
const MARGIN: f64 = 0.85;

/// The lowest speed throttling answers bring a fast quota down to (1 = its rate).
const MIN_SPEED: f64 = 0.125;

/// The share of its period after which a throttled slow quota (under one call a second) is
/// tried again: when another run took the account's token is unknown (up to a period ago), and
/// a try costs one call, while each try's lateness costs up to this share of a period (3.5 s
/// of DeleteRestApi's 30, at most ten refused tries per token).
const SLOW_RETRY: f64 = 0.1;

/// How many of a slow quota's periods a call waiting for it may spend: a run that shares the
/// account with a few others gets its turn within them.
const PATIENT_PERIODS: f64 = 8.0;

/// The quotas `operation` of `service` counts against, keyed by bucket name (AWS's documented
/// limits, see ../shared/AWS-NOTES.md), the service's own first.
fn quotas(service: Service, operation: &'static str) -> Vec<(&'static str, Quota)> {
    match service {
        Service::ApiGateway => {
            let own = match operation {
                "CreateDeployment" => Some(quota(1.0, 1.0 / 5.0)),
                "UpdateUsagePlan" => Some(quota(1.0, 1.0 / 20.0)),
                "CreateRestApi" => Some(quota(1.0, 1.0 / 3.0)),
                "DeleteRestApi" => Some(quota(1.0, 1.0 / 30.0)),
                "CreateResource" | "DeleteResource" | "CreateApiKey" | "DeleteApiKey" => Some(quota(5.0, 5.0)),
                "GetResources" => Some(quota(5.0, 2.5)),
                _ => None,
            };
            let mut quotas = vec![("*", quota(40.0, 10.0))];
            quotas.extend(own.map(|q| (operation, q)));
            quotas
        }
        Service::Lambda => match operation {
            "GetFunction" => vec![(operation, quota(100.0, 100.0))],
            "GetPolicy" => vec![(operation, quota(15.0, 15.0))],
            _ => vec![("*", quota(15.0, 15.0))],
        },
        Service::CognitoIdp => {
            let (category, per_second, per_pool) = cognito_category(operation);
            let mut quotas = vec![(category, quota(per_second, per_second))];
            // A stack has one user pool: the category's bucket per user pool is that pool's.
            quotas.extend(per_pool.map(|bucket| (bucket, quota(5.0, 5.0))));
            quotas
        }
        Service::CognitoIdentity => {
            let own = match operation {
                "GetId" => Some(quota(25.0, 25.0)),
                "TagResource" => Some(quota(5.0, 5.0)),
                _ => None,
            };
            let mut quotas = vec![("*", UNPUBLISHED)];
            quotas.extend(own.map(|q| (operation, q)));
            quotas
        }
        Service::Iam | Service::Sts => vec![("*", UNPUBLISHED)],
    }
}

/// The request-rate category of a Cognito user pools `operation` (developer guide, "Amazon
/// Cognito user pools API operation categories and request rate quotas"): its name, its quota per
/// account, and the name of its bucket per user pool (5/s) for the four categories that have one.
/// An operation not listed gets a bucket of 15/s of its own.
fn cognito_category(operation: &'static str) -> (&'static str, f64, Option<&'static str>) {
    match operation {
        "ListUserPools" | "DescribeUserPool" | "DescribeUserPoolDomain" | "ListTagsForResource" => {
            ("UserPoolRead", 15.0, None)
        }
        "CreateUserPool"
        | "UpdateUserPool"
        | "DeleteUserPool"
        | "CreateUserPoolDomain"
        | "UpdateUserPoolDomain"
        | "DeleteUserPoolDomain"
        | "TagResource"
        | "UntagResource"
        | "AddCustomAttributes" => ("UserPoolUpdate", 15.0, None),
        "DescribeUserPoolClient" | "ListUserPoolClients" => {
            ("UserPoolClientRead", 15.0, Some("UserPoolClientRead per user pool"))
        }
        "CreateUserPoolClient" | "UpdateUserPoolClient" | "DeleteUserPoolClient" => {
            ("UserPoolClientUpdate", 15.0, Some("UserPoolClientUpdate per user pool"))
        }
        "ListGroups" | "GetGroup" | "ListResourceServers" | "DescribeResourceServer" => {
            ("UserPoolResourceRead", 20.0, Some("UserPoolResourceRead per user pool"))
        }
        "CreateGroup"
        | "UpdateGroup"
        | "DeleteGroup"
        | "CreateResourceServer"
        | "UpdateResourceServer"
        | "DeleteResourceServer" => ("UserPoolResourceUpdate", 15.0, Some("UserPoolResourceUpdate per user pool")),
        "AdminCreateUser" | "SignUp" => ("UserCreation", 50.0, None),
        "AdminGetUser" | "GetUser" => ("UserRead", 120.0, None),
        "AdminSetUserPassword" | "AdminUpdateUserAttributes" | "AdminDeleteUserAttributes" | "AdminDeleteUser" => {
            ("UserUpdate", 25.0, None)
        }
        "AdminListGroupsForUser" => ("UserResourceRead", 50.0, None),
        "AdminAddUserToGroup" | "AdminRemoveUserFromGroup" => ("UserResourceUpdate", 25.0, None),
        "InitiateAuth" | "RespondToAuthChallenge" => ("UserAuthentication", 120.0, None),
        _ => (operation, 15.0, None),
    }
}

/// A quota's name and rate for messages: "DeleteRestApi (1 per 30 s)", "ApiGateway calls (10/s)".
fn describe(service: Service, name: &str, quota: Quota) -> String {
    let rate = if quota.per_second >= 1.0 {
        format!("{}/s", quota.per_second)
    } else {
        format!("1 per {} s", (1.0 / quota.per_second).round())
    };
    match name {
        "*" => format!("{service:?} calls ({rate})"),
        _ => format!("{name} ({rate})"),
    }
}

/// How long a call of `operation` may wait for its tokens at most: its budget is at least that.
pub(super) fn patience(service: Service, operation: &'static str) -> Duration {
    let slowest = quotas(service, operation).iter().map(|(_, q)| q.per_second).fold(f64::INFINITY, f64::min);
    Duration::from_secs_f64(PATIENT_PERIODS / (slowest * MARGIN)).min(Duration::from_hours(1))
}

/// One bucket's state.
#[derive(Debug)]
struct Bucket {
    quota: Quota,
    tokens: f64,
    updated: Instant,
    /// Whether a throttling answer has been about this quota: the account is shared.
    paced: bool,
    /// 1 = the quota's rate (with the margin); lower after throttling answers.
    speed: f64,
    /// When a throttling answer last lowered the speed.
    slowed: Option<Instant>,
}

impl Bucket {
    /// A bucket as a new run finds it: full, as an idle account has it.
    fn fresh(quota: Quota, now: Instant) -> Self {
        Self { quota, tokens: quota.burst, updated: now, paced: false, speed: 1.0, slowed: None }
    }

    /// Whether calls wait for this bucket at all.
    fn active(&self) -> bool {
        self.quota.published || self.paced
    }

    /// The most tokens the bucket holds: the burst, or one once paced (calls evenly spaced).
    fn capacity(&self) -> f64 {
        if self.paced { self.quota.burst.min(1.0) } else { self.quota.burst }
    }

    fn rate(&self) -> f64 {
        self.quota.per_second * MARGIN * self.speed
    }

    /// Adds the tokens earned since the last look.
    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.updated).as_secs_f64() * self.rate();
        self.tokens = (self.tokens + earned).min(self.capacity());
        self.updated = now;
    }

    /// How long until a whole token is there.
    fn wait(&self) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / self.rate())
    }

    /// How full the bucket is, 0 to 1.
    fn fill(&self) -> f64 {
        self.tokens / self.capacity()
    }

    /// AWS throttled a call that counts against this quota: someone else draws on it too.
    fn throttled(&mut self, now: Instant) {
        self.paced = true;
        let fast = self.quota.per_second >= 1.0;
        self.tokens = if fast { self.tokens.min(0.0) } else { 1.0 - SLOW_RETRY };
        // Halving a slow quota would only delay its retries; answers come in bursts: one
        // halving per second at most.
        if fast && self.slowed.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1)) {
            self.speed = (self.speed / 2.0).max(MIN_SPEED);
            self.slowed = Some(now);
        }
    }
}

/// Every bucket of a run.
#[derive(Debug, Default)]
pub(super) struct Pacer {
    buckets: Mutex<HashMap<(Service, &'static str), Bucket>>,
}

/// What holds a call that may not wait so long: the quota and how long its token takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Held {
    /// The quota, named with its rate.
    pub(super) quota: String,
    /// How long until its next token.
    pub(super) wait: Duration,
}

impl Pacer {
    /// Waits until `operation` of `service` may be sent and takes its tokens, unless the wait
    /// would end after `deadline`: then the quota that holds it.
    pub(super) async fn take(&self, service: Service, operation: &'static str, deadline: Instant) -> Result<(), Held> {
        loop {
            let now = Instant::now();
            let Some(held) = self.try_take(service, operation, now) else { return Ok(()) };
            if now + held.wait > deadline {
                return Err(held);
            }
            tracing::debug!("{operation}: held {} ms by AWS's limit on {}", held.wait.as_millis(), held.quota);
            tokio::time::sleep(held.wait).await;
        }
    }

    /// Takes the tokens if every bucket has one (`None`), else what to wait for.
    fn try_take(&self, service: Service, operation: &'static str, now: Instant) -> Option<Held> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let quotas = quotas(service, operation);
        let mut held: Option<Held> = None;
        for (name, quota) in &quotas {
            let bucket = buckets.entry((service, name)).or_insert_with(|| Bucket::fresh(*quota, now));
            bucket.refill(now);
            let wait = if bucket.active() { bucket.wait() } else { Duration::ZERO };
            if !wait.is_zero() && held.as_ref().is_none_or(|h| wait > h.wait) {
                held = Some(Held { quota: describe(service, name, *quota), wait });
            }
        }
        if held.is_none() {
            for (name, _) in &quotas {
                if let Some(bucket) = buckets.get_mut(&(service, name)).filter(|b| b.active()) {
                    bucket.tokens -= 1.0;
                }
            }
        }
        held
    }

    /// AWS throttled `operation` of `service`: the call's quota nearest to empty (the
    /// operation's own on a tie) is shared with another run, and goes paced.
    pub(super) fn throttled(&self, service: Service, operation: &'static str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let mut blamed: Option<(&'static str, f64)> = None;
        for (name, quota) in quotas(service, operation) {
            let bucket = buckets.entry((service, name)).or_insert_with(|| Bucket::fresh(quota, now));
            bucket.refill(now);
            if blamed.is_none_or(|(_, fill)| bucket.fill() <= fill) {
                blamed = Some((name, bucket.fill()));
            }
        }
        let Some((name, _)) = blamed else { return };
        if let Some(bucket) = buckets.get_mut(&(service, name)) {
            bucket.throttled(now);
            let quota = describe(service, name, bucket.quota);
            tracing::debug!("{operation} throttled: {quota} paced at {:.0}% of its rate", bucket.speed * 100.0);
        }
    }

    /// The quota of `operation` nearest to empty, named with its rate: the one that held a
    /// throttled call.
    pub(super) fn tightest(&self, service: Service, operation: &'static str) -> Option<String> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let quotas = quotas(service, operation);
        let fill = |name| buckets.get(&(service, name)).map_or(1.0, Bucket::fill);
        let tightest = quotas.iter().rev().min_by(|a, b| fill(a.0).total_cmp(&fill(b.0)))?;
        Some(describe(service, tightest.0, tightest.1))
    }

    /// A call of `operation` went through: its paced quotas speed back up, a little at a time.
    pub(super) fn succeeded(&self, service: Service, operation: &'static str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, _) in quotas(service, operation) {
            if let Some(bucket) = buckets.get_mut(&(service, name)).filter(|b| b.paced) {
                bucket.speed = (bucket.speed * 1.1).min(1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests;
