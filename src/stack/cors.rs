//! `api.cors`: the web origins a browser may call the API from. On by default when the user
//! pool's clients have callback URLs (their origins are the web app's); `cors: false` turns it
//! off; `cors: { origins, headers, max_age_s }` sets it.

use serde_json::{Value, json};

use super::reader::{Field, Reader};
use super::schema::{int, list, object, reference, text};

/// What the API tells browsers in its CORS headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cors {
    /// `scheme://host[:port]` origins, sorted, or the one `*`.
    pub origins: Vec<String>,
    /// The request headers allowed: the ones SigV4 and API keys need, then the file's extras.
    pub headers: Vec<String>,
    /// How long a browser may cache a preflight's answer.
    pub max_age_s: i64,
}

pub(super) const FIELDS: &[&str] = &["origins", "headers", "max_age_s"];

/// The headers a page signing with SigV4 and sending an API key needs.
pub(crate) const DEFAULT_HEADERS: &[&str] =
    &["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token", "X-Amz-User-Agent"];

/// Ten minutes: fewer preflights than the browsers' 5 s default, within every browser's cap.
const DEFAULT_MAX_AGE_S: i64 = 600;

/// Firefox's cap on a preflight's cache time; Chromium caps at 7200.
const MAX_AGE_LIMIT_S: i64 = 86_400;

/// Reads `api.cors` (`field`, absent when `None`); `callback_origins` are the origins of the
/// user pool clients' callback URLs, the default. `None` when invalid, `Some(None)` when off.
pub(super) fn read(r: &mut Reader<'_>, field: Option<Field<'_>>, callback_origins: &[String]) -> Option<Option<Cors>> {
    let defaults = |origins: Vec<String>| Cors {
        origins,
        headers: DEFAULT_HEADERS.iter().map(ToString::to_string).collect(),
        max_age_s: DEFAULT_MAX_AGE_S,
    };
    let Some(field) = field else {
        return Some((!callback_origins.is_empty()).then(|| defaults(callback_origins.to_vec())));
    };
    if field.is_scalar() {
        if !r.bool(field)? {
            return Some(None);
        }
        if callback_origins.is_empty() {
            no_origins(r, field.location(), field.path());
            return None;
        }
        return Some(Some(defaults(callback_origins.to_vec())));
    }
    let f = r.mapping(field, FIELDS)?;
    let origins = match f.get("origins") {
        Some(o) => read_origins(r, o.field()),
        None if callback_origins.is_empty() => {
            no_origins(r, f.location(), &format!("{}.origins", f.path()));
            None
        }
        None => Some(callback_origins.to_vec()),
    };
    let extra = f.get("headers").map_or(Some(Vec::new()), |o| r.list(o.field(), read_header));
    let max_age_s = f.get("max_age_s").map_or(Some(DEFAULT_MAX_AGE_S), |o| r.int(o.field(), 0, MAX_AGE_LIMIT_S));
    let mut cors = defaults(origins?);
    for header in extra? {
        if !cors.headers.iter().any(|h| h.eq_ignore_ascii_case(&header)) {
            cors.headers.push(header);
        }
    }
    cors.max_age_s = max_age_s?;
    Some(Some(cors))
}

fn no_origins(r: &mut Reader<'_>, location: super::Location, path: &str) {
    r.error(
        location,
        path,
        "CORS needs origins, and no user pool client has callback URLs to take them from",
        Some("list them, e.g. `cors: { origins: [\"http://localhost:3000\"] }`, or write `cors: false`".into()),
    );
}

/// Reads `origins`: at least one, `*` only alone, sorted.
fn read_origins(r: &mut Reader<'_>, field: Field<'_>) -> Option<Vec<String>> {
    let mut origins = r.list(field, |r, item| {
        let written = r.string(item)?;
        match parse_origin(&written.value) {
            Ok(origin) => Some(origin),
            Err((message, hint)) => {
                r.error(item.location(), item.path(), message, Some(hint));
                None
            }
        }
    })?;
    if origins.is_empty() {
        r.error(
            field.location(),
            field.path(),
            "no origin is listed",
            Some("list the web app's origins, or write `cors: false`".into()),
        );
        return None;
    }
    if origins.len() > 1 && origins.iter().any(|o| o == "*") {
        r.error(
            field.location(),
            field.path(),
            "`*` allows every origin, so it cannot be listed with others",
            Some("write `origins: [\"*\"]`, or list only the origins".into()),
        );
        return None;
    }
    origins.sort();
    Some(origins)
}

/// Reads an extra allowed header: a header name (letters, digits, `-`, `_`).
fn read_header(r: &mut Reader<'_>, field: Field<'_>) -> Option<String> {
    r.string_matching(
        field,
        |h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "is not a header name",
        "use letters, digits, `-` and `_`, e.g. `X-Amz-Content-Sha256`",
    )
}

/// `text` as the origin a browser sends: `*`, or `http(s)://host[:port]` with the scheme and
/// host lowercased and a default port dropped; else what is wrong and a hint.
pub(super) fn parse_origin(text: &str) -> Result<String, (String, String)> {
    if text == "*" {
        return Ok(text.to_string());
    }
    let example = "write `scheme://host[:port]`, e.g. `http://localhost:3000` or `https://app.example.com`";
    let wrong = |what: &str| Err((format!("`{text}` is not an origin: {what}"), example.to_string()));
    let Some((scheme, authority)) = text.split_once("://") else { return wrong("it has no scheme") };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return wrong("the scheme must be http or https");
    }
    if let Some(at) = authority.find(['/', '?', '#']) {
        let hint = format!("an origin has no path: write `{scheme}://{}`", &authority[..at]);
        return Err((format!("`{text}` is not an origin: it has a path"), hint));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return wrong("the host must be a name or an IPv4 address");
    }
    let default_port = if scheme == "http" { 80 } else { 443 };
    let port = match port.map(str::parse::<u16>) {
        None => None,
        Some(Ok(port)) if port > 0 => (port != default_port).then_some(port),
        Some(_) => return wrong("the port must be a number from 1 to 65535"),
    };
    let host = host.to_ascii_lowercase();
    Ok(port.map_or_else(|| format!("{scheme}://{host}"), |port| format!("{scheme}://{host}:{port}")))
}

/// The distinct origins of `urls` (callback URLs), sorted; URLs without one are skipped.
pub(crate) fn origins_of<'a>(urls: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut origins: Vec<String> = urls
        .into_iter()
        .filter_map(|url| {
            let (scheme, rest) = url.split_once("://")?;
            let authority = rest.split(['/', '?', '#']).next()?;
            parse_origin(&format!("{scheme}://{authority}")).ok()
        })
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// The JSON Schema of `api.cors` (see [`super::schema`]).
pub(super) fn schema() -> Value {
    let settings = object(
        FIELDS,
        &[],
        vec![
            ("origins", list(text("scheme://host[:port], or `*` alone. Default: the callback URLs' origins."))),
            ("headers", list(text("A request header to allow besides the SigV4 and API key ones."))),
            ("max_age_s", int(0, MAX_AGE_LIMIT_S)),
        ],
    );
    json!({
        "description": "CORS for browsers: on by default with the user pool clients' callback URL origins; false turns it off.",
        "anyOf": [{ "type": "boolean" }, reference(), settings],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        assert_eq!(parse_origin("http://localhost:3000"), Ok("http://localhost:3000".into()));
        assert_eq!(parse_origin("HTTPS://App.Example.com:443"), Ok("https://app.example.com".into()));
        assert_eq!(parse_origin("http://127.0.0.1:80"), Ok("http://127.0.0.1".into()));
        assert_eq!(parse_origin("*"), Ok("*".into()));
    }

    #[test]
    fn what_is_not_an_origin_says_why() {
        for (text, why) in [
            ("localhost:3000", "no scheme"),
            ("ftp://example.com", "http or https"),
            ("http://localhost:3000/", "has a path"),
            ("https://example.com/app", "has a path"),
            ("http://localhost:0", "port"),
            ("http://localhost:99999", "port"),
            ("http://", "host"),
            ("http://exa mple.com", "host"),
        ] {
            let (message, _) = parse_origin(text).unwrap_err();
            assert!(message.contains(why), "{text}: {message}");
        }
        let (_, hint) = parse_origin("http://localhost:3000/").unwrap_err();
        assert!(hint.contains("`http://localhost:3000`"), "{hint}");
    }

    #[test]
    fn the_schema_takes_a_flag_or_the_settings() {
        let schema = schema();
        assert_eq!(schema["anyOf"][0]["type"], "boolean");
        assert_eq!(schema["anyOf"][2]["properties"]["max_age_s"]["anyOf"][0]["maximum"], MAX_AGE_LIMIT_S);
    }

    #[test]
    fn callback_urls_give_their_distinct_origins() {
        let urls = ["http://localhost:3000/", "http://localhost:3000/callback", "https://app.example.com/in?x=1"]
            .map(String::from);
        assert_eq!(origins_of(&urls), ["http://localhost:3000", "https://app.example.com"]);
    }
}
