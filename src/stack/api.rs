//! The `api` part of the stack file: the REST API's stage and its routes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::cognito_route::{self, Pool};
use super::cors::{self, Cors};
use super::reader::{Field, Fields, Located, Reader};
use super::schema::{flag, list, object, one_of, text};

/// How callers of a route authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Auth {
    /// Anyone.
    None,
    /// Callers sign with SigV4 (e.g. identity pool credentials).
    Iam,
    /// Callers send a token of the stack's user pool (API Gateway's Cognito authorizer).
    Cognito,
}

/// One route: `METHOD /path` → a function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Route {
    /// `GET`, `POST`, …, or `ANY`.
    pub method: String,
    /// `/items/{id}`; `/` for the root.
    pub path: String,
    /// The function that answers.
    pub function: String,
    /// Authentication.
    pub auth: Auth,
    /// Whether callers must send an API key.
    pub api_key: bool,
    /// With `auth: cognito`, the OAuth scopes of which an access token must carry one; none: an
    /// ID token passes.
    pub scopes: Vec<String>,
    /// The user pool groups whose members may call it (`auth: iam` only); empty: every
    /// signed-in user.
    pub groups: Vec<String>,
}

impl Route {
    /// The route's key as written: `METHOD /path`.
    pub(crate) fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Api {
    /// The stage name.
    pub stage: String,
    /// The routes, sorted by key.
    pub routes: Vec<Route>,
    /// What browsers are told in CORS headers; `None` when CORS is off.
    pub cors: Option<Cors>,
}

pub(super) const FIELDS: &[&str] = &["stage", "routes", "cors"];
pub(super) const ROUTE_FIELDS: &[&str] = &["function", "auth", "api_key", "scopes", "groups"];
/// The values of a route's `auth`.
const AUTHS: &[&str] = &["none", "iam", "cognito"];

/// What routes are checked against: the functions the file declares (`None` if they cannot be
/// told), whether it has a usage plan, and its user pool.
pub(super) struct RouteContext<'a> {
    /// The names under `functions`.
    pub functions: Option<&'a BTreeSet<String>>,
    /// Whether the stack has a `usage_plan`.
    pub has_usage_plan: bool,
    /// The user pool, for `auth: cognito`.
    pub pool: Pool<'a>,
}

/// A route's target: function, authentication, API key, scopes and groups.
type Target = (String, Auth, bool, Vec<String>, Vec<String>);
pub(super) const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];

/// Reads and validates `api`; routes are checked against `context`, and `callback_origins` are
/// the origins of the user pool clients' callback URLs (CORS's default).
pub(super) fn read(
    r: &mut Reader<'_>,
    field: Field<'_>,
    context: &RouteContext<'_>,
    callback_origins: &[String],
) -> Option<Api> {
    let f = r.mapping(field, FIELDS)?;
    let stage = if let Some(o) = f.get("stage") {
        r.string_matching(
            o.field(),
            |s| (1..=128).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "is not a valid stage name",
            "use letters, digits, `_` or `-`, e.g. `latest` or `v1`",
        )
    } else {
        r.missing(&f, "stage", "e.g. `stage: latest`");
        None
    };
    let routes = read_routes(r, &f, context);
    let cors = cors::read(r, f.get("cors").as_ref().map(|o| o.field()), callback_origins);
    Some(Api { stage: stage?, routes: routes?, cors: cors? })
}

/// The `{param}` segment first written at each level of the path tree, by the level's parent
/// path, with the key of the route that wrote it.
type Parameters = BTreeMap<String, (String, String)>;

/// Reads `api.routes`: at least one route (API Gateway deploys no API without methods), each
/// route's key and target, and the parameter names across routes.
fn read_routes(r: &mut Reader<'_>, f: &Fields<'_>, context: &RouteContext<'_>) -> Option<Vec<Route>> {
    let routes_field = f.get("routes");
    let entries = match &routes_field {
        Some(o) => r.any_mapping(o.field())?.entries(),
        None => Vec::new(),
    };
    if entries.is_empty() {
        r.error(
            routes_field.as_ref().map_or(f.location(), |o| o.field().location()),
            &format!("{}.routes", f.path()),
            "the API has no routes",
            Some(
                "API Gateway cannot deploy an API without methods: add one, e.g. `GET /items: { function: api }`"
                    .into(),
            ),
        );
        return None;
    }
    let mut routes = Vec::new();
    let mut parameters = Parameters::new();
    let mut ok = true;
    for (key, value) in entries {
        let parsed = parse_route_key(&key.value);
        match &parsed {
            Ok((_, path)) => ok &= check_parameter_names(r, &mut parameters, &key, value.path(), path),
            Err((message, hint)) => {
                r.error(key.location, value.path(), message.clone(), Some(hint.clone()));
                ok = false;
            }
        }
        let target = read_target(r, value.field(), context);
        let (Ok((method, path)), Some((function, auth, api_key, scopes, groups))) = (parsed, target) else {
            ok = false;
            continue;
        };
        routes.push(Route { method, path, function, auth, api_key, scopes, groups });
    }
    routes.sort();
    ok.then_some(routes)
}

/// Records the `{param}` segments of `path` (the route `key`, at `field_path`) and reports one
/// named differently from another route's at the same level: API Gateway allows one parameter
/// per level (`/items/{id}` beside `/items/{key}/tags` fails). Whether every name agrees.
fn check_parameter_names(
    r: &mut Reader<'_>,
    parameters: &mut Parameters,
    key: &Located<String>,
    field_path: &str,
    path: &str,
) -> bool {
    let mut parent = String::new();
    for segment in path.split('/').skip(1) {
        if segment.starts_with('{') {
            let (name, other) = parameters.entry(parent.clone()).or_insert((segment.to_string(), key.value.clone()));
            if name != segment {
                r.error(
                    key.location,
                    field_path,
                    format!("`{segment}` and `{name}` are two parameter names at `{parent}/`"),
                    Some(format!(
                        "API Gateway allows one name per level: `{other}` names it `{name}`; use `{name}` here too"
                    )),
                );
                return false;
            }
        }
        parent = format!("{parent}/{segment}");
    }
    true
}

/// Reads one route's target: its function, `auth`, `api_key`, `scopes` and `groups`, reporting a problem
/// in each.
fn read_target(r: &mut Reader<'_>, field: Field<'_>, context: &RouteContext<'_>) -> Option<Target> {
    let f = r.mapping(field, ROUTE_FIELDS)?;
    let function = if let Some(o) = f.get("function") {
        read_function_name(r, o.field(), context.functions)
    } else {
        r.missing(&f, "function", "name the function that answers, e.g. `function: api`");
        None
    };
    let auth = match f.get("auth") {
        Some(o) => r.one_of(o.field(), AUTHS).map(|auth| match auth.as_str() {
            "iam" => Auth::Iam,
            "cognito" => Auth::Cognito,
            _ => Auth::None,
        }),
        None => Some(Auth::None),
    };
    let api_key = f.get("api_key").map_or(Some(false), |o| read_api_key(r, o.field(), context.has_usage_plan));
    let cognito = auth == Some(Auth::Cognito);
    let scopes = cognito_route::read_scopes(r, &f, cognito, context.pool);
    let checked = cognito_route::check(r, &f, cognito, context.pool);
    let groups = f.get("groups").map_or(Some(Vec::new()), |o| super::groups::read_names(r, o.field()));
    Some((function?, auth?, api_key?, scopes.filter(|_| checked)?, groups?))
}

/// Reads a route's `function`, which must be one of `functions` (when they can be told).
fn read_function_name(r: &mut Reader<'_>, field: Field<'_>, functions: Option<&BTreeSet<String>>) -> Option<String> {
    let name = r.string(field)?;
    if let Some(known) = functions
        && !known.contains(&name.value)
    {
        let hint = match super::diagnostic::did_you_mean(&name.value, known.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None if known.is_empty() => "declare it under `functions`".to_string(),
            None => format!("functions: {}", known.iter().cloned().collect::<Vec<_>>().join(", ")),
        };
        r.error(
            field.location(),
            field.path(),
            format!("`{}` is not a function of this stack", name.value),
            Some(hint),
        );
        return None;
    }
    Some(name.value)
}

/// Reads a route's `api_key`: requiring a key needs a usage plan, since API Gateway accepts only
/// the keys of a usage plan for the stage; without one no caller could ever be let in.
fn read_api_key(r: &mut Reader<'_>, field: Field<'_>, has_usage_plan: bool) -> Option<bool> {
    let required = r.bool(field)?;
    if required && !has_usage_plan {
        r.error(
            field.location(),
            field.path(),
            "the route requires an API key, but the stack has no `usage_plan`, so no key can be valid",
            Some("add a `usage_plan` with `api_keys`, or drop `api_key: true`".into()),
        );
        return None;
    }
    Some(required)
}

/// Splits `METHOD /path` and checks both; else what is wrong and a hint.
fn parse_route_key(key: &str) -> Result<(String, String), (String, String)> {
    let shape = |message: String| (message, "write `METHOD /path`, e.g. `GET /items/{id}`".to_string());
    let Some((method, path)) = key.split_once(' ') else {
        return Err(shape(format!("`{key}` is not `METHOD /path`")));
    };
    if !METHODS.contains(&method) {
        return Err(shape(format!("`{method}` is not an HTTP method (use one of {})", METHODS.join(", "))));
    }
    if !path.starts_with('/') {
        return Err(shape(format!("the path `{path}` must start with `/`")));
    }
    if path != "/" {
        check_segments(path)?;
    }
    Ok((method.to_string(), path.to_string()))
}

/// Checks each segment of `path` (below the root): API Gateway takes letters, digits and `._-`,
/// a `{param}`, or a last `{proxy+}`, and no empty segment (neither `//` nor a trailing `/`).
fn check_segments(path: &str) -> Result<(), (String, String)> {
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if segment.is_empty() && last {
            let hint = format!("API Gateway paths do not end in `/`: write `{}`", path.trim_end_matches('/'));
            return Err((format!("the path `{path}` ends with `/`"), hint));
        }
        if segment.is_empty() {
            return Err((
                format!("the path `{path}` has an empty segment (`//`)"),
                "write one `/` between segments".into(),
            ));
        }
        let literal = segment.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        let parameter = segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .map(|name| name.strip_suffix('+').filter(|_| last).unwrap_or(name))
            .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if !literal && !parameter {
            return Err((
                format!("`{segment}` in `{path}` is not a valid path segment"),
                "use letters, digits, `._-`, `{param}`, or a last `{proxy+}`".into(),
            ));
        }
    }
    Ok(())
}

/// The JSON Schema of this section (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let route = object(
        ROUTE_FIELDS,
        &["function"],
        vec![
            ("function", text("A function under functions.")),
            ("auth", one_of(AUTHS)),
            ("api_key", flag()),
            (
                "scopes",
                list(text(
                    "An OAuth scope (IDENTIFIER/SCOPE of a resource server, or a standard one); with auth: cognito, an access token must carry one of them.",
                )),
            ),
            ("groups", super::groups::names_schema()),
        ],
    );
    let methods = METHODS.join("|");
    object(
        FIELDS,
        &["stage", "routes"],
        vec![
            ("stage", text("Stage name, e.g. latest.")),
            (
                "routes",
                json!({
                    "type": "object",
                    "description": "METHOD /path → route.",
                    "minProperties": 1,
                    "propertyNames": { "pattern": format!("^({methods}) /") },
                    "additionalProperties": route,
                }),
            ),
            ("cors", cors::schema()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_route_keys() {
        assert_eq!(parse_route_key("GET /items/{id}"), Ok(("GET".into(), "/items/{id}".into())));
        assert_eq!(parse_route_key("ANY /{proxy+}"), Ok(("ANY".into(), "/{proxy+}".into())));
        assert_eq!(parse_route_key("GET /"), Ok(("GET".into(), "/".into())));
        assert!(parse_route_key("POST /a/").is_err());
        assert!(parse_route_key("GET //").is_err());
        assert!(parse_route_key("FETCH /a").is_err());
        assert!(parse_route_key("GET a").is_err());
        assert!(parse_route_key("GET /{proxy+}/x").is_err());
        assert!(parse_route_key("GET /a//b").is_err());
        assert!(parse_route_key("GET /a b").is_err());
    }
}
