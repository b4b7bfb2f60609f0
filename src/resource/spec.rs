//! Typed specs: each resource kind declares its managed fields once, as a struct made with
//! [`spec!`], each field with its rule (updatable, forces replacement, add-only, write-only).
//! Desired state, discovery and the providers build and read that struct, so a misspelt field
//! is a compile error; the engine (diff, rendering, saved plans) sees the same fields as
//! [`Attributes`] through [`Spec::to_attributes`].

use std::collections::{BTreeMap, BTreeSet};

use super::{Address, Attributes, FieldRule, ResourceKind, Value};

/// The fields of one resource kind.
pub(crate) trait Spec: Sized + Send + Sync {
    /// The kind these are the fields of.
    const KIND: ResourceKind;
    /// Each field's attribute name and rule.
    const RULES: &'static [(&'static str, FieldRule)];

    /// The address of the resource of this kind named `name`.
    fn address(name: impl Into<String>) -> Address {
        Address::new(Self::KIND, name)
    }

    /// The fields as attributes (absent optional fields are left out).
    fn to_attributes(&self) -> Attributes;

    /// The fields read back from attributes; a missing or mistyped field is named in the error.
    fn from_attributes(attributes: &Attributes) -> Result<Self, SpecError>;
}

/// Attributes that do not hold a valid spec (a saved plan from another version, or a bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} has no valid `{field}`")]
pub(crate) struct SpecError {
    /// The kind read.
    pub kind: ResourceKind,
    /// The field missing or mistyped.
    pub field: &'static str,
}

/// The rule of `field` among `rules`; fields not listed are updatable.
pub(crate) fn rule_of(rules: &[(&str, FieldRule)], field: &str) -> FieldRule {
    rules.iter().find(|(name, _)| *name == field).map_or(FieldRule::Updatable, |(_, rule)| *rule)
}

/// A secret sent on create and never read back: its value travels apart from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sensitive;

/// A Rust type a spec field can have, and its attribute [`Value`].
pub(crate) trait FieldValue: Sized {
    /// The value, or `None` to leave the attribute out.
    fn to_value(&self) -> Option<Value>;
    /// Reads the value back; `None` when it is missing or of another type.
    fn from_value(value: Option<&Value>) -> Option<Self>;
}

impl FieldValue for String {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Str(self.clone()))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FieldValue for i64 {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Int(*self))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl FieldValue for bool {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// An ordered list: the order is part of the value.
impl FieldValue for Vec<String> {
    fn to_value(&self) -> Option<Value> {
        Some(Value::List(self.clone()))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::List(items) => Some(items.clone()),
            _ => None,
        }
    }
}

/// A set: compared without regard to order or repeats.
impl FieldValue for BTreeSet<String> {
    fn to_value(&self) -> Option<Value> {
        Some(Value::List(self.iter().cloned().collect()))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::List(items) => Some(items.iter().cloned().collect()),
            _ => None,
        }
    }
}

impl FieldValue for BTreeMap<String, String> {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Map(self.clone()))
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Map(map) => Some(map.clone()),
            _ => None,
        }
    }
}

impl FieldValue for Sensitive {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Sensitive)
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        matches!(value?, Value::Sensitive).then_some(Sensitive)
    }
}

/// An optional field: absent attributes read as `None`.
impl<T: FieldValue> FieldValue for Option<T> {
    fn to_value(&self) -> Option<Value> {
        self.as_ref().and_then(T::to_value)
    }
    fn from_value(value: Option<&Value>) -> Option<Self> {
        match value {
            None => Some(None),
            Some(_) => T::from_value(value).map(Some),
        }
    }
}

impl super::DesiredResource {
    /// The desired resource at `address` with the fields of `spec`.
    pub(crate) fn of<S: Spec>(address: Address, spec: &S, depends_on: Vec<Address>) -> Self {
        debug_assert_eq!(address.kind, S::KIND);
        Self { address, attributes: spec.to_attributes(), rules: S::RULES, depends_on }
    }
}

/// Declares a typed spec: `spec! { /// doc  pub struct Name for Kind { field: Type, ... } }`.
/// A field may name its attribute (`min_length @ "password_policy.min_length": i64`) and its
/// rule (`sign_in: Vec<String> => ForcesReplacement`); the default rule is `Updatable`.
#[macro_export]
macro_rules! spec {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident for $kind:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident $(@ $key:literal)? : $ty:ty $(=> $rule:ident)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::resource::Spec for $name {
            const KIND: $crate::resource::ResourceKind = $crate::resource::ResourceKind::$kind;
            const RULES: &'static [(&'static str, $crate::resource::FieldRule)] = &[
                $( ($crate::spec!(@key $field $($key)?), $crate::spec!(@rule $($rule)?)), )*
            ];

            fn to_attributes(&self) -> $crate::resource::Attributes {
                let mut attributes = $crate::resource::Attributes::new();
                $(
                    if let Some(value) = $crate::resource::FieldValue::to_value(&self.$field) {
                        attributes.insert($crate::spec!(@key $field $($key)?).to_string(), value);
                    }
                )*
                attributes
            }

            fn from_attributes(
                attributes: &$crate::resource::Attributes,
            ) -> Result<Self, $crate::resource::SpecError> {
                Ok(Self {
                    $(
                        $field: $crate::resource::FieldValue::from_value(
                            attributes.get($crate::spec!(@key $field $($key)?)),
                        )
                        .ok_or($crate::resource::SpecError {
                            kind: $crate::resource::ResourceKind::$kind,
                            field: $crate::spec!(@key $field $($key)?),
                        })?,
                    )*
                })
            }
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident $key:literal) => { $key };
    (@rule) => { $crate::resource::FieldRule::Updatable };
    (@rule $rule:ident) => { $crate::resource::FieldRule::$rule };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::spec! {
        /// A spec for the tests.
        struct Example for UserPool {
            sign_in: Vec<String> => ForcesReplacement,
            min_length @ "password_policy.min_length": i64,
            flows: BTreeSet<String>,
            password: Option<Sensitive> => WriteOnly,
        }
    }

    #[test]
    fn a_spec_round_trips_through_attributes_with_its_rules() {
        let spec = Example {
            sign_in: vec!["email".into()],
            min_length: 12,
            flows: ["code".to_string(), "implicit".to_string()].into(),
            password: None,
        };
        let attributes = spec.to_attributes();
        assert_eq!(attributes["password_policy.min_length"], Value::Int(12));
        assert!(!attributes.contains_key("password"));
        assert_eq!(Example::from_attributes(&attributes), Ok(spec));
        assert_eq!(rule_of(Example::RULES, "sign_in"), FieldRule::ForcesReplacement);
        assert_eq!(rule_of(Example::RULES, "password_policy.min_length"), FieldRule::Updatable);
        assert_eq!(rule_of(Example::RULES, "password"), FieldRule::WriteOnly);
    }

    #[test]
    fn a_missing_field_is_named() {
        let error = Example::from_attributes(&Attributes::new()).unwrap_err();
        assert_eq!(error.to_string(), "user_pool has no valid `sign_in`");
    }
}
