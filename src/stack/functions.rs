//! The `functions` part of the stack file: Lambda functions and their code.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::policy::{read_statements, statements};
use super::reader::{Field, Reader};
use super::schema::{int, object, one_of, scalar, text};
use super::{Location, runtime};
use crate::artifact::Artifact;

/// A Lambda function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Function {
    /// Runtime, e.g. `nodejs24.x`.
    pub runtime: String,
    /// Where the file names the runtime (its lifecycle is checked once the run knows whether
    /// the function exists).
    pub runtime_location: Location,
    /// Entry point, e.g. `api.handler`.
    pub handler: String,
    /// The code package, built while loading.
    pub code: Artifact,
    /// Memory in MB.
    pub memory_mb: i64,
    /// Timeout in seconds.
    pub timeout_s: i64,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// Extra IAM statements for the function's role.
    pub policy: Vec<Value>,
}

pub(super) const FIELDS: &[&str] = &["runtime", "handler", "code", "memory_mb", "timeout_s", "environment", "policy"];

/// Reads and validates `functions`; code paths are relative to `base` (the stack file's directory).
/// `stack` (if valid) bounds the names: the execution role `<stack>-fn-<name>` has at most 64 characters.
pub(super) fn read(
    r: &mut Reader<'_>,
    field: Field<'_>,
    base: &Path,
    stack: Option<&str>,
) -> Option<BTreeMap<String, Function>> {
    let check = |name: &str| {
        if !is_function_name(name) {
            let hint = "use 1-31 letters, digits, `-` or `_` (the stack name is prefixed)".to_string();
            return Some((format!("`{name}` is not a valid function name"), hint));
        }
        let role = format!("{}-fn-{name}", stack?);
        (role.len() > 64).then(|| {
            let message = format!("`{name}` is too long for this stack: its role `{role}` would exceed 64 characters");
            (message, "shorten the function or the stack name".to_string())
        })
    };
    r.named(field, check, |r, value| read_function(r, value, base))
}

fn read_function(r: &mut Reader<'_>, field: Field<'_>, base: &Path) -> Option<Function> {
    let f = r.mapping(field, FIELDS)?;
    let required = |r: &mut Reader<'_>, key: &str, hint: &str| {
        let found = f.get(key);
        if found.is_none() {
            r.missing(&f, key, hint);
        }
        found
    };
    let runtime_field = required(r, "runtime", "e.g. `runtime: nodejs24.x`");
    let runtime_location = runtime_field.as_ref().map(|o| o.field().location()).unwrap_or_default();
    let runtime = runtime_field.and_then(|o| r.one_of(o.field(), &runtime::names()));
    let handler = required(r, "handler", "e.g. `handler: api.handler` (file api.js, export handler)").and_then(|o| {
        r.string_matching(
            o.field(),
            |h| !h.is_empty() && h.len() <= 128 && !h.contains(char::is_whitespace),
            "is not a valid handler",
            "write FILE.EXPORT, e.g. `api.handler`",
        )
    });
    let code = required(r, "code", "e.g. `code: ../examples/api` (a directory or a .zip, relative to this file)")
        .and_then(|o| read_code(r, o.field(), base));
    let memory_mb = f.get("memory_mb").map_or(Some(128), |o| r.int(o.field(), 128, 10240));
    let timeout_s = f.get("timeout_s").map_or(Some(3), |o| r.int(o.field(), 1, 900));
    let environment = f.get("environment").map_or(Some(BTreeMap::new()), |o| read_environment(r, o.field()));
    let policy = f.get("policy").map_or(Some(Vec::new()), |o| read_statements(r, o.field()));
    Some(Function {
        runtime: runtime?,
        runtime_location,
        handler: handler?,
        code: code?,
        memory_mb: memory_mb?,
        timeout_s: timeout_s?,
        environment: environment?,
        policy: policy?,
    })
}

fn read_code(r: &mut Reader<'_>, field: Field<'_>, base: &Path) -> Option<Artifact> {
    let relative = r.string(field)?;
    let path = base.join(&relative.value);
    let problem = if !path.exists() {
        Some(format!("`{}` does not exist (resolved to {})", relative.value, path.display()))
    } else if !path.is_dir() && path.extension().is_none_or(|e| e != "zip") {
        Some(format!("`{}` is neither a directory nor a .zip file", relative.value))
    } else {
        None
    };
    if let Some(message) = problem {
        r.error(
            field.location(),
            field.path(),
            message,
            Some("paths are relative to the stack file's directory".into()),
        );
        return None;
    }
    match Artifact::load(&path) {
        Ok(artifact) if artifact.bytes.len() > MAX_ZIP_BYTES => {
            let message = format!(
                "the code package is {} bytes ({:.1} MB), over the {MAX_ZIP_BYTES} bytes (50 MB) Lambda accepts in a direct upload",
                artifact.bytes.len(),
                mebibytes(artifact.bytes.len())
            );
            let hint =
                "move large dependencies into a Lambda layer, or leave build outputs and tests out of the directory";
            r.error(field.location(), field.path(), message, Some(hint.into()));
            None
        }
        Ok(artifact) => Some(artifact),
        Err(e) => {
            r.error(field.location(), field.path(), format!("cannot read the code: {e}"), None);
            None
        }
    }
}

/// Lambda's limit on a zip uploaded directly (CreateFunction/UpdateFunctionCode `ZipFile`).
const MAX_ZIP_BYTES: usize = 50 * 1024 * 1024;

/// Lambda's limit on a function's environment, measured as the JSON of the variables (AWS's
/// refusal quotes that "String measured").
const MAX_ENVIRONMENT_BYTES: usize = 4 * 1024;

#[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
fn mebibytes(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The environment variables Lambda reserves (AWS's documented list): a function may not set them.
/// Other `AWS_` names, such as `AWS_LAMBDA_EXEC_WRAPPER`, are the function's to set.
const RESERVED_ENVIRONMENT: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Reads a function's `environment`: valid names Lambda does not reserve, each with a string value.
fn read_environment(r: &mut Reader<'_>, field: Field<'_>) -> Option<BTreeMap<String, String>> {
    let check = |name: &str| {
        if RESERVED_ENVIRONMENT.contains(&name) {
            let hint = "Lambda sets it for every function; choose another name".to_string();
            return Some((format!("`{name}` is reserved by Lambda"), hint));
        }
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        (!valid).then(|| {
            let hint = "use letters, digits and `_`, starting with a letter".to_string();
            (format!("`{name}` is not a valid environment variable name"), hint)
        })
    };
    let environment = r.named(field, check, |r, value| r.string(value).map(|s| s.value))?;
    let size = serde_json::to_string(&environment).map_or(0, |json| json.len());
    if size > MAX_ENVIRONMENT_BYTES {
        let message = format!(
            "the environment is {size} bytes (as the JSON Lambda measures), over the {MAX_ENVIRONMENT_BYTES} bytes Lambda accepts"
        );
        let hint = "keep large values elsewhere (SSM Parameter Store, Secrets Manager) and pass their names";
        r.error(field.location(), field.path(), message, Some(hint.into()));
        return None;
    }
    Some(environment)
}

fn is_function_name(s: &str) -> bool {
    (1..=31).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The JSON Schema of this section (see [`super::schema`]).
pub(super) fn schema() -> Value {
    object(
        FIELDS,
        &["runtime", "handler", "code"],
        vec![
            ("runtime", one_of(&runtime::names())),
            ("handler", text("FILE.EXPORT, e.g. api.handler")),
            ("code", text("A directory or a .zip, relative to the stack file.")),
            ("memory_mb", int(128, 10240)),
            ("timeout_s", int(1, 900)),
            ("environment", json!({ "type": "object", "additionalProperties": scalar() })),
            ("policy", statements()),
        ],
    )
}
