//! The plan as versioned JSON (`format_version`), the contract CI scripts parse; see README.md.

use serde::Serialize;

use crate::plan::{FORMAT_VERSION, Plan, Summary};

#[derive(Serialize)]
struct JsonPlan<'a> {
    format_version: u32,
    summary: Summary,
    has_changes: bool,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// Renders `plan` as pretty JSON. Secrets appear only as `"(sensitive)"`.
pub fn plan(plan: &Plan) -> String {
    let document =
        JsonPlan { format_version: FORMAT_VERSION, summary: plan.summary(), has_changes: plan.has_changes(), plan };
    serde_json::to_string_pretty(&document).expect("a plan is plain data and always serializes")
}
