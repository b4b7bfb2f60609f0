//! The emulator: installed by the project's own script if missing, started once per test
//! binary on a free loopback port, and gone when the tests exit (it watches our PID).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::config::{Credentials, SharedCredentialsProvider};

/// The running emulator.
pub(crate) struct Emulator {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// The emulator for this test binary, started on first use. Panics (fails the test) if it
/// cannot be installed or started: no test is ever skipped for want of it.
pub(crate) fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(start)
}

fn start() -> Emulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let setup = Command::new(root.join("scripts/emulator-setup")).status().expect("run scripts/emulator-setup");
    assert!(setup.success(), "scripts/emulator-setup failed: the emulator could not be installed");
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("emulator-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).expect("create the emulator log");
    let mut child = Command::new(root.join(".venv-emulator/bin/python"))
        .arg(root.join("emulator/launcher.py"))
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start the emulator");
    let stdout = child.stdout.take().expect("emulator stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the emulator's READY line");
    let port = line
        .strip_prefix("READY ")
        .map_or_else(|| panic!("the emulator did not start; see {}", log_path.display()), str::trim);
    // Dropping the handle neither kills nor waits: the launcher exits when this process is gone.
    drop(child);
    Emulator { endpoint: format!("http://127.0.0.1:{port}") }
}

impl Emulator {
    /// SDK configuration for reading back what the tool did.
    pub(crate) fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "tests")))
            .build()
    }

    /// A Cognito user pools client.
    pub(crate) fn cognito(&self) -> aws_sdk_cognitoidentityprovider::Client {
        aws_sdk_cognitoidentityprovider::Client::new(&self.sdk_config())
    }

    /// A Cognito identity pools client.
    pub(crate) fn identity(&self) -> aws_sdk_cognitoidentity::Client {
        aws_sdk_cognitoidentity::Client::new(&self.sdk_config())
    }

    /// A Lambda client.
    pub(crate) fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk_config())
    }

    /// An API Gateway client.
    pub(crate) fn apigateway(&self) -> aws_sdk_apigateway::Client {
        aws_sdk_apigateway::Client::new(&self.sdk_config())
    }

    /// An IAM client.
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config())
    }

    /// The AWS operations one run made, in order, by its SDK app id.
    /// Puts by hand, on `role`, the inline policy `by-hand` granting `execute-api:Invoke` on
    /// every API of every account: the wide grant tests look for.
    pub(crate) async fn grant_invoke_on_everything(&self, role: &str) {
        let everything =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
        let put = self.iam().put_role_policy().role_name(role).policy_name("by-hand").policy_document(everything);
        put.send().await.unwrap();
    }

    pub(crate) fn calls(&self, app_id: &str) -> Vec<String> {
        let url = format!("{}/_authdemo/requests?app={app_id}", self.endpoint);
        let body = ureq::get(&url).call().expect("ask the emulator").body_mut().read_to_string().expect("body");
        serde_json::from_str(&body).expect("a JSON list of operations")
    }

    /// How many throttling answers one run received, by its SDK app id.
    pub(crate) fn throttled(&self, app_id: &str) -> u64 {
        let url = format!("{}/_authdemo/throttled?app={app_id}", self.endpoint);
        let body = ureq::get(&url).call().expect("ask the emulator").body_mut().read_to_string().expect("body");
        serde_json::from_str(&body).expect("a JSON number")
    }
}
