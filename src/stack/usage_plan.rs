//! The `usage_plan` part of the stack file: throttling and quota for the API's stage, and the API
//! keys that callers send.

use std::ops::RangeInclusive;

use serde_json::{Value, json};

use super::reader::{Field, Fields, Reader};
use super::schema::{int, list, object, one_of, text};
use crate::secret::SecretRef;

/// The usage plan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UsagePlan {
    /// Steady-state requests per second.
    pub rate: i64,
    /// Burst size in requests.
    pub burst: i64,
    /// Requests per period.
    pub quota_limit: i64,
    /// `DAY`, `WEEK` or `MONTH`.
    pub quota_period: String,
    /// The API keys linked to the plan.
    pub api_keys: Vec<ApiKey>,
}

/// An API key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiKey {
    /// Its name within the stack.
    pub name: String,
    /// Its value from the environment; AWS generates one when absent.
    pub value: Option<SecretRef>,
}

pub(super) const FIELDS: &[&str] = &["throttle", "quota", "api_keys"];

/// Reads and validates `usage_plan`; `has_api` whether the stack has an `api` to attach it to.
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>, has_api: bool) -> Option<UsagePlan> {
    let f = r.mapping(field, FIELDS)?;
    if !has_api {
        r.error(
            f.location(),
            f.path(),
            "a usage plan needs an API stage to apply to",
            Some("add an `api:` section with a `stage`".into()),
        );
    }
    let (rate, burst) = if let Some(o) = f.get("throttle") {
        match r.mapping(o.field(), &["rate", "burst"]) {
            Some(throttle) => (
                required_int(r, &throttle, "rate", 1..=10_000, "e.g. `rate: 10` requests per second"),
                required_int(r, &throttle, "burst", 0..=5_000, "e.g. `burst: 20` requests"),
            ),
            None => (None, None),
        }
    } else {
        r.missing(&f, "throttle", "e.g. `throttle: { rate: 10, burst: 20 }`");
        (None, None)
    };
    let (quota_limit, quota_period) = if let Some(o) = f.get("quota") {
        match r.mapping(o.field(), &["limit", "period"]) {
            Some(quota) => read_quota(r, &quota),
            None => (None, None),
        }
    } else {
        r.missing(&f, "quota", "e.g. `quota: { limit: 1000, period: DAY }`");
        (None, None)
    };
    let api_keys = match f.get("api_keys") {
        Some(o) => read_keys(r, o.field()),
        None => Some(Vec::new()),
    };
    let plan = UsagePlan {
        rate: rate?,
        burst: burst?,
        quota_limit: quota_limit?,
        quota_period: quota_period?,
        api_keys: api_keys?,
    };
    has_api.then_some(plan)
}

/// Reads the quota's limit and period.
fn read_quota(r: &mut Reader<'_>, quota: &Fields<'_>) -> (Option<i64>, Option<String>) {
    let limit = required_int(r, quota, "limit", 1..=i64::from(i32::MAX), "e.g. `limit: 1000` requests");
    let period = if let Some(p) = quota.get("period") {
        r.one_of(p.field(), &["DAY", "WEEK", "MONTH"])
    } else {
        r.missing(quota, "period", "DAY, WEEK or MONTH");
        None
    };
    (limit, period)
}

/// The integer `key` of `f`, within `bounds`; reported missing with `hint` when absent.
fn required_int(r: &mut Reader<'_>, f: &Fields<'_>, key: &str, bounds: RangeInclusive<i64>, hint: &str) -> Option<i64> {
    if let Some(o) = f.get(key) {
        r.int(o.field(), *bounds.start(), *bounds.end())
    } else {
        r.missing(f, key, hint);
        None
    }
}

fn read_keys(r: &mut Reader<'_>, field: Field<'_>) -> Option<Vec<ApiKey>> {
    let keys = r.list(field, read_key)?;
    let mut names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    names.sort_unstable();
    if let Some(&[name, _]) = names.windows(2).find(|w| w[0] == w[1]) {
        r.error(field.location(), field.path(), format!("API key `{name}` is listed twice"), None);
        return None;
    }
    Some(keys)
}

/// Reads one API key: a name, or a name with a value from the environment.
fn read_key(r: &mut Reader<'_>, item: Field<'_>) -> Option<ApiKey> {
    let (name, value) = if item.is_scalar() {
        (r.string(item).map(|s| s.value), Some(None))
    } else {
        let key = r.mapping(item, &["name", "value"])?;
        let name = if let Some(n) = key.get("name") {
            r.string(n.field()).map(|s| s.value)
        } else {
            r.missing(&key, "name", "e.g. `{ name: partner, value: \"${env:PARTNER_API_KEY}\" }`");
            None
        };
        (name, key.get("value").map_or(Some(None), |v| read_key_value(r, v.field()).map(Some)))
    };
    if let Some(name) = &name
        && !is_key_name(name)
    {
        r.error(
            item.location(),
            item.path(),
            format!("`{name}` is not a valid API key name"),
            Some("use 1-64 letters, digits, `-` or `_`".into()),
        );
        return None;
    }
    Some(ApiKey { name: name?, value: value? })
}

/// Reads an API key's value: a secret from the environment of 20 to 128 characters.
fn read_key_value(r: &mut Reader<'_>, field: Field<'_>) -> Option<SecretRef> {
    let secret = r.secret(field)?;
    if secret.value.as_ref().is_some_and(|value| !(20..=128).contains(&value.expose().len())) {
        r.error(
            field.location(),
            field.path(),
            "the API key value from the environment must have 20 to 128 characters",
            Some("AWS refuses shorter keys; or leave `value` out and AWS generates one".into()),
        );
        return None;
    }
    Some(secret)
}

fn is_key_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The JSON Schema of this section (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let key = json!({
        "anyOf": [
            { "type": "string" },
            object(&["name", "value"], &["name"], vec![("name", text("Key name.")), ("value", text("One ${env:NAME} reference."))]),
        ]
    });
    object(
        FIELDS,
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
