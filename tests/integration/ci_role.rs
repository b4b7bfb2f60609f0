//! The CI role, proven by running under it: an emulator IAM user holding the policy
//! `permissions --for apply` prints (with the boundary `permissions --for boundary` prints)
//! applies, changes, deletes a function the file drops, plans, verifies and destroys its stack,
//! and is refused everything else:
//! another stack's user pool, function and role (a stack whose name starts with its own
//! included), a role without the boundary, taking the boundary off its own role. The
//! `permissions --for plan` policy, held by an assumed role, plans and changes nothing; the
//! `--for destroy` one destroys.

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_iam::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::api::Project;
use crate::faults::seed_stack;
use crate::support::{emulator, unique_stack};

/// An emulator IAM principal's credentials: a user holding one managed policy, or a role
/// holding one inline policy and assumed (as CI assumes its role).
struct CiUser {
    key: String,
    secret: String,
    token: Option<String>,
}

impl CiUser {
    /// Makes the user `name` with the managed policy `document` attached, and its access key.
    async fn new(name: &str, document: &str) -> Self {
        let iam = emulator().iam();
        iam.create_user().user_name(name).send().await.unwrap();
        let policy = iam.create_policy().policy_name(name).policy_document(document).send().await.unwrap();
        let arn = policy.policy().and_then(|p| p.arn()).unwrap();
        iam.attach_user_policy().user_name(name).policy_arn(arn).send().await.unwrap();
        let created = iam.create_access_key().user_name(name).send().await.unwrap();
        let key = created.access_key().unwrap();
        Self { key: key.access_key_id().to_string(), secret: key.secret_access_key().to_string(), token: None }
    }

    /// Makes the role `name` with the inline policy `document`, and assumes it.
    async fn assumed(name: &str, document: &str) -> Self {
        let iam = emulator().iam();
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
        iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
        iam.put_role_policy().role_name(name).policy_name("ci").policy_document(document).send().await.unwrap();
        let role = iam.get_role().role_name(name).send().await.unwrap().role.unwrap();
        let sts = aws_sdk_sts::Client::new(&emulator().sdk_config());
        let assumed = sts.assume_role().role_arn(role.arn).role_session_name("ci").send().await.unwrap();
        let credentials = assumed.credentials.unwrap();
        Self {
            key: credentials.access_key_id,
            secret: credentials.secret_access_key,
            token: Some(credentials.session_token),
        }
    }

    /// `authdemo ARGS…` on `project` with the user's keys.
    fn run(&self, project: &Project, args: &[&str]) -> crate::support::Run {
        let command = project.command(args).env("AWS_ACCESS_KEY_ID", &self.key);
        let command = command.env("AWS_SECRET_ACCESS_KEY", &self.secret);
        match &self.token {
            Some(token) => command.env("AWS_SESSION_TOKEN", token).run(),
            None => command.run(),
        }
    }

    /// SDK configuration signing with the user's keys.
    fn sdk(&self) -> SdkConfig {
        let credentials = Credentials::new(&self.key, &self.secret, self.token.clone(), None, "ci-user");
        let base = emulator().sdk_config();
        base.into_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build()
    }
}

/// The warning of a run whose credentials may not release the stack's lock.
const LOCK_NOT_RELEASED: &str = "could not release the stack lock";

/// The policy document `authdemo permissions ARGS…` prints for `project`.
fn printed(project: &Project, args: &[&str]) -> String {
    let out = project.command(&[&["permissions"], args].concat()).run().expect_code(0);
    let _: Value = serde_json::from_str(&out.stdout).expect("a JSON policy");
    out.stdout
}

/// Asserts a call was refused as AccessDenied (each service's own code for it).
fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(what: &str, result: Result<T, E>) {
    let error = result.expect_err(what);
    let code = error.code().unwrap_or_default();
    assert!(code == "AccessDenied" || code == "AccessDeniedException", "{what}: {error:?}");
}

/// The ids a stack's pieces have, read with the default (unrestricted) keys.
struct Live {
    pool: String,
    function: String,
    role: String,
}

async fn live(stack: &str) -> Live {
    let mut token = None;
    loop {
        let page = emulator().cognito().list_user_pools().max_results(60).set_next_token(token).send().await.unwrap();
        if let Some(pool) = page.user_pools().iter().find(|p| p.name() == Some(stack)).and_then(|p| p.id()) {
            let (function, role) = (format!("{stack}-api"), format!("{stack}-authenticated"));
            return Live { pool: pool.to_string(), function, role };
        }
        token = Some(page.next_token.expect("the stack's user pool is listed"));
    }
}

async fn boundary_of(role: &str) -> Option<String> {
    let out = emulator().iam().get_role().role_name(role).send().await.unwrap();
    out.role.and_then(|r| r.permissions_boundary).and_then(|b| b.permissions_boundary_arn)
}

/// With the CI user of stack `a`, each change to `b` (and the two boundary escapes) is refused.
async fn other_stack_refused(user: &CiUser, a: &Live, b: &Live, a_stack: &str) {
    let config = user.sdk();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config);
    refused("delete B's user pool", cognito.delete_user_pool().user_pool_id(&b.pool).send().await);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let update = lambda.update_function_configuration().function_name(&b.function).memory_size(512);
    refused("update B's function", update.send().await);
    let iam = aws_sdk_iam::Client::new(&config);
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let put = iam.put_role_policy().role_name(&b.role).policy_name("escalate").policy_document(everything);
    refused("put an inline policy on B's role", put.send().await);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let create = iam.create_role().role_name(format!("{a_stack}-unbounded")).path(format!("/authdemo/{a_stack}/"));
    refused("create a role without the boundary", create.assume_role_policy_document(trust).send().await);
    let unbound = iam.delete_role_permissions_boundary().role_name(&a.role);
    refused("remove the boundary from A's role", unbound.send().await);
}

/// B is as its own apply left it.
async fn intact(b: &Live) {
    emulator().cognito().describe_user_pool().user_pool_id(&b.pool).send().await.expect("B's user pool");
    let function = emulator().lambda().get_function_configuration().function_name(&b.function).send().await.unwrap();
    assert_eq!(function.memory_size(), Some(128), "B's function is unchanged");
    let policies = emulator().iam().list_role_policies().role_name(&b.role).send().await.unwrap();
    assert!(!policies.policy_names().iter().any(|p| p == "escalate"), "{policies:?}");
}

#[tokio::test]
async fn the_apply_policy_runs_the_stack_and_touches_nothing_else() {
    let a_stack = unique_stack("ci");
    let b_stack = format!("{a_stack}-pr-1");
    let extra = "functions:\n  extra: { runtime: nodejs24.x, handler: api.handler, code: code }\n";
    let a_text = seed_stack(&a_stack).replace("functions:\n", extra);
    let (a, b) = (Project::new(&a_text), Project::new(&seed_stack(&b_stack)));
    let boundary_document = printed(&a, &["--for", "boundary"]);
    let iam = emulator().iam();
    let created = iam.create_policy().policy_name(format!("{a_stack}-boundary")).policy_document(boundary_document);
    let boundary = created.send().await.unwrap().policy.and_then(|p| p.arn).unwrap();
    let bounded = ["--permissions-boundary", boundary.as_str()];
    b.command(&[&["apply", "--auto-approve"][..], &bounded].concat()).run().expect_code(0);

    let apply_policy = printed(&a, &[&["--for", "apply"][..], &bounded].concat());
    let user = CiUser::new(&format!("{a_stack}-apply"), &apply_policy).await;
    let with = |args: &[&'static str]| -> Vec<&str> { [args, &bounded[..]].concat() };
    let applied = user.run(&a, &with(&["apply", "--auto-approve"])).expect_code(0);
    // The lock's release (UpdateRole) only warns when refused: the policy allows it.
    assert!(!applied.stderr.contains(LOCK_NOT_RELEASED), "{}", applied.stderr);
    assert_eq!(boundary_of(&format!("{a_stack}-authenticated")).await.as_deref(), Some(boundary.as_str()));
    a.rewrite(&a_text.replace("GREETING: hello", "GREETING: hi"));
    user.run(&a, &with(&["apply", "--auto-approve"])).expect_code(0);
    // A function the file no longer names goes, with its role: both are the stack's by tag and path.
    a.rewrite(&seed_stack(&a_stack).replace("GREETING: hello", "GREETING: hi"));
    user.run(&a, &with(&["apply", "--auto-approve"])).expect_code(0);
    let gone = emulator().lambda().get_function().function_name(format!("{a_stack}-extra")).send().await;
    assert!(gone.is_err(), "the removed function is deleted");
    let role = emulator().iam().get_role().role_name(format!("{a_stack}-fn-extra")).send().await;
    assert!(role.is_err(), "the removed function's role is deleted");
    user.run(&a, &with(&["plan", "--detailed-exitcode"])).expect_code(0);
    user.run(&a, &["verify", "--settle", "3"]).expect_code(0);

    let (a_live, b_live) = (live(&a_stack).await, live(&b_stack).await);
    other_stack_refused(&user, &a_live, &b_live, &a_stack).await;
    intact(&b_live).await;

    let plan_policy = printed(&a, &[&["--for", "plan"][..], &bounded].concat());
    let planner = CiUser::assumed(&format!("{a_stack}-plan"), &plan_policy).await;
    planner.run(&a, &with(&["plan", "--detailed-exitcode"])).expect_code(0);
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&planner.sdk());
    refused("the plan policy deletes A's pool", cognito.delete_user_pool().user_pool_id(&a_live.pool).send().await);

    user.run(&a, &with(&["destroy", "--auto-approve"])).expect_code(0);
    intact(&b_live).await;
    let destroy_policy = printed(&b, &[&["--for", "destroy"][..], &bounded].concat());
    let destroyer = CiUser::new(&format!("{b_stack}-destroy"), &destroy_policy).await;
    let destroyed = destroyer.run(&b, &with(&["destroy", "--auto-approve"])).expect_code(0);
    assert!(!destroyed.stderr.contains(LOCK_NOT_RELEASED), "{}", destroyed.stderr);
}
