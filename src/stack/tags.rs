//! `tags:`: the tags every taggable resource of the stack carries beside the ownership tags,
//! checked against the rules all the services involved share (Cognito, IAM, Lambda, API Gateway).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::reader::{Field, Reader};
use crate::resource::tags::{RESERVED_PREFIXES, is_reserved};

/// AWS's limit of tags per resource (tags starting with `aws:` do not count).
const AWS_LIMIT: usize = 50;
/// The authdemo tags a resource may carry: stack and address on all, the region on IAM roles.
const AUTHDEMO_TAGS: usize = 3;
/// How many tags the stack file may give.
pub(super) const MAX_TAGS: usize = AWS_LIMIT - AUTHDEMO_TAGS;

/// Reads and validates `tags`.
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>) -> Option<BTreeMap<String, String>> {
    let tags = r.named(field, key_problem, |r, value| {
        let text = r.string(value)?;
        match value_problem(&text.value) {
            Some((message, hint)) => {
                r.error(text.location, value.path(), message, Some(hint));
                None
            }
            None => Some(text.value),
        }
    })?;
    if tags.len() > MAX_TAGS {
        // A block mapping's span starts after its first key: the first key is where it begins.
        let location = r.any_mapping(field).map_or(field.location(), |fields| fields.location());
        r.error(
            location,
            field.path(),
            format!("{} tags are too many", tags.len()),
            Some(format!(
                "AWS allows {AWS_LIMIT} tags per resource and authdemo uses {AUTHDEMO_TAGS}: give at most {MAX_TAGS}"
            )),
        );
        return None;
    }
    Some(tags)
}

/// What is wrong with a tag key, if anything: message and hint.
fn key_problem(key: &str) -> Option<(String, String)> {
    let length = key.chars().count();
    if !(1..=128).contains(&length) {
        return Some((format!("tag key `{key}` has {length} characters"), "use 1 to 128 characters".into()));
    }
    if is_reserved(key) {
        let hint =
            format!("the prefixes {} belong to AWS and authdemo; choose another key", RESERVED_PREFIXES.join(" and "));
        return Some((format!("tag key `{key}` uses a reserved prefix"), hint));
    }
    characters_problem(key).map(|c| (format!("tag key `{key}` contains `{c}`"), ALLOWED.to_string()))
}

/// What is wrong with a tag value, if anything: message and hint.
fn value_problem(value: &str) -> Option<(String, String)> {
    let length = value.chars().count();
    if length > 256 {
        return Some((format!("the tag value has {length} characters"), "use at most 256 characters".into()));
    }
    characters_problem(value).map(|c| (format!("the tag value contains `{c}`"), ALLOWED.to_string()))
}

const ALLOWED: &str = "use letters, digits, spaces and `_ . : / = + - @`";

/// The first character AWS does not allow in tags (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`).
fn characters_problem(text: &str) -> Option<char> {
    text.chars().find(|&c| !(c.is_alphabetic() || c.is_numeric() || is_separator(c) || "_.:/=+-@".contains(c)))
}

/// Whether `c` is a Unicode separator (`\p{Z}`: spaces, line and paragraph separators).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// The schema of `tags`.
pub(super) fn schema() -> Value {
    let allowed = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$";
    json!({
        "type": "object",
        "description": "Tags every taggable resource of the stack carries (beside authdemo's own); a tag added by hand is removed on apply.",
        "maxProperties": MAX_TAGS,
        "propertyNames": { "minLength": 1, "maxLength": 128, "pattern": allowed, "not": { "pattern": "^([aA][wW][sS]|[aA][uU][tT][hH][dD][eE][mM][oO]):" } },
        "additionalProperties": { "type": "string", "maxLength": 256 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_follow_aws_rules() {
        assert_eq!(key_problem("team"), None);
        assert_eq!(key_problem("cost-center/é 1_.:=+@"), None);
        assert!(key_problem("").unwrap().0.contains("0 characters"));
        assert!(key_problem(&"k".repeat(129)).unwrap().0.contains("129 characters"));
        assert!(key_problem("aws:x").unwrap().0.contains("reserved prefix"));
        assert!(key_problem("AuthDemo:id").unwrap().0.contains("reserved prefix"));
        assert!(key_problem("a*b").unwrap().0.contains("`*`"));
        assert_eq!(value_problem(""), None);
        assert_eq!(value_problem(&"v".repeat(256)), None);
        assert!(value_problem(&"v".repeat(257)).unwrap().0.contains("257"));
        assert!(value_problem("a,b").unwrap().0.contains("`,`"));
        assert!(value_problem("tab\there").is_some());
    }
}
