//! A failed AWS call and the one classifier of AWS errors: by the operation, the error code (the
//! service's typed error name) and, only where AWS gives a shared code several meanings, its
//! message, into the classes the engine acts on. A leaf module: the executor and the providers
//! both speak it.

use std::fmt;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};

/// What kind of failure an AWS error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The resource does not exist.
    NotFound,
    /// The account's request rate was exceeded: retry later.
    Throttled,
    /// A dependency is not visible yet (eventual consistency): retry later.
    Propagating,
    /// The resource is busy with another change (a concurrent modification, an update in
    /// progress): retry later.
    Busy,
    /// AWS failed on its side (an internal error, the service unavailable): retry later.
    ServerError,
    /// AWS failed on its side answering a create that takes no idempotency token: the resource
    /// may exist all the same, so it is looked for before the create is sent again.
    CreateServerError,
    /// A resource of that name already exists (a create repeated after its answer was lost).
    AlreadyExists,
    /// The request may have reached AWS but no answer came back (timeout, broken connection):
    /// whether it took effect is unknown.
    Unanswered,
    /// The state refuses the call for good (e.g. several resources claim one address).
    Conflict,
    /// Anything else: permanent.
    Other,
}

impl ErrorClass {
    /// Whether retrying the same call later can succeed.
    pub(crate) fn is_transient(self) -> bool {
        matches!(self, Self::Throttled | Self::Propagating | Self::Busy | Self::ServerError)
    }

    /// Whether a create that failed this way may have created its resource after all.
    pub(crate) fn may_have_created(self) -> bool {
        matches!(self, Self::AlreadyExists | Self::Unanswered | Self::CreateServerError)
    }

    /// The class of an error answer with `code` and `message` to `operation`.
    pub(crate) fn classify(operation: &str, code: &str, message: &str) -> Self {
        match (operation, code) {
            // Lambda has no code of its own for a role created moments ago.
            ("CreateFunction" | "UpdateFunctionConfiguration", "InvalidParameterValueException")
                if message.contains("cannot be assumed") =>
            {
                Self::Propagating
            }
            // Cognito calls a role it cannot see yet an invalid parameter, or forbidden; IAM's own
            // policy calls may not see a role created moments ago.
            ("SetIdentityPoolRoles", "InvalidParameterException") | ("PutRolePolicy", "NoSuchEntity") => {
                Self::Propagating
            }
            ("SetIdentityPoolRoles", "NotAuthorizedException") if message.contains("Access to Role") => {
                Self::Propagating
            }
            // Lambda uses one code for "exists" and for "busy".
            (_, "ResourceConflictException") if message.contains("already exist") => Self::AlreadyExists,
            // One at a time per account; but a key already on a plan of this stage stays refused.
            ("CreateUsagePlanKey", "ConflictException")
                if !message.contains("already") && !message.contains("multiple") =>
            {
                Self::Busy
            }
            (_, "ConflictException") if message.contains("concurrent modification") => Self::Busy,
            _ if TOKENLESS_CREATES.contains(&operation) && Self::from_code(code) == Self::ServerError => {
                Self::CreateServerError
            }
            _ => Self::from_code(code),
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "ResourceNotFoundException" | "UserNotFoundException" | "NoSuchEntity" | "NotFoundException" => {
                Self::NotFound
            }
            "TooManyRequestsException" | "ThrottlingException" | "Throttling" | "RequestLimitExceeded" => {
                Self::Throttled
            }
            // IAM spells its own 409s without the suffix.
            "ResourceConflictException"
            | "ConcurrentModificationException"
            | "ConcurrentModification"
            | "EntityTemporarilyUnmodifiable"
            | "ResourceInUseException" => Self::Busy,
            "InternalFailure"
            | "InternalError"
            | "InternalErrorException"
            | "InternalServerError"
            | "ServiceException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServiceFailure" => Self::ServerError,
            // Not UsernameExistsException: a user of that name may have signed up by themselves.
            "EntityAlreadyExists" | "ConflictException" | "GroupExistsException" => Self::AlreadyExists,
            _ => Self::Other,
        }
    }
}

/// The creates whose repeat makes a second resource (names of those kinds are not unique, and
/// they take no idempotency token).
const TOKENLESS_CREATES: [&str; 6] = [
    "CreateUserPool",
    "CreateUserPoolClient",
    "CreateIdentityPool",
    "CreateRestApi",
    "CreateUsagePlan",
    "CreateApiKey",
];

/// A failed AWS call: which operation, what class, and the service's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) struct ProviderError {
    /// The class the engine acts on.
    pub class: ErrorClass,
    /// The AWS operation, e.g. `CreateUserPool`.
    pub operation: String,
    /// The service's error code, e.g. `InvalidParameterException`, when AWS answered with one.
    pub code: Option<String>,
    /// The service's explanation.
    pub message: String,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.message)
    }
}

impl ProviderError {
    /// An error of `class` from `operation`.
    pub(crate) fn new(class: ErrorClass, operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self { class, operation: operation.into(), code: None, message: message.into() }
    }

    /// A permanent error of `operation` (a refused or impossible request).
    pub(crate) fn other(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Other, operation, message)
    }

    /// An answer of `operation` without the field the caller needs (`what`).
    pub(crate) fn missing(operation: &str, what: &str) -> Self {
        Self::other(operation, format!("the response has no {what}"))
    }

    /// Classifies an SDK error from `operation`.
    pub(crate) fn from_sdk<E, R>(operation: &str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        let class = match &error {
            SdkError::ServiceError(_) => error.code().map_or(ErrorClass::Other, |code| {
                ErrorClass::classify(operation, code, error.message().unwrap_or_default())
            }),
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => ErrorClass::Unanswered,
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => ErrorClass::Unanswered,
            _ => ErrorClass::Other,
        };
        let message = match (&error, error.code()) {
            (SdkError::DispatchFailure(failure), _) if !(failure.is_io() || failure.is_timeout()) => format!(
                "could not send the request ({}); check the credentials: --profile or AWS_PROFILE \
                 (run `aws sso login` for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                causes(&error)
            ),
            (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => {
                format!("could not reach AWS ({}); check the network, --endpoint-url and --region", causes(&error))
            }
            (SdkError::ServiceError(_), Some(code)) => {
                format!("{code}: {}{}", error.message().unwrap_or("(no message)"), next_step(operation, code))
            }
            _ => causes(&error),
        };
        let code = match &error {
            SdkError::ServiceError(_) => error.code().map(str::to_string),
            _ => None,
        };
        Self { code, ..Self::new(class, operation, message) }
    }

    /// The same error, saying the retry budget ran out.
    #[must_use]
    pub(crate) fn gave_up(self, tries: u32, elapsed: Duration) -> Self {
        let message = format!("{} (gave up after {tries} tries in {elapsed:.0?})", self.message);
        Self { message, ..self }
    }
}

/// An error and its sources as one line of their messages, `outer: inner: …` (never a debug dump).
fn causes(error: &dyn std::error::Error) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let message = current.to_string();
        if messages.last().is_none_or(|last| !last.contains(&message)) {
            messages.push(message);
        }
        next = current.source();
    }
    messages.join(": ")
}

/// Cognito's sign-in operations, which need no IAM permission: a refusal of one is about the
/// user or the pool, not about the credentials that signed the request.
const PUBLIC_OPERATIONS: [&str; 4] = ["InitiateAuth", "RespondToAuthChallenge", "GetId", "GetCredentialsForIdentity"];

/// What to do about an error code that is about the caller rather than the stack.
fn next_step(operation: &str, code: &str) -> String {
    if PUBLIC_OPERATIONS.contains(&operation) {
        return String::new();
    }
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "NotAuthorizedException" => {
            format!(" (the credentials may not call {operation}: grant it to them, or use --profile for ones that may)")
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            " (the credentials expired: sign in again, e.g. `aws sso login`)".to_string()
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" => {
            " (the credentials are not valid for this account or region: check --profile and --region)".to_string()
        }
        _ => String::new(),
    }
}

/// Maps a "not found" error to `Ok(None)`; other errors stay errors.
pub(crate) fn found<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The result of a delete: a resource that is already gone counts as deleted (an earlier run may
/// have deleted it, or its parent took it along).
pub(crate) fn deleted<T>(result: Result<T, ProviderError>) -> Result<(), ProviderError> {
    found(result).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_error_code() {
        let class = |code| ErrorClass::classify("AnyCall", code, "");
        assert_eq!(class("UserNotFoundException"), ErrorClass::NotFound);
        assert_eq!(class("TooManyRequestsException"), ErrorClass::Throttled);
        assert_eq!(class("ThrottlingException"), ErrorClass::Throttled);
        assert_eq!(class("EntityAlreadyExists"), ErrorClass::AlreadyExists);
        assert_eq!(class("ServiceUnavailable"), ErrorClass::ServerError);
        assert_eq!(class("InternalErrorException"), ErrorClass::ServerError);
        assert_eq!(class("InvalidParameterException"), ErrorClass::Other);
        for busy in ["ConcurrentModification", "EntityTemporarilyUnmodifiable", "ConcurrentModificationException"] {
            assert_eq!(ErrorClass::classify("CreateRole", busy, "Rate of role changes too high"), ErrorClass::Busy);
            assert!(class(busy).is_transient(), "{busy}");
        }
        assert!(ErrorClass::Throttled.is_transient() && ErrorClass::Busy.is_transient());
        assert!(!ErrorClass::Conflict.is_transient() && !ErrorClass::Unanswered.is_transient());
        assert!(!ErrorClass::CreateServerError.is_transient() && ErrorClass::CreateServerError.may_have_created());
    }

    #[test]
    fn shared_codes_are_told_apart_by_operation_and_message() {
        use ErrorClass::{AlreadyExists, Busy, Other, Propagating};
        let cases = [
            (
                "CreateFunction",
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
                Propagating,
            ),
            (
                "CreateFunction",
                "InvalidParameterValueException",
                "Unzipped size must be smaller than 262144000 bytes",
                Other,
            ),
            (
                "AddPermission",
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress",
                Busy,
            ),
            ("CreateFunction", "ResourceConflictException", "Function already exist: demo-api", AlreadyExists),
            (
                "PutMethod",
                "ConflictException",
                "Unable to complete operation due to concurrent modification. Please try again later.",
                Busy,
            ),
            ("CreateUsagePlanKey", "ConflictException", "", Busy),
            (
                "SetIdentityPoolRoles",
                "NotAuthorizedException",
                "Access to Role 'arn:aws:iam::1:role/x' is forbidden.",
                Propagating,
            ),
            ("GetId", "NotAuthorizedException", "Unauthenticated access is not supported", Other),
            ("PutRolePolicy", "NoSuchEntity", "The role with name x cannot be found.", Propagating),
            ("GetRole", "NoSuchEntity", "The role with name x cannot be found.", ErrorClass::NotFound),
            ("CreateUserPool", "InternalErrorException", "Internal error", ErrorClass::CreateServerError),
            ("CreateRestApi", "ServiceUnavailableException", "", ErrorClass::CreateServerError),
            ("CreateRole", "ServiceFailure", "", ErrorClass::ServerError),
        ];
        for (operation, code, message, expected) in cases {
            assert_eq!(ErrorClass::classify(operation, code, message), expected, "{operation} {code}: {message}");
        }
    }

    #[test]
    fn errors_about_the_caller_say_what_to_do() {
        assert!(next_step("CreateRole", "AccessDenied").contains("may not call CreateRole"));
        assert!(next_step("GetRole", "ExpiredToken").contains("aws sso login"));
        assert_eq!(next_step("GetRole", "NoSuchEntity"), "");
    }
}
