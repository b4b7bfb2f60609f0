//! The guards: what `apply` and `destroy` refuse before anything starts.

use anyhow::{Context, bail};

use crate::cli::StackArgs;
use crate::plan::{Action, Plan, ResourceChange};
use crate::provider::UserPoolSpec;
use crate::resource::{Address, DesiredState, ResourceKind};
use crate::stack::{Diagnostics, FunctionFate, Stack, check_runtimes, is_date};

/// Refuses, before anything starts, an apply that would create or change a resource whose
/// secret (a password, an API key value) comes from an environment variable that is not set.
pub(super) fn refuse_unset_secrets(plan: &Plan, desired: &DesiredState) -> anyhow::Result<()> {
    let missing: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Replace))
        .filter_map(|c| {
            desired.unset_secrets.get(&c.address).map(|env| format!("  - {} needs ${{env:{env}}}", c.address))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "refusing to apply: secrets it would send are not set, and nothing was changed:\n{}\n  Export them and run again",
        missing.join("\n")
    )
}

/// Refuses, before anything starts, an apply that would delete a resource holding data because
/// the file no longer names it, unless `--allow-delete` names it.
pub(super) fn refuse_data_loss(plan: &Plan, allow_delete: &[Address], stack: &StackArgs) -> anyhow::Result<()> {
    let refused = plan.refused_deletions(allow_delete);
    let Some(change) = refused.first() else { return Ok(()) };
    bail!(
        "refusing to delete {address}: the stack file no longer names it, and deleting it deletes every user in it{notes}; \
         nothing was changed.\n  If that is what you want, run `{again}`",
        address = change.address,
        again = stack.command_line("apply", &format!("--allow-delete {}", change.address)),
        notes = change.notes.iter().map(|n| format!(" ({n})")).collect::<String>()
    )
}

/// Refuses, before anything starts, a plan that would lose data without `--allow-replace`,
/// delete a protected resource, or touch a resource the stack does not own.
pub(super) fn guard(plan: &Plan, allow_replace: &[Address], stack: &StackArgs) -> anyhow::Result<()> {
    if let Some(change) = plan.refused_replacements(allow_replace).first() {
        bail!(
            "refusing to replace {address}: replacing it deletes every user in it ({reason}), and nothing was changed.\n  \
             If that is what you want, run `{again}`",
            address = change.address,
            reason = change.reason,
            again = stack.command_line("apply", &format!("--allow-replace {}", change.address))
        );
    }
    // A deletion AWS refuses while the pool's deletion protection is on: nothing should start.
    let protected = |c: &&ResourceChange| c.before_as::<UserPoolSpec>().is_some_and(|pool| pool.deletion_protection);
    if let Some(change) = plan.deletions().find(protected) {
        bail!(
            "refusing to delete {address}: its deletion protection is on, and nothing was changed.\n  \
             To delete it, set `deletion_protection: false` in the stack file, run `{apply}`, then run this again",
            address = change.address,
            apply = stack.command_line("apply", "")
        );
    }
    refuse_conflicts(plan)
}

/// A resource the stack wants whose name someone else's resource holds: refuse the whole run.
pub(super) fn refuse_conflicts(plan: &Plan) -> anyhow::Result<()> {
    if plan.conflicts.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = plan
        .conflicts
        .iter()
        .map(|c| format!("  - {} is taken by {}: {}; {}", c.address, c.id, c.reason, c.hint()))
        .collect();
    let adoptable: Vec<String> =
        plan.conflicts.iter().filter(|c| c.owner.is_none()).map(|c| format!("--adopt {}", c.address)).collect();
    let way_out = if adoptable.is_empty() {
        "Rename or delete them".to_string()
    } else {
        format!(
            "To take over the ones no stack owns, run again with {}; or rename or delete them by hand",
            adoptable.join(" ")
        )
    };
    bail!(
        "refusing to apply: resources of this stack already exist without its ownership tags, and nothing was changed:\n{}\n  {way_out}",
        lines.join("\n")
    )
}

/// Refuses a runtime AWS would refuse for what the run does to each function (every function
/// is new without a `plan`), and prints the warnings of the others on stderr.
pub(super) fn refuse_blocked_runtimes(
    stack: &Stack,
    file: &std::path::Path,
    plan: Option<&Plan>,
) -> anyhow::Result<()> {
    let fate = |name: &str| {
        let action = plan.and_then(|plan| {
            let address = Address::new(ResourceKind::Function, name);
            plan.changes.iter().find(|c| c.address == address).map(|c| c.action)
        });
        match action {
            None | Some(Action::Create | Action::Replace) => FunctionFate::New,
            Some(Action::Update) => FunctionFate::Changed,
            Some(Action::NoOp | Action::Delete) => FunctionFate::Unchanged,
        }
    };
    let findings = check_runtimes(stack, &today()?, fate);
    let warnings = Diagnostics { file: file.to_path_buf(), items: findings.warnings };
    anstream::eprint!("{}", warnings.items_text("warning: "));
    let errors = Diagnostics { file: file.to_path_buf(), items: findings.errors };
    match (errors.items.is_empty(), plan) {
        (true, _) => Ok(()),
        (false, None) => Err(errors.into()),
        (false, Some(_)) => bail!("{}AWS would refuse these runtimes; nothing was changed", errors.items_text("")),
    }
}

/// Today's date (UTC, `YYYY-MM-DD`) for the runtime lifecycle; `AUTHDEMO_TODAY` pins it (a
/// reproducible CI run, or checking a stack against a date to come).
fn today() -> anyhow::Result<String> {
    if let Ok(pinned) = std::env::var("AUTHDEMO_TODAY") {
        if !is_date(&pinned) {
            bail!("AUTHDEMO_TODAY=`{pinned}` is not a date: write YYYY-MM-DD");
        }
        return Ok(pinned);
    }
    let now = aws_sdk_lambda::primitives::DateTime::from(std::time::SystemTime::now());
    let text = now.fmt(aws_sdk_lambda::primitives::DateTimeFormat::DateTime).context("cannot read the clock")?;
    Ok(text[..10].to_string())
}
