//! One field's value or change as the lines a reviewer reads: scalars as `before → after`, maps
//! key by key (only the keys that change), JSON documents (IAM policies) pretty-printed as valid
//! JSON (a statement copied out of a plan parses) in a line diff with the unchanged statements
//! folded, after Terraform's `jsonencode` diffs.

use std::collections::BTreeMap;

use similar::{ChangeTag, TextDiff};

use crate::resource::Value;

/// What a line does to the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sign {
    /// Added.
    Add,
    /// Removed.
    Remove,
    /// Changed in place.
    Change,
    /// Unchanged context, or a note on what is folded.
    Same,
}

/// One line of a field's diff, `depth` levels deep below the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    /// Nesting below the field (a map's keys are one deeper).
    pub(super) depth: usize,
    /// What the line does.
    pub(super) sign: Sign,
    /// The text, after the sign.
    pub(super) text: String,
}

impl Line {
    fn new(depth: usize, sign: Sign, text: impl Into<String>) -> Self {
        Self { depth, sign, text: text.into() }
    }
}

/// A list shorter than this on one line is shown whole on each side.
const SHORT: usize = 60;

/// The lines of a new field `name` set to `value`.
pub(super) fn created(name: &str, value: &Value) -> Vec<Line> {
    match value {
        Value::Map(map) if !map.is_empty() => {
            let mut lines = vec![Line::new(0, Sign::Add, format!("{name}:"))];
            for (key, text) in map {
                lines.extend(created_text(1, key, text));
            }
            lines
        }
        Value::Str(text) => created_text(0, name, text),
        other => vec![Line::new(0, Sign::Add, format!("{name} = {other}"))],
    }
}

/// The lines of field `name` changing from `before` to `after` (either absent).
pub(super) fn changed(name: &str, before: Option<&Value>, after: Option<&Value>) -> Vec<Line> {
    let mut lines = vec![Line::new(0, Sign::Change, format!("{name}:"))];
    if let (Some(old), Some(new)) = (map_side(before), map_side(after))
        && (old.is_some() || new.is_some())
    {
        lines.extend(map_changes(old.unwrap_or(&BTreeMap::new()), new.unwrap_or(&BTreeMap::new())));
        return lines;
    }
    match (before, after) {
        (Some(Value::Str(old)), Some(Value::Str(new)))
            if json_document(old).is_some() && json_document(new).is_some() =>
        {
            lines.extend(document_changes(1, old, new));
            lines
        }
        (Some(Value::List(old)), Some(Value::List(new))) if !fits(old, new) => {
            lines.extend(list_changes(old, new));
            lines
        }
        (before, after) => {
            let shown = |value: Option<&Value>| value.map_or_else(|| "(none)".to_string(), ToString::to_string);
            vec![Line::new(0, Sign::Change, format!("{name}: {} → {}", shown(before), shown(after)))]
        }
    }
}

/// One side of a map field: `Some(Some(map))`, `Some(None)` when absent, `None` when not a map.
fn map_side(value: Option<&Value>) -> Option<Option<&BTreeMap<String, String>>> {
    match value {
        Some(Value::Map(map)) => Some(Some(map)),
        None => Some(None),
        Some(_) => None,
    }
}

/// Whether both lists fit on one line.
fn fits(old: &[String], new: &[String]) -> bool {
    let width = |items: &[String]| items.iter().map(|i| i.len() + 4).sum::<usize>();
    width(old) <= SHORT && width(new) <= SHORT
}

/// A long list as the items it gains and loses; a mere reordering shows both orders.
fn list_changes(old: &[String], new: &[String]) -> Vec<Line> {
    let removed: Vec<&String> = old.iter().filter(|i| !new.contains(i)).collect();
    let added: Vec<&String> = new.iter().filter(|i| !old.contains(i)).collect();
    if removed.is_empty() && added.is_empty() {
        return vec![Line::new(1, Sign::Remove, format!("{old:?}")), Line::new(1, Sign::Add, format!("{new:?}"))];
    }
    let mut lines = Vec::new();
    lines.extend(removed.iter().map(|item| Line::new(1, Sign::Remove, format!("{item:?}"))));
    lines.extend(added.iter().map(|item| Line::new(1, Sign::Add, format!("{item:?}"))));
    lines.extend(folded(1, old.len() - removed.len(), "item"));
    lines
}

/// The keys of a map that change, then how many do not.
fn map_changes(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut unchanged = 0;
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (Some(was), Some(is)) if was == is => unchanged += 1,
            (Some(was), Some(is)) if json_document(was).is_some() && json_document(is).is_some() => {
                lines.push(Line::new(1, Sign::Change, format!("{key}:")));
                lines.extend(document_changes(2, was, is));
            }
            (Some(was), Some(is)) => lines.push(Line::new(1, Sign::Change, format!("{key}: {was:?} → {is:?}"))),
            (Some(was), None) => lines.extend(removed_text(1, key, was)),
            (None, Some(is)) => lines.extend(created_text(1, key, is)),
            (None, None) => {}
        }
    }
    lines.extend(folded(1, unchanged, "key"));
    lines
}

fn created_text(depth: usize, key: &str, text: &str) -> Vec<Line> {
    whole_text(depth, Sign::Add, key, text)
}

fn removed_text(depth: usize, key: &str, text: &str) -> Vec<Line> {
    whole_text(depth, Sign::Remove, key, text)
}

/// `key = "text"`, or `key:` and the document's lines when the text is a JSON document.
fn whole_text(depth: usize, sign: Sign, key: &str, text: &str) -> Vec<Line> {
    let Some(document) = json_document(text) else { return vec![Line::new(depth, sign, format!("{key} = {text:?}"))] };
    let mut lines = vec![Line::new(depth, sign, format!("{key}:"))];
    lines.extend(pretty(&document).lines().map(|line| Line::new(depth + 1, sign, line)));
    lines
}

/// `text` parsed, when it is a JSON object (policy documents are).
fn json_document(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(text).ok().filter(serde_json::Value::is_object)
}

/// Stands in a document for a statement both sides have, so the line diff folds it.
const UNCHANGED_STATEMENT: &str = "authdemo: unchanged statement";

/// The line diff of two JSON documents, pretty-printed with their commas, with the statements
/// both have folded. The lines are matched without their trailing commas, so that adding an
/// element changes one line, not two; each line then shows as its side has it (an unchanged one
/// as the new document has it), so the added and unchanged lines read as the new document.
fn document_changes(depth: usize, old: &str, new: &str) -> Vec<Line> {
    let (mut old, mut new) = (json_document(old).unwrap_or_default(), json_document(new).unwrap_or_default());
    fold_shared_statements(&mut old, &mut new);
    let (old, new) = (pretty(&old), pretty(&new));
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let (old_bare, new_bare) = (without_commas(&old_lines), without_commas(&new_lines));
    let mut lines: Vec<Line> = Vec::new();
    let mut hidden = (0, "");
    let diff = TextDiff::from_lines(&old_bare, &new_bare);
    for change in diff.iter_all_changes() {
        let text = match (change.new_index(), change.old_index()) {
            (Some(index), _) => new_lines[index],
            (None, Some(index)) => old_lines[index],
            (None, None) => continue,
        };
        let indent = &text[..text.len() - text.trim_start().len()];
        if text.trim().trim_end_matches(',') == format!("{UNCHANGED_STATEMENT:?}") {
            hidden = (hidden.0 + 1, indent);
            continue;
        }
        lines.extend(folded_in(depth, std::mem::take(&mut hidden), "statement"));
        let sign = match change.tag() {
            ChangeTag::Equal => Sign::Same,
            ChangeTag::Delete => Sign::Remove,
            ChangeTag::Insert => Sign::Add,
        };
        lines.push(Line::new(depth, sign, text));
    }
    lines.extend(folded_in(depth, hidden, "statement"));
    lines
}

/// The lines without their trailing commas, one text, for the line diff.
fn without_commas(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{}\n", line.strip_suffix(',').unwrap_or(line))).collect()
}

/// The folded line for `count` items, indented like the JSON lines they stand for.
fn folded_in(depth: usize, (count, indent): (usize, &str), what: &str) -> Option<Line> {
    folded(depth, count, what).map(|line| Line { text: format!("{indent}{}", line.text), ..line })
}

/// Replaces each statement `old` and `new` both have by a marker.
fn fold_shared_statements(old: &mut serde_json::Value, new: &mut serde_json::Value) {
    let (Some(old_statements), Some(new_statements)) = (statements(old), statements(new)) else { return };
    let marker = serde_json::Value::String(UNCHANGED_STATEMENT.to_string());
    for statement in old_statements.iter_mut() {
        if let Some(same) = new_statements.iter_mut().find(|s| **s == *statement) {
            *same = marker.clone();
            *statement = marker.clone();
        }
    }
}

/// The document's statements as a list (AWS allows a single statement object).
fn statements(document: &mut serde_json::Value) -> Option<&mut Vec<serde_json::Value>> {
    let statement = document.get_mut("Statement")?;
    if statement.is_object() {
        *statement = serde_json::Value::Array(vec![statement.take()]);
    }
    statement.as_array_mut()
}

/// The document as pretty JSON, two spaces per level, commas included.
fn pretty(document: &serde_json::Value) -> String {
    serde_json::to_string_pretty(document).expect("a JSON value always serializes")
}

/// `# (N unchanged WHATs hidden)`, when there are any.
fn folded(depth: usize, count: usize, what: &str) -> Option<Line> {
    (count > 0).then(|| Line::new(depth, Sign::Same, format!("# ({count} unchanged {what}{} hidden)", plural(count))))
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
