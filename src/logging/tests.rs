use std::sync::{Arc, Mutex};

use aws_sdk_sts::error::DisplayErrorContext;

use super::*;

/// An error with a source, shown by the SDK with `DisplayErrorContext` (chain, then `Debug`).
#[derive(Debug)]
struct Failed {
    what: &'static str,
    source: Option<Box<Failed>>,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

fn chain() -> Failed {
    let token = Failed { what: "failed to load token (file \"a (b)\" missing)", source: None };
    Failed { what: "no providers in chain\nprovided credentials", source: Some(Box::new(token)) }
}

/// Collects what the logger writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the logger for `verbosity` writes for one event of each kind below.
fn logged(verbosity: u8) -> String {
    let buffer = Captured::default();
    let writer = buffer.clone();
    let subscriber = subscriber(verbosity, move || writer.clone());
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(target: "authdemo::provider::lock", error = "denied", "could not renew the stack lock");
        tracing::debug!(target: "authdemo::provider::call", "GetRole: failed in 12 ms: NoSuchEntity (NotFound)");
        tracing::warn!(
            target: "aws_config::meta::credentials::chain",
            provider = %"Profile",
            error = %DisplayErrorContext(&chain()),
            "provider failed to provide credentials"
        );
        tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "send_request");
        tracing::debug!(target: "hyper_util::client", "connecting");
    });
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

const OWN_WARNING: &str = "WARN could not renew the stack lock error=denied\n";
const OWN_DEBUG: &str = "DEBUG GetRole: failed in 12 ms: NoSuchEntity (NotFound)\n";
const SDK_WARNING: &str = "WARN aws_config::meta::credentials::chain: provider failed to provide credentials \
    provider=Profile error=no providers in chain provided credentials: failed to load token (file \"a (b)\" missing)\n";
const SDK_DEBUG: &str = "DEBUG aws_smithy_runtime::client::orchestrator: send_request\n";

#[test]
fn by_default_only_the_tools_own_warnings_show() {
    assert_eq!(logged(0), OWN_WARNING);
}

#[test]
fn one_v_adds_the_tools_debug_and_the_sdks_warnings_each_on_one_line_without_debug_dump() {
    assert_eq!(logged(1), [OWN_WARNING, OWN_DEBUG, SDK_WARNING].concat());
}

#[test]
fn two_vs_add_the_sdks_debug_lines_only() {
    assert_eq!(logged(2), [OWN_WARNING, OWN_DEBUG, SDK_WARNING, SDK_DEBUG].concat());
}

#[test]
fn a_value_loses_only_a_trailing_debug_dump() {
    assert_eq!(without_debug_dump("plain (not a dump)"), "plain (not a dump)");
    assert_eq!(without_debug_dump("gone (Error { a: \")\" })"), "gone");
    assert_eq!(without_debug_dump("kept (Error) and more"), "kept (Error) and more");
    assert_eq!(one_line("two\n  lines"), "two lines");
}
