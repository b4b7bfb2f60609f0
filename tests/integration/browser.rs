//! The web client example (examples/web) in Debian's headless Chromium against the emulator,
//! configured from `authdemo output --format amplify`: a guest calls `GET /noauth` with the API
//! key and is refused on `GET /auth`; the stack's user signs in and `GET /auth` answers; then the
//! same user signs in through the hosted UI (the emulator's sign-in page of the pool's domain),
//! calls `GET /auth` again, and signs out through the domain's `/logout`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::api::Project;
use crate::faults::seed_stack;
use crate::support::unique_stack;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs `program args` in the checkout and fails the test with its output when it fails.
fn succeed(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).current_dir(root()).output().expect("start it");
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The web example served on `port` with `config` as its amplify_outputs.json, until dropped.
struct WebServer(std::process::Child);

impl WebServer {
    fn start(port: u16, config: &Path) -> Self {
        let mut child = Command::new("node")
            .arg(root().join("examples/web/serve.mjs"))
            .env("PORT", port.to_string())
            .env("AMPLIFY_OUTPUTS", config)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("serving"), "the web server did not start: {line}");
        Self(child)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Applies `project`, serves the built web example on `port` with its `output --format amplify`,
/// and drives it in Chromium (`tests/browser/drive.mjs`) as `users` (the first signs in, the
/// second, if any, is the admin): what each step showed, as drive.mjs reports it.
fn drive_web_example(project: &Project, port: u16, users: &[&str]) -> serde_json::Value {
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let config = project.command(&["output", "--format", "amplify", "--show-sensitive"]).run().expect_code(0).stdout;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("amplify_outputs.json");
    std::fs::write(&config_file, config).unwrap();
    let server = WebServer::start(port, &config_file);
    let driven = Command::new("node")
        .arg(root().join("tests/browser/drive.mjs"))
        .arg(format!("http://localhost:{port}/"))
        .args(users)
        .env("AUTHDEMO_TEST_PASSWORD", crate::api::PASSWORD)
        .output()
        .expect("run node");
    drop(server);
    serde_json::from_slice(&driven.stdout).unwrap_or_else(|_| {
        panic!("{}{}", String::from_utf8_lossy(&driven.stdout), String::from_utf8_lossy(&driven.stderr))
    })
}

#[test]
fn the_web_example_refuses_a_guest_on_auth_and_serves_the_signed_in_user() {
    succeed("scripts/browser-setup", &[]);
    succeed("npm", &["--prefix", "examples/web", "run", "build", "--silent"]);
    let port = free_port();
    let stack = unique_stack("web");
    let text = seed_stack(&stack).replace("http://localhost:3000/", &format!("http://localhost:{port}/"));
    let project = Project::new(&text);
    let seen = drive_web_example(&project, port, &["demouser"]);
    let shown = |step: &str| seen[step].as_str().unwrap_or_else(|| panic!("no {step}: {seen:#}")).to_string();
    assert!(shown("guest_noauth").starts_with("GET /noauth: 200"), "{seen:#}");
    assert!(shown("guest_noauth").contains("hello from /noauth"), "{seen:#}");
    assert!(shown("guest_auth").starts_with("GET /auth: 403"), "{seen:#}");
    assert!(shown("guest_auth").contains("-unauthenticated/CognitoIdentityCredentials is not authorized"), "{seen:#}");
    assert!(shown("signed_in_auth").starts_with("GET /auth: 200"), "{seen:#}");
    assert!(shown("signed_in_auth").contains("\"authenticated\": true"), "{seen:#}");
    // The hosted UI: the domain's sign-in page, back to the app signed in, out through /logout.
    assert!(shown("hosted_ui_page").ends_with(".amazoncognito.com/login"), "{seen:#}");
    assert!(shown("hosted_ui_auth").starts_with("GET /auth: 200"), "{seen:#}");
    assert_eq!(shown("hosted_ui_signed_out"), "guest", "{seen:#}");
    let hosted: Vec<&str> = seen["hosted_ui_requests"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for step in ["GET /oauth2/authorize", "GET /login", "POST /login", "POST /oauth2/token", "GET /logout"] {
        assert!(hosted.contains(&step), "no {step} in {hosted:?}");
    }
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

/// `stacks/groups.yaml` for a run of the tests: named `stack`, with the test's code, both users'
/// password from `${env:DEMO_USER_PASSWORD}`, and the web app served on `port`.
fn groups_stack(stack: &str, port: u16) -> String {
    let text = std::fs::read_to_string(root().join("stacks/groups.yaml")).unwrap();
    text.replace("auth-api-groups-${var.env}", stack)
        .replace("../examples/api", "code")
        .replace("region: us-west-2\n", "")
        .replace("ADMIN_USER_PASSWORD", "DEMO_USER_PASSWORD")
        .replace("http://localhost:3000/", &format!("http://localhost:{port}/"))
}

#[test]
fn the_web_example_lets_the_admin_delete_and_refuses_demouser() {
    succeed("scripts/browser-setup", &[]);
    succeed("npm", &["--prefix", "examples/web", "run", "build", "--silent"]);
    let port = free_port();
    let project = Project::new(&groups_stack(&unique_stack("web-admin"), port));
    let seen = drive_web_example(&project, port, &["demouser", "adminuser"]);
    let shown = |step: &str| seen[step].as_str().unwrap_or_else(|| panic!("no {step}: {seen:#}")).to_string();
    assert!(shown("signed_in_auth").starts_with("GET /auth: 200"), "{seen:#}");
    assert!(shown("signed_in_admin").starts_with("DELETE /items/test: 403"), "{seen:#}");
    assert!(
        shown("signed_in_admin").contains("-authenticated/CognitoIdentityCredentials is not authorized"),
        "{seen:#}"
    );
    assert!(shown("admin_admin").starts_with("DELETE /items/test: 200"), "{seen:#}");
    assert!(shown("admin_admin").contains("\"authenticated\": true"), "{seen:#}");
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
