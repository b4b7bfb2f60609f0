//! `authdemo verify`: makes the calls `authdemo access` reasons about and compares. For every
//! route it calls the stage as each caller (no key and unsigned; the stack's key, unsigned; a
//! guest, signed; a user of the file signed in, signed; the key along where the route requires
//! one), classifies each answer ([`outcome`]) and compares it with the verdict of
//! [`crate::access::matrix::report`], the function `access` prints, on the deployment the stack
//! file describes ([`intended`]). What `access` says of the live configuration goes along, so a
//! mismatch shows whether the live configuration drifted from the file (a policy deleted by
//! hand: `access` agrees with the call, not with the file) or the gateway does something else
//! than its configuration says.

pub(crate) mod callers;
pub(crate) mod hosted_ui;
pub(crate) mod http;
pub(crate) mod outcome;
pub(crate) mod sign_up;
mod tokens;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use serde::Serialize;

use self::callers::Callers;
use self::http::{Endpoint, Http};
use self::outcome::{Observed, Outcome, classify, compare, scrubbed};
use crate::access::cognito::TokenKind;
use crate::access::matrix::{Caller, Deployment, LiveRoute, Report as Expected, Verdict};
use crate::live::{LiveResource, LiveState};
use crate::resource::DesiredState;

/// The version of the JSON report.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// What a path parameter (`{id}`, `{proxy+}`) is called with.
const SAMPLE: &str = "test";

/// One call: who called which route, what `access` said, what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// `METHOD /path`.
    pub route: String,
    /// Who called.
    pub caller: Caller,
    /// On a cognito route, the token the signed-in user sent.
    pub token: Option<TokenKind>,
    /// The verdict on the deployment the stack file describes.
    pub expected: Verdict,
    /// The verdict of `access` on the live configuration.
    pub live: Verdict,
    /// What the call showed.
    pub observed: Observed,
    /// Whether the two agree.
    pub outcome: Outcome,
}

/// Every call and how it compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// The stack name.
    pub stack: String,
    /// The API's id.
    pub api_id: String,
    /// The stage.
    pub stage: String,
    /// The stage's base URL the calls went to.
    pub url: String,
    /// Who signed in, and how.
    pub user: Option<String>,
    /// Every call, by route then caller.
    pub checks: Vec<Check>,
    /// Whether a stranger can sign up, when checked.
    pub sign_up: Option<sign_up::SignUpCheck>,
    /// The hosted UI's checks (none when the stack has no domain).
    pub hosted_ui: Vec<hosted_ui::HostedUiCheck>,
}

impl Report {
    /// Whether every call agreed (skipped ones aside), and sign-up is as the file says.
    pub(crate) fn agrees(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome.fails())
            && !self.sign_up.as_ref().is_some_and(sign_up::SignUpCheck::fails)
            && self.hosted_ui.iter().all(|check| check.ok)
    }
}

/// The deployment the stack file describes, at the ids of the live resources: the desired
/// state in the shape of a live state, so that `access` reads it and judges it unchanged.
pub(crate) fn intended(desired: &DesiredState, live: &LiveState) -> LiveState {
    let mut state = LiveState { target: live.target.clone(), ..LiveState::default() };
    for resource in &desired.resources {
        let id = live.resources.get(&resource.address).map(|r| r.id.clone()).unwrap_or_default();
        state.insert(LiveResource {
            address: resource.address.clone(),
            id,
            attributes: resource.attributes.clone(),
            depends_on: Vec::new(),
            holds: None,
            notes: Vec::new(),
        });
    }
    state
}

/// Where and as whom `verify` calls: the stage's URL, its region, the callers' credentials and
/// key, and the secrets no message may show.
struct Calling<'a> {
    http: &'a Http,
    url: &'a str,
    region: String,
    callers: &'a Callers,
    secrets: Vec<&'a str>,
}

/// Calls every route of `deployment` (as the file describes it) at the endpoint's URL as every caller and
/// compares with `expected`, the verdicts on it; `live` are the verdicts of `access` on the live
/// configuration. A call that disagrees is made again, backing off, until it agrees or `settle`
/// has passed: right after an apply, AWS takes a few seconds to apply new IAM policies, Lambda
/// permissions and a deployment everywhere.
pub(crate) async fn run(
    endpoint: &Endpoint<'_>,
    deployment: &Deployment,
    expected: &Expected,
    live: &Expected,
    callers: &Callers,
) -> Report {
    let Endpoint { http, url, settle } = *endpoint;
    let mut checks = Vec::new();
    let calling = Calling { http, url, region: region_of(deployment), callers, secrets: callers.secrets() };
    for access in &expected.routes {
        let Some(route) = deployment.routes.iter().find(|r| r.key() == access.route) else { continue };
        let live_route = live.routes.iter().find(|r| r.route == access.route);
        // On a cognito route a signed-in user calls with its tokens, each kind checked below.
        let tokenless =
            |c: &Caller| route.cognito.is_none() || matches!(c, Caller::Public | Caller::ApiKey | Caller::Guest);
        for caller in expected.callers.iter().filter(|c| **c != Caller::Anyone && tokenless(c)) {
            let expected = access.callers[caller];
            let (observed, outcome) = settled_call(&calling, route, caller, expected, settle).await;
            let live = live_route.map_or(Verdict::Deny, |r| r.callers.get(caller).copied().unwrap_or(Verdict::Deny));
            let caller = caller.clone();
            checks.push(Check { route: access.route.clone(), caller, token: None, expected, live, observed, outcome });
        }
        if route.cognito.is_some() {
            checks.extend(tokens::checks(&calling, route, access, live_route).await);
        }
    }
    Report {
        stack: deployment.stack.clone(),
        api_id: deployment.api_id.clone(),
        stage: deployment.stage.clone(),
        url: url.to_string(),
        user: callers.user.clone(),
        checks,
        sign_up: None,
        hosted_ui: Vec::new(),
    }
}

/// The region in the deployment's ARNs (`arn:PARTITION:execute-api:REGION:ACCOUNT:`).
fn region_of(deployment: &Deployment) -> String {
    deployment.arn_prefix.split(':').nth(3).unwrap_or_default().to_string()
}

/// Calls `route` as `caller` until the answer agrees with `expected` or `settle` has passed,
/// waiting 1 s, 2 s, 4 s, then 8 s between tries.
async fn settled_call(
    calling: &Calling<'_>,
    route: &LiveRoute,
    caller: &Caller,
    expected: Verdict,
    settle: Duration,
) -> (Observed, Outcome) {
    let started = Instant::now();
    let mut pause = Duration::from_secs(1);
    loop {
        let observed = call(calling, route, caller).await;
        let outcome = compare(expected, &observed);
        let may_settle = outcome == Outcome::Mismatch
            || matches!(observed, Observed::Throttled { .. } | Observed::Failed { status: Some(_), .. });
        if !may_settle || started.elapsed() + pause > settle {
            return (observed, outcome);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(8));
    }
}

/// Calls `route` once as `caller`.
async fn call(calling: &Calling<'_>, route: &LiveRoute, caller: &Caller) -> Observed {
    let Calling { http, url, region, callers, secrets } = calling;
    let region = region.as_str();
    let method = if route.method == "ANY" { "GET" } else { route.method.as_str() };
    let url = format!("{url}{}", sample_path(&route.path));
    let wants_key = *caller == Caller::ApiKey || (*caller != Caller::Public && route.api_key_required);
    let mut headers = Vec::new();
    let credentials = match caller {
        Caller::Public | Caller::ApiKey => None,
        Caller::Guest => Some(&callers.guest),
        Caller::SignedIn | Caller::Anyone => Some(&callers.signed_in),
        Caller::Group(group) => Some(callers.member(group)),
    };
    if let Some(credentials) = credentials {
        let credentials = match credentials {
            Ok(credentials) => credentials,
            Err(observed) => return observed.clone(),
        };
        match http::signature(method, &url, &[], credentials, region) {
            Ok(signature) => headers.extend(signature),
            Err(message) => return Observed::Failed { status: None, message },
        }
    }
    if wants_key {
        match &callers.api_key {
            Ok(key) => headers.push(("x-api-key".to_string(), key.expose().to_string())),
            Err(observed) if *caller == Caller::ApiKey => return observed.clone(),
            Err(_) => {}
        }
    }
    match http.send(method, &url, &headers).await {
        Ok(answer) => classify(&answer, secrets),
        Err(message) => Observed::Failed { status: None, message: scrubbed(&message, secrets) },
    }
}

/// `path` with every parameter (`{id}`, `{proxy+}`) replaced by a sample value.
pub(crate) fn sample_path(path: &str) -> String {
    let segments = path.split('/').map(|s| if s.starts_with('{') && s.ends_with('}') { SAMPLE } else { s });
    segments.collect::<Vec<_>>().join("/")
}

/// What `access` predicts for a verdict, as a status.
fn expected_status(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allow => "through the gateway, 2xx/4xx from the function",
        Verdict::Deny => "403 from the gateway",
    }
}

/// The report as a table for people, then the calls that did not agree.
pub(crate) fn human(report: &Report) -> String {
    let mut out =
        format!("Calls to stack {} (API {}, stage {}) at {}\n", report.stack, report.api_id, report.stage, report.url);
    out.push_str(&match &report.user {
        Some(user) => format!("signed in as {user}\n\n"),
        None => "no user signed in\n\n".to_string(),
    });
    let width = report.checks.iter().map(|c| c.route.len()).max().unwrap_or(0).max("ROUTE".len());
    let callers = report.checks.iter().map(|c| caller_label(c).len()).max().unwrap_or(0).max(9);
    out.push_str(&format!(
        "{:width$}  {:callers$}  {:8}  {:6}  {:9}  RESULT\n",
        "ROUTE", "CALLER", "EXPECTED", "STATUS", "OBSERVED"
    ));
    for check in &report.checks {
        let status = check.observed.status().map_or_else(|| "-".to_string(), |s| s.to_string());
        out.push_str(&format!(
            "{:width$}  {:callers$}  {:8}  {:6}  {:9}  {}\n",
            check.route,
            caller_label(check),
            check.expected.as_str(),
            status,
            check.observed.as_str(),
            check.outcome.as_str()
        ));
    }
    if let Some(sign_up) = &report.sign_up {
        out.push_str(&format!("{}\n", sign_up.line()));
    }
    for check in &report.hosted_ui {
        out.push_str(&format!("{}\n", check.line()));
    }
    out.push_str(&notes(report));
    out
}

/// Who called, as the table shows it: the caller, or on a cognito route the token sent.
fn caller_label(check: &Check) -> Cow<'_, str> {
    check.token.map_or_else(|| check.caller.as_str(), |token| Cow::Borrowed(token.as_str()))
}

/// The mismatches, the calls that verified nothing, the callers not called, and the verdict.
fn notes(report: &Report) -> String {
    let mut out = String::new();
    let section = |outcome: Outcome| report.checks.iter().filter(move |c| c.outcome == outcome);
    for (outcome, title) in [(Outcome::Mismatch, "Mismatches"), (Outcome::Unverified, "Not verified")] {
        let lines: Vec<String> = section(outcome).map(explain).collect();
        if !lines.is_empty() {
            out.push_str(&format!("\n{title}:\n{}", lines.concat()));
        }
    }
    let mut skipped: Vec<String> = section(Outcome::Skipped)
        .map(|c| format!("  - {}: {}\n", c.caller.as_str(), c.observed.message().unwrap_or_default()))
        .collect();
    skipped.dedup();
    if !skipped.is_empty() {
        out.push_str(&format!("\nNot called:\n{}", skipped.concat()));
    }
    let count = |outcome| section(outcome).count();
    let made = report.checks.len() - count(Outcome::Skipped);
    out.push_str(&match (count(Outcome::Mismatch), count(Outcome::Unverified)) {
        (0, 0) => format!("\nAll {made} calls made agree with what the stack file means.\n"),
        (mismatches, unverified) => format!(
            "\n{mismatches} of {made} calls made disagree with what the stack file means, {unverified} verified nothing.\n"
        ),
    });
    out
}

/// One line on a call that failed the check.
fn explain(check: &Check) -> String {
    let status = check.observed.status().map(|s| format!("{s} ")).unwrap_or_default();
    let message = check.observed.message().map(|m| format!(": {m}")).unwrap_or_default();
    let why = match &check.observed {
        Observed::Throttled { .. } => " (throttled by the usage plan: this proves nothing; run again later)",
        _ => "",
    };
    let drift = if check.live == check.expected {
        String::new()
    } else {
        format!(
            "\n    `authdemo access` says {} of the live configuration, which differs from the stack file \
             (see `authdemo plan`; `apply` puts it back)",
            check.live.as_str()
        )
    };
    format!(
        "  - {} as {}: the stack file means {} ({}); observed {}{}{message}{why}{drift}\n",
        check.route,
        check.caller.as_str(),
        check.expected.as_str(),
        expected_status(check.expected),
        status,
        check.observed.as_str()
    )
}

/// One call in the JSON report.
#[derive(Serialize)]
struct JsonCheck<'a> {
    route: &'a str,
    caller: Caller,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<TokenKind>,
    expected: Verdict,
    access: Verdict,
    observed: &'static str,
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    result: Outcome,
}

/// The JSON report.
#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: u32,
    stack: &'a str,
    api_id: &'a str,
    stage: &'a str,
    url: &'a str,
    user: Option<&'a str>,
    agree: bool,
    calls: Vec<JsonCheck<'a>>,
    sign_up: Option<&'a sign_up::SignUpCheck>,
    hosted_ui: &'a [hosted_ui::HostedUiCheck],
}

/// The report as versioned JSON.
pub(crate) fn json(report: &Report) -> String {
    let calls = report
        .checks
        .iter()
        .map(|c| JsonCheck {
            route: &c.route,
            caller: c.caller.clone(),
            token: c.token,
            expected: c.expected,
            access: c.live,
            observed: c.observed.as_str(),
            status: c.observed.status(),
            message: c.observed.message(),
            result: c.outcome,
        })
        .collect();
    let json = JsonReport {
        format_version: FORMAT_VERSION,
        stack: &report.stack,
        api_id: &report.api_id,
        stage: &report.stage,
        url: &report.url,
        user: report.user.as_deref(),
        agree: report.agrees(),
        calls,
        sign_up: report.sign_up.as_ref(),
        hosted_ui: &report.hosted_ui,
    };
    serde_json::to_string_pretty(&json).expect("a report is plain data")
}

#[cfg(test)]
mod tests;
