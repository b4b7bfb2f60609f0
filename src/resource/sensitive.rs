//! Values that came from `${env:…}`: sensitive wherever they appear. The desired state carries
//! a placeholder `(sensitive:HASH)` in their place, so plans (human, JSON, saved), progress and
//! errors can only show the placeholder; the live value of the same field is replaced by its own
//! placeholder after discovery, so the diff still sees a change (the hashes differ) without
//! either value. The clear values stay in a side table that only the request sending them reads.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Attributes, DesiredState, Value};
use crate::secret::Secret;

/// How a placeholder starts.
const PREFIX: &str = "(sensitive:";

/// The placeholder of `value` in stack `stack`: a short hash, salted with the stack's name, so
/// that a change shows and equal values compare equal, while the value cannot be read off.
pub(crate) fn placeholder(stack: &str, value: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"authdemo-sensitive\0")
        .chain_update(stack)
        .chain_update(b"\0")
        .chain_update(value)
        .finalize();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex})")
}

fn is_placeholder(text: &str) -> bool {
    text.starts_with(PREFIX) && text.ends_with(')')
}

impl DesiredState {
    /// Replaces every attribute text equal to one of `values` by its placeholder, and keeps the
    /// clear value for the request that sends it ([`DesiredState::sensitive`]).
    pub(crate) fn hide_sensitive(&mut self, values: &[Secret]) {
        let (stack, sensitive) = (&self.stack, &mut self.sensitive);
        for resource in &mut self.resources {
            for value in resource.attributes.values_mut() {
                *value = value.map_texts(|text| match values.iter().find(|v| v.expose() == text) {
                    Some(secret) => {
                        let hidden = placeholder(stack, text);
                        sensitive.insert(hidden.clone(), secret.clone());
                        hidden
                    }
                    None => text.to_string(),
                });
            }
        }
    }
}

/// `value` with the placeholders of `sensitive` replaced by their clear values, for a request.
pub(crate) fn reveal(value: &Value, sensitive: &BTreeMap<String, Secret>) -> Value {
    value.map_texts(|text| match sensitive.get(text) {
        Some(secret) => secret.expose().to_string(),
        None => text.to_string(),
    })
}

/// Hides in `live` each value at a place where `wanted` holds a placeholder (`LiveState`
/// does so for every resource after discovery): a text field, a
/// map entry of the same key, or every item of a list that holds one.
pub(crate) fn hide_like(stack: &str, wanted: &Attributes, live: &mut Attributes) {
    for (field, wanted_value) in wanted {
        let Some(live_value) = live.get_mut(field) else { continue };
        let hide = |text: &str| if is_placeholder(text) { text.to_string() } else { placeholder(stack, text) };
        *live_value = match (wanted_value, &*live_value) {
            (Value::Str(w), Value::Str(l)) if is_placeholder(w) => Value::Str(hide(l)),
            (Value::List(w), Value::List(l)) if w.iter().any(|i| is_placeholder(i)) => {
                Value::List(l.iter().map(|i| if w.contains(i) { i.clone() } else { hide(i) }).collect())
            }
            (Value::Map(w), Value::Map(l)) => Value::Map(
                l.iter()
                    .map(|(k, v)| {
                        let secret = w.get(k).is_some_and(|w| is_placeholder(w));
                        (k.clone(), if secret { hide(v) } else { v.clone() })
                    })
                    .collect(),
            ),
            (_, other) => other.clone(),
        };
    }
}

/// Hides each entry of the live map `live` whose key the desired map `wanted` no longer has (a
/// secret the file stopped sourcing from `${env:…}` shows as removed, not in clear); an entry
/// the file gives a literal value keeps its live value in clear, so a plain change reads as one.
pub(crate) fn hide_unlike(stack: &str, wanted: Option<&Value>, live: Option<&mut Value>) {
    let Some(Value::Map(live)) = live else { return };
    let wanted = match wanted {
        Some(Value::Map(wanted)) => Some(wanted),
        _ => None,
    };
    for (key, value) in live.iter_mut() {
        if !wanted.is_some_and(|w| w.contains_key(key)) && !is_placeholder(value) {
            *value = placeholder(stack, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::live::{LiveResource, LiveState};
    use crate::resource::{Address, DesiredResource, ResourceKind};

    fn state(environment: &[(&str, &str)]) -> DesiredState {
        let map = environment.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
        DesiredState {
            stack: "demo".into(),
            resources: vec![DesiredResource {
                address: Address::new(ResourceKind::Function, "api"),
                attributes: Attributes::from([("environment".to_string(), Value::Map(map))]),
                rules: &[],
                depends_on: Vec::new(),
            }],
            secrets: BTreeMap::new(),
            unset_secrets: BTreeMap::new(),
            artifacts: BTreeMap::new(),
            sensitive: BTreeMap::new(),
            hidden_maps: BTreeSet::new(),
        }
    }

    #[test]
    fn hides_the_value_shows_a_change_and_reveals_it_for_the_request() {
        let mut desired = state(&[("DB_PASSWORD", "hunter2"), ("GREETING", "hello")]);
        desired.hide_sensitive(&[Secret::new("hunter2".into())]);
        let shown = format!("{:?}", desired.resources[0].attributes);
        assert!(!shown.contains("hunter2") && shown.contains("(sensitive:") && shown.contains("hello"), "{shown}");

        let mut live = LiveState::default();
        let address = Address::new(ResourceKind::Function, "api");
        let old = Value::Map(BTreeMap::from([("DB_PASSWORD".to_string(), "old-one".to_string())]));
        let attributes = Attributes::from([("environment".to_string(), old)]);
        let resource = LiveResource {
            address: address.clone(),
            id: "arn".into(),
            attributes,
            depends_on: Vec::new(),
            holds: None,
            notes: Vec::new(),
        };
        live.resources.insert(address.clone(), resource);
        live.hide_sensitive(&desired);
        let before = &live.resources[&address].attributes["environment"];
        let after = &desired.resources[0].attributes["environment"];
        assert!(!format!("{before:?}").contains("old-one"));
        assert_ne!(before, after, "a changed secret is still a change");

        let sent = reveal(after, &desired.sensitive);
        assert_eq!(
            sent,
            Value::Map(BTreeMap::from([
                ("DB_PASSWORD".to_string(), "hunter2".to_string()),
                ("GREETING".to_string(), "hello".to_string()),
            ]))
        );
    }

    #[test]
    fn a_live_value_the_file_no_longer_names_is_hidden_where_the_map_asks_for_it() {
        let wanted = Value::Map(BTreeMap::from([("GREETING".to_string(), "hello".to_string())]));
        let mut live = Value::Map(BTreeMap::from([
            ("GREETING".to_string(), "hello".to_string()),
            ("DB_PASSWORD".to_string(), "old-secret".to_string()),
        ]));
        hide_unlike("demo", Some(&wanted), Some(&mut live));
        let shown = format!("{live:?}");
        assert!(shown.contains("hello") && !shown.contains("old-secret"), "{shown}");
    }

    #[test]
    fn equal_values_hide_alike() {
        assert_eq!(placeholder("demo", "a"), placeholder("demo", "a"));
        assert_ne!(placeholder("demo", "a"), placeholder("demo", "b"));
        assert_ne!(placeholder("demo", "a"), placeholder("other", "a"), "salted with the stack");
    }
}
