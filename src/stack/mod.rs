//! The stack file: parsing, `${…}` interpolation and validation into a typed [`Stack`].
//!
//! Validation happens before any AWS call and reports every problem at once, each with
//! file:line:column, the field path, what is wrong and a hint ([`Diagnostics`]).

mod api;
mod app_client;
mod cognito_route;
mod cors;
mod diagnostic;
mod functions;
mod groups;
mod iam;
mod identity_pool;
mod interpolate;
mod policy;
mod reader;
mod resource_server;
mod runtime;
mod schema;
mod tags;
mod usage_plan;
mod user_pool;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub(crate) use api::{Api, Auth, Route};
pub(crate) use cors::{Cors, origins_of};
pub(crate) use diagnostic::{Diagnostic, Diagnostics, Location};
pub(crate) use functions::Function;

pub(crate) use iam::is_policy_arn;
pub(crate) use identity_pool::IdentityPool;
pub(crate) use runtime::{FunctionFate, check_runtimes, is_date};
pub(crate) use usage_plan::UsagePlan;
pub(crate) use user_pool::{SignIn, User, UserPool};

use crate::secret::Secret;
use interpolate::Interpolator;
use reader::{Field, OwnedField, Reader};
use schema::{object, scalar, text};
use serde_json::{Value, json};

/// A validated stack file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stack {
    /// The stack name: it names and tags everything the stack owns.
    pub name: String,
    /// The region from the file, if it names one.
    pub region: Option<String>,
    /// The Cognito user pool, if the stack has one.
    pub user_pool: Option<UserPool>,
    /// The Cognito identity pool, if the stack has one.
    pub identity_pool: Option<IdentityPool>,
    /// Lambda functions by name.
    pub functions: BTreeMap<String, Function>,
    /// The REST API, if the stack has one.
    pub api: Option<Api>,
    /// The usage plan with its API keys, if the stack has one.
    pub usage_plan: Option<UsagePlan>,
    /// The tags every taggable resource of the stack carries beside the ownership tags.
    pub tags: BTreeMap<String, String>,
    /// The ARN of the managed policy every role of the stack carries as its permissions
    /// boundary (`iam.permissions_boundary`, or `--permissions-boundary`).
    pub permissions_boundary: Option<String>,
    /// Every value a `${env:…}` reference went into: sensitive wherever it appears.
    pub env_values: Vec<Secret>,
}

/// How a stack file is read: variable overrides from `--var` and the environment lookup.
pub(crate) struct LoadOptions<'a> {
    /// `--var NAME=VALUE` pairs, in command-line order.
    pub var_overrides: &'a [(String, String)],
    /// Looks up `${env:NAME}`.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Top-level fields.
const TOP_LEVEL: &[&str] =
    &["stack", "region", "vars", "tags", "user_pool", "identity_pool", "functions", "api", "usage_plan", "iam"];

/// Validates stack file text; `file` names it in diagnostics and anchors relative code paths.
pub(crate) fn parse(file: &Path, text: &str, options: &LoadOptions<'_>) -> Result<Stack, Diagnostics> {
    let fail = |items| Diagnostics { file: file.to_path_buf(), items };
    let root = marked_yaml::parse_yaml_with_options(
        0,
        text,
        marked_yaml::LoaderOptions::default().error_on_duplicate_keys(true),
    )
    .map_err(|e| fail(vec![yaml_error(e)]))?;

    let (vars, mut diagnostics) = read_vars(&root, options.var_overrides);
    diagnostics.extend(second_document(text, &root));
    let interpolator = Interpolator::new(&vars, options.env);
    let mut reader = Reader::new(interpolator);
    let stack = read_stack(&mut reader, file, Field::root(&root));
    let (found, env_values) = reader.into_parts();
    diagnostics.extend(found);
    diagnostics.sort_by_key(|d| (d.location.line, d.location.column));
    match stack {
        Some(mut stack) if diagnostics.is_empty() => {
            // The stack's name names every resource: it is no secret, wherever it comes from.
            stack.env_values = env_values.into_iter().filter(|v| v.expose() != stack.name).collect();
            Ok(stack)
        }
        _ => Err(fail(diagnostics)),
    }
}

fn read_stack(r: &mut Reader<'_>, file: &Path, root: Field<'_>) -> Option<Stack> {
    let top = r.mapping(root, TOP_LEVEL)?;
    let name = if let Some(f) = top.get("stack") {
        r.string_matching(
            f.field(),
            is_stack_name,
            "is not a valid stack name",
            "start with a lowercase letter; use lowercase letters, digits and `-`; at most 32 characters",
        )
    } else {
        r.missing(&top, "stack", "name the stack, e.g. `stack: auth-api-demo-${var.env}`");
        None
    };
    let region = top.get("region").and_then(|f| {
        r.string_matching(f.field(), is_region, "is not an AWS region name", "e.g. `us-west-2` or `eu-central-1`")
    });
    let tags = top.get("tags").map_or(Some(BTreeMap::new()), |f| tags::read(r, f.field()));
    let user_pool = top.get("user_pool").map(|f| user_pool::read(r, f.field()));
    let client_names = declared(top.get("user_pool"), |f| f.names_under("clients"));
    let identity_pool = top.get("identity_pool").map(|f| identity_pool::read(r, f.field(), client_names.as_ref()));
    let base = file.parent().unwrap_or(Path::new("."));
    let functions = top.get("functions").map(|f| functions::read(r, f.field(), base, name.as_deref()));
    let function_names = declared(top.get("functions"), |f| f.names());
    let has_usage_plan = top.get("usage_plan").is_some();
    let callback_urls =
        user_pool.iter().flatten().flat_map(|pool| pool.clients.values()).flat_map(|c| &c.callback_urls);
    let callback_origins = cors::origins_of(callback_urls);
    let custom_scopes = match &user_pool {
        Some(Some(pool)) => Some(resource_server::custom_scopes(&pool.resource_servers)),
        Some(None) => None,
        None => Some(BTreeSet::new()),
    };
    let routes = api::RouteContext {
        functions: function_names.as_ref(),
        has_usage_plan,
        pool: cognito_route::Pool { exists: user_pool.is_some(), custom_scopes: custom_scopes.as_ref() },
    };
    let api = top.get("api").map(|f| api::read(r, f.field(), &routes, &callback_origins));
    if let Some(api) = top.get("api") {
        let user_pool = top.get("user_pool");
        let has_identity_pool = top.get("identity_pool").is_some();
        groups::check_routes(r, api.field(), user_pool.as_ref().map(|f| f.field()), name.as_deref(), has_identity_pool);
    }
    let usage_plan = top.get("usage_plan").map(|f| usage_plan::read(r, f.field(), top.get("api").is_some()));
    let permissions_boundary = top.get("iam").map(|f| iam::read(r, f.field()));
    Some(Stack {
        name: name?,
        region,
        user_pool: present(user_pool)?,
        identity_pool: present(identity_pool)?,
        functions: present(functions)?.unwrap_or_default(),
        api: present(api)?,
        usage_plan: present(usage_plan)?,
        tags: tags?,
        permissions_boundary: present(permissions_boundary)?.flatten(),
        env_values: Vec::new(),
    })
}

/// The names `section` declares (see [`Field::names`]); an absent section declares none.
fn declared(
    section: Option<OwnedField<'_>>,
    names: impl Fn(Field<'_>) -> Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    section.map_or(Some(BTreeSet::new()), |f| names(f.field()))
}

/// An optional section: absent (`Some(None)`), read well (`Some(Some(_))`) or invalid (`None`).
fn present<T>(section: Option<Option<T>>) -> Option<Option<T>> {
    match section {
        None => Some(None),
        Some(read) => read.map(Some),
    }
}

/// Reads `vars:` defaults and applies `--var` overrides. Variable values are literal.
fn read_vars(root: &marked_yaml::Node, overrides: &[(String, String)]) -> (BTreeMap<String, String>, Vec<Diagnostic>) {
    let no_env = |_: &str| None;
    let no_vars = BTreeMap::new();
    let mut reader = Reader::new(Interpolator::new(&no_vars, &no_env));
    let mut vars = BTreeMap::new();
    let mut vars_location = Location { line: 1, column: 1 };
    if let Some(fields) = reader.any_mapping(Field::root(root))
        && let Some(vars_field) = fields.get("vars")
        && let Some(entries) = reader.any_mapping(vars_field.field())
    {
        vars_location = entries.location();
        for (name, value) in entries.entries() {
            if !is_var_name(&name.value) {
                reader.error(
                    name.location,
                    value.path(),
                    "invalid variable name",
                    Some("use letters, digits and `_`, starting with a letter".into()),
                );
            }
            if let Some(v) = reader.string(value.field()) {
                vars.insert(name.value, v.value);
            }
        }
    }
    for (name, value) in overrides {
        if vars.contains_key(name) {
            vars.insert(name.clone(), value.clone());
        } else {
            let close = diagnostic::did_you_mean(name, vars.keys().map(String::as_str));
            reader.error(
                vars_location,
                &format!("--var {name}"),
                "sets a variable the stack file does not declare",
                Some(match close {
                    Some(c) => format!("did you mean `--var {c}=…`?"),
                    None => format!("declare it under `vars:` with a default, e.g. `{name}: dev`"),
                }),
            );
        }
    }
    (vars, reader.into_diagnostics())
}

/// A second YAML document after the one `root` starts: the loader reads only the first, so
/// everything after it would be silently ignored. After the first document's content, a line
/// starting with `---` starts one, and so does anything but comments after a `...` end marker.
fn second_document(text: &str, root: &marked_yaml::Node) -> Option<Diagnostic> {
    let content_line = reader::location_of(root.span()).line;
    let mut ended = false;
    for (index, line) in text.lines().enumerate().skip(content_line) {
        let content = line.trim_start();
        let column = if is_document_marker(line, "---") {
            1
        } else if is_document_marker(line, "...") {
            ended = true;
            continue;
        } else if ended && !content.is_empty() && !content.starts_with('#') {
            line.chars().count() - content.chars().count() + 1
        } else {
            continue;
        };
        return Some(Diagnostic::new(
            Location { line: index + 1, column },
            "",
            "a second YAML document starts here; a stack file holds one",
            Some(
                "everything after the first document would be ignored: merge it into the first, or give it its own file",
            ),
        ));
    }
    None
}

/// Whether `line` is the YAML document marker `marker` (`---` or `...`).
fn is_document_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

fn yaml_error(error: marked_yaml::LoadError) -> Diagnostic {
    use marked_yaml::LoadError as E;
    let mut hint = "see stacks/demo.yaml for the expected shape";
    let (marker, message) = match &error {
        E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => {
            (Some(*m), "the stack file must be a mapping of fields".to_string())
        }
        E::DuplicateKey(inner) => {
            (inner.key.span().start().copied(), format!("duplicate key `{}`", inner.key.as_str()))
        }
        E::ScanError(m, e) => (Some(*m), format!("invalid YAML: {e}")),
        E::UnexpectedAnchor(m) => {
            hint = "write the values out, or share them through `vars:` and `${var.NAME}`";
            (Some(*m), "YAML anchors and aliases (&name, *name) are not supported in stack files".to_string())
        }
        E::UnexpectedTag(m) => (Some(*m), "YAML tags (!name) are not supported in stack files".to_string()),
        E::MappingKeyMustBeScalar(m) => (Some(*m), "mapping keys must be plain values".to_string()),
    };
    let location = marker.map_or(Location { line: 1, column: 1 }, |m| Location { line: m.line(), column: m.column() });
    Diagnostic::new(location, "", &message, Some(hint))
}

fn is_stack_name(s: &str) -> bool {
    s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_var_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The schema (JSON Schema draft-07).
pub(crate) fn schema() -> Value {
    let top = object(
        TOP_LEVEL,
        &["stack"],
        vec![
            ("stack", text("Names and tags everything: [a-z][a-z0-9-]*, at most 32 characters.")),
            ("region", text("AWS region; --region wins, else the AWS config's.")),
            (
                "vars",
                json!({ "type": "object", "description": "Variable defaults; override with --var NAME=VALUE.", "additionalProperties": scalar() }),
            ),
            ("tags", tags::schema()),
            ("user_pool", user_pool::schema()),
            ("identity_pool", identity_pool::schema()),
            (
                "functions",
                json!({ "type": "object", "description": "Lambda functions by name.", "additionalProperties": functions::schema() }),
            ),
            ("api", api::schema()),
            ("usage_plan", usage_plan::schema()),
            ("iam", iam::schema()),
        ],
    );
    let mut schema = top;
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("authdemo stack file");
    schema
}

/// Reads and validates the stack file `file` with `vars` (and the environment for `${env:…}`);
/// also returns its text (saved plans record its hash).
pub(crate) fn load(file: &Path, vars: &[(String, String)]) -> Result<(Stack, String), Diagnostics> {
    let env = |name: &str| std::env::var(name).ok();
    let options = LoadOptions { var_overrides: vars, env: &env };
    let text = std::fs::read_to_string(file).map_err(|e| Diagnostics {
        file: file.to_path_buf(),
        items: vec![Diagnostic {
            location: Location { line: 1, column: 1 },
            path: String::new(),
            message: format!("cannot read the stack file: {e}"),
            hint: Some("pass the stack file with -f FILE".into()),
        }],
    })?;
    Ok((parse(file, &text, &options)?, text))
}

#[cfg(test)]
mod tests;
