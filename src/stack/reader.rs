//! A span-aware reader over the parsed YAML tree. Every accessor records a diagnostic (with the
//! node's location and field path) instead of stopping, so one pass reports every problem.

use std::collections::{BTreeMap, BTreeSet};

use marked_yaml::Node;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};

use super::diagnostic::{Diagnostic, Location, did_you_mean};
use super::interpolate::Interpolator;
use crate::secret::{Secret, SecretRef};

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it starts in the stack file.
    pub location: Location,
}

/// A node of the stack file with its field path.
#[derive(Clone, Copy)]
pub(super) struct Field<'n> {
    node: &'n Node,
    path: &'n str,
}

/// A field whose path is owned (paths of nested fields are built on the fly).
pub(super) struct OwnedField<'n> {
    node: &'n Node,
    path: String,
}

impl OwnedField<'_> {
    /// Borrows it as a [`Field`].
    pub(super) fn field(&self) -> Field<'_> {
        Field { node: self.node, path: &self.path }
    }

    /// The field path, e.g. `user_pool.clients.web`.
    pub(super) fn path(&self) -> &str {
        &self.path
    }
}

impl<'n> Field<'n> {
    /// The root of a document.
    pub(super) fn root(node: &'n Node) -> Self {
        Field { node, path: "" }
    }

    /// Where the node starts.
    pub(super) fn location(&self) -> Location {
        location_of(self.node.span())
    }

    /// The field path.
    pub(super) fn path(&self) -> &str {
        self.path
    }

    /// Whether the node is a single value (not a list or mapping).
    pub(super) fn is_scalar(&self) -> bool {
        matches!(self.node, Node::Scalar(_))
    }

    /// The keys of this mapping, taken without reading it: cross-references (a route's function, an
    /// identity pool's clients) check against what the file declares even when an entry has
    /// errors. A null value declares none; `None` if it is not a mapping.
    pub(super) fn names(&self) -> Option<BTreeSet<String>> {
        match self.node {
            Node::Mapping(m) => Some(m.keys().map(|k| k.as_str().to_string()).collect()),
            _ if self.is_null() => Some(BTreeSet::new()),
            _ => None,
        }
    }

    /// [`Field::names`] of the mapping under `key` of this one; an absent `key` declares none.
    pub(super) fn names_under(&self, key: &str) -> Option<BTreeSet<String>> {
        match self.node {
            Node::Mapping(m) => m.get_node(key).map_or(Some(BTreeSet::new()), |node| Field { node, path: "" }.names()),
            _ if self.is_null() => Some(BTreeSet::new()),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.node, Node::Scalar(s) if matches!(s.as_str(), "" | "~" | "null"))
    }

    /// The value under `key` of this mapping, read without reporting anything: for checks
    /// across sections, whose own reader reports the shape.
    pub(super) fn child(&self, key: &str) -> Option<OwnedField<'n>> {
        let Node::Mapping(m) = self.node else { return None };
        m.get_node(key).map(|node| OwnedField { node, path: join(self.path, key) })
    }

    /// The entries of this mapping (none if it is not one), read without reporting anything.
    pub(super) fn children(&self) -> Vec<(Located<String>, OwnedField<'n>)> {
        let Node::Mapping(m) = self.node else { return Vec::new() };
        m.iter()
            .map(|(key, node)| {
                let name = Located { value: key.as_str().to_string(), location: location_of(key.span()) };
                (name, OwnedField { node, path: join(self.path, key.as_str()) })
            })
            .collect()
    }

    /// The items of this list (none if it is not one), read without reporting anything.
    pub(super) fn items(&self) -> Vec<OwnedField<'n>> {
        let Node::Sequence(items) = self.node else { return Vec::new() };
        items.iter().enumerate().map(|(i, node)| OwnedField { node, path: format!("{}[{i}]", self.path) }).collect()
    }

    /// The text of this scalar as written (before `${…}` expansion), read without reporting.
    pub(super) fn text(&self) -> Option<&'n str> {
        match self.node {
            Node::Scalar(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

/// The keys of one mapping, checked against the fields it may have.
pub(super) struct Fields<'n> {
    map: Option<&'n MarkedMappingNode>,
    path: String,
    location: Location,
}

impl<'n> Fields<'n> {
    /// The value under `key`, if present.
    pub(super) fn get(&self, key: &str) -> Option<OwnedField<'n>> {
        let node = self.map?.get_node(key)?;
        Some(OwnedField { node, path: join(&self.path, key) })
    }

    /// Every entry, for mappings keyed by user-chosen names (clients, users, vars).
    pub(super) fn entries(&self) -> Vec<(Located<String>, OwnedField<'n>)> {
        self.map
            .into_iter()
            .flat_map(|m| m.iter())
            .map(|(key, node)| {
                let name = Located { value: key.as_str().to_string(), location: location_of(key.span()) };
                let path = join(&self.path, key.as_str());
                (name, OwnedField { node, path })
            })
            .collect()
    }

    /// Where the mapping starts (for "missing field" errors).
    pub(super) fn location(&self) -> Location {
        self.location
    }

    /// The mapping's field path.
    pub(super) fn path(&self) -> &str {
        &self.path
    }
}

/// Collects diagnostics while reading values out of the tree.
pub(super) struct Reader<'a> {
    diagnostics: Vec<Diagnostic>,
    interpolator: Interpolator<'a>,
    env_values: Vec<Secret>,
}

impl<'a> Reader<'a> {
    /// A reader expanding `${…}` references with `interpolator`.
    pub(super) fn new(interpolator: Interpolator<'a>) -> Self {
        Self { diagnostics: Vec::new(), interpolator, env_values: Vec::new() }
    }

    /// Every diagnostic recorded so far.
    pub(super) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Every diagnostic recorded so far, and every value a `${env:…}` reference went into
    /// (sensitive wherever it appears).
    pub(super) fn into_parts(self) -> (Vec<Diagnostic>, Vec<Secret>) {
        (self.diagnostics, self.env_values)
    }

    /// Records a problem.
    pub(super) fn error(&mut self, location: Location, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.diagnostics.push(Diagnostic::new(location, path, &message.into(), hint.as_deref()));
    }

    /// Reads a mapping whose keys must be among `known`; an absent or null value reads as empty.
    pub(super) fn mapping<'n>(&mut self, field: Field<'n>, known: &[&str]) -> Option<Fields<'n>> {
        let fields = self.any_mapping(field)?;
        for (key, _) in fields.map.into_iter().flat_map(|m| m.iter()) {
            if !known.contains(&key.as_str()) {
                let hint = match did_you_mean(key.as_str(), known.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("known fields here: {}", known.join(", ")),
                };
                self.error(location_of(key.span()), &join(&fields.path, key.as_str()), "unknown field", Some(hint));
            }
        }
        Some(fields)
    }

    /// Reads a mapping with user-chosen keys.
    pub(super) fn any_mapping<'n>(&mut self, field: Field<'n>) -> Option<Fields<'n>> {
        let map = match field.node {
            Node::Mapping(m) => Some(m),
            _ if field.is_null() => None,
            _ => {
                self.expected(field, "a mapping (`key: value` lines)");
                return None;
            }
        };
        // A block mapping's own span starts after its first key; its first key is where it begins.
        let first_key = map.and_then(|m| m.keys().next()).map(|k| location_of(k.span()));
        Some(Fields { map, path: field.path.to_string(), location: first_key.unwrap_or(field.location()) })
    }

    /// Reports a required field that is missing from `fields`.
    pub(super) fn missing(&mut self, fields: &Fields<'_>, key: &str, hint: &str) {
        self.error(fields.location, &join(&fields.path, key), "required field is missing", Some(hint.to_string()));
    }

    /// Reads a string, expanding references. A value from the environment is remembered as
    /// sensitive; secrets that must come from the environment go through [`Reader::secret`].
    pub(super) fn string(&mut self, field: Field<'_>) -> Option<Located<String>> {
        let scalar = self.scalar(field, "a string")?;
        match self.interpolator.expand(scalar.as_str()) {
            Ok(expanded) => {
                if expanded.uses_env && !self.env_values.iter().any(|v| v.expose() == expanded.value) {
                    self.env_values.push(Secret::new(expanded.value.clone()));
                }
                Some(Located { value: expanded.value, location: field.location() })
            }
            Err(e) => {
                self.error(field.location(), field.path, e.message, Some(e.hint));
                None
            }
        }
    }

    /// Reads a string that must match `is_valid`, else reports `rule` with `hint`.
    pub(super) fn string_matching(
        &mut self,
        field: Field<'_>,
        is_valid: impl Fn(&str) -> bool,
        rule: &str,
        hint: &str,
    ) -> Option<String> {
        let value = self.string(field)?;
        if is_valid(&value.value) {
            Some(value.value)
        } else {
            self.error(field.location(), field.path, format!("`{}` {rule}", value.value), Some(hint.to_string()));
            None
        }
    }

    /// Reads `true` or `false`.
    pub(super) fn bool(&mut self, field: Field<'_>) -> Option<bool> {
        let value = self.string(field)?;
        match value.value.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                let message = format!("expected true or false, found `{other}`");
                self.error(field.location(), field.path, message, Some("write `true` or `false`".into()));
                None
            }
        }
    }

    /// Reads an integer in `min..=max`.
    pub(super) fn int(&mut self, field: Field<'_>, min: i64, max: i64) -> Option<i64> {
        let value = self.string(field)?;
        match value.value.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(n) => {
                self.error(
                    field.location(),
                    field.path,
                    format!("{n} is out of range"),
                    Some(format!("use a whole number from {min} to {max}")),
                );
                None
            }
            Err(_) => {
                self.error(
                    field.location(),
                    field.path,
                    format!("expected a whole number, found `{}`", value.value),
                    Some(format!("use a whole number from {min} to {max}")),
                );
                None
            }
        }
    }

    /// Reads one of a closed set of words.
    pub(super) fn one_of(&mut self, field: Field<'_>, allowed: &[&str]) -> Option<String> {
        let value = self.string(field)?;
        if allowed.contains(&value.value.as_str()) {
            return Some(value.value);
        }
        let hint = match did_you_mean(&value.value, allowed.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("allowed: {}", allowed.join(", ")),
        };
        self.error(field.location(), field.path, format!("`{}` is not allowed here", value.value), Some(hint));
        None
    }

    /// Reads a list; each item through `item`. Duplicates are reported.
    pub(super) fn list<T: PartialEq>(
        &mut self,
        field: Field<'_>,
        mut item: impl FnMut(&mut Self, Field<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let sequence = match field.node {
            Node::Sequence(s) => s,
            _ if field.is_null() => return Some(Vec::new()),
            _ => {
                self.expected(field, "a list (`[a, b]` or `- a` lines)");
                return None;
            }
        };
        let mut values = Vec::new();
        let mut ok = true;
        for (i, node) in sequence.iter().enumerate() {
            let path = format!("{}[{i}]", field.path);
            let element = Field { node, path: &path };
            match item(self, element) {
                Some(v) if values.contains(&v) => {
                    self.error(element.location(), &path, "duplicate entry", Some("list each value once".into()));
                    ok = false;
                }
                Some(v) => values.push(v),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }

    /// Reads any value as JSON (scalars as strings), e.g. an IAM condition block.
    pub(super) fn json(&mut self, field: Field<'_>) -> Option<serde_json::Value> {
        match field.node {
            Node::Scalar(_) => self.string(field).map(|s| serde_json::Value::String(s.value)),
            Node::Sequence(items) => {
                let mut values = Vec::new();
                for (i, node) in items.iter().enumerate() {
                    let path = format!("{}[{i}]", field.path);
                    values.push(self.json(Field { node, path: &path })?);
                }
                Some(serde_json::Value::Array(values))
            }
            Node::Mapping(map) => {
                let mut object = serde_json::Map::new();
                for (key, node) in map.iter() {
                    let path = join(field.path, key.as_str());
                    object.insert(key.as_str().to_string(), self.json(Field { node, path: &path })?);
                }
                Some(serde_json::Value::Object(object))
            }
        }
    }

    /// Reads a mapping keyed by user-chosen names (clients, users, functions, …): `check_name`
    /// says what is wrong with a name (message and hint), `read_entry` reads each value. Every
    /// problem is reported; the result is `None` if there was any.
    pub(super) fn named<T>(
        &mut self,
        field: Field<'_>,
        check_name: impl Fn(&str) -> Option<(String, String)>,
        mut read_entry: impl FnMut(&mut Self, Field<'_>) -> Option<T>,
    ) -> Option<BTreeMap<String, T>> {
        let fields = self.any_mapping(field)?;
        let mut entries = BTreeMap::new();
        let mut ok = true;
        for (name, value) in fields.entries() {
            if let Some((message, hint)) = check_name(&name.value) {
                self.error(name.location, value.path(), message, Some(hint));
                ok = false;
            }
            match read_entry(self, value.field()) {
                Some(entry) => drop(entries.insert(name.value, entry)),
                None => ok = false,
            }
        }
        ok.then_some(entries)
    }

    /// Reads a secret: the whole value must be one `${env:NAME}` reference. An unset variable
    /// is not an error here: only the commands that send the secret need it.
    pub(super) fn secret(&mut self, field: Field<'_>) -> Option<SecretRef> {
        let scalar = self.scalar(field, "a `${env:NAME}` reference")?;
        let name = scalar.as_str().strip_prefix("${env:").and_then(|rest| rest.strip_suffix('}'));
        let Some(name) = name.filter(|n| !n.is_empty() && !n.contains(['$', '{', '}'])) else {
            self.error(
                field.location(),
                field.path,
                "secrets must come from the environment, not from the file",
                Some("write `${env:NAME}` and export NAME before running authdemo".into()),
            );
            return None;
        };
        Some(SecretRef { env: name.to_string(), value: self.interpolator.env(name).map(Secret::new) })
    }

    fn scalar<'n>(&mut self, field: Field<'n>, what: &str) -> Option<&'n MarkedScalarNode> {
        if let Node::Scalar(s) = field.node {
            Some(s)
        } else {
            self.expected(field, what);
            None
        }
    }

    fn expected(&mut self, field: Field<'_>, what: &str) {
        let found = match field.node {
            Node::Scalar(_) => "a single value",
            Node::Mapping(_) => "a mapping",
            Node::Sequence(_) => "a list",
        };
        self.error(field.location(), field.path, format!("expected {what}, found {found}"), None);
    }
}

/// The start of a span as a [`Location`].
pub(super) fn location_of(span: &marked_yaml::Span) -> Location {
    span.start().map_or(Location { line: 1, column: 1 }, |m| Location { line: m.line(), column: m.column() })
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// Applies `read` to the field `key` when present: `None` means absent, `Some(None)` invalid.
pub(super) fn opt<T>(fields: &Fields<'_>, key: &str, read: impl FnOnce(Field<'_>) -> Option<T>) -> Option<Option<T>> {
    fields.get(key).map(|owned| read(owned.field()))
}
