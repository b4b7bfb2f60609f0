//! IAM policy statements written in the stack file (extra permissions for roles and functions).

use serde_json::{Value, json};

use super::reader::{Field, Fields, Reader};
use super::schema::{list, object, one_of, strings, text};

pub(super) const STATEMENT_FIELDS: &[&str] =
    &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"];

/// Reads a list of IAM statements into JSON, checking their shape.
pub(super) fn read_statements(r: &mut Reader<'_>, field: Field<'_>) -> Option<Vec<Value>> {
    r.list(field, read_statement)
}

fn read_statement(r: &mut Reader<'_>, field: Field<'_>) -> Option<Value> {
    let f = r.mapping(field, STATEMENT_FIELDS)?;
    let mut statement = serde_json::Map::new();
    let mut ok = true;
    if let Some(sid) = f.get("Sid") {
        match r.string_matching(
            sid.field(),
            |s| s.chars().all(|c| c.is_ascii_alphanumeric()),
            "is not a valid Sid",
            "use letters and digits only",
        ) {
            Some(sid) => drop(statement.insert("Sid".into(), json!(sid))),
            None => ok = false,
        }
    }
    if let Some(effect) = f.get("Effect") {
        match r.one_of(effect.field(), &["Allow", "Deny"]) {
            Some(effect) => drop(statement.insert("Effect".into(), json!(effect))),
            None => ok = false,
        }
    } else {
        r.missing(&f, "Effect", "add `Effect: Allow` or `Effect: Deny`");
        ok = false;
    }
    for (positive, negative, example) in [
        ("Action", "NotAction", "e.g. `Action: [dynamodb:GetItem]`"),
        ("Resource", "NotResource", "e.g. `Resource: [\"arn:aws:dynamodb:…:table/items\"]`"),
    ] {
        ok &= read_targets(r, &f, (positive, negative, example), &mut statement);
    }
    if let Some(condition) = f.get("Condition") {
        if let Some(value @ Value::Object(_)) = r.json(condition.field()) {
            drop(statement.insert("Condition".into(), value));
        } else {
            r.error(condition.field().location(), condition.path(), "expected a mapping of condition operators", None);
            ok = false;
        }
    }
    ok.then_some(Value::Object(statement))
}

/// Reads exactly one of `positive` / `negative` (`Action` / `NotAction`, `Resource` /
/// `NotResource`) into `statement`; `example` is the hint. Whether it read well.
fn read_targets(
    r: &mut Reader<'_>,
    f: &Fields<'_>,
    (positive, negative, example): (&str, &str, &str),
    statement: &mut serde_json::Map<String, Value>,
) -> bool {
    let present: Vec<&str> = [positive, negative].into_iter().filter(|k| f.get(k).is_some()).collect();
    if present.len() != 1 {
        r.error(
            f.location(),
            &format!("{}.{positive}", f.path()),
            format!("a statement needs exactly one of `{positive}` and `{negative}`"),
            Some(example.to_string()),
        );
        return false;
    }
    let key = present[0];
    let owned = f.get(key).expect("checked present");
    let values = if owned.field().is_scalar() {
        r.string(owned.field()).map(|s| vec![s.value])
    } else {
        r.list(owned.field(), |r, item| r.string(item).map(|s| s.value))
    };
    let Some(values) = values else { return false };
    if values.is_empty() {
        r.error(owned.field().location(), owned.path(), "must not be empty", Some(example.to_string()));
        return false;
    }
    let mut ok = true;
    for value in values.iter().filter(|v| positive == "Action" && !is_action_name(v)) {
        r.error(
            owned.field().location(),
            owned.path(),
            format!("`{value}` is not an IAM action"),
            Some("write SERVICE:ACTION, e.g. `dynamodb:GetItem` (wildcards allowed)".into()),
        );
        ok = false;
    }
    statement.insert(key.into(), json!(values));
    ok
}

fn is_action_name(action: &str) -> bool {
    action == "*"
        || action.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty()
                && service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
        })
}

/// The schema of a list of IAM policy statements.
pub(super) fn statements() -> Value {
    list(object(
        STATEMENT_FIELDS,
        &["Effect"],
        vec![
            ("Sid", text("Letters and digits.")),
            ("Effect", one_of(&["Allow", "Deny"])),
            ("Action", strings()),
            ("NotAction", strings()),
            ("Resource", strings()),
            ("NotResource", strings()),
            ("Condition", json!({ "type": "object" })),
        ],
    ))
}
