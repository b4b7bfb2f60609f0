//! Output for people and for scripts: the plan as a diff or as versioned JSON, and progress.
//! Colors go through `anstream`, which drops them off a terminal, with NO_COLOR or --no-color.

mod field_diff;
pub(crate) mod graph;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod progress;

use clap::ValueEnum;

/// Human-readable or machine-readable output. Every command takes it as `--format`, like
/// `output` and `graph` do (`--out` names files); `--output`, the old name, stays a hidden alias
/// so existing scripts keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people.
    Human,
    /// Versioned JSON for scripts.
    Json,
}

/// Graph languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid (renders in GitHub and GitLab markdown).
    Mermaid,
}
