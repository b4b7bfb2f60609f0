use super::*;

fn check(route: &str, caller: Caller, expected: Verdict, observed: Observed) -> Check {
    let outcome = compare(expected, &observed);
    Check { route: route.into(), caller, token: None, expected, live: expected, observed, outcome }
}

fn report(checks: Vec<Check>) -> Report {
    Report {
        stack: "demo".into(),
        api_id: "abc".into(),
        stage: "latest".into(),
        url: "https://abc.execute-api.us-west-2.amazonaws.com/latest".into(),
        user: Some("demouser (SRP)".into()),
        checks,
        sign_up: None,
        hosted_ui: Vec::new(),
    }
}

#[test]
fn parameters_get_a_sample_value() {
    assert_eq!(sample_path("/items/{id}"), "/items/test");
    assert_eq!(sample_path("/proxy/{proxy+}"), "/proxy/test");
    assert_eq!(sample_path("/"), "/");
    assert_eq!(sample_path("/a/{x}/b"), "/a/test/b");
}

#[test]
fn a_mismatch_names_the_route_the_caller_and_both_sides() {
    let denied = Observed::Denied { status: Some(403), message: "User: r is not authorized".into() };
    let report = report(vec![
        check("GET /auth", Caller::Guest, Verdict::Deny, Observed::Denied { status: Some(403), message: "x".into() }),
        check("GET /auth", Caller::SignedIn, Verdict::Allow, denied),
    ]);
    assert!(!report.agrees());
    let text = human(&report);
    assert!(
        text.contains("  - GET /auth as signed_in: the stack file means allow (through the gateway, 2xx/4xx from the function); observed 403 denied: User: r is not authorized\n"),
        "{text}"
    );
    assert!(text.contains("1 of 2 calls made disagree with what the stack file means, 0 verified nothing."), "{text}");
    let json: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["agree"], false);
    assert_eq!(json["calls"][1]["caller"], "signed_in");
    assert_eq!(json["calls"][1]["result"], "mismatch");
    assert_eq!(json["calls"][1]["status"], 403);
    assert_eq!(json["calls"][1]["access"], "allow");
}

#[test]
fn a_mismatch_that_access_explains_is_drift_from_the_file() {
    let denied = Observed::Denied { status: Some(403), message: "not authorized".into() };
    let mut drifted = check("GET /auth", Caller::SignedIn, Verdict::Allow, denied);
    drifted.live = Verdict::Deny;
    let text = human(&report(vec![drifted]));
    assert!(
        text.contains("\n    `authdemo access` says deny of the live configuration, which differs from the stack file"),
        "{text}"
    );
}

#[test]
fn throttling_fails_the_check_as_unverified_and_skips_do_not() {
    let throttled = Observed::Throttled { message: "Limit Exceeded".into() };
    let skipped = Observed::Skipped { why: "the stack file names no user to sign in as".into() };
    let report = report(vec![
        check("GET /noauth", Caller::ApiKey, Verdict::Allow, throttled),
        check("GET /noauth", Caller::SignedIn, Verdict::Allow, skipped.clone()),
        check("GET /auth", Caller::SignedIn, Verdict::Allow, skipped),
    ]);
    assert!(!report.agrees());
    let text = human(&report);
    assert!(text.contains("Not verified:\n  - GET /noauth as api_key"), "{text}");
    assert!(text.contains("throttled by the usage plan: this proves nothing"), "{text}");
    assert_eq!(text.matches("the stack file names no user").count(), 1, "{text}");
    let only_skips = super::Report { checks: report.checks[1..].to_vec(), ..report };
    assert!(only_skips.agrees());
    assert!(human(&only_skips).contains("All 0 calls made agree"), "{}", human(&only_skips));
}

#[test]
fn a_stranger_who_could_sign_up_against_the_file_fails_the_report() {
    let mut refused = report(Vec::new());
    refused.sign_up = Some(sign_up::SignUpCheck::Refused);
    assert!(refused.agrees());
    assert!(human(&refused).contains("SignUp was refused"));
    let accepted = Report { sign_up: Some(sign_up::SignUpCheck::Accepted), ..refused };
    assert!(!accepted.agrees());
    assert!(json(&accepted).contains("\"result\": \"accepted\""), "{}", json(&accepted));
}
