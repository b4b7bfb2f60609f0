//! A fluent runner for the real `authdemo` executable.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::emulator;

/// One finished run.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The SDK app id the run used; [`super::Emulator::calls`] takes it.
    pub app_id: String,
}

impl Run {
    /// Both streams, for "appears nowhere" checks.
    pub(crate) fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code, showing the output when it differs.
    pub(crate) fn expect_code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// How many throttling answers this run received from the emulator.
    pub(crate) fn throttled(&self) -> u64 {
        emulator().throttled(&self.app_id)
    }

    /// The operations this run sent to the emulator.
    pub(crate) fn calls(&self) -> Vec<String> {
        emulator().calls(&self.app_id)
    }
}

/// Builds a run of `authdemo` against the emulator.
pub(crate) struct Authdemo {
    command: Command,
    app_id: String,
}

/// `authdemo ARGS…` against the shared emulator, with test credentials and no colors.
pub(crate) fn authdemo(args: &[&str]) -> Authdemo {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let app_id = format!("t{}r{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst));
    let mut command = Command::new(env!("CARGO_BIN_EXE_authdemo"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_SDK_UA_APP_ID", &app_id)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    Authdemo { command, app_id }
}

impl Authdemo {
    /// Adds `-f FILE`.
    pub(crate) fn file(mut self, path: &Path) -> Self {
        self.command.arg("-f").arg(path);
        self
    }

    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs in `dir` instead of the test's working directory.
    pub(crate) fn current_dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Removes an environment variable for the run.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Turns on the emulator's AWS behaviours of `profile` for this run (see the fault profiles
    /// in `emulator/launcher.py`), e.g. `c10.l400.i8.t10`; they travel in the SDK app id.
    pub(crate) fn faults(mut self, profile: &str) -> Self {
        self.app_id = format!("{}-F{profile}", self.app_id);
        self.command.env("AWS_SDK_UA_APP_ID", &self.app_id);
        self
    }

    /// Points the run at the emulator through `AWS_ENDPOINT_URL`.
    pub(crate) fn emulated(self) -> Self {
        let endpoint = emulator().endpoint.clone();
        self.env("AWS_ENDPOINT_URL", &endpoint)
    }

    /// Starts the run in the background, its stdout piped (stderr discarded).
    pub(crate) fn spawn(mut self) -> std::process::Child {
        self.command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        self.command.spawn().expect("start authdemo")
    }

    /// Starts the run in the background, both streams piped; its app id beside it.
    pub(crate) fn spawn_piped(mut self) -> (std::process::Child, String) {
        self.command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        (self.command.spawn().expect("start authdemo"), self.app_id)
    }

    /// Runs to completion.
    pub(crate) fn run(mut self) -> Run {
        let output = self.command.output().expect("run authdemo");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            app_id: self.app_id,
        }
    }
}
