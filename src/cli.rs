//! The command line: clap types only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::ArgValueCompleter;

use crate::render::{GraphFormat, OutputFormat};
use crate::resource::Address;

/// Provision a Cognito + IAM + Lambda + API Gateway stack from one YAML file.
#[derive(Debug, Parser)]
#[command(name = "authdemo", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// More logging on stderr (-v: each AWS call, wait and retry, and the SDK's warnings; -vv: its debug lines).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No colors in output (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Where and as whom the commands that call AWS call it.
#[derive(Debug, Args)]
pub(crate) struct AwsArgs {
    /// AWS region (overrides the stack file's `region` and the AWS config).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config (SSO and credential_process profiles work).
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator); AWS_ENDPOINT_URL works too.
    #[arg(long, value_hint = clap::ValueHint::Url)]
    pub endpoint_url: Option<String>,
    /// Seconds one try of an AWS call may take before it counts as unanswered (a read is then
    /// tried again, up to three times).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the stack file without calling AWS.
    #[command(after_help = "Examples:\n  authdemo validate -f stacks/demo.yaml --var env=pr-42")]
    Validate(StackArgs),
    /// Show what apply would change, compared with the live AWS state.
    #[command(
        after_help = "Examples:\n  authdemo plan -f stacks/demo.yaml --var env=pr-42\n  authdemo plan -f stacks/demo.yaml --var env=pr-42 --out plan.json --detailed-exitcode"
    )]
    Plan(PlanArgs),
    /// Create, update and delete resources so AWS matches the stack file.
    #[command(
        after_help = "Examples:\n  authdemo apply plan.json\n  authdemo apply -f stacks/demo.yaml --var env=pr-42 --auto-approve"
    )]
    Apply(ApplyArgs),
    /// Delete every resource the stack owns.
    #[command(
        after_help = "Examples:\n  authdemo destroy -f stacks/demo.yaml --var env=pr-42 --dry-run\n  authdemo destroy -f stacks/demo.yaml --var env=pr-42 --auto-approve"
    )]
    Destroy(DestroyArgs),
    /// Print what a web client needs (ids, URLs, API keys), read from AWS.
    #[command(
        after_help = "Examples:\n  authdemo output -f stacks/demo.yaml --format amplify > src/amplify_outputs.json\n  authdemo output -f stacks/demo.yaml --format env --prefix VITE_ > .env.local"
    )]
    Output(OutputArgs),
    /// Say who can call each route of the live deployment, and why (reads only).
    #[command(
        after_help = "Examples:\n  authdemo access -f stacks/demo.yaml\n  authdemo access -f stacks/demo.yaml --format json"
    )]
    Access(AccessArgs),
    /// Call every route as each caller and compare with what `access` says (signing in creates
    /// identities in the identity pool; nothing else changes).
    #[command(
        long_about = "Calls every route of the live deployment as each caller: `public` (no key, unsigned), \
`api_key` (the stack's key, unsigned), `guest` (the identity pool's guest credentials, SigV4) and `signed_in` \
(a user of the stack file signed in, then the identity pool's credentials, SigV4), with the key where the route \
requires one, and compares each answer with the verdict of `authdemo access`. Exits 0 when all agree, 1 when \
any call disagrees or decides nothing (throttled, failed).\n\n\
It changes nothing in AWS but what signing in does: GetId creates an identity in the identity pool for each \
guest (and for the user, the first time). Calls with the API key count against the usage plan's quota.",
        after_help = "Examples:\n  authdemo verify -f stacks/demo.yaml\n  authdemo verify -f stacks/demo.yaml --user demouser --format json"
    )]
    Verify(VerifyArgs),
    /// Print the IAM policy the credentials need to run a command on the stack (no AWS call).
    #[command(
        after_help = "Examples:\n  authdemo permissions -f stacks/demo.yaml --var env=prod --for apply > apply-policy.json"
    )]
    Permissions(PermissionsArgs),
    /// Break the stack's lock, left by a run that died (asks first).
    #[command(after_help = "Examples:\n  authdemo unlock -f stacks/demo.yaml --var env=pr-42")]
    Unlock(UnlockArgs),
    /// Print the dependency graph of the stack's resources (no AWS call).
    #[command(after_help = "Examples:\n  authdemo graph -f stacks/demo.yaml --format dot | dot -Tsvg > stack.svg")]
    Graph(GraphArgs),
    /// Print the JSON Schema of the stack file, for editors.
    #[command(after_help = "Examples:\n  authdemo schema > authdemo.schema.json")]
    Schema,
    /// Print the script that sets up shell completion (addresses for --allow-replace and --adopt
    /// come from the stack file on the command line).
    #[command(
        after_help = "Examples:\n  authdemo completions bash > ~/.local/share/bash-completion/completions/authdemo\n  echo 'source <(authdemo completions zsh)' >> ~/.zshrc\n  authdemo completions fish > ~/.config/fish/completions/authdemo.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `graph` options.
#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

/// Which stack file, with which variables.
#[derive(Debug, Args)]
pub(crate) struct StackArgs {
    /// The stack file.
    #[arg(short, long, default_value = crate::command_line::DEFAULT_STACK_FILE, value_hint = clap::ValueHint::FilePath)]
    pub file: PathBuf,
    /// Set a variable declared under `vars:` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// The managed policy every role of the stack carries as its permissions boundary
    /// (overrides the file's `iam.permissions_boundary`).
    #[arg(long, value_name = "ARN", value_parser = parse_boundary)]
    pub permissions_boundary: Option<String>,
}

impl StackArgs {
    /// `authdemo COMMAND` with this file and these variables, then `extra`: for hints.
    pub(crate) fn command_line(&self, command: &str, extra: &str) -> String {
        crate::command_line::command_line(command, &self.file, &self.vars, extra)
    }
}

/// `plan` options.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Human or JSON output.
    #[command(flatten)]
    pub output: FormatArg,
    /// Also save the plan to this file, for `authdemo apply FILE`.
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Take over the same-named resource that has no ownership tags (repeatable).
    #[arg(long, value_name = "ADDRESS", value_parser = parse_adoptable, value_hint = ValueHint::Other,
          add = ArgValueCompleter::new(crate::completion::adoptable_addresses))]
    pub adopt: Vec<Address>,
}

/// `apply` options.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Apply exactly this saved plan (from `plan --out`) instead of planning anew.
    #[arg(value_name = "PLANFILE", conflicts_with = "vars")]
    pub plan_file: Option<PathBuf>,
    /// Apply without asking (required without a terminal, e.g. in CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Run at most this many AWS changes at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Allow replacing this resource even though replacing it loses data (repeatable).
    #[arg(long, value_name = "ADDRESS", value_hint = ValueHint::Other, add = ArgValueCompleter::new(crate::completion::addresses))]
    pub allow_replace: Vec<Address>,
    /// Allow deleting this resource, removed from the file, although it holds data (repeatable).
    #[arg(long, value_name = "ADDRESS", value_hint = ValueHint::Other, add = ArgValueCompleter::new(crate::completion::addresses))]
    pub allow_delete: Vec<Address>,
    /// Take over the same-named resource that has no ownership tags (repeatable).
    #[arg(long, value_name = "ADDRESS", value_parser = parse_adoptable, conflicts_with = "plan_file",
          value_hint = ValueHint::Other, add = ArgValueCompleter::new(crate::completion::adoptable_addresses))]
    pub adopt: Vec<Address>,
    /// Human or JSON output.
    #[command(flatten)]
    pub output: FormatArg,
    /// Waiting for the stack's lock.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// How long `apply` and `destroy` wait for another run of the same stack to finish.
#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// Seconds to wait for another run that is changing the same stack.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub lock_timeout: u64,
}

/// `access` options.
#[derive(Debug, Args)]
pub(crate) struct AccessArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Human or JSON output.
    #[command(flatten)]
    pub output: FormatArg,
}

/// `verify` options.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The user of the stack file to sign in as (default: its first user); the password comes
    /// from the `${env:…}` the file names.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Seconds a call that disagrees is tried again (backing off) before it counts: right after
    /// an apply, AWS takes a few seconds to apply new policies, permissions and deployments.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub settle: u64,
    /// Human or JSON output.
    #[command(flatten)]
    pub output: FormatArg,
}

/// `permissions` options.
#[derive(Debug, Args)]
pub(crate) struct PermissionsArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// The AWS region of the ARNs (default: the stack file's `region`, else AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// The command the policy is for.
    #[arg(long = "for", value_enum, default_value_t = crate::permissions::ForCommand::Apply)]
    pub command: crate::permissions::ForCommand,
    /// The AWS partition of the account (`aws`, `aws-cn`, `aws-us-gov`).
    #[arg(long, default_value = "aws")]
    pub partition: String,
}

/// `unlock` options.
#[derive(Debug, Args)]
pub(crate) struct UnlockArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Break it without asking.
    #[arg(long)]
    pub auto_approve: bool,
}

/// `destroy` options.
#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Destroy without asking (required without a terminal, e.g. in CI).
    #[arg(long, conflicts_with = "dry_run")]
    pub auto_approve: bool,
    /// Print what destroy would delete, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run at most this many AWS changes at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Human or JSON output.
    #[command(flatten)]
    pub output: FormatArg,
    /// Waiting for the stack's lock.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `output` options.
#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// The stack file and variables.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Where and as whom to call AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputsFormat::Json)]
    pub format: OutputsFormat,
    /// Include API key values (secrets).
    #[arg(long)]
    pub show_sensitive: bool,
    /// With `--format amplify`: the aws-amplify release the configuration is for.
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = crate::outputs::AmplifyVersion::V6)]
    pub amplify_version: crate::outputs::AmplifyVersion,
    /// With `--format amplify`: the user pool client the web app signs in with (default: the
    /// pool's only client).
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// With `--format env`: put this before every variable name, e.g. `VITE_` or `NEXT_PUBLIC_`
    /// for a bundler to hand the values to the web app.
    #[arg(long, value_parser = parse_env_prefix)]
    pub prefix: Option<String>,
}

/// Formats of `authdemo output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputsFormat {
    /// Versioned JSON.
    Json,
    /// `AUTHDEMO_NAME=value` lines.
    Env,
    /// An Amplify web client configuration.
    Amplify,
}

/// `--format human|json` of the commands that print for people or scripts (`--output` is an
/// alias, its name before `--format` became the one name across commands).
#[derive(Debug, Args)]
pub(crate) struct FormatArg {
    /// Output format.
    #[arg(long = "format", alias = "output", value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// An address whose kind can be adopted.
fn parse_adoptable(s: &str) -> Result<Address, String> {
    let address: Address = s.parse().map_err(|e: crate::resource::AddressParseError| e.to_string())?;
    if address.kind.can_adopt() {
        Ok(address)
    } else {
        Err(format!(
            "{} resources cannot be adopted (only user_pool, user_pool_user, identity_pool, iam_role and function)",
            address.kind
        ))
    }
}

/// A prefix that keeps variable names valid: letters, digits and `_`, not starting with a digit.
fn parse_env_prefix(s: &str) -> Result<String, String> {
    let valid =
        s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` would not make variable names (use letters, digits and _)"))
    }
}

fn parse_boundary(s: &str) -> Result<String, String> {
    if crate::stack::is_policy_arn(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not the ARN of a managed policy (arn:aws:iam::ACCOUNT:policy/NAME)"))
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}
