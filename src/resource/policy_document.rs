//! IAM policy documents as canonical JSON, so the document written and the one AWS hands back
//! (URL-encoded, keys reordered, single values unwrapped) compare equal.

use serde_json::{Value, json};

/// The policy language version every document uses.
const VERSION: &str = "2012-10-17";

/// A policy document of `statements`, canonical.
pub(crate) fn document(statements: Vec<Value>) -> String {
    canonical(&json!({ "Version": VERSION, "Statement": statements }))
}

/// Canonical text of a parsed document: keys sorted, one-element Action/Resource lists unwrapped,
/// longer ones sorted.
pub(crate) fn canonical(document: &Value) -> String {
    normalize(document.clone()).to_string()
}

/// Canonical text of a document as AWS returns it (URL-encoded JSON), or the raw text if it is not JSON.
pub(crate) fn canonical_from_aws(encoded: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    match serde_json::from_str::<Value>(&decoded) {
        Ok(value) => canonical(&value),
        Err(_) => decoded.into_owned(),
    }
}

fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = match (key.as_str(), value) {
                        ("Action" | "NotAction" | "Resource" | "NotResource", Value::Array(items)) => {
                            unwrap_sorted(items)
                        }
                        (_, Value::Array(items)) if key == "Statement" => {
                            Value::Array(items.into_iter().map(normalize).collect())
                        }
                        (_, value) => normalize(value),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn unwrap_sorted(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        return items.remove(0);
    }
    items.sort_by_key(Value::to_string);
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_documents_have_equal_canonical_text() {
        let written = document(vec![json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["b", "a"]})]);
        let from_aws = "%7B%22Statement%22%3A%5B%7B%22Resource%22%3A%5B%22a%22%2C%22b%22%5D%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Effect%22%3A%22Allow%22%7D%5D%2C%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(canonical_from_aws(from_aws), written);
        assert!(written.starts_with("{\"Statement\":[{\"Action\":\"s3:GetObject\""));
    }
}
