//! Retries, polls and the pacer under a simulated account (paused time: minutes in no time).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

fn fast(budget_ms: u64) -> Calls {
    Calls::new(RetryPolicy {
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
        function_poll: Duration::from_millis(1),
        domain_poll: Duration::from_millis(1),
        propagation_poll: Duration::from_millis(1),
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
        .wait_until("a function to settle", Settling::Function, || async {
            Ok((count.fetch_add(1, Ordering::SeqCst) == 2).then_some("Active"))
        })
        .await;
    assert_eq!(value.unwrap(), "Active");
    let never: Result<(), _> =
        fast(10).wait_until("a function to settle", Settling::Function, || async { Ok(None) }).await;
    assert!(never.unwrap_err().to_string().contains("gave up waiting for a function to settle"));
}

#[tokio::test(start_paused = true)]
async fn a_function_is_looked_at_at_once_and_a_domain_one_period_after_its_change_then_less_often() {
    let calls = Calls::new(RetryPolicy::default());
    let looks_until = |settling, wanted: usize| {
        let calls = calls.clone();
        async move {
            let started = Instant::now();
            let looks = std::sync::Mutex::new(Vec::new());
            calls
                .wait_until("a state", settling, || async {
                    let mut looks = looks.lock().unwrap();
                    looks.push(started.elapsed().as_millis());
                    Ok((looks.len() == wanted).then_some(()))
                })
                .await
                .unwrap();
            looks.into_inner().unwrap()
        }
    };
    assert_eq!(looks_until(Settling::Function, 3).await, [0, 500, 1000]);
    let domain = looks_until(Settling::Domain, 13).await;
    assert_eq!(
        domain,
        [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 2500],
        "100 ms for a second, then 500 ms"
    );
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

/// An account's API Gateway bucket (40, refilled at 10/s) that throttles calls over it.
struct Account {
    tokens: std::sync::Mutex<(f64, Instant)>,
    throttled: AtomicUsize,
}

impl Account {
    fn idle() -> Self {
        Self { tokens: std::sync::Mutex::new((40.0, Instant::now())), throttled: AtomicUsize::new(0) }
    }

    fn answer(&self, operation: &str) -> Result<(), ProviderError> {
        let mut tokens = self.tokens.lock().unwrap();
        let now = Instant::now();
        let level = (tokens.0 + now.duration_since(tokens.1).as_secs_f64() * 10.0).min(40.0);
        *tokens = (level - if level >= 1.0 { 1.0 } else { 0.0 }, now);
        if level >= 1.0 {
            return Ok(());
        }
        self.throttled.fetch_add(1, Ordering::SeqCst);
        Err(ProviderError::new(ErrorClass::Throttled, operation, "Too Many Requests"))
    }
}

/// A run of `calls` GetRestApi calls in one account: when each ended, from the run's start.
async fn run(account: &Account, calls: usize) -> Vec<Duration> {
    let started = Instant::now();
    let run = Calls::default().to(Service::ApiGateway);
    let mut ended = Vec::new();
    for _ in 0..calls {
        run.paced("GetRestApi", None, || async { account.answer("GetRestApi") }).await.unwrap();
        ended.push(started.elapsed());
    }
    ended
}

#[tokio::test(start_paused = true)]
async fn a_fresh_run_bursts_and_a_second_one_at_once_is_throttled_then_paced() {
    let account = Account::idle();
    let first = run(&account, 60).await;
    assert_eq!(first[39], Duration::ZERO, "an idle account's burst, without waiting");
    assert!(first[59] > Duration::from_secs(2), "then at the quota's rate, with the margin: {:?}", first[59]);
    assert_eq!(account.throttled.load(Ordering::SeqCst), 0);
    run(&account, 60).await;
    let throttled = account.throttled.load(Ordering::SeqCst);
    assert!((1..=5).contains(&throttled), "retried, then paced rather than throttled again: {throttled}");
}

#[tokio::test(start_paused = true)]
async fn a_call_that_cannot_get_its_token_within_its_budget_names_the_quota() {
    let busy = Calls::default().to(Service::ApiGateway);
    let started = Instant::now();
    let result: Result<(), _> = busy
        .paced("DeleteRestApi", None, || async {
            Err(ProviderError::new(ErrorClass::Throttled, "DeleteRestApi", "Too Many Requests"))
        })
        .await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("DeleteRestApi (1 per 30 s)"), "the quota that held it: {message}");
    let waited = started.elapsed();
    assert!(waited > Duration::from_mins(2) && waited < Duration::from_mins(5), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_call_refused_while_a_role_propagates_is_tried_again_every_second() {
    let refusals = AtomicUsize::new(0);
    let started = Instant::now();
    Calls::default()
        .attempt("CreateFunction", || async {
            match refusals.fetch_add(1, Ordering::SeqCst) {
                0..8 => Err(ProviderError::new(ErrorClass::Propagating, "CreateFunction", "cannot be assumed")),
                _ => Ok(()),
            }
        })
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(8), "usable after 8 s, created at once then");
}

#[tokio::test]
async fn once_the_locks_fence_closes_no_change_goes_out_but_reads_and_the_locks_own_calls_do() {
    let calls = fast(1000);
    let sent = AtomicUsize::new(0);
    let send = || async {
        sent.fetch_add(1, Ordering::SeqCst);
        Ok::<_, ProviderError>(())
    };
    calls.paced("CreateUserPool", None, send).await.unwrap();
    calls.fence().close("another run took it over");
    let refused = calls.paced("CreateUserPool", None, send).await.unwrap_err();
    assert!(refused.message.contains("another run took it over"), "{}", refused.message);
    calls.paced("ListUserPools", None, send).await.unwrap();
    calls.unfenced().paced("TagRole", None, send).await.unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 3, "the refused change was never sent");
}

#[tokio::test]
async fn a_change_that_waited_for_its_turn_while_the_fence_closed_is_not_sent() {
    let calls = fast(1000).changes_one_at_a_time();
    let sent = AtomicUsize::new(0);
    let (entered, release) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
    let first = calls.paced("PutMethod", None, || async {
        entered.notify_one();
        release.notified().await;
        sent.fetch_add(1, Ordering::SeqCst);
        Ok::<_, ProviderError>(())
    });
    let second = async {
        entered.notified().await;
        let waiting = calls.paced("PutIntegration", None, || async {
            sent.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ProviderError>(())
        });
        let close = async {
            tokio::task::yield_now().await;
            calls.fence().close("its lease could not be renewed in time");
            release.notify_one();
        };
        tokio::join!(waiting, close).0
    };
    let (first, second) = tokio::join!(first, second);
    first.unwrap();
    assert!(second.unwrap_err().message.contains("not sent"), "refused once its turn came");
    assert_eq!(sent.load(Ordering::SeqCst), 1, "only the change sent before the fence closed");
}
