//! The pacer's buckets: full at first, paced after a throttling answer about them.

use super::*;

fn at(start: Instant, millis: u64) -> Instant {
    start + Duration::from_millis(millis)
}

#[test]
fn a_fresh_run_sends_the_burst_at_once_then_the_rate() {
    let pacer = Pacer::default();
    let start = Instant::now();
    for _ in 0..40 {
        assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", start).is_none(), "an idle account's burst");
    }
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
    for _ in 0..5 {
        assert!(pacer.try_take(Service::Lambda, "CreateFunction", start).is_none());
    }
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
    for _ in 0..30 {
        assert!(pacer.try_take(Service::ApiGateway, "GetRestApis", start).is_none(), "the service keeps its burst");
    }
}

#[tokio::test(start_paused = true)]
async fn a_service_without_published_limits_is_paced_once_it_throttles() {
    let pacer = Pacer::default();
    let start = Instant::now();
    for _ in 0..50 {
        assert!(pacer.try_take(Service::Iam, "CreateRole", start).is_none());
    }
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
    for _ in 0..120 {
        assert!(pacer.try_take(Service::CognitoIdp, "AdminGetUser", start).is_none(), "UserRead holds 120");
    }
    let held = pacer.try_take(Service::CognitoIdp, "AdminGetUser", start).expect("UserRead's burst is spent");
    assert_eq!(held.quota, "UserRead (120/s)");
    assert!(pacer.try_take(Service::CognitoIdp, "DescribeUserPool", start).is_none(), "UserPoolRead is apart");
    for _ in 0..5 {
        assert!(pacer.try_take(Service::CognitoIdp, "CreateUserPoolClient", start).is_none());
    }
    let held = pacer.try_take(Service::CognitoIdp, "UpdateUserPoolClient", start).expect("one category, one pool");
    assert_eq!(held.quota, "UserPoolClientUpdate per user pool (5/s)");
    for _ in 0..5 {
        assert!(pacer.try_take(Service::CognitoIdentity, "TagResource", start).is_none());
    }
    let held = pacer.try_take(Service::CognitoIdentity, "TagResource", start).expect("identity pools' TagResource");
    assert_eq!(held.quota, "TagResource (5/s)");
}
