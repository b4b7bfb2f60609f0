//! The `user_pool` part of the stack file: the pool, its hosted-UI domain and users, and its app
//! clients (read by [`super::app_client`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::app_client::{self, Client, is_client_name, read_client};
use super::groups::{self, Group};
use super::reader::{Field, Located, Reader, opt};
use super::resource_server::{self, ResourceServer, custom_scopes};
use super::schema::{flag, int, list, object, one_of, scalar, text};
use crate::secret::SecretRef;

/// How users sign in; fixed when the pool is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignIn {
    /// With a username.
    Username,
    /// With their email address as the username.
    Email,
    /// With their phone number as the username.
    PhoneNumber,
    /// With either their email address or their phone number.
    EmailOrPhoneNumber,
}

/// The pool's password rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PasswordPolicy {
    /// Minimum length, 6 to 99.
    pub min_length: i64,
    /// Requires an uppercase letter.
    pub require_uppercase: bool,
    /// Requires a lowercase letter.
    pub require_lowercase: bool,
    /// Requires a digit.
    pub require_numbers: bool,
    /// Requires a symbol.
    pub require_symbols: bool,
    /// Days an admin-set temporary password stays valid.
    pub temporary_password_validity_days: i64,
}

impl Default for PasswordPolicy {
    /// Cognito's own defaults.
    fn default() -> Self {
        Self {
            min_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// The Cognito user pool.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserPool {
    /// Sign-in attributes (fixed at creation).
    pub sign_in: SignIn,
    /// Custom attribute name → type (`string`, `number`, `boolean`, `datetime`).
    pub custom_attributes: BTreeMap<String, String>,
    /// Password rules.
    pub password_policy: PasswordPolicy,
    /// Attributes Cognito verifies automatically (`email`, `phone_number`).
    pub auto_verified_attributes: Vec<String>,
    /// Refuses deletion while on.
    pub deletion_protection: bool,
    /// Lets anyone holding an app client's id sign up (`SignUp`); off, only admins (and
    /// authdemo) create users.
    pub self_sign_up: bool,
    /// Hosted-UI domain prefix.
    pub domain: Option<String>,
    /// App clients by name.
    pub clients: BTreeMap<String, Client>,
    /// Resource servers (APIs with custom OAuth scopes) by identifier.
    pub resource_servers: BTreeMap<String, ResourceServer>,
    /// Users by username.
    pub users: BTreeMap<String, User>,
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
}

/// A user the stack creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// Attribute name → value (`email`, `custom:team`, …).
    pub attributes: BTreeMap<String, String>,
    /// Permanent password, set when the user is created.
    pub password: Option<SecretRef>,
    /// The groups it is a member of (managed: apply adds and removes memberships).
    pub groups: Vec<String>,
}

pub(super) const POOL_FIELDS: &[&str] = &[
    "sign_in",
    "custom_attributes",
    "password_policy",
    "auto_verified_attributes",
    "deletion_protection",
    "self_sign_up",
    "domain",
    "clients",
    "resource_servers",
    "users",
    "groups",
];
pub(super) const PASSWORD_FIELDS: &[&str] = &[
    "min_length",
    "require_uppercase",
    "require_lowercase",
    "require_numbers",
    "require_symbols",
    "temporary_password_validity_days",
];
pub(super) const USER_FIELDS: &[&str] = &["attributes", "password", "groups"];
pub(super) const SIGN_IN: &[&str] = &["username", "email", "phone_number"];
pub(super) const ATTRIBUTE_TYPES: &[&str] = &["string", "number", "boolean", "datetime"];
pub(super) const VERIFIABLE: &[&str] = &["email", "phone_number"];
pub(super) const STANDARD_ATTRIBUTES: &[&str] = &[
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Reads and validates `user_pool`.
pub(super) fn read(r: &mut Reader<'_>, field: Field<'_>) -> Option<UserPool> {
    let f = r.mapping(field, POOL_FIELDS)?;
    let sign_in = opt(&f, "sign_in", |field| read_sign_in(r, field)).unwrap_or(Some(SignIn::Username));
    let custom_attributes = opt(&f, "custom_attributes", |field| read_custom_attributes(r, field));
    let password_policy = opt(&f, "password_policy", |field| read_password_policy(r, field));
    let auto_verified_attributes =
        opt(&f, "auto_verified_attributes", |field| r.list(field, |r, item| r.one_of(item, VERIFIABLE)));
    let deletion_protection = opt(&f, "deletion_protection", |field| r.bool(field));
    let self_sign_up = opt(&f, "self_sign_up", |field| r.bool(field));
    let domain = opt(&f, "domain", |field| {
        r.string_matching(
            field,
            is_domain_prefix,
            "is not a valid hosted-UI domain prefix",
            "use 1-63 lowercase letters, digits and inner `-`, without `aws`, `amazon` or `cognito`",
        )
        .map(Some)
    });
    let resource_servers =
        opt(&f, "resource_servers", |field| resource_server::read(r, field)).unwrap_or(Some(BTreeMap::new()));
    let declared_scopes = resource_servers.as_ref().map(custom_scopes);
    let clients = opt(&f, "clients", |field| {
        let check = |name: &str| {
            (!is_client_name(name))
                .then(|| (format!("`{name}` is not a valid name"), "use 1-64 letters, digits, `_` or `-`".to_string()))
        };
        r.named(field, check, |r, field| read_client(r, field, declared_scopes.as_ref()))
    });
    let custom_names: Vec<String> = custom_attributes.clone().flatten().unwrap_or_default().into_keys().collect();
    let policy_for_users = password_policy.clone().flatten().unwrap_or_default();
    let users = opt(&f, "users", |field| {
        let check = |name: &str| {
            (!is_username(name)).then(|| {
                let hint = "use 1-64 letters, digits, `_`, `-`, `.`, `@` or `+`".to_string();
                (format!("`{name}` is not a valid name"), hint)
            })
        };
        r.named(field, check, |r, field| read_user(r, field, &custom_names, &policy_for_users))
    });
    if let (Some(sign_in), Some(users_field)) = (sign_in, f.get("users")) {
        check_usernames(r, sign_in, users_field.field());
    }
    let groups = opt(&f, "groups", |field| groups::read(r, field));
    groups::check_members(r, field);
    Some(UserPool {
        sign_in: sign_in?,
        custom_attributes: custom_attributes.unwrap_or(Some(BTreeMap::new()))?,
        password_policy: password_policy.unwrap_or(Some(PasswordPolicy::default()))?,
        auto_verified_attributes: auto_verified_attributes.unwrap_or(Some(Vec::new()))?,
        deletion_protection: deletion_protection.unwrap_or(Some(false))?,
        self_sign_up: self_sign_up.unwrap_or(Some(false))?,
        domain: domain.unwrap_or(Some(None))?,
        clients: clients.unwrap_or(Some(BTreeMap::new()))?,
        resource_servers: resource_servers?,
        users: users.unwrap_or(Some(BTreeMap::new()))?,
        groups: groups.unwrap_or(Some(BTreeMap::new()))?,
    })
}

fn read_sign_in(r: &mut Reader<'_>, field: Field<'_>) -> Option<SignIn> {
    let values = r.list(field, |r, item| r.one_of(item, SIGN_IN))?;
    let has = |name: &str| values.iter().any(|v| v == name);
    match (has("username"), has("email"), has("phone_number")) {
        (true, false, false) => Some(SignIn::Username),
        (false, true, false) => Some(SignIn::Email),
        (false, false, true) => Some(SignIn::PhoneNumber),
        (false, true, true) => Some(SignIn::EmailOrPhoneNumber),
        _ => {
            r.error(
                field.location(),
                field.path(),
                "must be [username], or one or both of [email, phone_number]",
                Some("Cognito signs in either by username or by email/phone number, not both".into()),
            );
            None
        }
    }
}

/// With email or phone sign-in, Cognito takes the email address or phone number as the username.
fn check_usernames(r: &mut Reader<'_>, sign_in: SignIn, users: Field<'_>) {
    let (is_valid, what): (fn(&str) -> bool, &str) = match sign_in {
        SignIn::Username => return,
        SignIn::Email => (is_email, "an email address"),
        SignIn::PhoneNumber => (is_phone_number, "a phone number like +15551234567"),
        SignIn::EmailOrPhoneNumber => (|s| is_email(s) || is_phone_number(s), "an email address or a phone number"),
    };
    let Some(entries) = r.any_mapping(users) else { return };
    for (name, value) in entries.entries() {
        if !is_valid(&name.value) {
            r.error(
                name.location,
                value.path(),
                format!("with this `sign_in`, a user's name must be {what}"),
                Some("name the user by the address it signs in with, or use `sign_in: [username]`".into()),
            );
        }
    }
}

fn read_custom_attributes(r: &mut Reader<'_>, field: Field<'_>) -> Option<BTreeMap<String, String>> {
    let check = |name: &str| {
        let valid = (1..=20).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        (!valid).then(|| {
            let hint = "use 1-20 letters, digits or `_`; Cognito adds the `custom:` prefix".to_string();
            ("invalid custom attribute name".to_string(), hint)
        })
    };
    r.named(field, check, |r, value| r.one_of(value, ATTRIBUTE_TYPES))
}

fn read_password_policy(r: &mut Reader<'_>, field: Field<'_>) -> Option<PasswordPolicy> {
    let f = r.mapping(field, PASSWORD_FIELDS)?;
    let defaults = PasswordPolicy::default();
    let mut ok = true;
    let mut flag = |r: &mut Reader<'_>, key: &str, default: bool| match f.get(key) {
        Some(owned) => r.bool(owned.field()).unwrap_or_else(|| {
            ok = false;
            default
        }),
        None => default,
    };
    let require_uppercase = flag(r, "require_uppercase", defaults.require_uppercase);
    let require_lowercase = flag(r, "require_lowercase", defaults.require_lowercase);
    let require_numbers = flag(r, "require_numbers", defaults.require_numbers);
    let require_symbols = flag(r, "require_symbols", defaults.require_symbols);
    let min_length = opt(&f, "min_length", |field| r.int(field, 6, 99)).unwrap_or(Some(defaults.min_length));
    let validity = opt(&f, "temporary_password_validity_days", |field| r.int(field, 0, 365))
        .unwrap_or(Some(defaults.temporary_password_validity_days));
    let policy = PasswordPolicy {
        min_length: min_length?,
        require_uppercase,
        require_lowercase,
        require_numbers,
        require_symbols,
        temporary_password_validity_days: validity?,
    };
    ok.then_some(policy)
}

/// A password rule: whether it applies, what a character must satisfy, and what it is called.
type Rule = (bool, fn(char) -> bool, &'static str);

fn read_user(
    r: &mut Reader<'_>,
    field: Field<'_>,
    custom_attributes: &[String],
    policy: &PasswordPolicy,
) -> Option<User> {
    let f = r.mapping(field, USER_FIELDS)?;
    let mut ok = true;
    let mut attributes = BTreeMap::new();
    if let Some(owned) = f.get("attributes")
        && let Some(map) = r.any_mapping(owned.field())
    {
        for (name, value) in map.entries() {
            let known = match name.value.strip_prefix("custom:") {
                Some(custom) => custom_attributes.iter().any(|c| c == custom),
                None => STANDARD_ATTRIBUTES.contains(&name.value.as_str()),
            };
            if !known {
                let hint = match super::diagnostic::did_you_mean(&name.value, STANDARD_ATTRIBUTES.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "use a standard attribute or `custom:NAME` declared in `custom_attributes`".into(),
                };
                r.error(name.location, value.path(), format!("unknown user attribute `{}`", name.value), Some(hint));
                ok = false;
            }
            match r.string(value.field()) {
                Some(Located { value: v, location }) => {
                    if name.value == "email" && !is_email(&v) {
                        r.error(location, value.path(), format!("`{v}` is not an email address"), None);
                        ok = false;
                    }
                    attributes.insert(name.value, v);
                }
                None => ok = false,
            }
        }
    }
    let password = opt(&f, "password", |field| {
        let secret = r.secret(field)?;
        if let Some(broken) = secret.value.as_ref().and_then(|value| policy_violation(value.expose(), policy)) {
            let message = format!("the password from the environment {broken}");
            r.error(
                field.location(),
                field.path(),
                message,
                Some("set a password that meets `password_policy`".into()),
            );
            return None;
        }
        Some(Some(secret))
    })
    .unwrap_or(Some(None));
    let password = password?;
    let groups = opt(&f, "groups", |field| groups::read_names(r, field)).unwrap_or(Some(Vec::new()));
    ok.then_some(User { attributes, password, groups: groups? })
}

/// What `password` lacks under `policy`, in words that never include the password.
pub(super) fn policy_violation(password: &str, policy: &PasswordPolicy) -> Option<String> {
    let length = password.chars().count();
    if i64::try_from(length).unwrap_or(i64::MAX) < policy.min_length {
        return Some(format!("is {length} characters long; the policy requires at least {}", policy.min_length));
    }
    let rules: [Rule; 4] = [
        (policy.require_uppercase, |c| c.is_uppercase(), "uppercase letter"),
        (policy.require_lowercase, |c| c.is_lowercase(), "lowercase letter"),
        (policy.require_numbers, |c| c.is_ascii_digit(), "digit"),
        (policy.require_symbols, |c| !c.is_alphanumeric() && !c.is_whitespace(), "symbol"),
    ];
    rules
        .iter()
        .find(|(required, has, _)| *required && !password.chars().any(*has))
        .map(|(_, _, what)| format!("contains no {what}, which the policy requires"))
}

fn is_domain_prefix(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !["aws", "amazon", "cognito"].iter().any(|w| s.contains(w))
}

fn is_username(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@+".contains(c))
}

fn is_phone_number(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|digits| (5..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()))
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace),
        None => false,
    }
}

/// The JSON Schema of this section (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let password = object(
        PASSWORD_FIELDS,
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
    let client = app_client::schema();
    let user = object(
        USER_FIELDS,
        &[],
        vec![
            ("attributes", json!({ "type": "object", "additionalProperties": scalar() })),
            ("password", text("Exactly one ${env:NAME} reference; set when the user is created.")),
            ("groups", groups::names_schema()),
        ],
    );
    object(
        POOL_FIELDS,
        &[],
        vec![
            ("sign_in", list(one_of(SIGN_IN))),
            ("custom_attributes", json!({ "type": "object", "additionalProperties": one_of(ATTRIBUTE_TYPES) })),
            ("password_policy", password),
            ("auto_verified_attributes", list(one_of(VERIFIABLE))),
            ("deletion_protection", flag()),
            ("self_sign_up", flag()),
            ("domain", text("Hosted-UI domain prefix, globally unique in the region.")),
            ("clients", json!({ "type": "object", "additionalProperties": client })),
            (
                "resource_servers",
                json!({ "type": "object", "description": "Identifier → resource server.", "additionalProperties": resource_server::schema() }),
            ),
            ("users", json!({ "type": "object", "additionalProperties": user })),
            ("groups", groups::schema()),
        ],
    )
}
