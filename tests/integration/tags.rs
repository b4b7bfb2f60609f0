//! Stack-level `tags:` end to end: every taggable kind carries them (read back with the SDK), a
//! changed value and a removed key are planned key by key and converge, and a tag added by hand
//! is drift that apply removes, leaving the ownership tags alone.

use std::collections::{BTreeMap, HashMap};

use crate::api::Project;
use crate::permissions::{allowed, iam_action};
use crate::support::{emulator, unique_stack};

fn stack_text(stack: &str, tags: &str) -> String {
    format!(
        "stack: {stack}
tags: {{ {tags} }}
user_pool:
  clients:
    web: {{}}
identity_pool:
  allow_unauthenticated: false
  clients: [web]
functions:
  api:
    runtime: nodejs24.x
    handler: api.handler
    code: code
api:
  stage: latest
  routes:
    GET /items: {{ function: api, auth: iam, api_key: true }}
usage_plan:
  throttle: {{ rate: 10, burst: 20 }}
  quota: {{ limit: 1000, period: DAY }}
  api_keys: [web-client]
"
    )
}

/// The live tags of the stack's resources, by kind, read with the SDK.
struct LiveTags {
    stack: String,
}

impl LiveTags {
    async fn user_pool_id(&self) -> String {
        let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
        pools.user_pools().iter().find(|p| p.name() == Some(self.stack.as_str())).unwrap().id().unwrap().to_string()
    }

    fn function_arn(&self) -> String {
        format!("arn:aws:lambda:us-west-2:123456789012:function:{}-api", self.stack)
    }

    async fn user_pool(&self) -> HashMap<String, String> {
        let id = self.user_pool_id().await;
        let pool = emulator().cognito().describe_user_pool().user_pool_id(id).send().await.unwrap();
        pool.user_pool.unwrap().user_pool_tags().cloned().unwrap_or_default()
    }

    async fn function(&self) -> HashMap<String, String> {
        let function = emulator().lambda().get_function().function_name(self.function_arn()).send().await.unwrap();
        function.tags().cloned().unwrap_or_default()
    }

    async fn role(&self) -> HashMap<String, String> {
        let role = emulator().iam().get_role().role_name(format!("{}-fn-api", self.stack)).send().await.unwrap();
        role.role.unwrap().tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
    }

    async fn identity_pool(&self) -> HashMap<String, String> {
        let identity = emulator().identity();
        let listed = identity.list_identity_pools().max_results(60).send().await.unwrap();
        let pool = listed.identity_pools().iter().find(|p| p.identity_pool_name() == Some(self.stack.as_str()));
        let described =
            identity.describe_identity_pool().identity_pool_id(pool.unwrap().identity_pool_id().unwrap()).send();
        described.await.unwrap().identity_pool_tags().cloned().unwrap_or_default()
    }

    async fn api_and_stage(&self) -> (HashMap<String, String>, HashMap<String, String>) {
        let gateway = emulator().apigateway();
        let apis = gateway.get_rest_apis().limit(500).send().await.unwrap();
        let api = apis.items().iter().find(|a| a.name() == Some(self.stack.as_str())).unwrap();
        let stage = gateway.get_stage().rest_api_id(api.id().unwrap()).stage_name("latest").send().await.unwrap();
        (api.tags().cloned().unwrap_or_default(), stage.tags().cloned().unwrap_or_default())
    }

    async fn usage_plan_and_key(&self) -> (HashMap<String, String>, HashMap<String, String>) {
        let gateway = emulator().apigateway();
        let plans = gateway.get_usage_plans().limit(500).send().await.unwrap();
        let plan = plans.items().iter().find(|p| p.name() == Some(self.stack.as_str())).unwrap();
        let keys = gateway.get_api_keys().name_query(&self.stack).limit(500).send().await.unwrap();
        let key = &keys.items()[0];
        (plan.tags().cloned().unwrap_or_default(), key.tags().cloned().unwrap_or_default())
    }

    /// The tags of every taggable kind, by address, without the ownership tags (which each
    /// must carry: checked here).
    async fn all(&self) -> BTreeMap<&'static str, BTreeMap<String, String>> {
        let (api, stage) = self.api_and_stage().await;
        let (plan, key) = self.usage_plan_and_key().await;
        let each = [
            ("user_pool.main", self.user_pool().await),
            ("identity_pool.main", self.identity_pool().await),
            ("iam_role.fn-api", self.role().await),
            ("function.api", self.function().await),
            ("rest_api.main", api),
            ("api_stage.latest", stage),
            ("usage_plan.main", plan),
            ("api_key.web-client", key),
        ];
        each.into_iter()
            .map(|(address, tags)| {
                assert_eq!(tags.get("authdemo:stack"), Some(&self.stack), "{address}: {tags:?}");
                assert_eq!(tags.get("authdemo:id").map(String::as_str), Some(address), "{address}: {tags:?}");
                let user = tags.into_iter().filter(|(k, _)| !k.starts_with("authdemo:")).collect();
                (address, user)
            })
            .collect()
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every call of `run` is allowed by the `apply` policy `authdemo permissions` prints.
fn assert_allowed(project: &Project, run: &crate::support::Run) {
    let allowed = allowed(project, "apply");
    for operation in run.calls() {
        let action = iam_action(&operation);
        assert!(allowed.contains(&action), "`{operation}` ({action}) is missing from the apply policy");
    }
}

#[tokio::test]
async fn stack_tags_reach_every_taggable_kind_and_converge_key_by_key() {
    let stack = unique_stack("tags");
    let project = Project::new(&stack_text(&stack, "team: payments, env: dev"));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let live = LiveTags { stack: stack.clone() };
    for (address, user) in live.all().await {
        assert_eq!(user, tags(&[("env", "dev"), ("team", "payments")]), "{address}");
    }

    project.rewrite(&stack_text(&stack, "team: billing"));
    let planned = project.command(&["plan"]).run().expect_code(0);
    let expected = "      ~ tags:\n          - env = \"dev\"\n          ~ team: \"payments\" → \"billing\"\n";
    assert!(
        planned.stdout.contains(&format!("~ function.api (id {})\n{expected}", live.function_arn())),
        "{}",
        planned.stdout
    );
    // Both roles (authenticated and fn-api) and the seven other taggable resources.
    assert_eq!(planned.stdout.matches(expected).count(), 9, "every taggable resource: {}", planned.stdout);
    let applied = project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_allowed(&project, &applied);
    assert!(
        !applied.calls().iter().any(|c| c.contains("Deployment") || c == "UpdateUserPool"),
        "{:?}",
        applied.calls()
    );
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    for (address, user) in live.all().await {
        assert_eq!(user, tags(&[("team", "billing")]), "{address}");
    }

    let owner = HashMap::from([("owner".to_string(), "bob".to_string())]);
    emulator()
        .lambda()
        .tag_resource()
        .resource(live.function_arn())
        .set_tags(Some(owner.clone()))
        .send()
        .await
        .unwrap();
    let pool_arn = format!("arn:aws:cognito-idp:us-west-2:123456789012:userpool/{}", live.user_pool_id().await);
    emulator().cognito().tag_resource().resource_arn(pool_arn).set_tags(Some(owner)).send().await.unwrap();
    let drift = project.command(&["plan", "--detailed-exitcode"]).run().expect_code(2);
    for address in ["function.api", "user_pool.main"] {
        let shown = format!("  # {address} will be updated in place\n");
        assert!(drift.stdout.contains(&shown), "{}", drift.stdout);
    }
    assert_eq!(drift.stdout.matches("- owner = \"bob\"").count(), 2, "{}", drift.stdout);
    assert!(drift.stdout.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{}", drift.stdout);
    let applied = project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_allowed(&project, &applied);
    for (address, user) in live.all().await {
        assert_eq!(user, tags(&[("team", "billing")]), "{address}: the hand-added tag is gone");
    }
    project.command(&["plan", "--detailed-exitcode"]).run().expect_code(0);
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}

#[tokio::test]
async fn a_value_changed_by_hand_is_put_back() {
    let stack = unique_stack("tags-value");
    let project = Project::new(&stack_text(&stack, "team: payments"));
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    let live = LiveTags { stack: stack.clone() };
    let by_hand = HashMap::from([("team".to_string(), "other".to_string())]);
    emulator().lambda().tag_resource().resource(live.function_arn()).set_tags(Some(by_hand)).send().await.unwrap();
    let planned = project.command(&["plan"]).run().expect_code(0);
    assert!(planned.stdout.contains("~ team: \"other\" → \"payments\""), "{}", planned.stdout);
    project.command(&["apply", "--auto-approve"]).run().expect_code(0);
    assert_eq!(live.function().await.get("team").map(String::as_str), Some("payments"));
    project.command(&["destroy", "--auto-approve"]).run().expect_code(0);
}
