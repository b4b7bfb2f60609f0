//! Attribute values: the common language of desired and live state, diffed field by field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// One attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum Value {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// A list of text values.
    List(Vec<String>),
    /// A map of text values.
    Map(BTreeMap<String, String>),
    /// A secret: present, never shown, never read back.
    #[serde(serialize_with = "sensitive")]
    Sensitive,
}

fn sensitive<S: serde::Serializer>(serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("(sensitive)")
}

impl Value {
    /// This value with `f` applied to each of its texts (a string, a list's items, a map's
    /// values); numbers, flags and sensitive values stay as they are.
    pub(crate) fn map_texts(&self, mut f: impl FnMut(&str) -> String) -> Value {
        match self {
            Value::Str(s) => Value::Str(f(s)),
            Value::List(items) => Value::List(items.iter().map(|s| f(s)).collect()),
            Value::Map(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
impl Value {
    /// A list value from anything iterable of strings (for tests).
    pub(crate) fn list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        Self::List(items.into_iter().map(Into::into).collect())
    }

    /// A sorted list, for values whose order AWS does not keep.
    pub(crate) fn set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        let mut items: Vec<String> = items.into_iter().map(Into::into).collect();
        items.sort();
        items.dedup();
        Self::List(items)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                write!(f, "[{}]", items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", "))
            }
            Value::Map(map) => {
                write!(f, "{{{}}}", map.iter().map(|(k, v)| format!("{k} = {v:?}")).collect::<Vec<_>>().join(", "))
            }
            Value::Sensitive => f.write_str("(sensitive)"),
        }
    }
}

/// A resource's attributes by field name (dotted for nested settings, e.g. `password_policy.min_length`).
pub(crate) type Attributes = BTreeMap<String, Value>;
