//! Lambda runtimes and their lifecycle. AWS deprecates a runtime in steps: after its
//! deprecation date it still runs, then creating functions on it is blocked, then updating
//! them. A runtime is checked against today's date and against what happens to the function:
//! a new function needs a runtime AWS still lets you create, a changed one a runtime it still
//! lets you update.

use super::{Diagnostic, Stack};

/// Where the dates come from: AWS's runtime table, "Supported runtimes" and "Deprecated
/// runtimes" of <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html>, read on the
/// date each row names (mirrored by endoflife.date/aws-lambda). Dates are `YYYY-MM-DD`.
const TABLE_SOURCE: &str = "AWS Lambda's runtime table (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)";

/// One Lambda runtime and the dates of its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Runtime {
    /// The identifier, e.g. `nodejs24.x`.
    name: &'static str,
    /// From this day AWS no longer patches it.
    deprecated: &'static str,
    /// From this day CreateFunction refuses it.
    create_blocked: &'static str,
    /// From this day every update of a function on it is refused.
    update_blocked: &'static str,
    /// What to move to.
    successor: &'static str,
    /// When the row was read from AWS's table.
    read_on: &'static str,
}

macro_rules! runtimes {
    ($($name:literal: $deprecated:literal, $create:literal, $update:literal, $successor:literal, $read:literal;)*) => {
        /// Every runtime a stack file may name, newest first within a language.
        const RUNTIMES: &[Runtime] = &[$(Runtime {
            name: $name, deprecated: $deprecated, create_blocked: $create, update_blocked: $update,
            successor: $successor, read_on: $read,
        }),*];
    };
}

runtimes! {
    "nodejs24.x": "2028-04-30", "2028-06-01", "2028-07-01", "nodejs24.x", "2026-12-07";
    "nodejs22.x": "2027-04-30", "2027-06-01", "2027-07-01", "nodejs24.x", "2026-12-07";
    "nodejs20.x": "2026-04-30", "2026-08-31", "2026-09-30", "nodejs24.x", "2026-12-07";
    "nodejs18.x": "2025-09-01", "2026-02-03", "2026-03-09", "nodejs24.x", "2026-12-07";
    "python3.14": "2029-06-30", "2029-07-31", "2029-08-31", "python3.14", "2026-12-07";
    "python3.13": "2029-06-30", "2029-07-31", "2029-08-31", "python3.14", "2026-12-07";
    "python3.12": "2028-10-31", "2028-11-30", "2029-01-10", "python3.14", "2026-12-07";
    "python3.11": "2026-06-30", "2026-07-31", "2026-08-31", "python3.14", "2026-12-07";
    "python3.10": "2026-06-30", "2026-07-31", "2026-08-31", "python3.14", "2026-12-07";
    "python3.9": "2025-12-15", "2026-01-15", "2026-02-15", "python3.14", "2026-12-07";
    "java25": "2029-06-30", "2029-07-31", "2029-08-31", "java25", "2026-12-07";
    "java21": "2029-06-30", "2029-07-31", "2029-08-31", "java25", "2026-12-07";
    "java17": "2026-06-30", "2026-07-31", "2026-08-31", "java25", "2026-12-07";
    "dotnet10": "2028-11-14", "2028-12-14", "2029-01-15", "dotnet10", "2026-12-07";
    "dotnet8": "2026-11-10", "2026-12-10", "2027-01-11", "dotnet10", "2026-12-07";
    "ruby3.4": "2028-03-31", "2028-04-30", "2028-05-31", "ruby3.4", "2026-12-07";
    "ruby3.3": "2027-03-31", "2027-04-30", "2027-05-31", "ruby3.4", "2026-12-07";
    "provided.al2023": "2029-06-30", "2029-07-31", "2029-08-31", "provided.al2023", "2026-12-07";
    "provided.al2": "2026-06-30", "2026-07-31", "2026-08-31", "provided.al2023", "2026-12-07";
}

/// How many days before a block a warning starts.
const WARN_DAYS_BEFORE_BLOCK: i64 = 60;

/// The runtime named `name`, if the table has it.
fn lookup(name: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.name == name)
}

/// The identifiers of every known runtime.
pub(super) fn names() -> Vec<&'static str> {
    RUNTIMES.iter().map(|r| r.name).collect()
}

/// What the run does to a function, which decides the block that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FunctionFate {
    /// It is created (or replaced): the create block applies.
    New,
    /// It is updated in place: the update block applies.
    Changed,
    /// It is left as it is: blocks only warn.
    Unchanged,
}

/// Problems with the stack's runtimes on `today` (`YYYY-MM-DD`): errors for what AWS would
/// refuse, warnings for what it will soon refuse or no longer patches.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RuntimeFindings {
    /// What AWS refuses: the run must not start.
    pub errors: Vec<Diagnostic>,
    /// What a reviewer should know.
    pub warnings: Vec<Diagnostic>,
}

/// Checks each function's runtime against `today`, given what the run does to it.
pub(crate) fn check_runtimes(stack: &Stack, today: &str, fate: impl Fn(&str) -> FunctionFate) -> RuntimeFindings {
    let mut findings = RuntimeFindings::default();
    for (name, function) in &stack.functions {
        let Some(runtime) = lookup(&function.runtime) else { continue };
        let path = format!("functions.{name}.runtime");
        let at = function.runtime_location;
        let (list, message) = match judge(runtime, today, fate(name)) {
            Verdict::Refused(message) => (&mut findings.errors, message),
            Verdict::Warned(message) => (&mut findings.warnings, message),
            Verdict::Fine => continue,
        };
        list.push(Diagnostic::new(at, &path, &message, Some(&hint(runtime))));
    }
    findings
}

enum Verdict {
    Refused(String),
    Warned(String),
    Fine,
}

fn judge(runtime: &Runtime, today: &str, fate: FunctionFate) -> Verdict {
    let Runtime { name, deprecated, create_blocked, update_blocked, .. } = *runtime;
    let dates =
        format!("deprecated {deprecated}, creates blocked from {create_blocked}, updates from {update_blocked}");
    if fate == FunctionFate::New && create_blocked <= today {
        return Verdict::Refused(format!(
            "runtime `{name}` cannot be used for a new function: AWS blocks creating functions on it since {create_blocked} ({dates})"
        ));
    }
    if fate == FunctionFate::Changed && update_blocked <= today {
        return Verdict::Refused(format!(
            "runtime `{name}` cannot be used to change this function: AWS blocks updating functions on it since {update_blocked} ({dates})"
        ));
    }
    let next_block = if fate == FunctionFate::New { create_blocked } else { update_blocked };
    if update_blocked <= today {
        Verdict::Warned(format!("runtime `{name}`: AWS refuses every change to this function since {update_blocked}"))
    } else if deprecated <= today {
        Verdict::Warned(format!("runtime `{name}` is deprecated since {deprecated} ({dates})"))
    } else if days_between(today, next_block).is_some_and(|days| days <= WARN_DAYS_BEFORE_BLOCK) {
        Verdict::Warned(format!("runtime `{name}` will be blocked by AWS from {next_block} ({dates})"))
    } else {
        Verdict::Fine
    }
}

fn hint(runtime: &Runtime) -> String {
    let source = format!("dates from {TABLE_SOURCE}, read {}", runtime.read_on);
    if runtime.successor == runtime.name { source } else { format!("move to `{}`; {source}", runtime.successor) }
}

/// Whole days from `from` to `to` (both `YYYY-MM-DD`).
fn days_between(from: &str, to: &str) -> Option<i64> {
    Some(day_number(to)? - day_number(from)?)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (Howard Hinnant's days_from_civil).
fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// Whether `date` is a valid `YYYY-MM-DD` date.
pub(crate) fn is_date(date: &str) -> bool {
    date.len() == 10 && day_number(date).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(name: &str, today: &str, fate: FunctionFate) -> &'static str {
        match judge(lookup(name).unwrap(), today, fate) {
            Verdict::Refused(_) => "refused",
            Verdict::Warned(_) => "warned",
            Verdict::Fine => "fine",
        }
    }

    #[test]
    fn each_date_of_the_table_is_a_valid_order() {
        for r in RUNTIMES {
            assert!(is_date(r.deprecated) && is_date(r.create_blocked) && is_date(r.update_blocked), "{r:?}");
            assert!(r.deprecated <= r.create_blocked && r.create_blocked <= r.update_blocked, "{r:?}");
            let successor = lookup(r.successor).expect("the successor is in the table");
            assert_eq!(successor.successor, successor.name, "{} points at a runtime that is not the newest", r.name);
        }
    }

    #[test]
    fn nodejs20_on_both_sides_of_each_date() {
        use FunctionFate::{Changed, New, Unchanged};
        assert_eq!(verdict("nodejs20.x", "2026-01-01", New), "fine");
        assert_eq!(verdict("nodejs20.x", "2026-04-29", New), "fine");
        assert_eq!(verdict("nodejs20.x", "2026-04-30", New), "warned");
        assert_eq!(verdict("nodejs20.x", "2026-08-30", New), "warned");
        assert_eq!(verdict("nodejs20.x", "2026-08-31", New), "refused");
        assert_eq!(verdict("nodejs20.x", "2026-08-31", Changed), "warned");
        assert_eq!(verdict("nodejs20.x", "2026-09-29", Changed), "warned");
        assert_eq!(verdict("nodejs20.x", "2026-09-30", Changed), "refused");
        assert_eq!(verdict("nodejs20.x", "2026-09-30", Unchanged), "warned");
    }

    #[test]
    fn warns_sixty_days_before_a_block_of_a_supported_runtime() {
        assert_eq!(verdict("nodejs22.x", "2027-04-01", FunctionFate::New), "fine");
        assert_eq!(verdict("nodejs22.x", "2027-04-02", FunctionFate::New), "warned");
        assert_eq!(verdict("nodejs24.x", "2026-12-07", FunctionFate::New), "fine");
    }

    #[test]
    fn counts_days_across_months_and_leap_years() {
        assert_eq!(days_between("2028-02-28", "2028-03-01"), Some(2));
        assert_eq!(days_between("2026-12-31", "2027-01-01"), Some(1));
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert!(!is_date("2026-13-01") && !is_date("yesterday"));
    }
}
