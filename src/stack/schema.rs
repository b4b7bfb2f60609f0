//! The JSON Schema of the stack file (`authdemo schema`), for editors' completion and checks: the
//! top level here, each section beside its reader (`user_pool::schema`, …), with the helpers below. It
//! is built from the same field lists and value sets the reader validates with, so the two agree.

use serde_json::{Value, json};

use super::{api, functions, identity_pool, policy, tags, usage_plan, user_pool};

/// The schema (JSON Schema draft-07).
pub fn schema() -> Value {
    let top = object(
        super::TOP_LEVEL,
        &["stack"],
        vec![
            ("stack", text("Names and tags everything: [a-z][a-z0-9-]*, at most 32 characters.")),
            ("region", text("AWS region; --region wins, else the AWS config's.")),
            (
                "vars",
                json!({ "type": "object", "description": "Variable defaults; override with --var NAME=VALUE.", "additionalProperties": scalar() }),
            ),
            ("tags", tags::schema()),
            ("user_pool", user_pool::schema()),
            ("identity_pool", identity_pool::schema()),
            (
                "functions",
                json!({ "type": "object", "description": "Lambda functions by name.", "additionalProperties": functions::schema() }),
            ),
            ("api", api::schema()),
            ("usage_plan", usage_plan::schema()),
        ],
    );
    let mut schema = top;
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("authdemo stack file");
    schema
}

pub(super) fn statements() -> Value {
    list(object(
        policy::STATEMENT_FIELDS,
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

/// An object with exactly `fields` (checked against the properties given) and `required` ones.
pub(super) fn object(fields: &[&str], required: &[&str], properties: Vec<(&str, Value)>) -> Value {
    let names: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    debug_assert_eq!(names, fields, "the schema lists exactly the fields the reader accepts");
    let properties: serde_json::Map<String, Value> = properties.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// A `${…}` reference, allowed wherever a value is.
pub(super) fn reference() -> Value {
    json!({ "type": "string", "pattern": "\\$\\{(var\\.|env:)" })
}

pub(super) fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

pub(super) fn scalar() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

pub(super) fn strings() -> Value {
    json!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] })
}

pub(super) fn int(minimum: i64, maximum: i64) -> Value {
    json!({ "anyOf": [{ "type": "integer", "minimum": minimum, "maximum": maximum }, reference()] })
}

pub(super) fn flag() -> Value {
    json!({ "anyOf": [{ "type": "boolean" }, reference()] })
}

pub(super) fn one_of(values: &[&str]) -> Value {
    json!({ "anyOf": [{ "enum": values }, reference()] })
}

pub(super) fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_covers_every_section_and_forbids_unknown_fields() {
        let schema = schema();
        assert_eq!(schema["additionalProperties"], false);
        for section in super::super::TOP_LEVEL {
            assert!(schema["properties"].get(*section).is_some(), "{section}");
        }
        let route = &schema["properties"]["api"]["properties"]["routes"]["additionalProperties"];
        assert_eq!(route["required"], json!(["function"]));
        assert_eq!(schema["properties"]["tags"]["maxProperties"], 47);
    }
}
