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
pub(crate) struct SavedPlan {
    /// Always `authdemo-saved-plan`.
    pub kind: String,
    /// The format version.
    pub format_version: u32,
    /// The stack file's absolute path when the plan was made.
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
pub(crate) enum SavedPlanError {
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
    /// The live state, or the local files the stack file names (function code), no longer match.
    #[error("the plan is stale: what it was made from changed since, and nothing was changed:\n{}\n  Review the new changes with `authdemo plan --out FILE`, then apply that file", .0.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n"))]
    Stale(Vec<String>),
    /// `plan --out` names a file that is not a saved plan (the stack file, say).
    #[error(
        "refusing to write the plan to {path}: {problem}; nothing was written.\n  Name a new file, e.g. --out plan.json"
    )]
    BadDestination {
        /// The `--out` file.
        path: String,
        /// Why it is not one to overwrite.
        problem: &'static str,
    },
}

/// Refuses an `--out` file that is the stack file or an existing file that is not a saved plan,
/// before anything is planned.
pub(crate) fn check_destination(out: &Path, stack_file: &Path) -> Result<(), SavedPlanError> {
    let bad = |problem| Err(SavedPlanError::BadDestination { path: out.display().to_string(), problem });
    if !out.exists() {
        return Ok(());
    }
    let same =
        |a: &Path, b: &Path| std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a));
    if same(out, stack_file) {
        return bad("it is the stack file");
    }
    match SavedPlan::read(out) {
        Ok(_) => Ok(()),
        Err(_) => bad("it exists and is not an authdemo saved plan"),
    }
}

/// SHA-256 (hex) of a stack file's text.
pub(crate) fn file_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl SavedPlan {
    /// A saved plan of `plan`, made from `stack_file` (whose text is `text`) with `vars`.
    pub(crate) fn new(
        plan: &Plan,
        stack_file: &Path,
        text: &str,
        vars: &[(String, String)],
        adopt: &[Address],
    ) -> Self {
        Self {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            stack_file: std::fs::canonicalize(stack_file).unwrap_or_else(|_| stack_file.to_path_buf()),
            stack_file_sha256: file_hash(text),
            vars: vars.to_vec(),
            adopt: adopt.iter().map(ToString::to_string).collect(),
            account: plan.account.clone(),
            region: plan.region.clone(),
            plan: crate::render::json::plan_value(plan),
        }
    }

    /// Writes the plan to `path`, readable by its owner only (mode 0600 on Unix): it names the
    /// account's resources, and CI uploads it as an artifact.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let json = serde_json::to_string_pretty(self).expect("a saved plan is plain data");
        // A new file, created with its mode, then renamed over `path`: an existing file (or a
        // symbolic link there) is replaced, never written through or re-moded.
        let temporary = path.with_file_name(format!(
            ".{}.{}.tmp",
            path.file_name().map_or_else(|| "plan".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|mut file| file.write_all(json.as_bytes()));
        match written.and_then(|()| std::fs::rename(&temporary, path)) {
            Ok(()) => Ok(()),
            Err(error) => {
                drop(std::fs::remove_file(&temporary));
                Err(error)
            }
        }
    }

    /// Reads a saved plan file.
    pub(crate) fn read(path: &Path) -> Result<Self, SavedPlanError> {
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

    /// The stack file to apply the plan with: `given` (`-f`, e.g. in another checkout) when it
    /// holds the text the plan was made from, else the path the plan recorded.
    pub(crate) fn stack_file(&self, given: &Path) -> PathBuf {
        let matches = std::fs::read_to_string(given).is_ok_and(|text| file_hash(&text) == self.stack_file_sha256);
        if matches { given.to_path_buf() } else { self.stack_file.clone() }
    }

    /// The `--adopt` addresses the plan was made with.
    pub(crate) fn adopt(&self) -> Result<Vec<Address>, SavedPlanError> {
        self.adopt.iter().map(|a| a.parse()).collect::<Result<_, _>>().map_err(
            |e: crate::resource::AddressParseError| SavedPlanError::Unreadable {
                path: self.stack_file.display().to_string(),
                problem: e.to_string(),
            },
        )
    }

    /// Checks that `fresh` (planned now from the same stack file) is the saved plan.
    pub(crate) fn check(&self, text: &str, fresh: &Plan) -> Result<(), SavedPlanError> {
        if file_hash(text) != self.stack_file_sha256 {
            return Err(SavedPlanError::StackFileChanged(self.stack_file.display().to_string()));
        }
        if (fresh.account.as_str(), fresh.region.as_str()) != (self.account.as_str(), self.region.as_str()) {
            return Err(SavedPlanError::OtherTarget {
                planned: format!("{} ({})", self.account, self.region),
                actual: format!("{} ({})", fresh.account, fresh.region),
            });
        }
        let now = crate::render::json::plan_value(fresh);
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
            Some((_, is)) if is != was => {
                let mut changed = changed_fields(&was["after"], &is["after"], "changed here (local files) to", "");
                changed.extend(changed_fields(&was["before"], &is["before"], "is now", " in AWS"));
                let action = |c: &Value| c["action"].as_str().unwrap_or_default().to_string();
                let mut detail = Vec::new();
                if is["action"] != was["action"] {
                    detail.push(format!("was to {}, now {}", action(was), action(is)));
                }
                if changed.is_empty() && detail.is_empty() {
                    detail.push("its live state changed".to_string());
                }
                detail.extend(changed);
                lines.push(format!("{address}: {}", detail.join(", ")));
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

/// `FIELD WHAT VALUE WHERE` for each field of `now` that differs from `was` (two attribute objects).
fn changed_fields(was: &Value, now: &Value, what: &str, place: &str) -> Vec<String> {
    let Value::Object(now) = now else { return Vec::new() };
    now.iter()
        .filter(|(field, value)| was.get(field.as_str()) != Some(*value))
        .map(|(field, value)| format!("{field} {what} {value}{place}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_plan_is_written_owner_only_and_replaces_a_link_instead_of_writing_through_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, "keep me").unwrap();
        let out = dir.path().join("plan.json");
        std::os::unix::fs::symlink(&elsewhere, &out).unwrap();
        let saved = SavedPlan {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            stack_file: "stack.yaml".into(),
            stack_file_sha256: file_hash(""),
            vars: Vec::new(),
            adopt: Vec::new(),
            account: "123456789012".into(),
            region: "us-west-2".into(),
            plan: json!({}),
        };
        saved.write(&out).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me");
        let written = std::fs::symlink_metadata(&out).unwrap();
        assert!(written.file_type().is_file());
        assert_eq!(written.permissions().mode() & 0o777, 0o600);
        assert_eq!(SavedPlan::read(&out).unwrap(), saved);
    }

    #[test]
    fn names_what_changed_per_resource() {
        let saved = json!([
            { "address": "user_pool.main", "action": "update", "before": { "min": 8 } },
            { "address": "api_stage.v1", "action": "no_op", "before": { "fp": "a" } },
            { "address": "function.api", "action": "no_op", "after": { "code_sha256": "old" } },
            { "address": "gone.x", "action": "create" },
        ]);
        let now = json!([
            { "address": "user_pool.main", "action": "update", "before": { "min": 10 } },
            { "address": "api_stage.v1", "action": "update", "before": { "fp": "b" } },
            { "address": "function.api", "action": "no_op", "after": { "code_sha256": "new" } },
            { "address": "new.y", "action": "delete" },
        ]);
        assert_eq!(
            differences(&saved, &now),
            [
                "user_pool.main: min is now 10 in AWS",
                "api_stage.v1: was to no_op, now update, fp is now \"b\" in AWS",
                "function.api: code_sha256 changed here (local files) to \"new\"",
                "gone.x: no longer part of the plan",
                "new.y: new in the plan (delete)",
            ]
        );
        assert!(differences(&saved, &saved).is_empty());
    }
}
