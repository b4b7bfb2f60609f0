//! The whole seed application (`stacks/demo.yaml`) from nothing: every resource of the recipe read
//! back, a no-change re-plan, an in-place usage plan change, `output`, and destroy.

use std::path::Path;

use serde_json::Value;

use crate::support::{authdemo, emulator, unique_stack};
use crate::user_pool::resource_changes;

/// A copy of `stacks/demo.yaml` and the example code, so the test can edit the file.
struct Demo {
    root: tempfile::TempDir,
    env: String,
}

impl Demo {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::create_dir_all(root.path().join("stacks")).unwrap();
        std::fs::create_dir_all(root.path().join("examples/api")).unwrap();
        std::fs::copy(source.join("stacks/demo.yaml"), root.path().join("stacks/demo.yaml")).unwrap();
        std::fs::copy(source.join("examples/api/api.js"), root.path().join("examples/api/api.js")).unwrap();
        let env = unique_stack("d").replace("it-d-", "e");
        Self { root, env }
    }

    fn file(&self) -> std::path::PathBuf {
        self.root.path().join("stacks/demo.yaml")
    }

    fn stack(&self) -> String {
        format!("auth-api-demo-{}", self.env)
    }

    fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.file()).unwrap();
        assert!(text.contains(from), "{from} in demo.yaml");
        std::fs::write(self.file(), text.replace(from, to)).unwrap();
    }

    fn run(&self, args: &[&str]) -> crate::support::Run {
        let var = format!("env={}", self.env);
        let mut all = args.to_vec();
        all.extend(["--var", &var]);
        authdemo(&all).file(&self.file()).emulated().env("DEMO_USER_PASSWORD", "Demo-Passw0rd").run()
    }
}

#[tokio::test]
async fn the_seed_stack_provisions_replans_to_nothing_updates_in_place_and_tears_down() {
    let demo = Demo::new();
    let stack = demo.stack();
    assert!(stack.len() <= 32, "{stack}");
    demo.run(&["plan", "--detailed-exitcode"]).expect_code(2);
    demo.run(&["apply", "--auto-approve"]).expect_code(0);

    let output = demo.run(&["output", "--format", "json"]).expect_code(0);
    let out: Value = serde_json::from_str(&output.stdout).unwrap();

    // Cognito: the pool, its client, domain and user.
    let cognito = emulator().cognito();
    let pool_id = out["user_pool_id"].as_str().unwrap();
    let pool = cognito.describe_user_pool().user_pool_id(pool_id).send().await.unwrap().user_pool.unwrap();
    assert_eq!(pool.name(), Some(stack.as_str()));
    assert_eq!(pool.domain(), Some(stack.as_str()));
    let hosted_ui = format!("{}/_hosted_ui_/{stack}.auth.us-west-2.amazoncognito.com", emulator().endpoint);
    assert_eq!(out["hosted_ui_url"], hosted_ui, "path-based through the endpoint override, as the API's URL");
    let web = out["user_pool_clients"]["web"].as_str().unwrap();
    let client = cognito.describe_user_pool_client().user_pool_id(pool_id).client_id(web).send().await.unwrap();
    assert_eq!(client.user_pool_client().unwrap().callback_urls(), ["http://localhost:3000/"]);
    cognito.admin_get_user().user_pool_id(pool_id).username("demouser").send().await.unwrap();

    // The identity pool, both roles and the attachment.
    let identity_pool = out["identity_pool_id"].as_str().unwrap();
    let identity = emulator().identity();
    let described = identity.describe_identity_pool().identity_pool_id(identity_pool).send().await.unwrap();
    assert_eq!(described.cognito_identity_providers()[0].client_id(), Some(web));
    let roles = identity.get_identity_pool_roles().identity_pool_id(identity_pool).send().await.unwrap();
    let roles = roles.roles().unwrap();
    let iam = emulator().iam();
    for kind in ["authenticated", "unauthenticated"] {
        let role = iam.get_role().role_name(format!("{stack}-{kind}")).send().await.unwrap().role.unwrap();
        assert_eq!(roles[kind], role.arn());
    }

    // The function, its role, and the REST API with both routes and the stage.
    let api_url = out["api_url"].as_str().unwrap();
    let api_id = api_url.split("/restapis/").nth(1).and_then(|rest| rest.split('/').next()).unwrap();
    // Through an endpoint override, the stage is reached path-based (see `invoke_url`).
    assert_eq!(api_url, format!("{}/restapis/{api_id}/latest/_user_request_", emulator().endpoint));
    let function = out["functions"]["api"].as_str().unwrap();
    assert_eq!(function, format!("{stack}-api"));
    let lambda = emulator().lambda().get_function().function_name(function).send().await.unwrap();
    assert!(lambda.configuration().unwrap().role().unwrap().ends_with(&format!("{stack}-fn-api")));
    let gateway = emulator().apigateway();
    let resources = gateway.get_resources().rest_api_id(api_id).send().await.unwrap();
    let paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    assert!(paths.contains(&"/auth") && paths.contains(&"/noauth"), "{paths:?}");
    gateway.get_stage().rest_api_id(api_id).stage_name("latest").send().await.unwrap();
    let invoke =
        iam.get_role_policy().role_name(format!("{stack}-authenticated")).policy_name("authdemo-invoke").send().await;
    let invoke =
        percent_encoding::percent_decode_str(invoke.unwrap().policy_document()).decode_utf8_lossy().into_owned();
    assert!(invoke.contains(&format!("{api_id}/latest/GET/auth")) && !invoke.contains("noauth"), "{invoke}");

    // The usage plan on the stage, and the API key linked to it.
    let plans = gateway.get_usage_plans().send().await.unwrap();
    let plan = plans.items().iter().find(|p| p.name() == Some(stack.as_str())).expect("the usage plan");
    assert_eq!(plan.throttle().map(|t| (t.rate_limit(), t.burst_limit())), Some((10.0, 20)));
    assert_eq!(plan.quota().map(|q| (q.limit(), q.period().unwrap().as_str().to_string())), Some((1000, "DAY".into())));
    assert_eq!(
        plan.api_stages().iter().map(|s| (s.api_id().unwrap(), s.stage().unwrap())).collect::<Vec<_>>(),
        [(api_id, "latest")]
    );
    let key_id = out["api_keys"]["web-client"]["id"].as_str().unwrap();
    let keys = gateway.get_usage_plan_keys().usage_plan_id(plan.id().unwrap()).send().await.unwrap();
    assert_eq!(keys.items().iter().filter_map(|k| k.id()).collect::<Vec<_>>(), [key_id]);
    let key_value = gateway.get_api_key().api_key(key_id).include_value(true).send().await.unwrap().value.unwrap();
    assert!(out["api_keys"]["web-client"].get("value").is_none());
    for format in ["json", "env", "amplify"] {
        let shown = demo.run(&["output", "--format", format]).expect_code(0);
        assert!(!shown.stdout.contains(&key_value), "{format} output shows the key value without --show-sensitive");
    }
    let sensitive = demo.run(&["output", "--format", "env", "--show-sensitive"]).expect_code(0);
    assert!(sensitive.stdout.contains(&format!("AUTHDEMO_API_KEY_WEB_CLIENT={key_value}")), "{}", sensitive.stdout);
    let amplify: Value =
        serde_json::from_str(&demo.run(&["output", "--format", "amplify"]).expect_code(0).stdout).unwrap();
    assert_eq!(amplify["Auth"]["Cognito"]["userPoolClientId"], web);
    assert_eq!(amplify["Auth"]["Cognito"]["identityPoolId"], identity_pool);
    assert_eq!(amplify["API"]["REST"]["api"]["endpoint"], api_url);

    demo.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    demo.edit("throttle: { rate: 10, burst: 20 }", "throttle: { rate: 5, burst: 8 }");
    demo.edit("quota: { limit: 1000, period: DAY }", "quota: { limit: 500, period: WEEK }");
    let plan_run = demo.run(&["plan"]).expect_code(0);
    assert!(plan_run.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan_run.stdout);
    let applied = demo.run(&["apply", "--auto-approve"]).expect_code(0);
    let mutating = resource_changes(applied.calls());
    assert_eq!(mutating.len(), 1, "one UpdateUsagePlan call: {mutating:?}");
    assert!(mutating[0].starts_with("PATCH /usageplans/"), "{mutating:?}");
    let plans = gateway.get_usage_plans().send().await.unwrap();
    let plan = plans.items().iter().find(|p| p.name() == Some(stack.as_str())).unwrap();
    assert_eq!(plan.throttle().map(|t| (t.rate_limit(), t.burst_limit())), Some((5.0, 8)));
    assert_eq!(plan.quota().map(|q| (q.limit(), q.period().unwrap().as_str().to_string())), Some((500, "WEEK".into())));
    demo.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    demo.run(&["destroy", "--auto-approve"]).expect_code(0);
    demo.run(&["output"]).expect_code(1);
    let plans = gateway.get_usage_plans().send().await.unwrap();
    assert!(plans.items().iter().all(|p| p.name() != Some(stack.as_str())), "no usage plan of the stack remains");
    let keys = gateway.get_api_keys().name_query(&stack).send().await.unwrap();
    assert!(keys.items().is_empty(), "no API key of the stack remains");
    let apis = gateway.get_rest_apis().send().await.unwrap();
    assert!(apis.items().iter().all(|a| a.name() != Some(stack.as_str())));
    let pools = cognito.list_user_pools().max_results(60).send().await.unwrap();
    assert!(pools.user_pools().iter().all(|p| p.name() != Some(stack.as_str())));
    let roles = iam.list_roles().path_prefix(format!("/authdemo/{stack}/")).send().await.unwrap();
    assert!(roles.roles().is_empty());
}
