//! Saved plans (`plan --out FILE`, `apply FILE`): the plan as versioned JSON with what it was made
//! from: the stack file's hash, the variables, the account and region. Applying one re-plans
//! against the live state and refuses, saying what changed, unless the result is the same plan.
//! No secret is saved: values from the environment are read again when the plan is applied.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::plan::{FORMAT_VERSION, Plan};
use crate::resource::Address;

/// What identifies a saved plan file.
const KIND: &str = "authdemo-saved-plan";

/// A saved plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always `authdemo-saved-plan`.
    pub kind: String,
    /// The format version.
    pub format_version: u32,
    /// The stack file as it was named.
    pub stack_file: PathBuf,
    /// SHA-256 (hex) of the stack file's text.
    pub stack_file_sha256: String,
    /// `--var` overrides in command-line order.
    pub vars: Vec<(String, String)>,
    /// `--adopt` addresses.
    pub adopt: Vec<String>,
    /// The account the plan was made against.
    pub account: String,
    /// The region the plan was made against.
    pub region: String,
    /// The plan, as `plan --output json` prints it.
    pub plan: Value,
}

/// Why a saved plan cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// The file cannot be read or is not a saved plan.
    #[error("{path}: {problem}\n  Make a new one with `authdemo plan --out {path}`")]
    Unreadable {
        /// The plan file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The stack file changed since the plan was made.
    #[error(
        "the stack file {0} changed since the plan was made; nothing was changed.\n  Review the new changes with `authdemo plan --out FILE`, then apply that file"
    )]
    StackFileChanged(String),
    /// The credentials belong to another account or region.
    #[error(
        "the plan was made for account {planned}, and these credentials are for {actual}; nothing was changed.\n  Use the credentials (or --profile) the plan was made with"
    )]
    OtherTarget {
        /// Account and region of the plan.
        planned: String,
        /// Account and region now.
        actual: String,
    },
    /// The live state no longer matches.
    #[error("the plan is stale: AWS changed since it was made, and nothing was changed:\n{}\n  Review the new changes with `authdemo plan --out FILE`, then apply that file", .0.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n"))]
    Stale(Vec<String>),
}

/// SHA-256 (hex) of a stack file's text.
pub fn file_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl SavedPlan {
    /// A saved plan of `plan`, made from `stack_file` (whose text is `text`) with `vars`.
    pub fn new(plan: &Plan, stack_file: &Path, text: &str, vars: &[(String, String)], adopt: &[Address]) -> Self {
        Self {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            stack_file: stack_file.to_path_buf(),
            stack_file_sha256: file_hash(text),
            vars: vars.to_vec(),
            adopt: adopt.iter().map(ToString::to_string).collect(),
            account: plan.account.clone(),
            region: plan.region.clone(),
            plan: serde_json::from_str(&crate::render::json::plan(plan)).expect("a rendered plan is JSON"),
        }
    }

    /// Reads a saved plan file.
    pub fn read(path: &Path) -> Result<Self, SavedPlanError> {
        let unreadable = |problem: String| SavedPlanError::Unreadable { path: path.display().to_string(), problem };
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(format!("cannot read it: {e}")))?;
        let saved: SavedPlan =
            serde_json::from_str(&text).map_err(|e| unreadable(format!("not an authdemo saved plan ({e})")))?;
        if saved.kind != KIND || saved.format_version != FORMAT_VERSION {
            return Err(unreadable(format!(
                "a saved plan of format {} `{}`, and this authdemo reads format {FORMAT_VERSION}",
                saved.format_version, saved.kind
            )));
        }
        Ok(saved)
    }

    /// The `--adopt` addresses the plan was made with.
    pub fn adopt(&self) -> Result<Vec<Address>, SavedPlanError> {
        self.adopt.iter().map(|a| a.parse()).collect::<Result<_, _>>().map_err(
            |e: crate::resource::AddressParseError| SavedPlanError::Unreadable {
                path: self.stack_file.display().to_string(),
                problem: e.to_string(),
            },
        )
    }

    /// Checks that `fresh` (planned now from the same stack file) is the saved plan.
    pub fn check(&self, text: &str, fresh: &Plan) -> Result<(), SavedPlanError> {
        if file_hash(text) != self.stack_file_sha256 {
            return Err(SavedPlanError::StackFileChanged(self.stack_file.display().to_string()));
        }
        if (fresh.account.as_str(), fresh.region.as_str()) != (self.account.as_str(), self.region.as_str()) {
            return Err(SavedPlanError::OtherTarget {
                planned: format!("{} ({})", self.account, self.region),
                actual: format!("{} ({})", fresh.account, fresh.region),
            });
        }
        let now: Value = serde_json::from_str(&crate::render::json::plan(fresh)).expect("a rendered plan is JSON");
        let differences = differences(&self.plan["changes"], &now["changes"]);
        if differences.is_empty() { Ok(()) } else { Err(SavedPlanError::Stale(differences)) }
    }
}

/// What differs between two lists of changes, one line per resource.
fn differences(saved: &Value, now: &Value) -> Vec<String> {
    let by_address = |changes: &Value| -> Vec<(String, Value)> {
        changes
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["address"].as_str().unwrap_or_default().to_string(), c.clone()))
            .collect()
    };
    let (saved, now) = (by_address(saved), by_address(now));
    let mut lines = Vec::new();
    for (address, was) in &saved {
        match now.iter().find(|(a, _)| a == address) {
            None => lines.push(format!("{address}: no longer part of the plan")),
            Some((_, is)) if is["action"] != was["action"] => lines.push(format!(
                "{address}: was to {}, now {}",
                was["action"].as_str().unwrap_or_default(),
                is["action"].as_str().unwrap_or_default()
            )),
            Some((_, is)) if is != was => {
                let fields = |c: &Value| c["before"].clone();
                let changed: Vec<String> = match (fields(was), fields(is)) {
                    (Value::Object(a), Value::Object(b)) => b
                        .iter()
                        .filter(|(k, v)| a.get(*k) != Some(*v))
                        .map(|(k, v)| format!("{k} is now {v}"))
                        .collect(),
                    _ => vec!["its live state changed".to_string()],
                };
                let detail = if changed.is_empty() { "its live state changed".to_string() } else { changed.join(", ") };
                lines.push(format!("{address}: {detail}"));
            }
            Some(_) => {}
        }
    }
    for (address, is) in &now {
        if !saved.iter().any(|(a, _)| a == address) {
            lines.push(format!("{address}: new in the plan ({})", is["action"].as_str().unwrap_or_default()));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_what_changed_per_resource() {
        let saved = json!([
            { "address": "user_pool.main", "action": "update", "before": { "min": 8 } },
            { "address": "api_stage.v1", "action": "no_op", "before": { "fp": "a" } },
            { "address": "gone.x", "action": "create" },
        ]);
        let now = json!([
            { "address": "user_pool.main", "action": "update", "before": { "min": 10 } },
            { "address": "api_stage.v1", "action": "update", "before": { "fp": "b" } },
            { "address": "new.y", "action": "delete" },
        ]);
        assert_eq!(
            differences(&saved, &now),
            [
                "user_pool.main: min is now 10",
                "api_stage.v1: was to no_op, now update",
                "gone.x: no longer part of the plan",
                "new.y: new in the plan (delete)",
            ]
        );
        assert!(differences(&saved, &saved).is_empty());
    }
}
