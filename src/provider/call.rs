//! The one place every AWS call goes through: it waits for its rate-limit tokens (see
//! [`super::pace`]), the error is classified (by [`crate::error`]), a transient failure retries
//! THAT call (never the step around it) with jittered exponential backoff within a time budget,
//! and each call is logged with its duration and outcome. Polling for a
//! state (a function settling) and listing every page of a paginated operation are built on it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};

use super::pace::{Pacer, Service};
use crate::error::{ErrorClass, ProviderError};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Wait before the first retry.
    pub first_delay: Duration,
    /// Longest wait between two tries.
    pub max_delay: Duration,
    /// Total time after which a transient error is final.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// Generous enough for IAM propagation (AWS tools allow 65-120 s).
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            budget: Duration::from_mins(2),
        }
    }
}

/// Makes AWS calls under one retry policy and one pacer; shared by every step of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls {
    policy: RetryPolicy,
    pacer: Arc<Pacer>,
    service: Option<Service>,
}

impl Calls {
    /// Calls under `policy`, paced by one new [`Pacer`].
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { policy, pacer: Arc::default(), service: None }
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
        self.attempt(operation, || {
            let sent = send();
            async move {
                if let Some(service) = self.service {
                    self.pacer.take(service, operation).await;
                }
                let _alone = match alone {
                    Some(lock) => Some(lock.lock().await),
                    None => None,
                };
                let result = sent.await.map_err(|e| ProviderError::from_sdk(operation, e));
                if let Some(service) = self.service {
                    match &result {
                        Err(error) if error.class == ErrorClass::Throttled => self.pacer.throttled(service),
                        Ok(_) => self.pacer.succeeded(service),
                        Err(_) => {}
                    }
                }
                result
            }
        })
        .await
    }

    /// Runs `attempt` (one call, its errors already classified) until it succeeds, fails
    /// permanently, or the budget is spent.
    pub(crate) async fn attempt<T, Fut>(
        &self,
        operation: &str,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let started = Instant::now();
        let mut delay = self.policy.first_delay;
        let mut tries = 1;
        loop {
            let sent = Instant::now();
            let result = attempt().await;
            let took = sent.elapsed();
            match result {
                Ok(value) => {
                    tracing::debug!("{operation}: ok in {}", millis(took));
                    return Ok(value);
                }
                Err(error) if !retriable(&error, operation, tries) => {
                    tracing::debug!("{operation}: failed in {}: {}", millis(took), outcome(&error));
                    return Err(error);
                }
                Err(error) if started.elapsed() + delay > self.policy.budget => {
                    return Err(error.gave_up(tries, started.elapsed()));
                }
                Err(error) => {
                    let pause = jittered(delay);
                    tracing::debug!(
                        "{operation}: {} in {}; retrying in {} (try {})",
                        outcome(&error),
                        millis(took),
                        millis(pause),
                        tries + 1
                    );
                    tokio::time::sleep(pause).await;
                    delay = (delay * 2).min(self.policy.max_delay);
                    tries += 1;
                }
            }
        }
    }

    /// Polls `check` until it yields a value, backing off like [`Calls::attempt`]; `what`
    /// names the awaited condition in the error when the budget runs out.
    pub(crate) async fn wait_until<T, Fut>(
        &self,
        what: &str,
        mut check: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<Option<T>, ProviderError>>,
    {
        let started = Instant::now();
        let mut delay = self.policy.first_delay;
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if started.elapsed() + delay > self.policy.budget {
                return Err(ProviderError::other(
                    "wait",
                    format!("gave up waiting for {what} after {:.0?}", started.elapsed()),
                ));
            }
            tracing::debug!("waiting {} for {what}", millis(delay));
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.policy.max_delay);
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
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn fast(budget_ms: u64) -> Calls {
        Calls::new(RetryPolicy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            budget: Duration::from_millis(budget_ms),
        })
    }

    #[tokio::test]
    async fn a_throttled_second_call_of_a_step_retries_that_call_only() {
        let (first, second) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let calls = fast(1000);
        let step = async {
            calls
                .attempt("CreateRole", || async {
                    first.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ProviderError>("arn")
                })
                .await?;
            calls
                .attempt("PutRolePolicy", || async {
                    match second.fetch_add(1, Ordering::SeqCst) {
                        0 => Err(ProviderError::new(ErrorClass::Throttled, "PutRolePolicy", "Rate exceeded")),
                        _ => Ok(()),
                    }
                })
                .await
        };
        step.await.unwrap();
        assert_eq!(first.load(Ordering::SeqCst), 1, "the call that succeeded is not repeated");
        assert_eq!(second.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn fails_at_once_on_permanent_errors() {
        let count = AtomicUsize::new(0);
        let result: Result<(), _> = fast(1000)
            .attempt("CreateUserPool", || async {
                count.fetch_add(1, Ordering::SeqCst);
                Err(ProviderError::other("CreateUserPool", "invalid"))
            })
            .await;
        assert_eq!(result.unwrap_err().class, ErrorClass::Other);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waits_until_the_condition_holds() {
        let count = AtomicUsize::new(0);
        let value = fast(1000)
            .wait_until("a function to settle", || async {
                Ok((count.fetch_add(1, Ordering::SeqCst) == 2).then_some("Active"))
            })
            .await;
        assert_eq!(value.unwrap(), "Active");
        let never: Result<(), _> = fast(10).wait_until("a function to settle", || async { Ok(None) }).await;
        assert!(never.unwrap_err().to_string().contains("gave up waiting for a function to settle"));
    }

    #[tokio::test]
    async fn gives_up_with_a_clear_error_when_the_budget_is_spent() {
        let result: Result<(), _> = fast(20)
            .attempt("UpdateUsagePlan", || async {
                Err(ProviderError::new(ErrorClass::Throttled, "UpdateUsagePlan", "rate exceeded"))
            })
            .await;
        let message = result.unwrap_err().to_string();
        assert!(message.contains("UpdateUsagePlan failed: rate exceeded (gave up after"), "{message}");
    }
}
