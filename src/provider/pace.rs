//! Client-side pacing: AWS's control-plane limits are per account and cannot be raised, so
//! every call waits for a token from the buckets of the quotas it counts against (one per
//! service, and one per operation where AWS sets one) instead of being throttled. The buckets
//! are shared by every step of a run. Throttling answers, which other runs in the account cause,
//! slow a service with quotas down (its rates halve) and successes speed it back up; services
//! without published limits (IAM, STS, identity pools) are not paced, only retried.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// A quota: a bucket of `burst` tokens refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quota {
    burst: f64,
    per_second: f64,
}

const fn quota(burst: f64, per_second: f64) -> Quota {
    Quota { burst, per_second }
}

/// The share of each quota the run uses: arrival times at AWS jitter with the network, so a run
/// paced at exactly the limit would now and then go over it.
const MARGIN: f64 = 0.85;

/// The quotas `operation` of `service` counts against, keyed by bucket name (AWS's documented
/// limits, see ../shared/AWS-NOTES.md).
fn quotas(service: Service, operation: &'static str) -> Vec<(&'static str, Quota)> {
    match service {
        Service::ApiGateway => {
            let own = match operation {
                "CreateDeployment" => Some(quota(1.0, 1.0 / 5.0)),
                "UpdateUsagePlan" => Some(quota(1.0, 1.0 / 20.0)),
                "CreateRestApi" => Some(quota(1.0, 1.0 / 3.0)),
                "DeleteRestApi" => Some(quota(1.0, 1.0 / 30.0)),
                "CreateResource" | "DeleteResource" | "CreateApiKey" => Some(quota(5.0, 5.0)),
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
            let mut quotas = vec![("*", quota(15.0, 15.0))];
            // 5/s per operation and user pool, for the calls that name a pool.
            if !matches!(operation, "ListUserPools" | "CreateUserPool") {
                quotas.push((operation, quota(5.0, 5.0)));
            }
            quotas
        }
        // No published control-plane limits: throttling answers alone slow these down.
        Service::CognitoIdentity | Service::Iam | Service::Sts => Vec::new(),
    }
}

/// One bucket's state.
#[derive(Debug)]
struct Bucket {
    quota: Quota,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// A bucket as a new run finds it. Runs just before may have used the account's tokens, so
    /// a fast bucket starts with one token only (a run paced so takes at most one token more
    /// than the account earns while it runs, and the next run finds the account's bucket all
    /// but full); a slow one, of an operation a run makes once or twice, starts with its token.
    fn fresh(quota: Quota, now: Instant) -> Self {
        let tokens = if quota.per_second >= 1.0 { quota.burst.min(1.0) } else { quota.burst };
        Self { quota, tokens, updated: now }
    }

    /// Adds the tokens earned since the last look, at `speed` (1 = the quota's own rate).
    fn refill(&mut self, now: Instant, speed: f64) {
        let earned = now.duration_since(self.updated).as_secs_f64() * self.quota.per_second * MARGIN * speed;
        self.tokens = (self.tokens + earned).min(self.quota.burst);
        self.updated = now;
    }

    /// How long until a whole token is there.
    fn wait(&self, speed: f64) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / (self.quota.per_second * MARGIN * speed))
    }
}

/// Every bucket of a run, and how fast each service may go now.
#[derive(Debug, Default)]
pub(super) struct Pacer {
    state: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    buckets: HashMap<(Service, &'static str), Bucket>,
    /// 1 = the quotas' rates; halved on a throttling answer (at most once a second, as answers
    /// come in bursts), recovering on successes.
    speed: HashMap<Service, f64>,
    /// When each service's speed was last halved.
    halved: HashMap<Service, Instant>,
}

impl Pacer {
    /// Waits until `operation` of `service` may be sent, and takes its tokens.
    pub(super) async fn take(&self, service: Service, operation: &'static str) {
        loop {
            let wait = self.try_take(service, operation, Instant::now());
            if wait.is_zero() {
                return;
            }
            tracing::debug!("{operation}: held {} ms to stay under AWS's rate limit", wait.as_millis());
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes the tokens if every bucket has one (and returns zero), else how long to wait.
    fn try_take(&self, service: Service, operation: &'static str, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let speed = *state.speed.get(&service).unwrap_or(&1.0);
        let quotas = quotas(service, operation);
        let mut wait = Duration::ZERO;
        for (name, quota) in &quotas {
            let bucket = state.buckets.entry((service, name)).or_insert_with(|| Bucket::fresh(*quota, now));
            bucket.refill(now, speed);
            wait = wait.max(bucket.wait(speed));
        }
        if wait.is_zero() {
            for (name, _) in &quotas {
                if let Some(bucket) = state.buckets.get_mut(&(service, name)) {
                    bucket.tokens -= 1.0;
                }
            }
        }
        wait
    }

    /// AWS throttled a call of `service`: another run shares the account; go at half speed.
    pub(super) fn throttled(&self, service: Service) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if state.halved.get(&service).is_some_and(|at| now.duration_since(*at) < Duration::from_secs(1)) {
            return;
        }
        state.halved.insert(service, now);
        let speed = state.speed.entry(service).or_insert(1.0);
        *speed = (*speed / 2.0).max(0.05);
        tracing::debug!("{service:?} throttled this run: now at {:.0}% of its rate", *speed * 100.0);
    }

    /// A call of `service` went through: speed back up, a little at a time.
    pub(super) fn succeeded(&self, service: Service) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(speed) = state.speed.get_mut(&service) {
            *speed = (*speed * 1.1).min(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_start_at_the_rate_and_save_up_to_the_burst() {
        let pacer = Pacer::default();
        let start = Instant::now();
        assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", start).is_zero(), "one token to start with");
        let second = pacer.try_take(Service::ApiGateway, "GetRestApis", start);
        assert!(second > Duration::from_millis(100) && second < Duration::from_millis(130), "{second:?}");
        let later = start + Duration::from_secs(10);
        for _ in 0..40 {
            assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", later).is_zero());
        }
        assert!(!pacer.try_take(Service::ApiGateway, "GetRestApis", later).is_zero(), "the burst is 40");
    }

    #[test]
    fn an_operation_with_its_own_quota_waits_for_it() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let at = |seconds| start + Duration::from_secs(seconds);
        assert!(pacer.try_take(Service::ApiGateway, "CreateDeployment", at(0)).is_zero(), "its token is there");
        let wait = pacer.try_take(Service::ApiGateway, "CreateDeployment", at(2));
        assert!(wait > Duration::from_secs(3), "one per 5 s, with the margin: {wait:?}");
        assert!(pacer.try_take(Service::ApiGateway, "CreateDeployment", at(8)).is_zero());
    }

    #[test]
    fn throttling_halves_the_speed_and_successes_restore_it() {
        let pacer = Pacer::default();
        let start = Instant::now();
        assert!(pacer.try_take(Service::Lambda, "CreateFunction", start).is_zero());
        let normal = pacer.try_take(Service::Lambda, "CreateFunction", start);
        pacer.throttled(Service::Lambda);
        let slowed = pacer.try_take(Service::Lambda, "CreateFunction", start);
        assert!(slowed + Duration::from_millis(1) >= normal * 2, "{slowed:?} vs {normal:?}");
        for _ in 0..20 {
            pacer.succeeded(Service::Lambda);
        }
        assert!((pacer.state.lock().unwrap().speed[&Service::Lambda] - 1.0).abs() < f64::EPSILON);
    }
}
