//! Progress of apply and destroy: a line per step as it starts and ends (with elapsed time), as
//! text or as JSON lines (`--output json`) for CI logs.

use std::time::Instant;

use anstyle::{AnsiColor, Style};
use serde_json::json;

use super::OutputFormat;
use crate::apply::{Event, Outcome, Reporter, StepOutcome};
use crate::error::ProviderError;
use crate::plan::FORMAT_VERSION;
use crate::step::{Operation, Step};

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const DIM: Style = Style::new().dimmed();

/// Prints progress events on stdout.
pub(crate) struct Progress {
    format: OutputFormat,
    started: Instant,
}

impl Progress {
    /// A reporter printing in `format`.
    pub(crate) fn new(format: OutputFormat) -> Self {
        Self { format, started: Instant::now() }
    }

    /// Prints the run's final summary.
    pub(crate) fn finish(&self, command: &str, again: &str, outcome: &Outcome) {
        let count = |want: Operation| {
            outcome.steps.iter().filter(|(s, o)| s.operation == want && **o == StepOutcome::Done).count()
        };
        let (created, updated, deleted) =
            (count(Operation::Create), count(Operation::Update), count(Operation::Delete));
        let failed = outcome.steps.values().filter(|o| matches!(o, StepOutcome::Failed(_))).count();
        let skipped = outcome.count(&StepOutcome::Skipped);
        let not_started = outcome.count(&StepOutcome::NotStarted);
        let elapsed = self.started.elapsed();
        match self.format {
            OutputFormat::Json => println!(
                "{}",
                json!({
                    "format_version": FORMAT_VERSION, "event": "summary", "command": command,
                    "succeeded": outcome.succeeded(), "interrupted": outcome.interrupted,
                    "created": created, "updated": updated, "deleted": deleted,
                    "failed": failed, "skipped": skipped, "not_started": not_started,
                    "elapsed_s": elapsed.as_secs_f64(),
                })
            ),
            OutputFormat::Human => {
                let totals = format!("{created} created, {updated} updated, {deleted} deleted");
                if outcome.succeeded() {
                    anstream::println!("\n{GREEN}{command} complete{GREEN:#}: {totals} in {elapsed:.1?}.");
                } else if outcome.interrupted && failed == 0 {
                    anstream::println!(
                        "\n{RED}{command} interrupted{RED:#}: {totals}; {not_started} not started ({elapsed:.1?}). Everything done so far is tagged: `{again}` finishes it."
                    );
                } else {
                    anstream::println!(
                        "\n{RED}{command} incomplete{RED:#}: {totals}; {failed} failed, {skipped} skipped, {not_started} not started ({elapsed:.1?}).\nEverything done so far is tagged and will be adopted: fix the cause and run `{again}`."
                    );
                }
            }
        }
    }
}

/// Writes a failed step to stderr: the resource, the AWS operation, its error code and message.
fn report_failure(step: &Step, error: &ProviderError) {
    anstream::eprintln!("{RED}error{RED:#}: {}: {error}", step.address);
}

fn verb(operation: Operation) -> (&'static str, &'static str) {
    match operation {
        Operation::Create => ("creating", "created"),
        Operation::Update => ("updating", "updated"),
        Operation::Delete => ("deleting", "deleted"),
    }
}

impl Reporter for Progress {
    fn report(&self, event: Event<'_>) {
        if self.format == OutputFormat::Json {
            let line = match event {
                Event::Started(step) => {
                    json!({"event": "started", "address": step.address, "operation": step.operation})
                }
                Event::Finished { step, elapsed, result } => {
                    if let Err(error) = result {
                        report_failure(step, error);
                    }
                    json!({
                        "event": if result.is_ok() { "finished" } else { "failed" },
                        "address": step.address, "operation": step.operation,
                        "elapsed_s": elapsed.as_secs_f64(),
                        "id": result.as_ref().ok().copied().flatten(),
                        "error": result.as_ref().err().map(ToString::to_string),
                        "aws_operation": result.as_ref().err().map(|e| &e.operation),
                        "error_code": result.as_ref().err().and_then(|e| e.code.as_ref()),
                    })
                }
                Event::Skipped { step, because } => json!({
                    "event": "skipped", "address": step.address, "operation": step.operation,
                    "because": because.address,
                }),
                Event::NotStarted(step) => {
                    json!({"event": "not_started", "address": step.address, "operation": step.operation})
                }
            };
            let mut line = line;
            line["format_version"] = json!(FORMAT_VERSION);
            println!("{line}");
            return;
        }
        match event {
            Event::Started(step) => anstream::println!("{}: {}…", step.address, verb(step.operation).0),
            Event::Finished { step, elapsed, result: Ok(id) } => {
                let id = id.map(|id| format!(" {DIM}[id {id}]{DIM:#}")).unwrap_or_default();
                anstream::println!("{}: {GREEN}{}{GREEN:#} in {elapsed:.1?}{id}", step.address, verb(step.operation).1);
            }
            Event::Finished { step, elapsed, result: Err(error) } => {
                anstream::println!("{}: {RED}failed{RED:#} after {elapsed:.1?}: {error}", step.address);
                report_failure(step, error);
            }
            Event::Skipped { step, because } => {
                anstream::println!(
                    "{}: skipped ({} {} did not succeed)",
                    step.address,
                    because.address,
                    verb(because.operation).0
                );
            }
            Event::NotStarted(_) => {}
        }
    }
}
