//! The one retry helper: transient AWS errors (throttling, eventual consistency) are retried with
//! exponential backoff within a time budget; anything else fails at once.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::provider::ProviderError;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
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
            budget: Duration::from_secs(120),
        }
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or the budget is spent.
pub async fn retry<T, F, Fut>(policy: RetryPolicy, mut attempt: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let started = Instant::now();
    let mut delay = policy.first_delay;
    let mut tries = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) if !error.class.is_transient() => return Err(error),
            Err(error) if started.elapsed() + delay > policy.budget => {
                return Err(error.gave_up(tries, started.elapsed()));
            }
            Err(error) => {
                tracing::debug!(%error, ?delay, "transient error, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(policy.max_delay);
                tries += 1;
            }
        }
    }
}

/// Polls `check` until it yields a value, backing off like [`retry`]; `what` names the awaited
/// condition in the error when the budget runs out.
pub async fn wait_until<T, F, Fut>(policy: RetryPolicy, what: &str, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let started = Instant::now();
    let mut delay = policy.first_delay;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if started.elapsed() + delay > policy.budget {
            return Err(ProviderError::new(
                crate::provider::ErrorClass::Other,
                "wait",
                format!("gave up waiting for {what} after {:.0?}", started.elapsed()),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(policy.max_delay);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::provider::ErrorClass;

    fn fast(budget_ms: u64) -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            budget: Duration::from_millis(budget_ms),
        }
    }

    #[tokio::test]
    async fn retries_transient_errors_until_success() {
        let calls = AtomicUsize::new(0);
        let result = retry(fast(1000), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(ProviderError::new(ErrorClass::Propagating, "CreateFunction", "role not ready")),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn fails_at_once_on_permanent_errors() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = retry(fast(1000), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::new(ErrorClass::Other, "CreateUserPool", "invalid"))
        })
        .await;
        assert_eq!(result.unwrap_err().class, ErrorClass::Other);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waits_until_the_condition_holds() {
        let calls = AtomicUsize::new(0);
        let value = wait_until(fast(1000), "a function to settle", || async {
            Ok((calls.fetch_add(1, Ordering::SeqCst) == 2).then_some("Active"))
        })
        .await;
        assert_eq!(value.unwrap(), "Active");
        let never: Result<(), _> = wait_until(fast(10), "a function to settle", || async { Ok(None) }).await;
        assert!(never.unwrap_err().to_string().contains("gave up waiting for a function to settle"));
    }

    #[tokio::test]
    async fn gives_up_with_a_clear_error_when_the_budget_is_spent() {
        let result: Result<(), _> = retry(fast(20), || async {
            Err(ProviderError::new(ErrorClass::Throttled, "UpdateUsagePlan", "rate exceeded"))
        })
        .await;
        let message = result.unwrap_err().to_string();
        assert!(message.contains("gave up after"), "{message}");
    }
}
