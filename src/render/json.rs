//! The plan as versioned JSON (`format_version`), the contract CI scripts parse; see README.md.

use serde::Serialize;

use crate::plan::{FORMAT_VERSION, Plan, Summary};

#[derive(Serialize)]
struct JsonPlan<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'static str>,
    format_version: u32,
    summary: Summary,
    has_changes: bool,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// Renders `plan` as pretty JSON (`plan --output json`). Secrets appear only as `"(sensitive)"`.
pub(crate) fn plan(plan: &Plan) -> String {
    serde_json::to_string_pretty(&document(plan, None)).expect("a plan is plain data and always serializes")
}

/// `plan` as the JSON value [`plan`] prints: what a saved plan keeps, and compares a fresh plan
/// with, without printing and parsing it back.
pub(crate) fn plan_value(plan: &Plan) -> serde_json::Value {
    serde_json::to_value(document(plan, None)).expect("a plan is plain data and always serializes")
}

/// Renders `plan` as one JSON line with `"event": "plan"`, the first line of a progress stream.
pub(crate) fn plan_event(plan: &Plan) -> String {
    serde_json::to_string(&document(plan, Some("plan"))).expect("a plan is plain data and always serializes")
}

fn document<'a>(plan: &'a Plan, event: Option<&'static str>) -> JsonPlan<'a> {
    JsonPlan { event, format_version: FORMAT_VERSION, summary: plan.summary(), has_changes: plan.has_changes(), plan }
}
