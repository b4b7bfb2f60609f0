//! Validation diagnostics: what is wrong with a stack file, where (file:line:column and field
//! path) and what to do about it. All of a file's diagnostics are collected and reported at once.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// How many characters of a quoted value a diagnostic shows; a longer one is cut and ends in `…`.
const QUOTED_VALUE_CHARS: usize = 60;

/// A 1-based position in the stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Location {
    /// Line, counted from 1.
    pub line: usize,
    /// Column, counted from 1.
    pub column: usize,
}

/// One problem found in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// Where the offending key or value starts.
    pub location: Location,
    /// The field path, e.g. `user_pool.password_policy.min_length`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic whose quoted values (the text between backticks, in the message and the hint)
    /// are cut to [`QUOTED_VALUE_CHARS`]: a 100 KB value in the file must not make a 100 KB error.
    pub(super) fn new(location: Location, path: &str, message: &str, hint: Option<&str>) -> Self {
        Self { location, path: path.to_string(), message: clip_quoted(message), hint: hint.map(clip_quoted) }
    }
}

/// `text` with every `` `quoted` `` value longer than [`QUOTED_VALUE_CHARS`] cut short.
fn clip_quoted(text: &str) -> String {
    let parts: Vec<Cow<'_, str>> =
        text.split('`').enumerate().map(|(i, part)| if i % 2 == 1 { clip(part) } else { part.into() }).collect();
    parts.join("`")
}

/// `value` cut to [`QUOTED_VALUE_CHARS`] characters plus `…`, if it is longer.
fn clip(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(QUOTED_VALUE_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]).into(),
        None => value.into(),
    }
}

/// Every problem found in one stack file; the error `load` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostics {
    /// The stack file as the user named it.
    pub file: PathBuf,
    /// The problems, in file order.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The items, one `file:line:column: LABEL field: message` line each with its hint; `label`
    /// is empty for errors, `warning: ` for warnings.
    pub(crate) fn items_text(&self, label: &str) -> String {
        let file = self.file.display();
        let mut text = String::new();
        for d in &self.items {
            let Location { line, column } = d.location;
            let field = if d.path.is_empty() { String::new() } else { format!("{}: ", d.path) };
            text.push_str(&format!("{file}:{line}:{column}: {label}{field}{}\n", d.message));
            if let Some(hint) = &d.hint {
                text.push_str(&format!("    hint: {hint}\n"));
            }
        }
        text
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, count) = (self.file.display(), self.items.len());
        f.write_str(&self.items_text(""))?;
        write!(f, "{count} error{} in {file}; nothing was sent to AWS", if count == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to a misspelt name, for a "did you mean" hint.
pub(super) fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, c)| *score >= 0.8 || strsim::damerau_levenshtein(given, c) <= 1)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        let fields = ["password_policy", "clients", "domain"];
        assert_eq!(did_you_mean("pasword_policy", fields), Some("password_policy"));
        assert_eq!(did_you_mean("client", fields), Some("clients"));
        assert_eq!(did_you_mean("zzz", fields), None);
    }

    #[test]
    fn renders_every_diagnostic_with_location_and_hint() {
        let diagnostics = Diagnostics {
            file: "stack.yaml".into(),
            items: vec![Diagnostic {
                location: Location { line: 3, column: 5 },
                path: "user_pool.domain".into(),
                message: "must not contain \"aws\"".into(),
                hint: Some("pick another prefix".into()),
            }],
        };
        assert_eq!(
            diagnostics.to_string(),
            "stack.yaml:3:5: user_pool.domain: must not contain \"aws\"\n    hint: pick another prefix\n1 error in stack.yaml; nothing was sent to AWS"
        );
    }
}
