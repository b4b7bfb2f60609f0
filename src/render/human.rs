//! The plan as a human-readable diff: one block per changed resource, then a summary line.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::field_diff::{self, Line, Sign};
use crate::plan::{Action, Plan, ResourceChange};

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Renders `plan`; colors are ANSI codes that the caller's stream strips where unwanted.
pub(crate) fn plan(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Stack {BOLD}{}{BOLD:#} in account {} ({}):\n", plan.stack, plan.account, plan.region);
    for ignored in &plan.ignored {
        let _ = writeln!(
            out,
            "{YELLOW}! ignoring {} {}{YELLOW:#}: {}; authdemo never modifies or deletes it\n",
            ignored.address.kind, ignored.id, ignored.reason
        );
    }
    for conflict in &plan.conflicts {
        let _ = writeln!(
            out,
            "{RED}✗ conflict: {} is already taken by {}{RED:#}: {}.\n    apply refuses to create a second one or to touch it; {}\n",
            conflict.address,
            conflict.id,
            conflict.reason,
            conflict.hint()
        );
    }
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        resource_block(&mut out, change);
    }
    let unchanged = plan.changes.iter().filter(|c| c.action == Action::NoOp).count();
    let mut noted = false;
    for change in plan.changes.iter().filter(|c| c.action == Action::NoOp) {
        for note in &change.notes {
            let _ = writeln!(out, "  {DIM}# {}: {note}{DIM:#}", change.address);
            noted = true;
        }
    }
    if noted {
        out.push('\n');
    }
    if !plan.has_changes() {
        let matches = if noted { "nothing to do" } else { "AWS matches the stack file" };
        let _ = writeln!(out, "No changes: {matches} ({unchanged} resources checked).");
        return out;
    }
    let s = plan.summary();
    let _ = writeln!(
        out,
        "{BOLD}Plan:{BOLD:#} {} to add, {} to change, {} to destroy.{}",
        s.add,
        s.change,
        s.destroy,
        if unchanged > 0 { format!(" ({unchanged} unchanged)") } else { String::new() }
    );
    out
}

fn resource_block(out: &mut String, change: &ResourceChange) {
    let (symbol, style, verb) = match change.action {
        Action::Create => ("+", GREEN, "will be created"),
        Action::Update => ("~", YELLOW, "will be updated in place"),
        Action::Replace => ("-/+", RED, "will be replaced"),
        Action::Delete => ("-", RED, "will be destroyed"),
        Action::NoOp => return,
    };
    let id = change.id.as_deref().map(|id| format!(" {DIM}(id {id}){DIM:#}")).unwrap_or_default();
    let reason = if change.reason.adds_to_action() { format!(": {}", change.reason) } else { String::new() };
    let _ = writeln!(out, "  {DIM}# {} {verb}{reason}{DIM:#}", change.address);
    let _ = writeln!(out, "  {style}{symbol}{style:#} {BOLD}{}{BOLD:#}{id}", change.address);
    match change.action {
        Action::Create => {
            for (field, value) in change.after.iter().flatten() {
                write_lines(out, &field_diff::created(field, value), "");
            }
        }
        Action::Delete => {}
        _ => {
            for field in &change.changed_fields {
                let forces =
                    if field.forces_replacement { format!(" {RED}# forces replacement{RED:#}") } else { String::new() };
                write_lines(
                    out,
                    &field_diff::changed(&field.field, field.before.as_ref(), field.after.as_ref()),
                    &forces,
                );
            }
        }
    }
    if change.adopt {
        let _ = writeln!(out, "      {YELLOW}+ tags: authdemo:stack, authdemo:id (adopted){YELLOW:#}");
    }
    for note in &change.notes {
        let _ = writeln!(out, "      {DIM}note: {note}{DIM:#}");
    }
    out.push('\n');
}

/// Writes a field's lines below its resource, `suffix` after the first.
fn write_lines(out: &mut String, lines: &[Line], suffix: &str) {
    for (index, line) in lines.iter().enumerate() {
        let (sign, style) = match line.sign {
            Sign::Add => ("+", GREEN),
            Sign::Remove => ("-", RED),
            Sign::Change => ("~", YELLOW),
            Sign::Same => (" ", DIM),
        };
        let indent = "    ".repeat(line.depth);
        let suffix = if index == 0 { suffix } else { "" };
        let _ = writeln!(out, "      {indent}{style}{sign}{style:#} {}{suffix}", line.text);
    }
}

#[cfg(test)]
mod tests;
