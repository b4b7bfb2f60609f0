use super::*;

const PREFIX: &str = "arn:aws:execute-api:us-west-2:123456789012:";

fn policy(name: &str, statements: &str) -> NamedPolicy {
    NamedPolicy::parse(name, &format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)).unwrap()
}

fn invoke_on(resources: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":{resources}}}"#)
}

fn route(key: &str, authorization: &str, api_key_required: bool) -> LiveRoute {
    let (method, path) = key.split_once(' ').unwrap();
    LiveRoute {
        method: method.into(),
        path: path.into(),
        authorization: authorization.into(),
        api_key_required,
        deployed_differently: None,
        cognito: None,
    }
}

/// The demo stack as apply leaves it.
fn demo() -> Deployment {
    let signed_in = policy("authdemo-invoke", &invoke_on(&format!(r#"["{PREFIX}abc123/latest/GET/auth"]"#)));
    Deployment {
        stack: "demo".into(),
        arn_prefix: PREFIX.into(),
        api_id: "abc123".into(),
        stage: "latest".into(),
        routes: vec![route("GET /noauth", "NONE", true), route("GET /auth", "AWS_IAM", true)],
        linked_keys: vec!["web-client".into()],
        guests_allowed: true,
        guest_role: Some(Role { name: "demo-unauthenticated".into(), policies: Vec::new() }),
        signed_in_role: Some(Role { name: "demo-authenticated".into(), policies: vec![signed_in] }),
        groups: Vec::new(),
        token_mapping: None,
        self_sign_up: false,
        classic_flow: false,
    }
}

/// The verdicts of public, api_key, guest and signed_in.
fn verdicts(report: &Report, route: &str) -> [&'static str; 4] {
    let access = report.routes.iter().find(|r| r.route == route).unwrap();
    [Caller::Public, Caller::ApiKey, Caller::Guest, Caller::SignedIn].map(|c| access.callers[&c].as_str())
}

fn reason(report: &Report, route: &str, caller: Caller) -> String {
    report.routes.iter().find(|r| r.route == route).unwrap().reasons[&caller].clone()
}

#[test]
fn the_demo_stack_opens_the_iam_route_to_signed_in_users_only() {
    let report = report(&demo());
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "allow"]);
    assert_eq!(verdicts(&report, "GET /noauth"), ["deny", "allow", "allow", "allow"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(reason(&report, "GET /auth", Caller::Public).contains("SigV4"));
    assert!(reason(&report, "GET /auth", Caller::Guest).contains("no policy of role demo-unauthenticated"));
    let signed_in = reason(&report, "GET /auth", Caller::SignedIn);
    assert!(
        signed_in.contains("role demo-authenticated allows execute-api:Invoke (policy authdemo-invoke)"),
        "{signed_in}"
    );
    assert!(signed_in.contains("with API key web-client"), "{signed_in}");
}

#[test]
fn a_wide_grant_on_the_unauthenticated_role_is_warned_of_though_cognitos_session_policy_keeps_guests_out() {
    let mut deployment = demo();
    deployment.guest_role.as_mut().unwrap().policies.push(policy("extra", &invoke_on(r#""*""#)));
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "allow"]);
    let guest = reason(&report, "GET /auth", Caller::Guest);
    assert!(guest.contains("role demo-unauthenticated allows execute-api:Invoke (policy extra)"), "{guest}");
    assert!(guest.contains("AmazonCognitoUnAuthedIdentitiesSessionPolicy, which has no execute-api"), "{guest}");
    let warnings = report.warnings.join("\n");
    assert!(
        warnings.contains("the unauthenticated role demo-unauthenticated allows execute-api:Invoke on `*`"),
        "{warnings}"
    );
    assert!(
        warnings.contains(
            "GET /auth: the unauthenticated role demo-unauthenticated allows execute-api:Invoke on this iam route \
             (policy extra): guests are kept out only by Cognito's session policy"
        ),
        "{warnings}"
    );
}

#[test]
fn the_guest_session_policy_does_not_reach_execute_api() {
    assert!(!guest_session_allows("arn:aws:execute-api:us-west-2:123456789012:abc/latest/GET/auth"));
}

#[test]
fn guests_without_credentials_cannot_call_an_iam_route_whatever_their_role_allows() {
    let mut deployment = demo();
    deployment.guest_role.as_mut().unwrap().policies.push(policy("extra", &invoke_on(r#""*""#)));
    deployment.guests_allowed = false;
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "allow"]);
    assert!(reason(&report, "GET /auth", Caller::Guest).contains("gives guests no credentials"));
}

#[test]
fn without_a_linked_key_no_caller_passes_a_key_requirement() {
    let mut deployment = demo();
    deployment.linked_keys.clear();
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /noauth"), ["deny", "deny", "deny", "deny"]);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "deny"]);
    assert!(reason(&report, "GET /auth", Caller::SignedIn).contains("no enabled key of the stack is linked"));
}

#[test]
fn a_conditional_grant_is_reported_and_counts_as_deny() {
    let mut deployment = demo();
    let conditional = r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#;
    deployment.signed_in_role.as_mut().unwrap().policies = vec![policy("office", conditional)];
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "deny"]);
    assert!(reason(&report, "GET /auth", Caller::SignedIn).starts_with("depends on aws:SourceIp"));
}

#[test]
fn an_explicit_deny_on_the_authenticated_role_closes_the_route() {
    let mut deployment = demo();
    let deny = r#"{"Sid":"Freeze","Effect":"Deny","Action":"execute-api:*","Resource":"*"}"#;
    deployment.signed_in_role.as_mut().unwrap().policies.push(policy("arn:aws:iam::123456789012:policy/freeze", deny));
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "deny"]);
    let why = reason(&report, "GET /auth", Caller::SignedIn);
    assert!(
        why.contains(
            "denies execute-api:Invoke explicitly (policy arn:aws:iam::123456789012:policy/freeze, statement Freeze)"
        ),
        "{why}"
    );
}

#[test]
fn grants_covering_other_stages_or_apis_are_warned_about() {
    let mut deployment = demo();
    deployment.signed_in_role.as_mut().unwrap().policies = vec![
        policy("stages", &invoke_on(&format!(r#""{PREFIX}abc123/*/GET/auth""#))),
        policy("apis", &invoke_on(r#""arn:aws:execute-api:us-west-2:*:*/latest/GET/*""#)),
        policy("elsewhere", &invoke_on(&format!(r#""{PREFIX}other/*""#))),
    ];
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /auth"), ["deny", "deny", "deny", "allow"]);
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("which covers other stages of the API too (policy stages)"), "{warnings}");
    assert!(warnings.contains("which covers other APIs too (policy apis)"), "{warnings}");
    assert!(
        !warnings.contains("elsewhere"),
        "a grant on another API only is none of this stack's business: {warnings}"
    );
}

#[test]
fn routes_without_a_key_open_to_guests_are_warned_about_and_any_maps_to_every_method() {
    let mut deployment = demo();
    deployment.routes = vec![route("GET /", "NONE", false), route("ANY /proxy/{proxy+}", "AWS_IAM", false)];
    let any = format!(r#""{PREFIX}abc123/latest/*/proxy/*""#);
    deployment.signed_in_role.as_mut().unwrap().policies = vec![policy("authdemo-invoke", &invoke_on(&any))];
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /"), ["allow", "allow", "allow", "allow"]);
    assert_eq!(verdicts(&report, "ANY /proxy/{proxy+}"), ["deny", "deny", "deny", "allow"]);
    assert_eq!(
        report.warnings,
        ["GET /: guests can call it without an API key, so no usage plan throttles or limits it"]
    );
}

#[test]
fn a_stage_serving_other_settings_and_other_authorizers_are_reported() {
    let mut deployment = demo();
    deployment.routes[1].deployed_differently = Some("as NONE + API key".into());
    deployment.routes.push(route("GET /pool", "COGNITO_USER_POOLS", false));
    let report = report(&deployment);
    assert_eq!(verdicts(&report, "GET /pool"), ["deny", "deny", "deny", "deny"]);
    assert!(reason(&report, "GET /pool", Caller::SignedIn).contains("COGNITO_USER_POOLS authorizer"));
    assert!(
        report.warnings.iter().any(|w| w.starts_with("GET /auth: the stage's deployment serves it as NONE + API key"))
    );
}

#[test]
fn the_json_has_the_issue_s_shape_and_the_table_every_verdict() {
    let report = report(&demo());
    let json: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["stack"], "demo");
    assert_eq!(json["routes"][0]["route"], "GET /auth");
    let callers = json["routes"][0]["callers"].as_object().unwrap();
    assert_eq!(callers.keys().collect::<Vec<_>>(), ["api_key", "guest", "public", "signed_in"]);
    assert_eq!(json["routes"][0]["callers"]["signed_in"], "allow");
    assert!(json["routes"][0]["reasons"]["guest"].is_string());
    assert_eq!(json["warnings"], serde_json::json!([]));
    let table = human(&report);
    assert!(table.contains("ROUTE        public    api_key   guest     signed_in\n"), "{table}");
    assert!(table.contains("GET /auth    deny      deny      deny      allow\n"), "{table}");
    assert!(table.contains("GET /noauth  deny      allow     allow     allow\n"), "{table}");
}

#[test]
fn with_self_sign_up_anyone_calls_what_signed_in_users_call_and_a_warning_names_it() {
    let closed = report(&demo());
    assert_eq!(closed.callers, [Caller::Public, Caller::ApiKey, Caller::Guest, Caller::SignedIn]);
    assert!(human(&closed).contains("Self sign-up is off"));
    let report = report(&Deployment { self_sign_up: true, ..demo() });
    assert_eq!(report.callers.last(), Some(&Caller::Anyone));
    for route in &report.routes {
        assert_eq!(route.callers[&Caller::Anyone], route.callers[&Caller::SignedIn], "{}", route.route);
    }
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("self sign-up is on") && report.warnings[0].contains("GET /auth"));
    assert!(!report.warnings[0].contains("GET /noauth"), "the public can call it anyway");
}

#[test]
fn with_the_classic_flow_guests_are_judged_by_their_role_alone() {
    let open = policy("open", &invoke_on(&format!(r#""{PREFIX}abc123/latest/GET/auth""#)));
    let guest_role = Some(Role { name: "demo-unauthenticated".into(), policies: vec![open] });
    let enhanced = report(&Deployment { guest_role: guest_role.clone(), ..demo() });
    assert_eq!(verdicts(&enhanced, "GET /auth")[2], "deny", "the session policy bounds the enhanced flow");
    let classic = report(&Deployment { guest_role, classic_flow: true, ..demo() });
    assert_eq!(verdicts(&classic, "GET /auth")[2], "allow");
    assert!(classic.warnings.iter().any(|w| w.contains("basic (classic) flow")), "{:?}", classic.warnings);
}

/// The demo stack with the admin route `DELETE /items/{id}`, the groups `admins` (with a role
/// allowing it) and `readers` (no role), and the identity pool's role mapping `mapping`.
fn with_groups(mapping: Option<&str>) -> Deployment {
    let mut deployment = demo();
    deployment.routes.push(route("DELETE /items/{id}", "AWS_IAM", false));
    let resources = format!(r#"["{PREFIX}abc123/latest/GET/auth","{PREFIX}abc123/latest/DELETE/items/*"]"#);
    let role =
        Role { name: "demo-group-admins".into(), policies: vec![policy("authdemo-invoke", &invoke_on(&resources))] };
    let admins = Group { name: "admins".into(), precedence: Some(1), role_arn: Some("arn".into()), role: Some(role) };
    let readers = Group { name: "readers".into(), precedence: None, role_arn: None, role: None };
    deployment.groups = vec![admins, readers];
    deployment.token_mapping = mapping.map(str::to_string);
    deployment
}

fn group(name: &str) -> Caller {
    Caller::Group(name.into())
}

#[test]
fn a_group_is_judged_by_the_role_the_token_mapping_gives_its_members() {
    let report = report(&with_groups(Some("Token:AuthenticatedRole")));
    let callers: Vec<String> = report.callers.iter().map(|c| c.as_str().into_owned()).collect();
    assert_eq!(callers, ["public", "api_key", "guest", "signed_in", "group:admins", "group:readers"]);
    let delete = report.routes.iter().find(|r| r.route == "DELETE /items/{id}").unwrap();
    assert_eq!(delete.callers[&Caller::SignedIn], Verdict::Deny);
    assert_eq!(delete.callers[&group("admins")], Verdict::Allow);
    assert_eq!(delete.callers[&group("readers")], Verdict::Deny);
    let admins = &delete.reasons[&group("admins")];
    assert!(
        admins.contains("role mapping (Token) gives members of admins the group's role demo-group-admins"),
        "{admins}"
    );
    let readers = reason(&report, "GET /auth", group("readers"));
    assert!(readers.contains("ambiguous: AuthenticatedRole") && readers.contains("demo-authenticated"), "{readers}");
    let json = json(&report);
    assert!(json.contains(r#""group:admins": "allow""#), "{json}");
}

#[test]
fn without_a_role_mapping_members_get_the_authenticated_role_and_deny_resolution_gives_none() {
    let report = report(&with_groups(None));
    let delete = report.routes.iter().find(|r| r.route == "DELETE /items/{id}").unwrap();
    assert_eq!(delete.callers[&group("admins")], Verdict::Deny);
    assert!(delete.reasons[&group("admins")].contains("no role mapping"));
    let report = super::report(&with_groups(Some("Token:Deny")));
    assert!(reason(&report, "GET /auth", group("readers")).contains("gives none"));
    assert!(reason(&report, "GET /auth", group("admins")).starts_with("the identity pool's role mapping"));
}
