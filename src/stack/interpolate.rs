//! `${var.NAME}` and `${env:NAME}` in stack file strings. `$${` writes a literal `${`.

use std::collections::BTreeMap;

use super::diagnostic::did_you_mean;

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expanded {
    /// The string with every reference replaced.
    pub value: String,
    /// Whether any part came from the environment (and may be a secret).
    pub uses_env: bool,
    /// Whether the whole string is exactly one `${env:X}` reference.
    pub is_single_env_reference: bool,
}

/// Why a string could not be expanded: a message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InterpolationError {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Expands references against the stack's variables and an environment lookup.
pub(super) struct Interpolator<'a> {
    vars: &'a BTreeMap<String, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Interpolator<'a> {
    /// An interpolator over final variable values (defaults merged with `--var`) and `env`.
    pub(super) fn new(vars: &'a BTreeMap<String, String>, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { vars, env }
    }

    /// Expands every reference in `raw`.
    pub(super) fn expand(&self, raw: &str) -> Result<Expanded, InterpolationError> {
        let mut value = String::with_capacity(raw.len());
        let mut uses_env = false;
        let mut references = 0;
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            if rest[..start].ends_with('$') {
                value.push_str(&rest[..start - 1]);
                value.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            value.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(InterpolationError {
                    message: format!("unterminated reference `{}`", &rest[start..]),
                    hint: "close it with `}`, e.g. `${var.env}`; write `$${` for a literal `${`".into(),
                });
            };
            let reference = &after[..end];
            references += 1;
            if let Some(name) = reference.strip_prefix("var.") {
                if let Some(v) = self.vars.get(name) {
                    value.push_str(v);
                } else {
                    let hint = match did_you_mean(name, self.vars.keys().map(String::as_str)) {
                        Some(close) => format!("did you mean `${{var.{close}}}`?"),
                        None => format!("declare it under `vars:` or pass `--var {name}=VALUE`"),
                    };
                    return Err(InterpolationError { message: format!("undefined variable `{name}`"), hint });
                }
            } else if let Some(name) = reference.strip_prefix("env:") {
                uses_env = true;
                match (self.env)(name) {
                    Some(v) => value.push_str(&v),
                    None => {
                        return Err(InterpolationError {
                            message: format!("environment variable `{name}` is not set"),
                            hint: format!("export {name} before running authdemo"),
                        });
                    }
                }
            } else {
                return Err(unknown_reference(reference));
            }
            rest = &after[end + 1..];
        }
        value.push_str(rest);
        let is_single_env_reference =
            references == 1 && raw.starts_with("${env:") && raw.ends_with('}') && raw.matches("${").count() == 1;
        Ok(Expanded { value, uses_env, is_single_env_reference })
    }
}

impl Interpolator<'_> {
    /// The value of the environment variable `name`, if set.
    pub(super) fn env(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }
}

/// Why `${reference}` cannot be expanded. One with a `:` is most likely an IAM policy variable
/// (`${aws:username}`, `${cognito-identity.amazonaws.com:sub}`), meant literally: the hint
/// shows it escaped.
fn unknown_reference(reference: &str) -> InterpolationError {
    let hint = if reference.contains(':') {
        format!("for an IAM policy variable, write `$${{{reference}}}`: `$${{` is a literal `${{`")
    } else {
        "use `${var.NAME}` for a stack variable or `${env:NAME}` for an environment variable".into()
    };
    InterpolationError { message: format!("unknown reference `${{{reference}}}`"), hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(raw: &str) -> Result<Expanded, InterpolationError> {
        let vars = BTreeMap::from([("env".to_string(), "dev".to_string())]);
        let env = |name: &str| (name == "PASSWORD").then(|| "s3cret!".to_string());
        Interpolator::new(&vars, &env).expand(raw)
    }

    #[test]
    fn expands_vars_and_env() {
        let e = expand("demo-${var.env}").unwrap();
        assert_eq!((e.value.as_str(), e.uses_env), ("demo-dev", false));
        let e = expand("${env:PASSWORD}").unwrap();
        assert_eq!((e.value.as_str(), e.uses_env, e.is_single_env_reference), ("s3cret!", true, true));
        assert!(!expand("x${env:PASSWORD}").unwrap().is_single_env_reference);
        assert_eq!(expand("a $${var.env} b").unwrap().value, "a ${var.env} b");
        assert_eq!(expand("no refs").unwrap().value, "no refs");
    }

    #[test]
    fn reports_undefined_unset_and_malformed_references() {
        let e = expand("${var.evn}").unwrap_err();
        assert_eq!(e.message, "undefined variable `evn`");
        assert!(e.hint.contains("${var.env}"));
        assert!(expand("${env:NOPE}").unwrap_err().message.contains("NOPE"));
        assert!(expand("${var.env").unwrap_err().message.contains("unterminated"));
        assert!(expand("${foo}").unwrap_err().message.contains("unknown reference"));
    }
}
