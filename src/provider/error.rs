//! The shared classifier for AWS SDK errors: by error code (the service's typed error name),
//! never by message text, into the classes the engine acts on.

use std::fmt;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What kind of failure an AWS error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The resource does not exist.
    NotFound,
    /// The account's request rate was exceeded: retry later.
    Throttled,
    /// A dependency is not visible yet (eventual consistency): retry later.
    Propagating,
    /// The resource is in a state that refuses the call.
    Conflict,
    /// Anything else: permanent.
    Other,
}

impl ErrorClass {
    /// Whether retrying the same call later can succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttled | Self::Propagating)
    }

    fn from_code(code: &str) -> Self {
        match code {
            "ResourceNotFoundException" | "UserNotFoundException" | "NoSuchEntity" | "NotFoundException" => {
                Self::NotFound
            }
            "TooManyRequestsException" | "ThrottlingException" | "Throttling" | "RequestLimitExceeded" => {
                Self::Throttled
            }
            "ConflictException" | "ResourceConflictException" | "ConcurrentModificationException" => Self::Conflict,
            _ => Self::Other,
        }
    }
}

/// A failed AWS call: which operation, what class, and the service's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProviderError {
    /// The class the engine acts on.
    pub class: ErrorClass,
    /// The AWS operation, e.g. `CreateUserPool`.
    pub operation: String,
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
    pub fn new(class: ErrorClass, operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self { class, operation: operation.into(), message: message.into() }
    }

    /// Classifies an SDK error from `operation`.
    pub fn from_sdk<E, R>(operation: &str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        let class = match &error {
            SdkError::ServiceError(_) => error.code().map(ErrorClass::from_code).unwrap_or(ErrorClass::Other),
            _ => ErrorClass::Other,
        };
        let message = match (&error, error.code()) {
            (SdkError::DispatchFailure(failure), _) if !(failure.is_io() || failure.is_timeout()) => format!(
                "could not send the request ({}); check the credentials: --profile or AWS_PROFILE \
                 (run `aws sso login` for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                DisplayErrorContext(&error)
            ),
            (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => format!(
                "could not reach AWS ({}); check the network, --endpoint-url and --region",
                DisplayErrorContext(&error)
            ),
            (SdkError::ServiceError(_), Some(code)) => {
                format!("{code}: {}{}", error.message().unwrap_or("(no message)"), next_step(operation, code))
            }
            _ => DisplayErrorContext(&error).to_string(),
        };
        Self::new(class, operation, message)
    }

    /// The same error, saying the retry budget ran out.
    pub fn gave_up(self, tries: u32, elapsed: Duration) -> Self {
        let message = format!("{} (gave up after {tries} tries in {:.0?})", self.message, elapsed);
        Self { message, ..self }
    }
}

/// What to do about an error code that is about the caller rather than the stack.
fn next_step(operation: &str, code: &str) -> String {
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

/// Converts an SDK error of `operation`, for `map_err`.
pub fn sdk<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    move |e| ProviderError::from_sdk(operation, e)
}

/// Like [`sdk`], but an error with code `code` is of `class` for this operation: e.g. a role
/// created moments ago that AWS calls an invalid parameter (propagating), or a concurrent call
/// AWS answers with a conflict (throttled). Both are retried.
pub fn sdk_transient<E, R>(
    operation: &'static str,
    code: &'static str,
    class: ErrorClass,
) -> impl FnOnce(SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    move |e| {
        let matches = e.code() == Some(code);
        let error = ProviderError::from_sdk(operation, e);
        if matches { ProviderError { class, ..error } } else { error }
    }
}

/// The result of a delete: a resource that is already gone counts as deleted (an earlier run may
/// have deleted it, or its parent took it along).
pub fn deleted<T, E, R>(operation: &'static str, result: Result<T, SdkError<E, R>>) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    found(result.map_err(sdk(operation))).map(drop)
}

/// Maps a "not found" error to `Ok(None)`; other errors stay errors.
pub fn found<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_error_code() {
        assert_eq!(ErrorClass::from_code("UserNotFoundException"), ErrorClass::NotFound);
        assert_eq!(ErrorClass::from_code("TooManyRequestsException"), ErrorClass::Throttled);
        assert_eq!(ErrorClass::from_code("ConflictException"), ErrorClass::Conflict);
        assert_eq!(ErrorClass::from_code("InvalidParameterException"), ErrorClass::Other);
        assert!(ErrorClass::Throttled.is_transient() && !ErrorClass::Conflict.is_transient());
    }

    #[test]
    fn errors_about_the_caller_say_what_to_do() {
        assert!(next_step("CreateRole", "AccessDenied").contains("may not call CreateRole"));
        assert!(next_step("GetRole", "ExpiredToken").contains("aws sso login"));
        assert_eq!(next_step("GetRole", "NoSuchEntity"), "");
    }
}
