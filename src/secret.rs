//! A secret value (a password, an API key): readable by the code that sends it to AWS, never
//! printable. `Debug` and `Display` show `(sensitive)` and it has no `Serialize`, so a secret cannot
//! reach a plan, a log line or an error message by accident.

use std::fmt;

/// A secret taken from the environment, see the module doc.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub(crate) fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, only for the request that sends it to AWS.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// A secret the stack file names: the environment variable it comes from, and its value when
/// that is set. Only the commands that send it need the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretRef {
    /// The environment variable, e.g. `DEMO_USER_PASSWORD`.
    pub env: String,
    /// Its value, if set.
    pub value: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_its_value() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret} {secret:?} {:?}", Some(&secret)), "(sensitive) (sensitive) Some((sensitive))");
        assert_eq!(secret.expose(), "hunter2");
    }
}
