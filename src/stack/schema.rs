//! The helpers that build the JSON Schema of the stack file (`authdemo schema`), for editors'
//! completion and checks: the top level is in [`super::schema`], each section beside its reader
//! (`user_pool::schema`, …). It is built from the same field lists and value sets the reader
//! validates with, so the two agree.

use serde_json::{Value, json};

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
        let schema = super::super::schema();
        assert_eq!(schema["additionalProperties"], false);
        for section in super::super::TOP_LEVEL {
            assert!(schema["properties"].get(*section).is_some(), "{section}");
        }
        let route = &schema["properties"]["api"]["properties"]["routes"]["additionalProperties"];
        assert_eq!(route["required"], json!(["function"]));
        assert_eq!(schema["properties"]["tags"]["maxProperties"], 47);
    }
}
