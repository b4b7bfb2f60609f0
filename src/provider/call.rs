//! The one place every AWS call goes through: it waits for its rate-limit tokens (see
//! [`super::pace`]), the error is classified (by [`crate::error`]), a transient failure retries
//! THAT call (never the step around it) within a time budget that the waits for tokens count
//! against: throttled or busy with jittered exponential backoff, refused while a change
//! propagates at a fixed poll period, and each call is logged with its duration and outcome.
//! Polling for a state (a function or a domain settling, see [`Settling`]) and listing every
//! page of a paginated operation are built on it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use super::lock::Fence;
use super::pace::{self, Held, Pacer, Service};
use crate::error::{ErrorClass, ProviderError};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Wait before the first retry of a throttled or busy call.
    pub first_delay: Duration,
    /// Longest wait between two tries of a throttled or busy call.
    pub max_delay: Duration,
    /// The fixed period of polls for a function to leave Pending or InProgress (the time it
    /// takes is AWS's, not a rate that backing off would help).
    pub function_poll: Duration,
    /// The period of polls for a hosted-UI domain to leave CREATING or DELETING during the
    /// first [`DOMAIN_FAST_FOR`] of the wait (a prefix domain takes a second or a few on AWS);
    /// after that the function's period, sparing the account's Cognito quotas (15/s).
    pub domain_poll: Duration,
    /// The fixed period of retries of a call refused while a change propagates (a role Lambda
    /// or Cognito cannot use yet: IAM takes seconds, typically under ten).
    pub propagation_poll: Duration,
    /// Total time, waits for rate-limit tokens included, after which a transient error is final.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// Generous enough for IAM propagation (AWS tools allow 65-120 s).
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            function_poll: Duration::from_millis(500),
            domain_poll: Duration::from_millis(DOMAIN_POLL_MS),
            propagation_poll: Duration::from_secs(1),
            budget: Duration::from_mins(2),
        }
    }
}

/// The domain's first poll period in milliseconds: a tenth of the second or few that AWS takes
/// for a prefix domain, so that a run goes on within a round trip or so of the change. Each poll
/// is a UserPoolRead (a look at the domain) or a UserPoolUpdate (a pool's delete tried again
/// while its domain goes), each 15/s per account and paced like every call.
const DOMAIN_POLL_MS: u64 = 100;

/// How long a domain is looked at every [`DOMAIN_POLL_MS`]: then every function period.
const DOMAIN_FAST_FOR: Duration = Duration::from_secs(1);

/// A state that AWS reaches by itself after a change, and that a run waits for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settling {
    /// A function leaving Pending or InProgress.
    Function,
    /// A hosted-UI domain leaving CREATING or DELETING.
    Domain,
}

impl Settling {
    /// Whether the state may well hold when the wait begins: a function may be settled before
    /// a change; a domain is rarely settled the moment its create or delete is answered (AWS
    /// does both asynchronously), so its first look waits one period.
    fn may_hold_at_once(self) -> bool {
        matches!(self, Self::Function)
    }

    /// The period between looks `waited` into the wait, under `policy`.
    fn period(self, policy: &RetryPolicy, waited: Duration) -> Duration {
        match self {
            Self::Domain if waited < DOMAIN_FAST_FOR => policy.domain_poll,
            Self::Domain | Self::Function => policy.function_poll,
        }
    }
}

/// Makes AWS calls under one retry policy and one pacer; shared by every step of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls {
    policy: RetryPolicy,
    pacer: Arc<Pacer>,
    service: Option<Service>,
    /// The stack lock's fence: no change goes out once the run may no longer hold the lock.
    fence: Arc<Fence>,
    /// Whether these calls pass the fence (the lock's own).
    unfenced: bool,
    /// Held during each try of a change (not a read): for a resource AWS changes one call at a time.
    one_change: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Calls {
    /// Calls under `policy`, paced by one new [`Pacer`].
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { policy, pacer: Arc::default(), service: None, fence: Arc::default(), unfenced: false, one_change: None }
    }

    /// The same calls, sending their changes one at a time: API Gateway refuses a change to a
    /// REST API while another change to it is under way (409 ConflictException, "concurrent
    /// modification"), so a run that sent them together would spend its time retrying.
    #[must_use]
    pub(super) fn changes_one_at_a_time(&self) -> Self {
        Self { one_change: Some(Arc::default()), ..self.clone() }
    }

    /// The same calls, past the fence: the lock's own, which must reach AWS to renew or let go.
    #[must_use]
    pub(super) fn unfenced(&self) -> Self {
        Self { unfenced: true, ..self.clone() }
    }

    /// The fence every fenced call of this run checks before each change it sends.
    pub(super) fn fence(&self) -> Arc<Fence> {
        Arc::clone(&self.fence)
    }

    /// The same calls, to `service`: they wait for its quotas.
    #[must_use]
    pub(super) fn to(&self, service: Service) -> Self {
        Self { service: Some(service), ..self.clone() }
    }

    /// Sends the request `send` builds as AWS `operation`, rebuilding and resending it while
    /// it fails transiently.
    pub(crate) async fn call<T, E, R, Fut>(
        &self,
        operation: &'static str,
        send: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        self.call_holding(operation, None, send).await
    }

    /// Like [`Calls::call`], holding `alone` during each try (not while waiting to retry): for
    /// the calls AWS takes only one at a time per account.
    pub(crate) async fn call_alone<T, E, R, Fut>(
        &self,
        operation: &'static str,
        alone: &tokio::sync::Mutex<()>,
        send: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        self.call_holding(operation, Some(alone), send).await
    }

    async fn call_holding<T, E, R, Fut>(
        &self,
        operation: &'static str,
        alone: Option<&tokio::sync::Mutex<()>>,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        self.paced(operation, alone, || {
            // On the heap: the SDK's futures are large, and a debug build's stack is not.
            let sent = Box::pin(send());
            async move { sent.await.map_err(|e| ProviderError::from_sdk(operation, e)) }
        })
        .await
    }

    /// Runs `send` (one call, its errors classified) under the pacer and the retry policy: each
    /// try waits for its tokens, which count against the call's budget (at least the
    /// [`pace::patience`] of its quotas); throttling answers pace the quota they concern.
    async fn paced<T, Fut>(
        &self,
        operation: &'static str,
        alone: Option<&tokio::sync::Mutex<()>>,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let budget = match self.service {
            Some(service) => self.policy.budget.max(pace::patience(service, operation)),
            None => self.policy.budget,
        };
        self.retry(operation, budget, |deadline| {
            let sent = send();
            async move {
                if let Some(service) = self.service {
                    let taken = self.pacer.take(service, operation, deadline).await;
                    taken.map_err(|held| held_error(operation, &held))?;
                }
                let _one_change = match &self.one_change {
                    Some(lock) if !is_read(operation) => Some(lock.lock().await),
                    _ => None,
                };
                let _alone = match alone {
                    Some(lock) => Some(lock.lock().await),
                    None => None,
                };
                // Last, after every wait: a change held up by the pacer or the locks past the
                // lock's lease does not go out.
                if !self.unfenced && !is_read(operation) {
                    self.fence.check(operation)?;
                }
                let result = sent.await;
                if let Some(service) = self.service {
                    match &result {
                        Err(error) if error.class == ErrorClass::Throttled => self.pacer.throttled(service, operation),
                        Ok(_) => self.pacer.succeeded(service, operation),
                        Err(_) => {}
                    }
                }
                result
            }
        })
        .await
        .map_err(|error| match (self.service, error.class) {
            (Some(service), ErrorClass::Throttled) => self.name_quota(service, operation, error),
            _ => error,
        })
    }

    /// A throttled call that gave up, saying which quota held it.
    fn name_quota(&self, service: Service, operation: &'static str, error: ProviderError) -> ProviderError {
        match self.pacer.tightest(service, operation) {
            Some(quota) => ProviderError { message: format!("{} (AWS's limit on {quota})", error.message), ..error },
            None => error,
        }
    }

    /// Runs `attempt` (one call, its errors already classified) until it succeeds, fails
    /// permanently, or the budget is spent: the retry loop alone, for its tests.
    #[cfg(test)]
    pub(crate) async fn attempt<T, Fut>(
        &self,
        operation: &str,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.retry(operation, self.policy.budget, |_| attempt()).await
    }

    /// Runs `attempt` until it succeeds, fails permanently, or `budget` is spent; `attempt` is
    /// told when the budget ends. A call
    /// refused while a change propagates is tried again at the fixed poll period; one
    /// throttled, busy or failed on AWS's side after a jittered, doubling delay.
    async fn retry<T, Fut>(
        &self,
        operation: &str,
        budget: Duration,
        mut attempt: impl FnMut(Instant) -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let started = Instant::now();
        let mut delay = self.policy.first_delay;
        let mut tries = 1;
        loop {
            let sent = Instant::now();
            let result = attempt(started + budget).await;
            let took = sent.elapsed();
            let error = match result {
                Ok(value) => {
                    tracing::debug!("{operation}: ok in {}", millis(took));
                    return Ok(value);
                }
                Err(error) if !retriable(&error, operation, tries) => {
                    tracing::debug!("{operation}: failed in {}: {}", millis(took), outcome(&error));
                    return Err(error);
                }
                Err(error) => error,
            };
            let pause = match error.class {
                ErrorClass::Propagating => self.policy.propagation_poll,
                _ => jittered(delay),
            };
            if started.elapsed() + pause > budget {
                return Err(error.gave_up(tries, started.elapsed()));
            }
            tracing::debug!(
                "{operation}: {} in {}; retrying in {} (try {})",
                outcome(&error),
                millis(took),
                millis(pause),
                tries + 1
            );
            tokio::time::sleep(pause).await;
            if error.class != ErrorClass::Propagating {
                delay = (delay * 2).min(self.policy.max_delay);
            }
            tries += 1;
        }
    }

    /// Polls `check` at the fixed poll period of `settling` (from one look's start to the next)
    /// until it yields a value; `what` names the awaited condition in the error when the budget
    /// runs out.
    pub(crate) async fn wait_until<T, Fut>(
        &self,
        what: &str,
        settling: Settling,
        mut check: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<Option<T>, ProviderError>>,
    {
        let started = Instant::now();
        let first =
            if settling.may_hold_at_once() { Duration::ZERO } else { settling.period(&self.policy, Duration::ZERO) };
        let mut look = started + first;
        loop {
            tokio::time::sleep_until(look).await;
            if let Some(value) = check().await? {
                return Ok(value);
            }
            let period = settling.period(&self.policy, look - started);
            if started.elapsed() + period > self.policy.budget {
                return Err(ProviderError::other(
                    "wait",
                    format!("gave up waiting for {what} after {:.0?}", started.elapsed()),
                ));
            }
            // One period from the start of the last look, not from its answer: the period
            // paces the looks, and the answer's round trip is not added to each.
            look = (look + period).max(Instant::now());
            tracing::debug!("next look for {what} in {}", millis(look - Instant::now()));
        }
    }

    /// Every item of a paginated `operation`: `send` fetches the page after a token (`None`
    /// for the first), `split` takes a page apart into its items and the next token.
    pub(crate) async fn all_pages<T, P, E, R, Fut>(
        &self,
        operation: &'static str,
        mut send: impl FnMut(Option<String>) -> Fut,
        mut split: impl FnMut(P) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>, ProviderError>
    where
        Fut: Future<Output = Result<P, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.call(operation, || send(token.clone())).await?;
            let (mut page_items, next) = split(page);
            items.append(&mut page_items);
            match next.filter(|n| !n.is_empty()) {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => return Ok(items),
            }
        }
    }
}

/// The final error of a call whose next token comes after its budget ends.
fn held_error(operation: &str, held: &Held) -> ProviderError {
    ProviderError::other(
        operation,
        format!(
            "held by AWS's rate limit on {}: its next token comes in {:.0?}, after this call's budget ends \
             (other runs in the account are using it)",
            held.quota, held.wait
        ),
    )
}

/// How often a read that got no answer (timeout, broken connection) is tried; a write is not
/// tried again, since it may have taken effect (its create then finds its resource).
const UNANSWERED_READ_TRIES: u32 = 3;

/// Whether `error` of `operation`, on its try number `tries`, is worth another try.
fn retriable(error: &ProviderError, operation: &str, tries: u32) -> bool {
    error.class.is_transient()
        || (error.class == ErrorClass::Unanswered && is_read(operation) && tries < UNANSWERED_READ_TRIES)
}

/// Whether `operation` only reads, so that sending it again cannot change anything.
fn is_read(operation: &str) -> bool {
    ["Get", "List", "Describe", "AdminGet"].iter().any(|prefix| operation.starts_with(prefix))
}

/// `delay` spread over ±50%, so that runs throttled together do not retry together.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(0.5 + fastrand::f64())
}

/// A duration as whole milliseconds, for logs.
fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

/// What an error was, for logs: its AWS code and class.
fn outcome(error: &ProviderError) -> String {
    match &error.code {
        Some(code) => format!("{code} ({:?})", error.class),
        None => format!("{:?}: {}", error.class, error.message),
    }
}

#[cfg(test)]
mod tests;
