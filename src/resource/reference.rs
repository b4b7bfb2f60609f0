//! References between resources inside attribute values: `${ADDRESS.id}` stands for the physical
//! id of another resource of the stack (a pool id in a trust policy, a role ARN in an attachment).
//! Desired values carry references because ids are only known once things exist; discovery turns
//! live ids back into references, so both sides compare equal; execution resolves them.

use std::collections::BTreeMap;

use super::{Address, Value};

/// The reference to `address`'s physical id.
pub(crate) fn reference(address: &Address) -> String {
    format!("${{{address}.id}}")
}

/// The addresses `value` refers to.
pub(crate) fn references(value: &Value) -> Vec<Address> {
    let mut found = Vec::new();
    for text in texts(value) {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            if let Some(address) = after[..end].strip_suffix(".id").and_then(|a| a.parse().ok()) {
                found.push(address);
            }
            rest = &after[end + 1..];
        }
    }
    found
}

/// `value` with every reference replaced by the physical id in `ids`; the first unknown
/// address is the error.
pub(crate) fn resolve(value: &Value, ids: &BTreeMap<Address, String>) -> Result<Value, Address> {
    match references(value).into_iter().find(|address| !ids.contains_key(address)) {
        Some(missing) => Err(missing),
        None => Ok(resolve_known(value, ids)),
    }
}

/// `value` with the references whose id `ids` knows replaced by it; the others stay references
/// (values not known yet).
pub(crate) fn resolve_known(value: &Value, ids: &BTreeMap<Address, String>) -> Value {
    value.map_texts(|text| {
        let mut out = text.to_string();
        for address in references(&Value::Str(text.to_string())) {
            if let Some(id) = ids.get(&address) {
                out = out.replace(&reference(&address), id);
            }
        }
        out
    })
}

/// `value` with each of the given physical ids replaced by a reference to its resource. An id
/// is replaced only where it stands as a whole token (not inside a longer word), so a short id
/// cannot match by accident.
pub(crate) fn abstract_ids(value: &Value, ids: &[(String, Address)]) -> Value {
    value.map_texts(|text| {
        let mut out = text.to_string();
        for (id, address) in ids {
            out = replace_token(&out, id, &reference(address));
        }
        out
    })
}

fn replace_token(text: &str, token: &str, with: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(token) {
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let after = rest[at + token.len()..].chars().next();
        out.push_str(&rest[..at]);
        out.push_str(if is_word(before) || is_word(after) { token } else { with });
        rest = &rest[at + token.len()..];
    }
    out.push_str(rest);
    out
}

fn texts(value: &Value) -> Vec<&str> {
    match value {
        Value::Str(s) => vec![s],
        Value::List(items) => items.iter().map(String::as_str).collect(),
        Value::Map(map) => map.values().map(String::as_str).collect(),
        Value::Int(_) | Value::Bool(_) | Value::Sensitive => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceKind;

    #[test]
    fn references_resolve_to_ids_and_ids_abstract_back_to_references() {
        let pool = Address::new(ResourceKind::IdentityPool, "main");
        let text = Value::Str(format!("{{\"aud\":\"{}\"}}", reference(&pool)));
        assert_eq!(references(&text), std::slice::from_ref(&pool));
        let ids = BTreeMap::from([(pool.clone(), "us-west-2:1234".to_string())]);
        let resolved = resolve(&text, &ids).unwrap();
        assert_eq!(resolved, Value::Str("{\"aud\":\"us-west-2:1234\"}".into()));
        assert_eq!(abstract_ids(&resolved, &[("us-west-2:1234".into(), pool.clone())]), text);
        assert_eq!(resolve(&text, &BTreeMap::new()), Err(pool.clone()));
        let short = [("abc123".to_string(), pool)];
        let abstracted = abstract_ids(&Value::Str("abc123/x xabc123 abc1234 abc123".into()), &short);
        assert_eq!(
            abstracted,
            Value::Str("${identity_pool.main.id}/x xabc123 abc1234 ${identity_pool.main.id}".into())
        );
    }
}
