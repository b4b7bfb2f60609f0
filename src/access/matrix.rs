//! Who can call each route: the four callers × the deployment's routes, each verdict with its
//! reason, and warnings for grants wider than the routes need. Pure: it reads a [`Deployment`]
//! (what the live configuration says) and evaluates the roles' policies with [`super::policy`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

mod groups;
mod guest_session;
mod warnings;

pub(crate) use self::groups::Group;

use self::guest_session::{GUEST_SESSION_POLICY_NAME, guest_session_allows};
use self::warnings::{open_routes, strangers_routes, wide_grants};
use super::cognito::{self, CognitoRoute, TokenAccess, TokenKind};
use super::policy::{Decision, NamedPolicy, evaluate};

/// The version of the JSON report.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The action a signed call to a method needs.
const INVOKE: &str = "execute-api:Invoke";

/// The authorization type of a method that callers sign with SigV4.
const AWS_IAM: &str = "AWS_IAM";

/// The authorization type of a method anyone may call.
const NONE: &str = "NONE";

/// Who calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Caller {
    /// No credentials, no API key.
    Public,
    /// A valid key of the stack's usage plan, unsigned.
    ApiKey,
    /// Signed with the identity pool's unauthenticated role (plus a key where required).
    Guest,
    /// Signed with the authenticated role (plus a key where required): a user in no group.
    SignedIn,
    /// A member of the user pool group (whose highest-ranked group it is), signed with the role
    /// the identity pool gives it (see [`groups`]).
    Group(String),
    /// A stranger who signed themselves up (self sign-up on): a signed-in user like the file's.
    Anyone,
}

impl Caller {
    /// The callers every deployment has, in report order (the groups' come after them).
    pub(crate) const ALL: [Caller; 4] = [Caller::Public, Caller::ApiKey, Caller::Guest, Caller::SignedIn];

    /// The caller's name in reports (`group:NAME` for a group's members).
    pub(crate) fn as_str(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Caller::Public => "public",
            Caller::ApiKey => "api_key",
            Caller::Guest => "guest",
            Caller::SignedIn => "signed_in",
            Caller::Group(name) => return Cow::Owned(format!("group:{name}")),
            Caller::Anyone => "anyone",
        })
    }
}

/// A caller is written by its name, in JSON keys too.
impl Serialize for Caller {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

/// Whether a caller can call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// It can, for certain.
    Allow,
    /// It cannot, or it depends on something the configuration does not decide.
    Deny,
}

impl Verdict {
    /// The verdict's name in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// A role the identity pool hands out, with every policy that applies to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Role {
    /// The role's name.
    pub name: String,
    /// Its inline policies and the documents of its attached managed policies.
    pub policies: Vec<NamedPolicy>,
}

/// A method as it is set live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRoute {
    /// `GET`, `POST`, …, or `ANY`.
    pub method: String,
    /// `/items/{id}`.
    pub path: String,
    /// `NONE`, `AWS_IAM`, or another authorizer type.
    pub authorization: String,
    /// Whether callers must send an API key.
    pub api_key_required: bool,
    /// How the stage's deployment serves it (`as AWS_IAM + API key`, `not at all`) when that
    /// differs from the method's settings; `None` when they agree.
    pub deployed_differently: Option<String>,
    /// For a COGNITO_USER_POOLS method, its authorizer, scopes and the pool's clients.
    pub cognito: Option<CognitoRoute>,
}

impl LiveRoute {
    /// `METHOD /path`.
    pub(crate) fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the live configuration says about who may call the API's stage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deployment {
    /// The stack name.
    pub stack: String,
    /// `arn:PARTITION:execute-api:REGION:ACCOUNT:`, before the API id.
    pub arn_prefix: String,
    /// The REST API's id.
    pub api_id: String,
    /// The stage callers call.
    pub stage: String,
    /// The API's methods.
    pub routes: Vec<LiveRoute>,
    /// The stack's enabled API keys linked to a usage plan on this API and stage.
    pub linked_keys: Vec<String>,
    /// Whether the identity pool gives guests credentials.
    pub guests_allowed: bool,
    /// The identity pool's unauthenticated role, as set on the pool.
    pub guest_role: Option<Role>,
    /// The identity pool's authenticated role, as set on the pool.
    pub signed_in_role: Option<Role>,
    /// The user pool's groups, by precedence.
    pub groups: Vec<Group>,
    /// The identity pool's role mapping for the stack's user pool (`Token:AuthenticatedRole`),
    /// if it has one.
    pub token_mapping: Option<String>,
    /// Whether anyone may sign up to the user pool (`AllowAdminCreateUserOnly` off).
    pub self_sign_up: bool,
    /// Whether the identity pool allows the basic (classic) flow, which Cognito's guest session
    /// policy does not bound.
    pub classic_flow: bool,
}

impl Deployment {
    /// The ARN of calling `route` on the stage.
    pub(crate) fn method_arn(&self, route: &LiveRoute) -> String {
        format!("{}{}/{}", self.api_prefix(), self.stage, method_path(route))
    }

    /// `arn:…:API_ID/`: every ARN of this API starts so.
    fn api_prefix(&self) -> String {
        format!("{}{}/", self.arn_prefix, self.api_id)
    }
}

/// `METHOD/PATH` of a method ARN: `*` for ANY, the path without its leading `/`.
fn method_path(route: &LiveRoute) -> String {
    let method = if route.method == "ANY" { "*" } else { route.method.as_str() };
    format!("{method}/{}", route.path.trim_start_matches('/'))
}

/// One route's verdicts and reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RouteAccess {
    /// `METHOD /path`.
    pub route: String,
    /// Each caller's verdict.
    pub callers: BTreeMap<Caller, Verdict>,
    /// Why, for each caller.
    pub reasons: BTreeMap<Caller, String>,
    /// On a COGNITO_USER_POOLS method, each token kind's verdict and reason.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<TokenKind, TokenAccess>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Report {
    /// The JSON format's version.
    pub format_version: u32,
    /// The stack name.
    pub stack: String,
    /// The API's id.
    #[serde(skip)]
    pub api_id: String,
    /// The stage.
    #[serde(skip)]
    pub stage: String,
    /// The callers judged: [`Caller::Anyone`] only when self sign-up is on.
    pub callers: Vec<Caller>,
    /// Whether anyone may sign up to the user pool.
    pub self_sign_up: bool,
    /// Every route, sorted.
    pub routes: Vec<RouteAccess>,
    /// Grants wider than the routes need, and routes open to anyone.
    pub warnings: Vec<String>,
}

/// Who can call each route of `deployment`, and why.
pub(crate) fn report(deployment: &Deployment) -> Report {
    let mut routes: Vec<&LiveRoute> = deployment.routes.iter().collect();
    routes.sort_by_key(|r| (r.path.clone(), r.method.clone()));
    let mut callers: Vec<Caller> = Caller::ALL.to_vec();
    callers.extend(deployment.groups.iter().map(|g| Caller::Group(g.name.clone())));
    if deployment.self_sign_up {
        callers.push(Caller::Anyone);
    }
    let routes: Vec<RouteAccess> = routes.into_iter().map(|route| route_access(deployment, route, &callers)).collect();
    let mut warnings = Vec::new();
    for (label, role) in [("unauthenticated", &deployment.guest_role), ("authenticated", &deployment.signed_in_role)] {
        if let Some(role) = role {
            warnings.extend(wide_grants(deployment, label, role));
        }
    }
    warnings.extend(open_routes(deployment, &routes));
    warnings.extend(strangers_routes(&routes));
    if deployment.classic_flow && deployment.guests_allowed {
        warnings.push(
            "the identity pool allows the basic (classic) flow: guests can get the unauthenticated role's credentials \
             with GetOpenIdToken and AssumeRoleWithWebIdentity, which no session policy bounds, so guests are judged by \
             that role alone"
                .into(),
        );
    }
    Report {
        format_version: FORMAT_VERSION,
        stack: deployment.stack.clone(),
        api_id: deployment.api_id.clone(),
        stage: deployment.stage.clone(),
        callers,
        self_sign_up: deployment.self_sign_up,
        routes,
        warnings,
    }
}

fn route_access(deployment: &Deployment, route: &LiveRoute, judged: &[Caller]) -> RouteAccess {
    let mut callers = BTreeMap::new();
    let mut reasons = BTreeMap::new();
    for caller in judged {
        let (verdict, reason) = match &route.cognito {
            Some(cognito) => cognito::judge(cognito, caller, key_check(route, &deployment.linked_keys)),
            None => caller_access(deployment, route, caller),
        };
        callers.insert(caller.clone(), verdict);
        reasons.insert(caller.clone(), reason);
    }
    let tokens = route.cognito.as_ref().map(cognito::tokens).unwrap_or_default();
    RouteAccess { route: route.key(), callers, reasons, tokens }
}

/// The verdict of `caller` on a method that is not COGNITO_USER_POOLS.
fn caller_access(deployment: &Deployment, route: &LiveRoute, caller: &Caller) -> (Verdict, String) {
    match caller {
        Caller::Public => unsigned(route, None),
        Caller::ApiKey => unsigned(route, Some(&deployment.linked_keys)),
        Caller::Guest | Caller::SignedIn | Caller::Group(_) => signed(deployment, route, caller),
        Caller::Anyone => {
            let (verdict, reason) = signed(deployment, route, &Caller::SignedIn);
            (verdict, format!("signs up (self sign-up is on), then as a signed-in user: {reason}"))
        }
    }
}

/// An unsigned call, with the stack's linked keys or (`None`) without a key.
fn unsigned(route: &LiveRoute, keys: Option<&[String]>) -> (Verdict, String) {
    if route.authorization != NONE {
        return deny(authorizer_needed(route));
    }
    match (route.api_key_required, keys) {
        (false, None) => allow("no authorization and no API key required".into()),
        (false, Some(_)) => allow("no authorization and no API key required (a key is not checked)".into()),
        (true, None) => deny("the method requires an API key".into()),
        (true, Some(keys)) => match key_check(route, keys) {
            Ok(with_key) => allow(format!("no authorization; {with_key}")),
            Err(missing) => deny(missing),
        },
    }
}

/// A call signed with the role the identity pool gives `caller`.
fn signed(deployment: &Deployment, route: &LiveRoute, caller: &Caller) -> (Verdict, String) {
    let key = match key_check(route, &deployment.linked_keys) {
        Ok(with_key) => with_key,
        Err(missing) => return deny(missing),
    };
    match route.authorization.as_str() {
        NONE => allow(format!("no authorization (the signature is not checked); {key}")),
        AWS_IAM => match groups::signer(deployment, caller) {
            Err(missing) => deny(missing),
            Ok((role, how)) => {
                let arn = deployment.method_arn(route);
                let (verdict, reason) = match evaluate(&role.policies, INVOKE, &arn) {
                    Decision::Allow(grant)
                        if *caller == Caller::Guest && !deployment.classic_flow && !guest_session_allows(&arn) =>
                    {
                        deny(format!(
                            "role {} allows {INVOKE} ({grant}), but Cognito limits guest credentials to the \
                         intersection with its session policy {GUEST_SESSION_POLICY_NAME}, which has no execute-api action",
                            role.name
                        ))
                    }
                    Decision::Allow(grant) => allow(format!("role {} allows {INVOKE} ({grant}); {key}", role.name)),
                    Decision::ExplicitDeny(grant) => {
                        deny(format!("role {} denies {INVOKE} explicitly ({grant})", role.name))
                    }
                    Decision::DependsOn(keys, grant) => {
                        deny(format!("depends on {} (role {}, {grant})", keys.join(", "), role.name))
                    }
                    Decision::ImplicitDeny => deny(format!("no policy of role {} allows {INVOKE} on {arn}", role.name)),
                };
                (
                    verdict,
                    match how {
                        Some(how) => format!("{how}; {reason}"),
                        None => reason,
                    },
                )
            }
        },
        _ => deny(authorizer_needed(route)),
    }
}

/// What the key requirement of `route` says with the stack's `keys`: how the call passes it,
/// or why it cannot.
fn key_check(route: &LiveRoute, keys: &[String]) -> Result<String, String> {
    if !route.api_key_required {
        return Ok("no API key required".into());
    }
    match keys {
        [] => Err(
            "the method requires an API key, and no enabled key of the stack is linked to a usage plan on this stage"
                .into(),
        ),
        [key] => Ok(format!("with API key {key} (linked to the usage plan on this stage)")),
        keys => Ok(format!("with an API key ({}, linked to the usage plan on this stage)", keys.join(", "))),
    }
}

fn authorizer_needed(route: &LiveRoute) -> String {
    match route.authorization.as_str() {
        AWS_IAM => "the method requires a SigV4 signature (authorization AWS_IAM)".into(),
        other => format!("the method requires a {other} authorizer, which these callers do not use"),
    }
}

fn allow(reason: String) -> (Verdict, String) {
    (Verdict::Allow, reason)
}

fn deny(reason: String) -> (Verdict, String) {
    (Verdict::Deny, reason)
}

/// The report as a table for people: the verdicts, then each route's reasons, then warnings.
pub(crate) fn human(report: &Report) -> String {
    let mut out = format!("Who can call stack {} (API {}, stage {})\n\n", report.stack, report.api_id, report.stage);
    let width = report.routes.iter().map(|r| r.route.len()).max().unwrap_or(0).max("ROUTE".len());
    let names: Vec<String> = report.callers.iter().map(|c| format!("{:9}", c.as_str())).collect();
    out.push_str(&format!("{:width$}  {}\n", "ROUTE", names.join(" ").trim_end()));
    for route in &report.routes {
        let cells: Vec<String> = report.callers.iter().map(|c| format!("{:9}", route.callers[c].as_str())).collect();
        out.push_str(&format!("{:width$}  {}\n", route.route, cells.join(" ").trim_end()));
    }
    if !report.self_sign_up {
        out.push_str("\nSelf sign-up is off: only administrators (and authdemo) create users.\n");
    }
    for route in &report.routes {
        out.push_str(&format!("\n{}\n", route.route));
        for caller in &report.callers {
            out.push_str(&format!(
                "  {:9}  {:5}  {}\n",
                caller.as_str(),
                route.callers[caller].as_str(),
                route.reasons[caller]
            ));
        }
        for (kind, access) in &route.tokens {
            out.push_str(&format!("    {:18}  {:5}  {}\n", kind.as_str(), access.verdict.as_str(), access.reason));
        }
    }
    if !report.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for warning in &report.warnings {
            out.push_str(&format!("  - {warning}\n"));
        }
    }
    out
}

/// The report as versioned JSON.
pub(crate) fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report is plain data")
}

#[cfg(test)]
mod tests;
