//! The commands that read the live stack: `output`, `access` and `verify`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use super::{connect, discover, load_stack};
use crate::cli::{AccessArgs, OutputArgs, OutputsFormat, VerifyArgs};
use crate::live::LiveState;
use crate::outputs::Outputs;
use crate::provider::AwsProvider;
use crate::render::OutputFormat;
use crate::stack::Stack;

/// `authdemo output`: what a web client needs, from the live state.
pub(super) async fn output(args: &OutputArgs) -> anyhow::Result<ExitCode> {
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
pub(super) async fn access(args: &AccessArgs) -> anyhow::Result<ExitCode> {
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
pub(super) async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
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
    let endpoint = crate::verify::http::Endpoint { http: &http, url: &url, settle };
    let mut report = crate::verify::run(&endpoint, &deployment, &expected, &configured, &callers).await;
    report.sign_up = Some(crate::verify::sign_up::check(&provider, &live, deployment.self_sign_up).await);
    report.hosted_ui = crate::verify::hosted_ui::check(&provider, &http, &stack, &intended).await;
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
