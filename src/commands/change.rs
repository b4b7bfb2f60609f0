//! The commands that change AWS: `apply` and `destroy`, with the confirmation and execution of
//! their plan.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::bail;

use super::guards::{guard, refuse_blocked_runtimes, refuse_data_loss, refuse_unset_secrets};
use super::lock::{first_read, holding, take_lock, with_lock};
use super::{connect_observing_lock, discover, discover_and_plan, load_stack, read_stack, require_approval_path};
use crate::apply::{Pace, execute, steps};
use crate::cli::{ApplyArgs, DestroyArgs, StackArgs};
use crate::plan::{Plan, plan_destroy};
use crate::provider::{Applier, AwsProvider, FirstRead};
use crate::render::{OutputFormat, human, json, progress::Progress};
use crate::resource::DesiredState;
use crate::saved_plan::SavedPlan;

/// `authdemo apply [PLANFILE]`: plans again (refusing a stale saved plan), guards, executes.
/// A plan with changes is made again under the stack's lock, so that a run that waited for
/// another acts on what that one left.
pub(super) async fn apply(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let saved = args.plan_file.as_deref().map(SavedPlan::read).transpose()?;
    if saved.is_none() {
        require_approval_path(args.auto_approve, "apply", &args.stack)?;
    }
    let (file, vars, adopt) = match &saved {
        Some(saved) => (saved.stack_file(&args.stack.file), saved.vars.clone(), saved.adopt()?),
        None => (args.stack.file.clone(), args.stack.vars.clone(), args.adopt.clone()),
    };
    let (stack, text) = read_stack(&args.stack, &file, &vars)?;
    let hints = StackArgs { file, vars, permissions_boundary: args.stack.permissions_boundary.clone() };
    let (provider, desired, observed) = connect_observing_lock(&args.aws, &stack).await?;
    let began = SystemTime::now();
    let first = discover_and_plan(&provider, &desired, &adopt).await?;
    if let Some(saved) = &saved {
        saved.check(&text, &first)?;
    }
    refuse_unsafe(&first, args, &desired, &hints)?;
    refuse_blocked_runtimes(&stack, &hints.file, Some(&first))?;
    let needed = first_read(began, observed, &first);
    with_lock(provider, needed, &args.lock, &hints, async |provider, read_again| {
        let plan = if read_again { discover_and_plan(&provider, &desired, &adopt).await? } else { first };
        if let Some(saved) = &saved {
            saved.check(&text, &plan)?;
        }
        print_plan(&plan, args.output.format);
        refuse_unsafe(&plan, args, &desired, &hints)?;
        let approved = args.auto_approve || saved.is_some();
        let run = Execution {
            command: "apply",
            again: hints.command_line("apply", "--auto-approve"),
            auto_approve: approved,
            parallelism: args.parallelism,
            format: args.output.format,
        };
        execute_plan(provider.applier(&desired), plan, run).await
    })
    .await
}

/// Refuses, before anything starts, a plan that loses data unasked, deletes a protected
/// resource, touches one the stack does not own, or needs a secret that is not set.
fn refuse_unsafe(plan: &Plan, args: &ApplyArgs, desired: &DesiredState, stack: &StackArgs) -> anyhow::Result<()> {
    guard(plan, &args.allow_replace, stack)?;
    refuse_data_loss(plan, &args.allow_delete, stack)?;
    refuse_unset_secrets(plan, desired)
}

/// `authdemo destroy`: deletes everything the stack owns, children first, under the stack's
/// lock when there is anything to delete. When the lock is free and a run held it before (the
/// stack was applied), it is taken while the account is read, a round trip sooner.
pub(super) async fn destroy(args: &DestroyArgs) -> anyhow::Result<ExitCode> {
    if !args.dry_run {
        require_approval_path(args.auto_approve, "destroy", &args.stack)?;
    }
    let stack = load_stack(&args.stack)?;
    let (provider, desired, observed) = connect_observing_lock(&args.aws, &stack).await?;
    let began = SystemTime::now();
    let read = async |provider: &AwsProvider| Ok(plan_destroy(&stack.name, &discover(provider, &desired, &[]).await?));
    let destroy = async |provider: AwsProvider, read_again: bool, planned: Plan| {
        let plan = if read_again { read(&provider).await? } else { planned };
        if !plan.has_changes() && args.output.format == OutputFormat::Human {
            say_nothing_to_destroy(&plan, &stack.name);
            return Ok(ExitCode::SUCCESS);
        }
        print_plan(&plan, args.output.format);
        guard(&plan, &[], &args.stack)?;
        let run = Execution {
            command: "destroy",
            again: args.stack.command_line("destroy", "--auto-approve"),
            auto_approve: args.auto_approve,
            parallelism: args.parallelism,
            format: args.output.format,
        };
        execute_plan(provider.applier(&desired), plan, run).await
    };
    if !args.dry_run && observed.free_after_a_holder() {
        let (planned, lock) = tokio::join!(read(&provider), take_lock(&provider, &args.lock, &args.stack, observed));
        let (planned, lock) = match (planned, lock) {
            (Ok(planned), Ok(lock)) => (planned, lock),
            // The read's error is the run's, whatever became of the lock, which goes back.
            (Err(error), Ok(lock)) => {
                lock.release().await;
                return Err(error);
            }
            (Err(error), Err(_)) | (Ok(_), Err(error)) => return Err(error),
        };
        let first = FirstRead { began, ids: planned.ids() };
        return holding(provider, Some((lock, first)), async |provider, again| destroy(provider, again, planned).await)
            .await;
    }
    let planned = read(&provider).await?;
    if !planned.has_changes() && args.output.format == OutputFormat::Human {
        say_nothing_to_destroy(&planned, &stack.name);
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        print_plan(&planned, args.output.format);
        return Ok(ExitCode::SUCCESS);
    }
    guard(&planned, &[], &args.stack)?;
    let needed = first_read(began, observed, &planned);
    with_lock(provider, needed, &args.lock, &args.stack, async |provider, again| {
        destroy(provider, again, planned).await
    })
    .await
}

/// Says that a destroy found nothing of stack `name` in the plan's account.
fn say_nothing_to_destroy(plan: &Plan, name: &str) {
    println!("Nothing to destroy: stack `{name}` owns no resources in account {} ({}).", plan.account, plan.region);
}

/// Shows the plan before apply/destroy: as text, or as the first line of the JSON progress stream.
fn print_plan(plan: &Plan, format: OutputFormat) {
    match format {
        OutputFormat::Human => anstream::print!("{}", human::plan(plan)),
        OutputFormat::Json => println!("{}", json::plan_event(plan)),
    }
}

/// How `apply` or `destroy` runs its plan.
struct Execution {
    /// `apply` or `destroy`.
    command: &'static str,
    /// The command line that runs it again, for the summary of a run that did not finish.
    again: String,
    /// Whether to go on without asking.
    auto_approve: bool,
    /// At most this many AWS changes at once.
    parallelism: u16,
    /// How progress is printed.
    format: OutputFormat,
}

/// Asks (unless approved), runs the plan's steps, stops starting new ones on Ctrl-C, and
/// prints the summary.
async fn execute_plan(applier: Applier, plan: Plan, run: Execution) -> anyhow::Result<ExitCode> {
    let Execution { command, again, auto_approve, parallelism, format } = run;
    if !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    if !auto_approve && !confirm(&format!("Do you want to {command} these changes?")).await? {
        bail!("{command} cancelled: nothing was changed");
    }
    let (graph, work) = steps(&plan)?;
    let ids = plan.changes.iter().filter_map(|c| Some((c.address.clone(), c.id.clone()?))).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let stop = stop.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                eprintln!("interrupted: waiting for the running steps to finish; starting no new ones");
            }
        }
    });
    let applier = applier.knowing(plan.deletions_by_address());
    let reporter = Progress::new(format);
    let pace = Pace { parallelism: parallelism.into(), stop: &stop, reporter: &reporter };
    let outcome = execute(&graph, &work, Arc::new(applier), ids, pace).await;
    watcher.abort();
    reporter.finish(command, &again, &outcome);
    Ok(if outcome.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Asks `question` on the terminal; only `yes` is a yes.
pub(super) async fn confirm(question: &str) -> anyhow::Result<bool> {
    anstream::print!("\n{question} Only 'yes' is accepted: ");
    let answer = tokio::task::spawn_blocking(|| {
        use std::io::Write;
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await??;
    Ok(answer.trim() == "yes")
}
