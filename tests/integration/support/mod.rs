//! Test support: the emulator, a fluent runner for the `authdemo` binary, SDK clients for
//! reading AWS back, and the hosted UI's OAuth endpoints as a browser calls them.

mod emulator;
pub(crate) mod oauth;
mod run;

pub(crate) use emulator::emulator;
pub(crate) use run::{Authdemo, Run, authdemo};

use std::sync::atomic::{AtomicUsize, Ordering};

/// A stack name no other test uses (tests share one emulator).
pub(crate) fn unique_stack(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    format!("it-{prefix}-{pid}-{n}")
}

/// A stack file in its own temporary directory.
pub(crate) struct StackFile {
    dir: tempfile::TempDir,
}

impl StackFile {
    /// Writes `text` as `stack.yaml`.
    pub(crate) fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("stack.yaml"), text).expect("write stack file");
        Self { dir }
    }

    /// Replaces the file's text.
    pub(crate) fn write(&self, text: &str) {
        std::fs::write(self.path(), text).expect("write stack file");
    }

    /// The file's path.
    pub(crate) fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("stack.yaml")
    }
}
