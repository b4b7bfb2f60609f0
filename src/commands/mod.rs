//! The commands: load the stack, discover, plan, render, confirm, execute. The edge of the
//! program, where typed errors become `anyhow` errors with context for the user.
//!
//! One file per group of commands: [`offline`] (no AWS call), [`plan`], [`change`] (apply and
//! destroy, with the guards of [`guards`] and the lock of [`lock`]), [`read`] (what the live
//! stack gives: output, access, verify).

mod change;
mod guards;
mod lock;
mod offline;
mod plan;
mod read;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::CommandFactory;

use crate::cli::{AwsArgs, Cli, Command, StackArgs};
use crate::live::LiveState;
use crate::plan::Plan;
use crate::provider::{AwsProvider, ConnectOptions, Observed, desired_state, offline_desired_state, sdk_config};
use crate::render::graph;
use crate::resource::{Address, DesiredState};
use crate::stack::Stack;

/// Runs one command.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => offline::validate(&args),
        Command::Plan(args) => plan::plan_command(&args).await,
        Command::Apply(args) => change::apply(&args).await,
        Command::Destroy(args) => change::destroy(&args).await,
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
            std::io::Write::write_all(
                &mut std::io::stdout(),
                &crate::completion::registration(shell, &Cli::command())?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Output(args) => read::output(&args).await,
        Command::Unlock(args) => lock::unlock(&args).await,
        Command::Permissions(args) => offline::permissions(&args),
        Command::Access(args) => read::access(&args).await,
        Command::Verify(args) => read::verify(&args).await,
    }
}

/// Reads and validates the stack file `args` name.
fn load_stack(args: &StackArgs) -> anyhow::Result<Stack> {
    read_stack(args, &args.file, &args.vars).map(|(stack, _)| stack)
}

/// Reads and validates a stack file with `vars` and the boundary `args` give; also returns its
/// text (saved plans record its hash).
fn read_stack(args: &StackArgs, file: &std::path::Path, vars: &[(String, String)]) -> anyhow::Result<(Stack, String)> {
    let (mut stack, text) = crate::stack::load(file, vars)?;
    if let Some(boundary) = &args.permissions_boundary {
        stack.permissions_boundary = Some(boundary.clone());
    }
    crate::provider::check_budgets(&stack)
        .map_err(|problems| anyhow::anyhow!("{}: the stack does not fit AWS's limits:\n{problems}", file.display()))?;
    Ok((stack, text))
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

/// How to reach AWS for `stack`, from the command line.
fn aws_options(aws: &AwsArgs, stack: &Stack) -> ConnectOptions {
    ConnectOptions {
        region: aws.region.clone().or_else(|| stack.region.clone()),
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        attempt_timeout: std::time::Duration::from_secs(aws.call_timeout),
    }
}

/// Connects to AWS, learns the account, and derives the desired state for it.
async fn connect(aws: &AwsArgs, stack: &Stack) -> anyhow::Result<(AwsProvider, DesiredState)> {
    let config = sdk_config(&aws_options(aws, stack)).await?;
    let provider = AwsProvider::connect(&config, &stack.name)
        .await
        .context("cannot identify the AWS account of these credentials")?;
    let desired = desired_state(stack, provider.target());
    Ok((provider, desired))
}

/// Like [`connect`], and sees the stack's lock meanwhile: `apply` and `destroy` take it from
/// that sight.
async fn connect_observing_lock(aws: &AwsArgs, stack: &Stack) -> anyhow::Result<(AwsProvider, DesiredState, Observed)> {
    let config = sdk_config(&aws_options(aws, stack)).await?;
    let (provider, observed) = AwsProvider::connect_observing_lock(&config, &stack.name).await?;
    let desired = desired_state(stack, provider.target());
    Ok((provider, desired, observed))
}

async fn discover(provider: &AwsProvider, desired: &DesiredState, adopt: &[Address]) -> anyhow::Result<LiveState> {
    let adopt = adopt.iter().cloned().collect();
    provider.discover(desired, &adopt).await.context("cannot read the live state from AWS")
}

async fn discover_and_plan(provider: &AwsProvider, desired: &DesiredState, adopt: &[Address]) -> anyhow::Result<Plan> {
    Ok(crate::plan::plan(desired, &discover(provider, desired, adopt).await?))
}
