//! The commands: load the stack, discover, plan, render, confirm, execute. The edge of the
//! program, where typed errors become `anyhow` errors with context for the user.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::apply::{execute, steps};
use crate::cli::{
    AccessArgs, ApplyArgs, AwsArgs, Cli, Command, DestroyArgs, LockArgs, OutputArgs, OutputFormat, OutputsFormat,
    PermissionsArgs, PlanArgs, StackArgs, UnlockArgs, VerifyArgs,
};
use crate::live::LiveState;
use crate::outputs::Outputs;
use crate::plan::{Action, Plan, plan, plan_destroy};
use crate::provider::{Applier, AwsProvider, ConnectOptions, Holder, LockError, StackLock, desired_state, sdk_config};
use crate::render::{graph, human, json, progress::Progress};
use crate::resource::{Address, DesiredState, Target};
use crate::saved_plan::{SavedPlan, check_destination};
use crate::stack::{
    Diagnostic, Diagnostics, FunctionFate, LoadOptions, Location, Stack, check_runtimes, is_date, parse,
};

/// Exit code when `plan --detailed-exitcode` finds changes.
const EXIT_CHANGES: u8 = 2;

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate(&args),
        Command::Plan(args) => plan_command(&args).await,
        Command::Apply(args) => apply(&args).await,
        Command::Destroy(args) => destroy(&args).await,
        Command::Graph(args) => {
            let stack = load_stack(&args.stack)?;
            print!("{}", graph::graph(&offline_desired_state(&stack), args.format));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&crate::stack::schema()).expect("the schema is plain data"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            std::io::Write::write_all(&mut std::io::stdout(), &crate::completion::registration(shell)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Output(args) => output(&args).await,
        Command::Unlock(args) => unlock(&args).await,
        Command::Permissions(args) => permissions(&args),
        Command::Access(args) => access(&args).await,
        Command::Verify(args) => verify(&args).await,
    }
}

/// `authdemo validate`: the stack file alone, no AWS call.
fn validate(args: &StackArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(args)?;
    refuse_blocked_runtimes(&stack, &args.file, None)?;
    let count = offline_desired_state(&stack).resources.len();
    println!("{}: valid (stack `{}`, {count} resources)", args.file.display(), stack.name);
    Ok(ExitCode::SUCCESS)
}

/// `authdemo plan`: prints (and with `--out` saves) the changes; exit 2 with changes under
/// `--detailed-exitcode`.
async fn plan_command(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        check_destination(out, &args.stack.file)?;
    }
    let (stack, text) = read_stack(&args.stack.file, &args.stack.vars)?;
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let plan = discover_and_plan(&provider, &desired, &args.adopt).await?;
    if let Some(out) = &args.out {
        let saved = SavedPlan::new(&plan, &args.stack.file, &text, &args.stack.vars, &args.adopt);
        saved.write(out).with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    match args.output.format {
        OutputFormat::Human => anstream::print!("{}", human::plan(&plan)),
        OutputFormat::Json => println!("{}", json::plan(&plan)),
    }
    refuse_conflicts(&plan).context("apply would refuse this plan")?;
    refuse_blocked_runtimes(&stack, &args.stack.file, Some(&plan)).context("apply would refuse this plan")?;
    Ok(if args.detailed_exitcode && plan.has_changes() { ExitCode::from(EXIT_CHANGES) } else { ExitCode::SUCCESS })
}

/// `authdemo apply [PLANFILE]`: plans again (refusing a stale saved plan), guards, executes.
/// A plan with changes is made again under the stack's lock, so that a run that waited for
/// another acts on what that one left.
async fn apply(args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let saved = args.plan_file.as_deref().map(SavedPlan::read).transpose()?;
    if saved.is_none() {
        require_approval_path(args.auto_approve, "apply", &args.stack)?;
    }
    let (file, vars, adopt) = match &saved {
        Some(saved) => (saved.stack_file(&args.stack.file), saved.vars.clone(), saved.adopt()?),
        None => (args.stack.file.clone(), args.stack.vars.clone(), args.adopt.clone()),
    };
    let (stack, text) = read_stack(&file, &vars)?;
    let hints = StackArgs { file, vars };
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let first = discover_and_plan(&provider, &desired, &adopt).await?;
    if let Some(saved) = &saved {
        saved.check(&text, &first)?;
    }
    refuse_unsafe(&first, args, &desired, &hints)?;
    refuse_blocked_runtimes(&stack, &hints.file, Some(&first))?;
    let (plan, lock) = if first.has_changes() {
        let lock = take_lock(&provider, &args.lock, &hints).await?;
        match discover_and_plan(&provider, &desired, &adopt).await {
            Ok(plan) => (plan, Some(lock)),
            Err(error) => {
                lock.release().await;
                return Err(error);
            }
        }
    } else {
        (first, None)
    };
    let applied = async {
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
    }
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    applied
}

/// Refuses, before anything starts, a plan that loses data unasked, deletes a protected
/// resource, touches one the stack does not own, or needs a secret that is not set.
fn refuse_unsafe(plan: &Plan, args: &ApplyArgs, desired: &DesiredState, stack: &StackArgs) -> anyhow::Result<()> {
    guard(plan, &args.allow_replace, stack)?;
    refuse_data_loss(plan, &args.allow_delete, stack)?;
    refuse_unset_secrets(plan, desired)
}

/// `authdemo destroy`: deletes everything the stack owns, children first, under the stack's
/// lock when there is anything to delete.
async fn destroy(args: &DestroyArgs) -> anyhow::Result<ExitCode> {
    if !args.dry_run {
        require_approval_path(args.auto_approve, "destroy", &args.stack)?;
    }
    let stack = load_stack(&args.stack)?;
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let planned = plan_destroy(&stack.name, &discover(&provider, &desired, &[]).await?);
    if !planned.has_changes() && args.output.format == OutputFormat::Human {
        println!(
            "Nothing to destroy: stack `{}` owns no resources in account {} ({}).",
            stack.name, planned.account, planned.region
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        print_plan(&planned, args.output.format);
        return Ok(ExitCode::SUCCESS);
    }
    guard(&planned, &[], &args.stack)?;
    let lock = if planned.has_changes() { Some(take_lock(&provider, &args.lock, &args.stack).await?) } else { None };
    let destroyed = async {
        let plan = match &lock {
            Some(_) => plan_destroy(&stack.name, &discover(&provider, &desired, &[]).await?),
            None => planned,
        };
        print_plan(&plan, args.output.format);
        guard(&plan, &[], &args.stack)?;
        let applier = provider.applier(&desired);
        let run = Execution {
            command: "destroy",
            again: args.stack.command_line("destroy", "--auto-approve"),
            auto_approve: args.auto_approve,
            parallelism: args.parallelism,
            format: args.output.format,
        };
        execute_plan(applier, plan, run).await
    }
    .await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    destroyed
}

/// Takes the stack's lock, saying on stderr whom it waits for.
async fn take_lock(provider: &AwsProvider, args: &LockArgs, stack: &StackArgs) -> anyhow::Result<StackLock> {
    let waiting = |holder: &Holder| {
        eprintln!(
            "waiting for the stack's lock, held {} (up to --lock-timeout {} s)",
            holder.describe(),
            args.lock_timeout
        );
    };
    provider.lock(Duration::from_secs(args.lock_timeout), &waiting).await.map_err(|error| match error {
        LockError::Held { .. } => anyhow::anyhow!(
            "{error}.\n  Wait for it, pass a longer --lock-timeout, or if that run is gone, run `{}`",
            stack.command_line("unlock", "")
        ),
        other @ LockError::Aws(_) => other.into(),
    })
}

/// `authdemo unlock`: breaks the stack's lock after saying who holds it and asking.
async fn unlock(args: &UnlockArgs) -> anyhow::Result<ExitCode> {
    require_approval_path(args.auto_approve, "unlock", &args.stack)?;
    let stack = load_stack(&args.stack)?;
    let (provider, _) = connect(&args.aws, &stack).await?;
    let Some(holder) = provider.lock_holder().await? else {
        println!("stack {} is not locked", stack.name);
        return Ok(ExitCode::SUCCESS);
    };
    println!("stack {} is locked {}", stack.name, holder.describe());
    if !args.auto_approve && !confirm("Break this lock? Do so only if that run is gone.").await? {
        bail!("unlock cancelled: the lock stays");
    }
    provider.unlock().await?;
    println!("the lock of stack {} is broken", stack.name);
    Ok(ExitCode::SUCCESS)
}

/// `authdemo permissions`: the IAM policy a command needs on this stack, without AWS.
fn permissions(args: &PermissionsArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(&args.stack)?;
    let region = args.region.clone().or_else(|| stack.region.clone()).or_else(|| std::env::var("AWS_REGION").ok());
    let region = region.unwrap_or_else(|| "*".into());
    let scope = crate::permissions::Scope { stack: &stack.name, partition: &args.partition, region: &region };
    let policy = crate::permissions::policy(&scope, args.command);
    println!("{}", serde_json::to_string_pretty(&policy).expect("a policy is plain data"));
    Ok(ExitCode::SUCCESS)
}

/// `authdemo output`: what a web client needs, from the live state.
async fn output(args: &OutputArgs) -> anyhow::Result<ExitCode> {
    refuse_options_of_other_formats(args)?;
    let stack = load_stack(&args.stack)?;
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let live = discover(&provider, &desired, &[]).await?;
    let mut outputs = Outputs::collect(&stack, &live, provider.client_endpoints());
    if outputs.is_empty() {
        bail!(
            "nothing of stack `{}` exists in AWS yet: run `{}` first",
            stack.name,
            args.stack.command_line("apply", "")
        );
    }
    if args.show_sensitive {
        for key in outputs.api_keys.values_mut() {
            key.value = Some(provider.api_key_value(&key.id).await?);
        }
    }
    match args.format {
        OutputsFormat::Json => println!("{}", outputs.to_json()),
        OutputsFormat::Env => print!("{}", outputs.to_env(args.prefix.as_deref().unwrap_or_default())),
        OutputsFormat::Amplify => println!("{}", outputs.to_amplify(args.amplify_version, args.client.as_deref())?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses `--prefix` without `--format env` and `--client` without `--format amplify`, rather
/// than ignoring them.
fn refuse_options_of_other_formats(args: &OutputArgs) -> anyhow::Result<()> {
    if args.prefix.is_some() && args.format != OutputsFormat::Env {
        bail!("--prefix applies to `--format env` only");
    }
    if args.client.is_some() && args.format != OutputsFormat::Amplify {
        bail!("--client applies to `--format amplify` only");
    }
    Ok(())
}

/// `authdemo access`: who can call each route, from the live configuration. A report, not a
/// check: it exits 0 whatever the verdicts.
async fn access(args: &AccessArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(&args.stack)?;
    let Some(api) = &stack.api else { bail!("stack `{}` has no `api`: there are no routes to call", stack.name) };
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let live = discover(&provider, &desired, &[]).await?;
    let deployment = read_access(&provider, &stack, &api.stage, &live).await?;
    let report = crate::access::matrix::report(&deployment);
    match args.output.format {
        OutputFormat::Human => print!("{}", crate::access::matrix::human(&report)),
        OutputFormat::Json => println!("{}", crate::access::matrix::json(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `authdemo verify`: calls every route as every caller and compares with the verdicts of
/// `access` on what the stack file describes (and on the live configuration, for the report);
/// exit 1 when any call disagrees or decides nothing.
async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(&args.stack)?;
    let Some(api) = &stack.api else { bail!("stack `{}` has no `api`: there are no routes to call", stack.name) };
    let (provider, desired) = connect(&args.aws, &stack).await?;
    let live = discover(&provider, &desired, &[]).await?;
    let intended = crate::verify::intended(&desired, &live);
    let configured = crate::access::matrix::report(&read_access(&provider, &stack, &api.stage, &live).await?);
    let deployment = read_access(&provider, &stack, &api.stage, &intended).await?;
    let expected = crate::access::matrix::report(&deployment);
    let user = args.user.as_deref();
    let callers = crate::verify::callers::callers(&provider, &stack, &live, &deployment.linked_keys, user).await?;
    let url = crate::outputs::invoke_url(
        &live.target,
        &deployment.api_id,
        &api.stage,
        provider.client_endpoints().execute_api.as_deref(),
    );
    let http = crate::verify::http::Http::new(Duration::from_secs(args.aws.call_timeout))
        .context("cannot load the machine's root certificates")?;
    let settle = Duration::from_secs(args.settle);
    let report = crate::verify::run(&http, &url, &deployment, &expected, &configured, &callers, settle).await;
    match args.output.format {
        OutputFormat::Human => print!("{}", crate::verify::human(&report)),
        OutputFormat::Json => println!("{}", crate::verify::json(&report)),
    }
    Ok(if report.agrees() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What `access` reads of `state` (the live one, or the one the file describes).
async fn read_access(
    provider: &AwsProvider,
    stack: &Stack,
    stage: &str,
    state: &LiveState,
) -> anyhow::Result<crate::access::matrix::Deployment> {
    Ok(crate::access::live::read(provider, &stack.name, stage, state).await?)
}

/// Refuses, before anything starts, an apply that would create or change a resource whose
/// secret (a password, an API key value) comes from an environment variable that is not set.
fn refuse_unset_secrets(plan: &Plan, desired: &DesiredState) -> anyhow::Result<()> {
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
fn refuse_data_loss(plan: &Plan, allow_delete: &[Address], stack: &StackArgs) -> anyhow::Result<()> {
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
fn guard(plan: &Plan, allow_replace: &[Address], stack: &StackArgs) -> anyhow::Result<()> {
    if let Some(change) = plan.refused_replacements(allow_replace).first() {
        bail!(
            "refusing to replace {address}: replacing it deletes every user in it ({reason}), and nothing was changed.\n  \
             If that is what you want, run `{again}`",
            address = change.address,
            reason = change.reason,
            again = stack.command_line("apply", &format!("--allow-replace {}", change.address))
        );
    }
    if let Some(change) = plan.protected_deletions().first() {
        bail!(
            "refusing to delete {address}: its deletion protection is on, and nothing was changed.\n  \
             To delete it, set `deletion_protection: false` in the stack file, run `{apply}`, then run this again",
            address = change.address,
            apply = stack.command_line("apply", "")
        );
    }
    refuse_conflicts(plan)
}

/// The desired state without AWS: ARNs name `REGION` (unless the file names one) and `ACCOUNT`.
pub(crate) fn offline_desired_state(stack: &Stack) -> DesiredState {
    let region = stack.region.clone().unwrap_or_else(|| "REGION".into());
    desired_state(stack, &Target { partition: "aws".into(), region, account: "ACCOUNT".into() })
}

pub(crate) fn load_stack(args: &StackArgs) -> anyhow::Result<Stack> {
    read_stack(&args.file, &args.vars).map(|(stack, _)| stack)
}

/// Reads and validates a stack file; also returns its text (saved plans record its hash).
fn read_stack(file: &std::path::Path, vars: &[(String, String)]) -> anyhow::Result<(Stack, String)> {
    let env = |name: &str| std::env::var(name).ok();
    let options = LoadOptions { var_overrides: vars, env: &env };
    let text = std::fs::read_to_string(file).map_err(|e| Diagnostics {
        file: file.to_path_buf(),
        items: vec![Diagnostic {
            location: Location { line: 1, column: 1 },
            path: String::new(),
            message: format!("cannot read the stack file: {e}"),
            hint: Some("pass the stack file with -f FILE".into()),
        }],
    })?;
    Ok((parse(file, &text, &options)?, text))
}

/// Without a terminal to ask on, `apply`/`destroy` need `--auto-approve`: refuse before any AWS call.
fn require_approval_path(auto_approve: bool, command: &str, stack: &StackArgs) -> anyhow::Result<()> {
    if auto_approve || std::io::stdin().is_terminal() {
        return Ok(());
    }
    bail!(
        "refusing to {command} without confirmation: there is no terminal to ask on.\n  \
         Review the changes with `{}`, then run `{}` (as CI does)",
        stack.command_line("plan", ""),
        stack.command_line(command, "--auto-approve")
    )
}

/// Connects to AWS, learns the account, and derives the desired state for it.
async fn connect(aws: &AwsArgs, stack: &Stack) -> anyhow::Result<(AwsProvider, DesiredState)> {
    let options = ConnectOptions {
        region: aws.region.clone().or_else(|| stack.region.clone()),
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        attempt_timeout: std::time::Duration::from_secs(aws.call_timeout),
    };
    let config = sdk_config(&options).await?;
    let provider = AwsProvider::connect(&config, &stack.name)
        .await
        .context("cannot identify the AWS account of these credentials")?;
    let desired = desired_state(stack, provider.target());
    Ok((provider, desired))
}

async fn discover(provider: &AwsProvider, desired: &DesiredState, adopt: &[Address]) -> anyhow::Result<LiveState> {
    let adopt = adopt.iter().cloned().collect();
    provider.discover(desired, &adopt).await.context("cannot read the live state from AWS")
}

async fn discover_and_plan(provider: &AwsProvider, desired: &DesiredState, adopt: &[Address]) -> anyhow::Result<Plan> {
    Ok(plan(desired, &discover(provider, desired, adopt).await?))
}

/// A resource the stack wants whose name someone else's resource holds: refuse the whole run.
fn refuse_conflicts(plan: &Plan) -> anyhow::Result<()> {
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
    let reporter = Progress::new(format);
    let outcome = execute(&graph, &work, Arc::new(applier), ids, parallelism.into(), &stop, &reporter).await;
    watcher.abort();
    reporter.finish(command, &again, &outcome);
    Ok(if outcome.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Asks `question` on the terminal; only `yes` is a yes.
async fn confirm(question: &str) -> anyhow::Result<bool> {
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

/// Refuses a runtime AWS would refuse for what the run does to each function (every function
/// is new without a `plan`), and prints the warnings of the others on stderr.
fn refuse_blocked_runtimes(stack: &Stack, file: &std::path::Path, plan: Option<&Plan>) -> anyhow::Result<()> {
    let fate = |name: &str| {
        let action = plan.and_then(|plan| {
            let address = Address::new(crate::resource::ResourceKind::Function, name);
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
