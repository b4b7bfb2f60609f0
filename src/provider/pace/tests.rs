//! The pacer's buckets: full at first, paced after a throttling answer about them.

use super::*;

fn at(start: Instant, millis: u64) -> Instant {
    start + Duration::from_millis(millis)
}

/// Asserts that `calls` calls of `operation` of `service` get their tokens at `start` without
/// waiting: `why` says which burst they draw on.
fn all_sent_at_once(
    pacer: &Pacer,
    (service, operation): (Service, &'static str),
    calls: usize,
    start: Instant,
    why: &str,
) {
    for call in 1..=calls {
        assert!(pacer.try_take(service, operation, start).is_none(), "{operation} {call} of {calls}: {why}");
    }
}

#[test]
fn a_fresh_run_sends_the_burst_at_once_then_the_rate() {
    let pacer = Pacer::default();
    let start = Instant::now();
    all_sent_at_once(&pacer, (Service::ApiGateway, "GetRestApis"), 40, start, "an idle account's burst");
    let held = pacer.try_take(Service::ApiGateway, "GetRestApis", start).expect("the burst is 40");
    assert!(held.wait > Duration::from_millis(100) && held.wait < Duration::from_millis(130), "{held:?}");
    assert_eq!(held.quota, "ApiGateway calls (10/s)");
    assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", at(start, 120)).is_none());
}

#[test]
fn an_operation_with_its_own_quota_waits_for_it() {
    let pacer = Pacer::default();
    let start = Instant::now();
    assert!(pacer.try_take(Service::ApiGateway, "CreateDeployment", start).is_none(), "its token is there");
    let held = pacer.try_take(Service::ApiGateway, "CreateDeployment", at(start, 2000)).unwrap();
    assert!(held.wait > Duration::from_secs(3), "one per 5 s, with the margin: {held:?}");
    assert_eq!(held.quota, "CreateDeployment (1 per 5 s)");
    assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", at(start, 2000)).is_none(), "the others go on");
    assert!(pacer.try_take(Service::ApiGateway, "CreateDeployment", at(start, 8000)).is_none());
}

#[tokio::test(start_paused = true)]
async fn after_a_throttling_answer_the_quota_it_concerns_paces() {
    let pacer = Pacer::default();
    let start = Instant::now();
    all_sent_at_once(&pacer, (Service::Lambda, "CreateFunction"), 5, start, "within the burst");
    pacer.throttled(Service::Lambda, "CreateFunction");
    let held = pacer.try_take(Service::Lambda, "CreateFunction", start).expect("paced: no burst left");
    let half_speed = Duration::from_secs_f64(1.0 / (15.0 * MARGIN * 0.5));
    assert!(held.wait.abs_diff(half_speed) < Duration::from_millis(1), "{held:?}");
    let later = start + half_speed;
    assert!(pacer.try_take(Service::Lambda, "CreateFunction", later).is_none());
    assert!(pacer.try_take(Service::Lambda, "CreateFunction", later).is_some(), "one token at a time");
    assert!(pacer.try_take(Service::Lambda, "GetFunction", later).is_none(), "GetFunction has its own quota");
    for _ in 0..20 {
        pacer.succeeded(Service::Lambda, "CreateFunction");
    }
    let bucket = &pacer.buckets.lock().unwrap()[&(Service::Lambda, "*")];
    assert!((bucket.speed - 1.0).abs() < f64::EPSILON && bucket.paced, "full speed again, one token at a time");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_slow_operation_paces_its_own_quota_not_the_service() {
    let pacer = Pacer::default();
    let start = Instant::now();
    assert!(pacer.try_take(Service::ApiGateway, "DeleteRestApi", start).is_none());
    pacer.throttled(Service::ApiGateway, "DeleteRestApi");
    let held = pacer.try_take(Service::ApiGateway, "DeleteRestApi", start).unwrap();
    assert_eq!(held.quota, "DeleteRestApi (1 per 30 s)");
    let retry = Duration::from_secs_f64(SLOW_RETRY * 30.0 / MARGIN);
    assert!(held.wait.abs_diff(retry) < Duration::from_millis(1), "tried again within the period: {held:?}");
    all_sent_at_once(&pacer, (Service::ApiGateway, "GetRestApis"), 30, start, "the service keeps its burst");
}

#[tokio::test(start_paused = true)]
async fn a_service_without_published_limits_is_paced_once_it_throttles() {
    let pacer = Pacer::default();
    let start = Instant::now();
    all_sent_at_once(&pacer, (Service::Iam, "CreateRole"), 50, start, "within the burst");
    pacer.throttled(Service::Iam, "CreateRole");
    assert!(pacer.try_take(Service::Iam, "GetRole", start).is_some());
}

#[test]
fn slow_quotas_give_their_calls_more_patience() {
    assert!(patience(Service::ApiGateway, "DeleteRestApi") > Duration::from_mins(4));
    assert!(patience(Service::ApiGateway, "GetRestApis") < Duration::from_secs(1));
}

#[test]
fn cognito_user_pools_pace_each_category_of_operations_apart() {
    let pacer = Pacer::default();
    let start = Instant::now();
    all_sent_at_once(&pacer, (Service::CognitoIdp, "AdminGetUser"), 120, start, "UserRead holds 120");
    let held = pacer.try_take(Service::CognitoIdp, "AdminGetUser", start).expect("UserRead's burst is spent");
    assert_eq!(held.quota, "UserRead (120/s)");
    assert!(pacer.try_take(Service::CognitoIdp, "DescribeUserPool", start).is_none(), "UserPoolRead is apart");
    all_sent_at_once(&pacer, (Service::CognitoIdp, "CreateUserPoolClient"), 5, start, "within the burst");
    let held = pacer.try_take(Service::CognitoIdp, "UpdateUserPoolClient", start).expect("one category, one pool");
    assert_eq!(held.quota, "UserPoolClientUpdate per user pool (5/s)");
    all_sent_at_once(&pacer, (Service::CognitoIdentity, "TagResource"), 5, start, "within the burst");
    let held = pacer.try_take(Service::CognitoIdentity, "TagResource", start).expect("identity pools' TagResource");
    assert_eq!(held.quota, "TagResource (5/s)");
}
