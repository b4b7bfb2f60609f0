//! authdemo provisions a "secure microservices on AWS" stack (Cognito user pool, identity pool,
//! IAM, Lambda, API Gateway, usage plan) from one declarative YAML file.
//!
//! The flow (see ../shared/DESIGN.md): [`stack`] parses and validates the file without any AWS
//! call; [`resource`] turns it into desired resources; [`provider`] discovers the [`live`] state
//! by name and ownership tags; [`plan`] diffs the two (pure); [`render`] shows the plan; [`apply`]
//! executes it over the dependency [`graph`]. [`commands`] ties them together for the [`cli`].
//!
//! Every module is private, its items `pub(crate)` at most: [`run`] is the crate's only public
//! door (the binary's `main` calls it), so the compiler reports whatever nothing uses.

mod access;
mod apply;
mod artifact;
mod cli;
mod command_line;
mod commands;
mod completion;
mod error;
mod graph;
mod kinds;
#[cfg(test)]
mod layering;
mod live;
mod logging;
mod outputs;
mod permissions;
mod plan;
mod provider;
mod render;
mod resource;
mod saved_plan;
mod secret;
mod stack;
mod step;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Runs the command line and returns the process exit code (0 ok, 1 error, 2 changes present).
pub fn run() -> ExitCode {
    completion::complete_if_requested(cli::Cli::command);
    let cli = cli::Cli::parse();
    if cli.global.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        anstream::ColorChoice::Never.write_global();
    }
    logging::init(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            if let Some(diagnostics) = error.downcast_ref::<stack::Diagnostics>() {
                anstream::eprintln!("{diagnostics}");
            } else {
                anstream::eprintln!("error: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}
