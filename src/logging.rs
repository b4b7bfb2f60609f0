//! Logging on stderr, one line per event. By default only authdemo's own warnings and errors
//! show (the AWS CLI and Terraform say nothing of their SDKs unless asked); `-v` adds authdemo's
//! debug lines (each AWS call, wait and retry) and the AWS SDK's warnings and errors, `-vv` the
//! SDK's debug lines. A value shows as its `Display` text on one line, without the `Debug` dump
//! the SDK appends to the errors it logs (its `DisplayErrorContext`).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Installs the stderr logger for `verbosity`, the number of `-v`.
pub(crate) fn init(verbosity: u8) {
    let _ = tracing::subscriber::set_global_default(subscriber(verbosity, std::io::stderr));
}

/// The logger for `verbosity`, writing to `writer`.
fn subscriber<W>(verbosity: u8, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter(verbosity)))
        .with_writer(writer)
        .with_ansi(false)
        .event_format(OneLine)
        .finish()
}

/// The filter directives for `verbosity`. A target directive matches by prefix, so `aws` covers
/// every SDK crate (`aws_config`, `aws_runtime`, `aws_smithy_runtime`, `aws_sdk_iam`, …).
fn filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "authdemo=warn",
        1 => "warn,authdemo=debug",
        _ => "warn,authdemo=debug,aws=debug",
    }
}

/// `LEVEL message key=value…` on one line; lines from other crates name their target after the
/// level.
struct OneLine;

impl<S, N> FormatEvent<S, N> for OneLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let metadata = event.metadata();
        let own = metadata.target().starts_with("authdemo");
        let mut fields = Fields { sdk: !own, ..Fields::default() };
        event.record(&mut fields);
        write!(writer, "{}", metadata.level())?;
        if !own {
            write!(writer, " {}:", metadata.target())?;
        }
        writeln!(writer, " {}", fields.line())
    }
}

/// An event's message and its other fields, each already on one line.
#[derive(Default)]
struct Fields {
    message: String,
    others: String,
    /// The event is the SDK's: its fields' values lose their `Debug` dump.
    sdk: bool,
}

impl Fields {
    fn line(&self) -> String {
        [self.message.as_str(), self.others.trim_start()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = one_line(&text);
        } else {
            let text = if self.sdk { without_debug_dump(&text) } else { &text };
            let _ = write!(self.others, " {}={}", field.name(), one_line(text));
        }
    }
}

/// `text` with its whitespace (newlines included) collapsed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` up to ` (TypeName…)` when that group runs to the end: the SDK's `DisplayErrorContext`
/// writes the error chain, then the error's `Debug` in parentheses.
fn without_debug_dump(text: &str) -> &str {
    let mut starts = text.match_indices(" (").map(|(at, _)| at);
    let dump = starts.find(|&at| {
        let group = &text[at + 1..];
        group[1..].starts_with(|c: char| c.is_ascii_uppercase()) && closes_at_end(group)
    });
    dump.map_or(text, |at| &text[..at])
}

/// Whether the parenthesis opening `group` closes at its last character (strings skipped).
fn closes_at_end(group: &str) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, c) in group.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return at == group.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
