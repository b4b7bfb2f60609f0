//! `authdemo plan`.

use std::process::ExitCode;

use anyhow::Context;

use super::guards::{refuse_blocked_runtimes, refuse_conflicts};
use super::{connect, discover_and_plan, read_stack};
use crate::cli::PlanArgs;
use crate::render::{OutputFormat, human, json};
use crate::saved_plan::{SavedPlan, check_destination};

/// Exit code when `plan --detailed-exitcode` finds changes.
const EXIT_CHANGES: u8 = 2;

/// `authdemo plan`: prints (and with `--out` saves, unless apply would refuse it) the changes;
/// exit 2 with changes under `--detailed-exitcode`.
pub(super) async fn plan_command(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        check_destination(out, &args.stack.file)?;
    }
    let (stack, text) = read_stack(&args.stack, &args.stack.file, &args.stack.vars)?;
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let plan = discover_and_plan(&provider, &desired, &args.adopt).await?;
    match args.output.format {
        OutputFormat::Human => anstream::print!("{}", human::plan(&plan)),
        OutputFormat::Json => println!("{}", json::plan(&plan)),
    }
    refuse_conflicts(&plan).context("apply would refuse this plan")?;
    refuse_blocked_runtimes(&stack, &args.stack.file, Some(&plan)).context("apply would refuse this plan")?;
    if let Some(out) = &args.out {
        let saved = SavedPlan::new(&plan, &args.stack.file, &text, &args.stack.vars, &args.adopt);
        saved.write(out).with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { ExitCode::from(EXIT_CHANGES) } else { ExitCode::SUCCESS })
}
