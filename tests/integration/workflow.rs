//! CI-grade workflow: saved plans, environments side by side, guards, drift, progress, and the
//! offline commands (schema, graph, completions).

use std::path::Path;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use serde_json::Value;

use crate::support::{Run, StackFile, authdemo, emulator, unique_stack};

/// A stack with a user pool, one function behind two routes, and a usage plan.
fn api_stack(stack: &str, min_length: u32) -> String {
    format!(
        "stack: {stack}
vars:
  env: dev
user_pool:
  password_policy: {{ min_length: {min_length} }}
  domain: {stack}-${{var.env}}
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: code }}
api:
  stage: live
  routes:
    GET /open: {{ function: api }}
    GET /closed: {{ function: api, auth: iam, api_key: true }}
usage_plan:
  throttle: {{ rate: 10, burst: 20 }}
  quota: {{ limit: 1000, period: DAY }}
  api_keys: [ci]
"
    )
}

fn project(text: &str) -> StackFile {
    let file = StackFile::new(text);
    let code = file.path().parent().unwrap().join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/api/api.js"), code.join("api.js")).unwrap();
    file
}

fn run(file: &StackFile, args: &[&str]) -> Run {
    authdemo(args).file(&file.path()).emulated().run()
}

async fn pool_id(stack: &str) -> String {
    let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
    pools.user_pools().iter().find(|p| p.name() == Some(stack)).unwrap().id().unwrap().to_string()
}

#[tokio::test]
async fn a_saved_plan_applies_as_saved_and_is_refused_once_stale() {
    let stack = unique_stack("saved");
    let file = project(&api_stack(&stack, 8));
    let plan_file = file.path().with_file_name("plan.json");
    let plan_path = plan_file.to_str().unwrap();
    run(&file, &["plan", "--out", plan_path]).expect_code(0);
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert!(saved.contains("\"kind\": \"authdemo-saved-plan\"") && saved.contains("\"format_version\": 1"));
    let applied = authdemo(&["apply", plan_path]).emulated().run().expect_code(0);
    assert!(applied.stdout.contains("apply complete"), "{}", applied.stdout);

    // An out-of-band change after the plan was saved makes it stale.
    file.write(&api_stack(&stack, 12));
    run(&file, &["plan", "--out", plan_path]).expect_code(0);
    let pool = pool_id(&stack).await;
    emulator()
        .cognito()
        .update_user_pool()
        .user_pool_id(&pool)
        .user_pool_tags("authdemo:stack", &stack)
        .user_pool_tags("authdemo:id", "user_pool.main")
        .deletion_protection(aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Active)
        .send()
        .await
        .unwrap();
    let refused = authdemo(&["apply", plan_path]).emulated().run().expect_code(1);
    assert!(refused.stderr.contains("the plan is stale"), "{}", refused.stderr);
    assert!(refused.stderr.contains("user_pool.main: deletion_protection is now true"), "{}", refused.stderr);
    assert!(refused.stderr.contains("authdemo plan --out FILE"), "{}", refused.stderr);
    assert!(refused.calls().iter().all(|op| crate::user_pool::is_read_only(op)), "nothing was changed");

    // A changed stack file is refused too.
    file.write(&api_stack(&stack, 12).replace("user_pool:\n", "user_pool:\n  deletion_protection: true\n"));
    run(&file, &["plan", "--out", plan_path]).expect_code(0);
    file.write(&api_stack(&stack, 14));
    let changed = authdemo(&["apply", plan_path]).emulated().run().expect_code(1);
    assert!(changed.stderr.contains("changed since the plan was made"), "{}", changed.stderr);
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}

#[tokio::test]
async fn two_environments_of_one_file_coexist_and_are_destroyed_independently() {
    let stack = unique_stack("envs");
    let file =
        project(&api_stack(&stack, 8).replace(&format!("stack: {stack}"), &format!("stack: {stack}-${{var.env}}")));
    let env = |name: &str, args: &[&str]| {
        let mut all = args.to_vec();
        let var = format!("env={name}");
        all.extend(["--var", &var]);
        run(&file, &all)
    };
    env("a", &["apply", "--auto-approve"]).expect_code(0);
    env("b", &["apply", "--auto-approve"]).expect_code(0);
    env("a", &["plan", "--detailed-exitcode"]).expect_code(0);
    env("b", &["plan", "--detailed-exitcode"]).expect_code(0);
    env("a", &["destroy", "--auto-approve"]).expect_code(0);
    env("b", &["plan", "--detailed-exitcode"]).expect_code(0);
    let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
    let names: Vec<&str> =
        pools.user_pools().iter().filter_map(|p| p.name()).filter(|n| n.starts_with(&stack)).collect();
    assert_eq!(names, [format!("{stack}-b")]);
    env("b", &["destroy", "--auto-approve"]).expect_code(0);
}

#[tokio::test]
async fn replacing_the_user_pool_is_refused_without_allow_replace() {
    let stack = unique_stack("guard");
    let text = api_stack(&stack, 8);
    let file = project(&text);
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    let before = pool_id(&stack).await;
    file.write(&text.replace("user_pool:\n", "user_pool:\n  sign_in: [email]\n"));
    let refused = run(&file, &["apply", "--auto-approve"]).expect_code(1);
    assert!(refused.stderr.contains("refusing to replace user_pool.main"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-replace user_pool.main"), "{}", refused.stderr);
    assert_eq!(pool_id(&stack).await, before, "nothing was replaced");
    run(&file, &["apply", "--auto-approve", "--allow-replace", "user_pool.main"]).expect_code(0);
    assert_ne!(pool_id(&stack).await, before, "replaced when allowed");
    run(&file, &["plan", "--detailed-exitcode"]).expect_code(0);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}

#[tokio::test]
async fn drift_made_outside_the_tool_is_planned_back() {
    let stack = unique_stack("drift");
    let file = project(&api_stack(&stack, 8));
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    let gateway = emulator().apigateway();
    let plans = gateway.get_usage_plans().send().await.unwrap();
    let plan = plans.items().iter().find(|p| p.name() == Some(stack.as_str())).unwrap().id().unwrap().to_string();
    let patch = |path: &str, value: &str| PatchOperation::builder().op(Op::Replace).path(path).value(value).build();
    gateway
        .update_usage_plan()
        .usage_plan_id(&plan)
        .patch_operations(patch("/throttle/rateLimit", "99"))
        .send()
        .await
        .unwrap();
    let apis = gateway.get_rest_apis().send().await.unwrap();
    let api = apis.items().iter().find(|a| a.name() == Some(stack.as_str())).unwrap().id().unwrap().to_string();
    let resources = gateway.get_resources().rest_api_id(&api).send().await.unwrap();
    let closed = resources.items().iter().find(|r| r.path() == Some("/closed")).unwrap().id().unwrap().to_string();
    gateway
        .update_method()
        .rest_api_id(&api)
        .resource_id(&closed)
        .http_method("GET")
        .patch_operations(patch("/authorizationType", "NONE"))
        .send()
        .await
        .unwrap();

    let planned = run(&file, &["plan", "--detailed-exitcode"]).expect_code(2);
    assert!(planned.stdout.contains("throttle.rate: 99 → 10"), "{}", planned.stdout);
    assert!(planned.stdout.contains("authorization: \"NONE\" → \"AWS_IAM\""), "{}", planned.stdout);
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    run(&file, &["plan", "--detailed-exitcode"]).expect_code(0);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}

#[test]
fn progress_is_one_json_line_per_event_with_a_summary() {
    let stack = unique_stack("progress");
    let file = StackFile::new(&format!("stack: {stack}\nuser_pool:\n  clients:\n    web: {{}}\n"));
    let applied = run(&file, &["apply", "--auto-approve", "--format", "json"]).expect_code(0);
    let events: Vec<Value> =
        applied.stdout.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(events[0]["event"], "plan");
    assert_eq!(events[0]["summary"]["add"], 2);
    let names: Vec<(&str, &str)> =
        events[1..].iter().map(|e| (e["event"].as_str().unwrap(), e["address"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        names,
        [
            ("started", "user_pool.main"),
            ("finished", "user_pool.main"),
            ("started", "user_pool_client.web"),
            ("finished", "user_pool_client.web"),
            ("summary", ""),
        ]
    );
    assert!(events[2]["elapsed_s"].as_f64().is_some() && events[2]["id"].is_string());
    assert_eq!(events[5]["succeeded"], true);
    assert!(events.iter().all(|e| e["format_version"] == 1));
    let human = run(&file, &["destroy", "--auto-approve"]).expect_code(0);
    assert!(human.stdout.contains("user_pool_client.web: deleting…"), "{}", human.stdout);
    assert!(human.stdout.contains("user_pool.main: deleted in "), "{}", human.stdout);
    assert!(human.stdout.contains("destroy complete: 0 created, 0 updated, 2 deleted"), "{}", human.stdout);
}

#[test]
fn schema_graph_and_completions_work_offline() {
    let schema: Value = serde_json::from_str(&authdemo(&["schema"]).run().expect_code(0).stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema["properties"]["usage_plan"]["properties"]["quota"].is_object());
    let file = project(&api_stack("graph-demo", 8));
    let dot = authdemo(&["graph", "--format", "dot"]).file(&file.path()).run();
    let dot = dot.expect_code(0);
    assert!(dot.stdout.contains("\"function.api\" -> \"api_route.GET /closed\";"), "{}", dot.stdout);
    assert!(dot.stdout.contains("\"api_stage.live\" -> \"usage_plan.main\";"), "{}", dot.stdout);
    let mermaid = authdemo(&["graph"]).file(&file.path()).run().expect_code(0);
    assert!(mermaid.stdout.starts_with("flowchart LR\n"));
    let bash = authdemo(&["completions", "bash"]).run().expect_code(0);
    assert!(bash.stdout.contains("authdemo"));
}

/// Exactly one resource of each top-level kind of `stack` exists.
async fn exactly_one_of_each(stack: &str) {
    let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
    assert_eq!(pools.user_pools().iter().filter(|p| p.name() == Some(stack)).count(), 1, "user pools");
    let gateway = emulator().apigateway();
    let apis = gateway.get_rest_apis().send().await.unwrap();
    assert_eq!(apis.items().iter().filter(|a| a.name() == Some(stack)).count(), 1, "REST APIs");
    let plans = gateway.get_usage_plans().send().await.unwrap();
    assert_eq!(plans.items().iter().filter(|p| p.name() == Some(stack)).count(), 1, "usage plans");
    let keys = gateway.get_api_keys().name_query(format!("{stack}-")).send().await.unwrap();
    assert_eq!(keys.items().len(), 1, "API keys");
    let api = apis.items().iter().find(|a| a.name() == Some(stack)).unwrap().id().unwrap();
    let deployments = gateway.get_deployments().rest_api_id(api).send().await.unwrap();
    assert_eq!(deployments.items().len(), 1, "no orphaned deployment");
}

/// Sends `signal` to `child` as soon as its progress shows the first step `done` (so the run
/// is interrupted midway, whatever the machine's speed); returns its exit code and the rest of
/// its output.
fn interrupt_after_first_step(mut child: std::process::Child, signal: &str, done: &str) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(done) {
            break;
        }
    }
    std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    (child.wait().unwrap().code(), rest.join("\n"))
}

#[tokio::test]
async fn an_interrupted_apply_or_destroy_is_finished_by_the_next_run() {
    for signal in ["-INT", "-KILL"] {
        let stack = unique_stack("kill");
        let file = project(&api_stack(&stack, 8));
        let validated = run(&file, &["validate"]).expect_code(0).stdout;
        let total: String = validated.rsplit(", ").next().unwrap().chars().filter(char::is_ascii_digit).collect();
        let child = authdemo(&["apply", "--auto-approve"]).file(&file.path()).emulated().spawn();
        let (code, rest) = interrupt_after_first_step(child, signal, ": created in ");
        if signal == "-INT" {
            assert_eq!(code, Some(1), "{rest}");
            let summary: Vec<&str> = rest.lines().filter(|l| l.contains("not started")).collect();
            assert_eq!(summary.len(), 1, "one summary line, none per step never started: {rest}");
            assert!(summary[0].starts_with("apply interrupted: "), "{rest}");
            let again = format!("`authdemo apply -f {} --auto-approve` finishes it", file.path().display());
            assert!(summary[0].contains(&again), "{rest}");
            assert!(!rest.contains("fix the cause"), "{rest}");
        }
        let resumed = run(&file, &["apply", "--auto-approve"]).expect_code(0);
        let everything = format!("Plan: {total} to add");
        assert!(!resumed.stdout.contains(&everything), "the first run created something: {}", resumed.stdout);
        assert!(resumed.stdout.contains(" to add"), "{}", resumed.stdout);
        run(&file, &["plan", "--detailed-exitcode"]).expect_code(0);
        exactly_one_of_each(&stack).await;

        let child = authdemo(&["destroy", "--auto-approve"]).file(&file.path()).emulated().spawn();
        interrupt_after_first_step(child, signal, ": deleted in ");
        run(&file, &["destroy", "--auto-approve"]).expect_code(0);
        let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
        assert!(pools.user_pools().iter().all(|p| p.name() != Some(stack.as_str())), "after {signal}");
        let apis = emulator().apigateway().get_rest_apis().send().await.unwrap();
        assert!(apis.items().iter().all(|a| a.name() != Some(stack.as_str())), "after {signal}");
    }
}

#[tokio::test]
async fn a_drifted_deployment_is_redeployed_once_its_methods_are_fixed() {
    let stack = unique_stack("served");
    let file = project(&api_stack(&stack, 8));
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    let gateway = emulator().apigateway();
    let apis = gateway.get_rest_apis().send().await.unwrap();
    let api = apis.items().iter().find(|a| a.name() == Some(stack.as_str())).unwrap().id().unwrap().to_string();
    let resources = gateway.get_resources().rest_api_id(&api).send().await.unwrap();
    let closed = resources.items().iter().find(|r| r.path() == Some("/closed")).unwrap().id().unwrap().to_string();
    // By hand: the protected route opened, a method added, and both deployed to the stage.
    let patch = PatchOperation::builder().op(Op::Replace).path("/authorizationType").value("NONE").build();
    let method = gateway.update_method().rest_api_id(&api).resource_id(&closed).http_method("GET");
    method.patch_operations(patch).send().await.unwrap();
    let extra = gateway.put_method().rest_api_id(&api).resource_id(&closed).http_method("POST");
    extra.authorization_type("NONE").send().await.unwrap();
    let integration = gateway.put_integration().rest_api_id(&api).resource_id(&closed).http_method("POST");
    integration.r#type(aws_sdk_apigateway::types::IntegrationType::Mock).send().await.unwrap();
    let deployment = gateway.create_deployment().rest_api_id(&api).send().await.unwrap();
    let to_it = PatchOperation::builder().op(Op::Replace).path("/deploymentId").value(deployment.id().unwrap()).build();
    gateway.update_stage().rest_api_id(&api).stage_name("live").patch_operations(to_it).send().await.unwrap();

    let planned = run(&file, &["plan", "--detailed-exitcode"]).expect_code(2);
    assert!(planned.stdout.contains("~ api_stage.live"), "the stage serves the drift: {}", planned.stdout);
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    let stage = gateway.get_stage().rest_api_id(&api).stage_name("live").send().await.unwrap();
    let served = gateway
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(stage.deployment_id().unwrap())
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let summary = served.api_summary().unwrap();
    assert_eq!(summary["/closed"].keys().collect::<Vec<_>>(), ["GET"], "the hand-made method is not served");
    assert_eq!(summary["/closed"]["GET"].authorization_type(), Some("AWS_IAM"));
    run(&file, &["plan", "--detailed-exitcode"]).expect_code(0);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}

#[test]
fn saved_plans_refuse_bad_destinations_travel_between_directories_and_name_local_changes() {
    let stack = unique_stack("saved2");
    let file = project(&api_stack(&stack, 8));
    let stack_text = std::fs::read_to_string(file.path()).unwrap();
    let stack_path = file.path().to_str().unwrap().to_string();
    let refused = run(&file, &["plan", "--out", &stack_path]).expect_code(1);
    assert!(refused.stderr.contains("it is the stack file"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), stack_text, "the stack file is untouched");
    let notes = file.path().with_file_name("notes.txt");
    std::fs::write(&notes, "mine\n").unwrap();
    let refused = run(&file, &["plan", "--out", notes.to_str().unwrap()]).expect_code(1);
    assert!(refused.stderr.contains("not an authdemo saved plan"), "{}", refused.stderr);
    assert!(refused.calls().is_empty(), "refused before any AWS call");

    // Planned with a relative path in the stack's directory, applied from elsewhere.
    let dir = file.path().parent().unwrap().to_path_buf();
    let planned = authdemo(&["plan", "-f", "stack.yaml", "--out", "plan.json"]).current_dir(&dir).emulated().run();
    planned.expect_code(0);
    let elsewhere = tempfile::tempdir().unwrap();
    let plan_path = dir.join("plan.json");
    authdemo(&["apply", plan_path.to_str().unwrap()]).current_dir(elsewhere.path()).emulated().run().expect_code(0);

    // A local code change after the plan was saved is named as such.
    file.write(&api_stack(&stack, 10));
    run(&file, &["plan", "--out", plan_path.to_str().unwrap()]).expect_code(0);
    std::fs::write(dir.join("code/api.js"), "exports.handler = async () => ({ statusCode: 204 });\n").unwrap();
    let stale = authdemo(&["apply", plan_path.to_str().unwrap()]).emulated().run().expect_code(1);
    assert!(stale.stderr.contains("function.api: was to no_op, now update"), "{}", stale.stderr);
    assert!(stale.stderr.contains("code_sha256 changed here (local files)"), "{}", stale.stderr);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}

#[tokio::test]
async fn two_runs_of_one_stack_started_together_take_turns() {
    let stack = unique_stack("twice");
    let file = project(&api_stack(&stack, 8));
    let together = |command: &str| {
        let runs: Vec<_> =
            (0..2).map(|_| authdemo(&[command, "--auto-approve"]).file(&file.path()).emulated().spawn()).collect();
        runs.into_iter()
            .map(|child| {
                let output = child.wait_with_output().unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
                assert!(output.status.success(), "{command}: {stdout}");
                stdout
            })
            .collect::<Vec<String>>()
    };
    together("apply");
    exactly_one_of_each(&stack).await;
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    run(&file, &["plan", "--detailed-exitcode"]).expect_code(0);
    // Each destroy takes the lock, while it reads when it sees the lock free: the one that gets
    // it first deletes; the other waits for it, reads again and finds nothing left.
    let destroys = together("destroy");
    let idle = destroys.iter().filter(|out| out.contains("Nothing to destroy")).count();
    assert_eq!(idle, 1, "exactly one of the two destroys deletes: {destroys:#?}");
    let pools = emulator().cognito().list_user_pools().max_results(60).send().await.unwrap();
    assert!(pools.user_pools().iter().all(|p| p.name() != Some(stack.as_str())));
    let iam = emulator().iam();
    let generations = iam.list_roles().path_prefix(format!("/authdemo-lock/{stack}/")).send().await.unwrap();
    assert!(!generations.roles().is_empty());
    for generation in generations.roles() {
        let let_go = generation.description().is_some_and(|d| d.starts_with("authdemo lock, let go: {"));
        assert!(let_go, "the lock is given back, as its listing shows: {generation:?}");
    }
}

#[tokio::test]
async fn a_held_lock_names_its_holder_and_unlock_breaks_it() {
    let stack = unique_stack("held");
    let file = project(&api_stack(&stack, 8));
    let tag = |key: &str, value: &str| aws_sdk_iam::types::Tag::builder().key(key).value(value).build().unwrap();
    let lease = (std::time::SystemTime::now() + std::time::Duration::from_hours(1))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    emulator()
        .iam()
        .create_role()
        .role_name(format!("authdemo-lock-{stack}.1"))
        .path(format!("/authdemo-lock/{stack}/"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .tags(tag("authdemo:lock-holder", "ci@elsewhere pid 7"))
        .tags(tag("authdemo:lock-host", "elsewhere"))
        .tags(tag("authdemo:lock-pid", "7"))
        .tags(tag("authdemo:lock-since", "1796119200"))
        .tags(tag("authdemo:lock-lease-until", &lease.to_string()))
        .send()
        .await
        .unwrap();
    let refused = run(&file, &["apply", "--auto-approve", "--lock-timeout", "1"]).expect_code(1);
    let expected =
        format!("stack {stack} is being changed by another run (since 2026-12-01 10:00:00 UTC, by ci@elsewhere pid 7)");
    assert!(refused.stderr.contains(&expected), "{}", refused.stderr);
    assert!(refused.calls().iter().all(|op| crate::user_pool::is_read_only(op) || op.contains("CreateRole")));
    run(&file, &["plan"]).expect_code(0);
    let unlocked = run(&file, &["unlock", "--auto-approve"]).expect_code(0);
    assert!(unlocked.stdout.contains("by ci@elsewhere pid 7"), "{}", unlocked.stdout);
    run(&file, &["apply", "--auto-approve"]).expect_code(0);
    run(&file, &["destroy", "--auto-approve"]).expect_code(0);
}
