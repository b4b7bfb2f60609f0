//! The JSON Schema of the stack file (`authdemo schema`), for editors' completion and checks. It
//! is built from the same field lists and value sets the reader validates with, so the two agree.

use serde_json::{Value, json};

use super::{api, functions, identity_pool, policy, usage_plan, user_pool};

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
            ("user_pool", user_pool_schema()),
            ("identity_pool", identity_pool_schema()),
            (
                "functions",
                json!({ "type": "object", "description": "Lambda functions by name.", "additionalProperties": function_schema() }),
            ),
            ("api", api_schema()),
            ("usage_plan", usage_plan_schema()),
        ],
    );
    let mut schema = top;
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("authdemo stack file");
    schema
}

fn user_pool_schema() -> Value {
    let password = object(
        user_pool::PASSWORD_FIELDS,
        &[],
        vec![
            ("min_length", int(6, 99)),
            ("require_uppercase", flag()),
            ("require_lowercase", flag()),
            ("require_numbers", flag()),
            ("require_symbols", flag()),
            ("temporary_password_validity_days", int(0, 365)),
        ],
    );
    let oauth = object(
        user_pool::OAUTH_FIELDS,
        &[],
        vec![("flows", list(one_of(user_pool::OAUTH_FLOWS))), ("scopes", list(one_of(user_pool::OAUTH_SCOPES)))],
    );
    let client = object(
        user_pool::CLIENT_FIELDS,
        &[],
        vec![
            ("callback_urls", list(text("https:// URL, or http://localhost"))),
            ("logout_urls", list(text("https:// URL, or http://localhost"))),
            ("oauth", oauth),
            ("auth_flows", list(one_of(user_pool::AUTH_FLOWS))),
        ],
    );
    let user = object(
        user_pool::USER_FIELDS,
        &[],
        vec![
            ("attributes", json!({ "type": "object", "additionalProperties": scalar() })),
            ("password", text("Exactly one ${env:NAME} reference; set when the user is created.")),
        ],
    );
    object(
        user_pool::POOL_FIELDS,
        &[],
        vec![
            ("sign_in", list(one_of(user_pool::SIGN_IN))),
            (
                "custom_attributes",
                json!({ "type": "object", "additionalProperties": one_of(user_pool::ATTRIBUTE_TYPES) }),
            ),
            ("password_policy", password),
            ("auto_verified_attributes", list(one_of(user_pool::VERIFIABLE))),
            ("deletion_protection", flag()),
            ("domain", text("Hosted-UI domain prefix, globally unique in the region.")),
            ("clients", json!({ "type": "object", "additionalProperties": client })),
            ("users", json!({ "type": "object", "additionalProperties": user })),
        ],
    )
}

fn identity_pool_schema() -> Value {
    object(
        identity_pool::FIELDS,
        &[],
        vec![
            ("allow_unauthenticated", flag()),
            ("clients", list(text("A client under user_pool.clients."))),
            ("server_side_token_check", flag()),
            ("authenticated_policy", statements()),
            ("unauthenticated_policy", statements()),
        ],
    )
}

fn function_schema() -> Value {
    object(
        functions::FIELDS,
        &["runtime", "handler", "code"],
        vec![
            ("runtime", one_of(functions::RUNTIMES)),
            ("handler", text("FILE.EXPORT, e.g. api.handler")),
            ("code", text("A directory or a .zip, relative to the stack file.")),
            ("memory_mb", int(128, 10240)),
            ("timeout_s", int(1, 900)),
            ("environment", json!({ "type": "object", "additionalProperties": scalar() })),
            ("policy", statements()),
        ],
    )
}

fn api_schema() -> Value {
    let route = object(
        api::ROUTE_FIELDS,
        &["function"],
        vec![
            ("function", text("A function under functions.")),
            ("auth", one_of(&["none", "iam"])),
            ("api_key", flag()),
        ],
    );
    let methods = api::METHODS.join("|");
    object(
        api::FIELDS,
        &["stage"],
        vec![
            ("stage", text("Stage name, e.g. latest.")),
            (
                "routes",
                json!({
                    "type": "object",
                    "description": "METHOD /path → route.",
                    "propertyNames": { "pattern": format!("^({methods}) /") },
                    "additionalProperties": route,
                }),
            ),
        ],
    )
}

fn usage_plan_schema() -> Value {
    let key = json!({
        "anyOf": [
            { "type": "string" },
            object(&["name", "value"], &["name"], vec![("name", text("Key name.")), ("value", text("One ${env:NAME} reference."))]),
        ]
    });
    object(
        usage_plan::FIELDS,
        &["throttle", "quota"],
        vec![
            (
                "throttle",
                object(
                    &["rate", "burst"],
                    &["rate", "burst"],
                    vec![("rate", int(1, 10_000)), ("burst", int(0, 5_000))],
                ),
            ),
            (
                "quota",
                object(
                    &["limit", "period"],
                    &["limit", "period"],
                    vec![("limit", int(1, i64::from(i32::MAX))), ("period", one_of(&["DAY", "WEEK", "MONTH"]))],
                ),
            ),
            ("api_keys", list(key)),
        ],
    )
}

fn statements() -> Value {
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
fn object(fields: &[&str], required: &[&str], properties: Vec<(&str, Value)>) -> Value {
    let names: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    debug_assert_eq!(names, fields, "the schema lists exactly the fields the reader accepts");
    let properties: serde_json::Map<String, Value> = properties.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// A `${…}` reference, allowed wherever a value is.
fn reference() -> Value {
    json!({ "type": "string", "pattern": "\\$\\{(var\\.|env:)" })
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn scalar() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

fn strings() -> Value {
    json!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] })
}

fn int(minimum: i64, maximum: i64) -> Value {
    json!({ "anyOf": [{ "type": "integer", "minimum": minimum, "maximum": maximum }, reference()] })
}

fn flag() -> Value {
    json!({ "anyOf": [{ "type": "boolean" }, reference()] })
}

fn one_of(values: &[&str]) -> Value {
    json!({ "anyOf": [{ "enum": values }, reference()] })
}

fn list(items: Value) -> Value {
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
    }
}
