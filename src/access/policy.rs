//! IAM identity-policy evaluation for one action on one resource, as AWS evaluates a role's
//! policies: an explicit Deny wins over any Allow, nothing allowed is an implicit deny. Documents
//! are parsed once into [`PolicyDocument`]; `Action`/`Resource` (and their `Not` forms) may be a
//! string or a list, with `*` and `?` wildcards; actions match case-insensitively, resources
//! exactly. A statement with a `Condition` cannot be decided from the configuration alone: it is
//! reported with its condition keys and counts as a deny.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A policy document (only what evaluation reads; `Principal` and the like are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct PolicyDocument {
    /// Its statements (AWS accepts one statement object or a list).
    #[serde(rename = "Statement")]
    pub statements: OneOrMany<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Statement {
    /// Its id, if it has one.
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// The actions it covers.
    pub action: Option<OneOrMany<String>>,
    /// The actions it covers by exclusion: every action but these.
    pub not_action: Option<OneOrMany<String>>,
    /// The resources it covers.
    pub resource: Option<OneOrMany<String>>,
    /// The resources it covers by exclusion: every resource but these.
    pub not_resource: Option<OneOrMany<String>>,
    /// Operator → condition key → values.
    pub condition: Option<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum Effect {
    /// Grants.
    Allow,
    /// Refuses, whatever else grants.
    Deny,
}

/// A value IAM accepts as one item or a list of them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    /// A single item.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The items.
    pub(crate) fn items(&self) -> &[T] {
        match self {
            Self::One(item) => std::slice::from_ref(item),
            Self::Many(items) => items,
        }
    }
}

/// A parsed policy with the name it is known by (an inline policy's name, a managed policy's ARN).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NamedPolicy {
    /// The inline policy's name or the managed policy's ARN.
    pub name: String,
    /// The document.
    pub document: PolicyDocument,
}

impl NamedPolicy {
    /// Parses `json` (already URL-decoded) as the policy `name`.
    pub(crate) fn parse(name: &str, json: &str) -> Result<Self, serde_json::Error> {
        Ok(Self { name: name.to_string(), document: serde_json::from_str(json)? })
    }
}

/// Where a decision comes from: a policy and, if it has one, the statement's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The policy's name.
    pub policy: String,
    /// The statement's `Sid`.
    pub sid: Option<String>,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "policy {}", self.policy)?;
        match &self.sid {
            Some(sid) => write!(f, ", statement {sid}"),
            None => Ok(()),
        }
    }
}

/// The outcome of evaluating a request against a set of policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// An unconditional Allow applies and no Deny does.
    Allow(Grant),
    /// An unconditional Deny applies.
    ExplicitDeny(Grant),
    /// The outcome depends on these condition keys (a conditional Deny that may apply, or only
    /// a conditional Allow); counted as a deny.
    DependsOn(Vec<String>, Grant),
    /// Nothing allows it.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request is allowed for certain.
    pub(crate) fn allows(&self) -> bool {
        matches!(self, Self::Allow(_))
    }
}

/// Evaluates `action` on `resource` against `policies`.
pub(crate) fn evaluate(policies: &[NamedPolicy], action: &str, resource: &str) -> Decision {
    let mut conditional_deny = None;
    let mut allow = None;
    let mut conditional_allow = None;
    for (grant, statement) in applicable(policies, action, resource) {
        let keys = statement.condition_keys();
        match (statement.effect, keys.is_empty()) {
            (Effect::Deny, true) => return Decision::ExplicitDeny(grant),
            (Effect::Deny, false) => conditional_deny = conditional_deny.or(Some((keys, grant))),
            (Effect::Allow, true) => allow = allow.or(Some(grant)),
            (Effect::Allow, false) => conditional_allow = conditional_allow.or(Some((keys, grant))),
        }
    }
    if let Some((keys, grant)) = conditional_deny {
        return Decision::DependsOn(keys, grant);
    }
    match (allow, conditional_allow) {
        (Some(grant), _) => Decision::Allow(grant),
        (None, Some((keys, grant))) => Decision::DependsOn(keys, grant),
        (None, None) => Decision::ImplicitDeny,
    }
}

/// Every statement of `policies` that covers `action` on `resource`, with where it comes from.
pub(crate) fn applicable<'a>(
    policies: &'a [NamedPolicy],
    action: &'a str,
    resource: &'a str,
) -> impl Iterator<Item = (Grant, &'a Statement)> + 'a {
    policies.iter().flat_map(move |policy| {
        policy
            .document
            .statements
            .items()
            .iter()
            .filter(move |s| s.covers_action(action) && s.covers_resource(resource))
            .map(|s| (Grant { policy: policy.name.clone(), sid: s.sid.clone() }, s))
    })
}

impl Statement {
    /// Whether the statement covers `action` (case-insensitively).
    pub(crate) fn covers_action(&self, action: &str) -> bool {
        let action = action.to_ascii_lowercase();
        let matches = |patterns: &OneOrMany<String>| {
            patterns.items().iter().any(|p| wildcard_match(&p.to_ascii_lowercase(), &action))
        };
        covers(self.action.as_ref(), self.not_action.as_ref(), matches)
    }

    /// Whether the statement covers `resource` (case-sensitively).
    pub(crate) fn covers_resource(&self, resource: &str) -> bool {
        let matches = |patterns: &OneOrMany<String>| patterns.items().iter().any(|p| wildcard_match(p, resource));
        covers(self.resource.as_ref(), self.not_resource.as_ref(), matches)
    }

    /// The condition keys of its `Condition` block, sorted and without repeats.
    pub(crate) fn condition_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> =
            self.condition.iter().flat_map(|c| c.values()).flat_map(|m| m.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Whether an element pair (`Action`/`NotAction`, `Resource`/`NotResource`) covers a value that
/// `matches` tests: the positive form must match, the negative form must not; a statement with
/// neither covers nothing (AWS rejects such a document).
fn covers(
    positive: Option<&OneOrMany<String>>,
    negative: Option<&OneOrMany<String>>,
    matches: impl Fn(&OneOrMany<String>) -> bool,
) -> bool {
    match (positive, negative) {
        (Some(patterns), _) => matches(patterns),
        (None, Some(excluded)) => !matches(excluded),
        (None, None) => false,
    }
}

/// Whether `text` matches the IAM `pattern`: `*` is any run of characters (`/` and `:`
/// included), `?` any one character.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, at)) => {
                    p = star + 1;
                    t = at + 1;
                    backtrack = Some((star, at + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-west-2:123456789012:abc123/latest/GET/auth";
    const INVOKE: &str = "execute-api:Invoke";

    fn policy(name: &str, statements: &str) -> NamedPolicy {
        NamedPolicy::parse(name, &format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)).unwrap()
    }

    fn decide(policies: &[NamedPolicy]) -> Decision {
        evaluate(policies, INVOKE, ARN)
    }

    fn grant(policy: &str, sid: Option<&str>) -> Grant {
        Grant { policy: policy.into(), sid: sid.map(str::to_string) }
    }

    #[test]
    fn wildcards_match_any_run_or_one_character() {
        assert!(wildcard_match("*", ARN));
        assert!(wildcard_match("arn:aws:execute-api:*:*:abc123/*", ARN));
        assert!(wildcard_match("arn:aws:execute-api:us-west-2:123456789012:abc123/latest/GET/aut?", ARN));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(wildcard_match("a*", "a"));
        assert!(!wildcard_match("arn:aws:execute-api:*:*:abc123/prod/*", ARN));
        assert!(!wildcard_match("?", ""));
        assert!(!wildcard_match("a*b", "acbd"));
        assert!(!wildcard_match("arn:aws:execute-api:us-west-2:123456789012:abc123/latest/GET/aut", ARN));
    }

    #[test]
    fn an_allow_grants_with_strings_or_lists_and_actions_in_any_case() {
        let single =
            policy("p", r#"{"Effect":"Allow","Action":"EXECUTE-API:invoke","Resource":"arn:aws:execute-api:*"}"#);
        assert_eq!(decide(&[single]), Decision::Allow(grant("p", None)));
        let listed = policy(
            "q",
            r#"[{"Sid":"Api","Effect":"Allow","Action":["s3:GetObject","execute-api:*"],"Resource":["arn:x",
            "arn:aws:execute-api:us-west-2:123456789012:abc123/latest/GET/auth"]}]"#,
        );
        assert_eq!(decide(&[listed]), Decision::Allow(grant("q", Some("Api"))));
    }

    #[test]
    fn nothing_allowed_is_an_implicit_deny() {
        assert_eq!(decide(&[]), Decision::ImplicitDeny);
        let other = policy("p", r#"{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"*"}"#);
        let elsewhere = policy(
            "q",
            r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:other/*"}"#,
        );
        assert_eq!(decide(&[other, elsewhere]), Decision::ImplicitDeny);
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow() {
        let allow = policy("allow", r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let deny = policy("deny", r#"{"Sid":"No","Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"}"#);
        assert_eq!(decide(&[allow.clone(), deny.clone()]), Decision::ExplicitDeny(grant("deny", Some("No"))));
        assert_eq!(decide(&[deny, allow]), Decision::ExplicitDeny(grant("deny", Some("No"))));
    }

    #[test]
    fn not_action_covers_every_other_action() {
        let all_but_s3 = policy("p", r#"{"Effect":"Allow","NotAction":["s3:*"],"Resource":"*"}"#);
        assert!(decide(std::slice::from_ref(&all_but_s3)).allows());
        let all_but_invoke = policy("q", r#"{"Effect":"Allow","NotAction":"execute-api:Invoke","Resource":"*"}"#);
        assert_eq!(decide(&[all_but_invoke]), Decision::ImplicitDeny);
        let deny_all_but_s3 = policy("d", r#"{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}"#);
        assert!(matches!(decide(&[all_but_s3, deny_all_but_s3]), Decision::ExplicitDeny(_)));
    }

    #[test]
    fn not_resource_covers_every_other_resource() {
        let elsewhere =
            policy("p", r#"{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":"arn:aws:s3:::*"}"#);
        assert!(decide(&[elsewhere]).allows());
        let excluded = policy(
            "q",
            r#"{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":["arn:aws:execute-api:*:*:abc123/*"]}"#,
        );
        assert_eq!(decide(&[excluded]), Decision::ImplicitDeny);
    }

    #[test]
    fn conditions_are_reported_with_their_keys_and_count_as_deny() {
        let conditional = policy(
            "p",
            r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}}"#,
        );
        let decision = decide(std::slice::from_ref(&conditional));
        assert_eq!(
            decision,
            Decision::DependsOn(vec!["aws:SecureTransport".into(), "aws:SourceIp".into()], grant("p", None))
        );
        assert!(!decision.allows());
        let allow = policy("a", r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}"#);
        assert!(
            decide(&[conditional, allow.clone()]).allows(),
            "an unconditional allow does not depend on another's condition"
        );
        let maybe_deny = policy(
            "d",
            r#"{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"a"}}}"#,
        );
        assert!(
            matches!(decide(&[allow, maybe_deny]), Decision::DependsOn(keys, _) if keys == ["aws:PrincipalTag/team"])
        );
    }

    #[test]
    fn a_document_that_is_not_a_policy_is_an_error() {
        assert!(NamedPolicy::parse("p", r#"{"Statement":{"Effect":"Perhaps","Action":"*","Resource":"*"}}"#).is_err());
        assert!(NamedPolicy::parse("p", "not json").is_err());
    }
}
