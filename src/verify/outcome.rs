//! What one call showed, and whether it agrees with `access`. Pure: an answer is classified by
//! who gave it (the gateway's own errors carry `x-amzn-ErrorType`; a function's answers do
//! not), and compared with the verdict `access` gave the caller.

use serde::Serialize;

use super::http::Answer;
use crate::access::matrix::Verdict;

/// The longest message kept from an answer.
const MAX_MESSAGE: usize = 300;

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Observed {
    /// The gateway let it through: the function answered (2xx or 4xx).
    Allowed {
        /// The function's status.
        status: u16,
    },
    /// The gateway refused it (403: no key, no or a bad signature, not authorized).
    Denied {
        /// The gateway's status, `None` when Cognito gave the caller no credentials to sign with.
        status: Option<u16>,
        /// Why, as the gateway or Cognito said.
        message: String,
    },
    /// 429: a throttle or quota of the usage plan refused it, which proves nothing either way.
    Throttled {
        /// The gateway's message.
        message: String,
    },
    /// No verdict: a 5xx, no answer, or the caller could not sign in.
    Failed {
        /// The status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// Not called: the stack has no such caller (no user in the file, no API key).
    Skipped {
        /// Why.
        why: String,
    },
}

impl Observed {
    /// The observation's name in reports.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Observed::Allowed { .. } => "allowed",
            Observed::Denied { .. } => "denied",
            Observed::Throttled { .. } => "throttled",
            Observed::Failed { .. } => "failed",
            Observed::Skipped { .. } => "skipped",
        }
    }

    /// The HTTP status, if the call was answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Observed::Allowed { status } => Some(*status),
            Observed::Denied { status, .. } | Observed::Failed { status, .. } => *status,
            Observed::Throttled { .. } => Some(429),
            Observed::Skipped { .. } => None,
        }
    }

    /// The gateway's (or Cognito's) message; none for calls the function answered.
    pub(crate) fn message(&self) -> Option<&str> {
        match self {
            Observed::Allowed { .. } => None,
            Observed::Denied { message, .. } | Observed::Throttled { message } | Observed::Failed { message, .. } => {
                Some(message)
            }
            Observed::Skipped { why } => Some(why),
        }
    }
}

/// How a call's observation compares with the verdict of `access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// What happened is what `access` says.
    Agree,
    /// It is not.
    Mismatch,
    /// The call decided nothing (throttled, failed): a failure to verify.
    Unverified,
    /// Not called.
    Skipped,
}

impl Outcome {
    /// The outcome's name in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Agree => "agree",
            Outcome::Mismatch => "MISMATCH",
            Outcome::Unverified => "unverified",
            Outcome::Skipped => "skipped",
        }
    }

    /// Whether `verify` fails because of it.
    pub(crate) fn fails(self) -> bool {
        matches!(self, Outcome::Mismatch | Outcome::Unverified)
    }
}

/// Who answered `answer`, and so what it shows. `secrets` are blanked out of the message (a
/// signature mismatch quotes the signed request, with its session token).
pub(crate) fn classify(answer: &Answer, secrets: &[&str]) -> Observed {
    let message = || scrubbed(&message_of(&answer.body), secrets);
    match answer.status {
        429 => Observed::Throttled { message: message() },
        500..=599 => Observed::Failed { status: Some(answer.status), message: message() },
        401 | 403 if answer.error_type.is_some() || is_gateway_refusal(&message_of(&answer.body)) => {
            Observed::Denied { status: Some(answer.status), message: message() }
        }
        status => Observed::Allowed { status },
    }
}

/// Whether the call's observation agrees with `expected`.
pub(crate) fn compare(expected: Verdict, observed: &Observed) -> Outcome {
    match (expected, observed) {
        (Verdict::Allow, Observed::Allowed { .. }) | (Verdict::Deny, Observed::Denied { .. }) => Outcome::Agree,
        (_, Observed::Allowed { .. } | Observed::Denied { .. }) => Outcome::Mismatch,
        (_, Observed::Throttled { .. } | Observed::Failed { .. }) => Outcome::Unverified,
        (_, Observed::Skipped { .. }) => Outcome::Skipped,
    }
}

/// The messages of API Gateway's refusals, for a gateway that does not name its error type.
fn is_gateway_refusal(message: &str) -> bool {
    message == "Forbidden"
        || message == "Missing Authentication Token"
        || message.contains("is not authorized to perform")
        || message.starts_with("The security token included in the request is")
        || message.starts_with("The request signature we calculated does not match")
}

/// The `message` (or `Message`) of a JSON body, else the body's first line.
fn message_of(body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = json.as_ref().and_then(|v| v.get("message").or_else(|| v.get("Message"))).and_then(|m| m.as_str());
    field.unwrap_or(body).lines().next().unwrap_or_default().trim().to_string()
}

/// `message` without any of `secrets`, and cut to a readable length.
pub(crate) fn scrubbed(message: &str, secrets: &[&str]) -> String {
    let mut clean = message.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        clean = clean.replace(secret, "(sensitive)");
    }
    if clean.chars().count() > MAX_MESSAGE {
        clean = clean.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, error_type: Option<&str>, body: &str) -> Answer {
        Answer { status, error_type: error_type.map(str::to_string), location: None, body: body.into() }
    }

    #[test]
    fn the_gateways_refusals_are_denials_and_a_functions_answers_went_through() {
        let forbidden = answer(403, Some("ForbiddenException"), r#"{"message":"Forbidden"}"#);
        assert_eq!(classify(&forbidden, &[]), Observed::Denied { status: Some(403), message: "Forbidden".into() });
        let not_authorized = answer(
            403,
            Some("AccessDeniedException"),
            r#"{"Message":"User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: execute-api:Invoke"}"#,
        );
        assert!(
            matches!(classify(&not_authorized, &[]), Observed::Denied { message, .. } if message.starts_with("User: arn"))
        );
        let untyped = answer(403, None, r#"{"message":"Missing Authentication Token"}"#);
        assert_eq!(classify(&untyped, &[]).as_str(), "denied");

        assert_eq!(classify(&answer(200, None, "{}"), &[]), Observed::Allowed { status: 200 });
        let function_refusal = answer(403, None, r#"{"message":"you may not see this item"}"#);
        assert_eq!(classify(&function_refusal, &[]), Observed::Allowed { status: 403 });
        assert_eq!(classify(&answer(404, None, "not here"), &[]), Observed::Allowed { status: 404 });
    }

    #[test]
    fn throttling_and_server_errors_decide_nothing() {
        let throttled = answer(429, Some("TooManyRequestsException"), r#"{"message":"Limit Exceeded"}"#);
        assert_eq!(classify(&throttled, &[]), Observed::Throttled { message: "Limit Exceeded".into() });
        let failed = answer(502, Some("InternalServerErrorException"), r#"{"message": "Internal server error"}"#);
        assert_eq!(classify(&failed, &[]).as_str(), "failed");
        for observed in [classify(&throttled, &[]), classify(&failed, &[])] {
            assert_eq!(compare(Verdict::Allow, &observed), Outcome::Unverified);
            assert_eq!(compare(Verdict::Deny, &observed), Outcome::Unverified);
            assert!(compare(Verdict::Deny, &observed).fails());
        }
    }

    #[test]
    fn a_verdict_agrees_only_with_its_own_observation() {
        let allowed = Observed::Allowed { status: 200 };
        let denied = Observed::Denied { status: None, message: "no credentials".into() };
        assert_eq!(compare(Verdict::Allow, &allowed), Outcome::Agree);
        assert_eq!(compare(Verdict::Deny, &denied), Outcome::Agree);
        assert_eq!(compare(Verdict::Allow, &denied), Outcome::Mismatch);
        assert_eq!(compare(Verdict::Deny, &allowed), Outcome::Mismatch);
        let skipped = Observed::Skipped { why: "no user".into() };
        assert_eq!(compare(Verdict::Allow, &skipped), Outcome::Skipped);
        assert!(!Outcome::Skipped.fails() && !Outcome::Agree.fails() && Outcome::Mismatch.fails());
    }

    #[test]
    fn messages_lose_secrets_and_length() {
        let body = r#"{"message":"The request signature we calculated does not match. token=SESSION123\n'GET\n/x'"}"#;
        let observed = classify(&answer(403, Some("InvalidSignatureException"), body), &["SESSION123"]);
        let message = observed.message().unwrap();
        assert!(!message.contains("SESSION123") && message.contains("token=(sensitive)"), "{message}");
        assert!(!message.contains("GET"), "only the first line: {message}");
        let long = scrubbed(&"x".repeat(1000), &[]);
        assert_eq!(long.chars().count(), MAX_MESSAGE + 1);
    }
}
