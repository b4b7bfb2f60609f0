//! The commands that need no AWS call: `validate` and `permissions`.

use std::process::ExitCode;

use super::guards::refuse_blocked_runtimes;
use super::load_stack;
use crate::cli::{PermissionsArgs, StackArgs};
use crate::provider::offline_desired_state;

/// `authdemo validate`: the stack file alone, no AWS call.
pub(super) fn validate(args: &StackArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(args)?;
    refuse_blocked_runtimes(&stack, &args.file, None)?;
    let count = offline_desired_state(&stack).resources.len();
    println!("{}: valid (stack `{}`, {count} resources)", args.file.display(), stack.name);
    Ok(ExitCode::SUCCESS)
}

/// `authdemo permissions`: the IAM policy a command needs on this stack, without AWS.
pub(super) fn permissions(args: &PermissionsArgs) -> anyhow::Result<ExitCode> {
    let stack = load_stack(&args.stack)?;
    let region = args.region.clone().or_else(|| stack.region.clone()).or_else(|| std::env::var("AWS_REGION").ok());
    let region = region.unwrap_or_else(|| "*".into());
    let scope = crate::permissions::Scope {
        stack: &stack.name,
        partition: &args.partition,
        region: &region,
        boundary: stack.permissions_boundary.as_deref(),
    };
    let policy = match args.command {
        crate::permissions::ForCommand::Boundary => crate::permissions::boundary(&scope, &stack),
        command => crate::permissions::policy(&scope, command),
    };
    println!("{}", serde_json::to_string_pretty(&policy).expect("a policy is plain data"));
    Ok(ExitCode::SUCCESS)
}
