//! Lambda functions and the permissions that let API Gateway invoke them. A function is found
//! among those named `<stack>-…` and owned by its tags; its id is its ARN. Permissions live in
//! the function's resource policy as statements `authdemo-…`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use futures::future::try_join_all;
use serde_json::json;

use super::call::{Calls, Settling};
use super::handler::{Handler, StepContext};
use super::iam::RoleSpec;
use super::ownership::{claim, send_tags};
use super::whole;
use crate::error::{ProviderError, deleted, found};
use crate::live::{ADDRESS_TAG, LiveResource, LiveState, STACK_TAG, creation_tags, ownership_tags};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::policy_document::document;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{
    Address, DesiredResource, DesiredState, EXTRA_POLICY, ResourceKind, Target, function_name, function_role_address,
    permission_sid, reference, route_of_sid,
};
use crate::spec;
use crate::stack::Function;

spec! {
    /// The managed settings of a Lambda function.
    pub(crate) struct FunctionSpec for Function {
        /// Runtime, e.g. `nodejs24.x`.
        runtime: String,
        /// Entry point, e.g. `api.handler`.
        handler: String,
        /// Memory in MB.
        memory_mb: i64,
        /// Timeout in seconds.
        timeout_s: i64,
        /// Environment variables.
        environment: BTreeMap<String, String>,
        /// The base64 SHA-256 of the code package (Lambda's `CodeSha256`).
        code_sha256: String,
        /// The execution role's ARN.
        role: String,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// API Gateway's permission to invoke a function for one route.
    pub(super) struct PermissionSpec for LambdaPermission {
        /// The function's ARN.
        function: String => ForcesReplacement,
        /// The API methods allowed to invoke it.
        source_arn: String => ForcesReplacement,
    }
}

/// Adds a function and its execution role (Lambda trust, logging to its own log group, the
/// function's `policy`) to `state`.
pub(super) fn desired(
    state: &mut DesiredState,
    target: &Target,
    name: &str,
    function: &Function,
    tags: &BTreeMap<String, String>,
) {
    let role = function_role_address(name);
    let physical = function_name(&state.stack, name);
    let log_group = target.arn("logs", &format!("log-group:/aws/lambda/{physical}:*"));
    let mut policies = BTreeMap::from([(
        "authdemo-logging".to_string(),
        document(vec![json!({
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group,
        })]),
    )]);
    if !function.policy.is_empty() {
        policies.insert(EXTRA_POLICY.to_string(), document(function.policy.clone()));
    }
    let trust = document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": "lambda.amazonaws.com" },
        "Action": "sts:AssumeRole",
    })]);
    let role_spec = RoleSpec {
        trust_policy: trust,
        policies,
        managed_policies: BTreeSet::new(),
        tags: tags.clone(),
        permissions_boundary: None,
    };
    state.resources.push(DesiredResource::of(role.clone(), &role_spec, Vec::new()));
    let address = Address::new(ResourceKind::Function, name);
    let spec = FunctionSpec {
        runtime: function.runtime.clone(),
        handler: function.handler.clone(),
        memory_mb: function.memory_mb,
        timeout_s: function.timeout_s,
        environment: function.environment.clone(),
        code_sha256: function.code.sha256.clone(),
        role: reference(&role),
        tags: tags.clone(),
    };
    state.resources.push(DesiredResource::of(address.clone(), &spec, vec![role]));
    state.hidden_maps.insert((address.clone(), "environment"));
    state.artifacts.insert(address, function.code.clone());
}

/// Sets every managed configuration setting on a CreateFunction or UpdateFunctionConfiguration
/// builder (different types with the same setters).
macro_rules! with_function_settings {
    ($builder:expr, $spec:expr) => {{
        let spec: &FunctionSpec = $spec;
        $builder
            .runtime(Runtime::from(spec.runtime.as_str()))
            .handler(&spec.handler)
            .role(&spec.role)
            .memory_size(whole(spec.memory_mb))
            .timeout(whole(spec.timeout_s))
            .environment(
                Environment::builder().set_variables(Some(spec.environment.clone().into_iter().collect())).build(),
            )
    }};
}

/// The Lambda side of the provider.
pub(super) struct Functions {
    client: Client,
    stack: String,
    calls: Calls,
    /// One lock per function (by ARN): Lambda refuses a change to a function while another is
    /// under way (ResourceConflictException), so changes to one function run one at a time.
    changing: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Functions {
    /// The functions of `stack` through `client`.
    pub(super) fn new(client: Client, stack: &str, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), calls, changing: std::sync::Mutex::default() }
    }

    /// The lock held while the function `arn` is being changed.
    fn change_lock(&self, arn: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.changing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(arn.to_string()).or_default().clone()
    }

    fn name(&self, address: &Address) -> String {
        function_name(&self.stack, &address.name)
    }

    /// Untags and tags the function `arn` as `changes` say, removals first.
    async fn retag(&self, arn: &str, changes: &TagChanges) -> Result<(), ProviderError> {
        let untag = |keys| self.client.untag_resource().resource(arn).set_tag_keys(Some(keys)).send();
        let tag = |tags| self.client.tag_resource().resource(arn).set_tags(Some(tags)).send();
        send_tags(&self.calls, changes, ("UntagResource", untag), ("TagResource", tag)).await
    }

    /// Finds the stack's functions (by name prefix, owned by tags) and their permissions.
    pub(super) async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let prefix = format!("{}-", self.stack);
        let listed = self
            .calls
            .all_pages(
                "ListFunctions",
                |marker| self.client.list_functions().max_items(50).set_marker(marker).send(),
                |out| (out.functions.unwrap_or_default(), out.next_marker),
            )
            .await?;
        let names: Vec<String> =
            listed.into_iter().filter_map(|f| f.function_name).filter(|n| n.starts_with(&prefix)).collect();
        let fetched = try_join_all(names.iter().map(|name| self.function_with_policy(name))).await?;
        for (name, (out, policy)) in names.into_iter().zip(fetched).filter_map(|(n, f)| Some((n, f?))) {
            let tags = out.tags().cloned().unwrap_or_default();
            let claimed = tags
                .get(ADDRESS_TAG)
                .and_then(|a| a.parse::<Address>().ok())
                .filter(|a| a.kind == ResourceKind::Function && tags.get(STACK_TAG) == Some(&self.stack));
            let wanted = || {
                desired
                    .resources
                    .iter()
                    .map(|r| r.address.clone())
                    .find(|a| a.kind == ResourceKind::Function && self.name(a) == name)
            };
            let Some(address) = claimed.or_else(wanted) else { continue };
            let Some(out) = claim(vec![(name.clone(), tags, out)], &self.stack, &address, live)? else { continue };
            let (arn, spec) = live_function(&out)?;
            live.insert(LiveResource::of(address.clone(), arn.clone(), &spec));
            if let Some(policy) = policy {
                discover_permissions(&policy, &arn, desired, live);
            }
        }
        Ok(())
    }

    /// A function and its resource policy, if it exists, read at once (as all functions are).
    async fn function_with_policy(
        &self,
        name: &str,
    ) -> Result<Option<(GetFunctionOutput, Option<String>)>, ProviderError> {
        let (function, policy) = tokio::join!(
            self.function(name),
            self.calls.call("GetPolicy", || self.client.get_policy().function_name(name).send()),
        );
        let Some(function) = function? else { return Ok(None) };
        Ok(Some((function, found(policy)?.and_then(|p| p.policy))))
    }

    /// The function `name`, if it exists.
    async fn function(&self, name: &str) -> Result<Option<GetFunctionOutput>, ProviderError> {
        found(self.calls.call("GetFunction", || self.client.get_function().function_name(name).send()).await)
    }

    /// Waits until the function is neither being created nor updated. After a change of ours
    /// (`after_change`) a failed state is that change's error; before one, an earlier failure is
    /// what the change is about to repair, so only a busy function is waited for.
    async fn settle(&self, name: &str, after_change: bool) -> Result<(), ProviderError> {
        self.calls
            .wait_until(&format!("function {name} to finish updating"), Settling::Function, || async {
                let out = self
                    .calls
                    .call("GetFunctionConfiguration", || {
                        self.client.get_function_configuration().function_name(name).send()
                    })
                    .await?;
                let failed =
                    out.state() == Some(&State::Failed) || out.last_update_status() == Some(&LastUpdateStatus::Failed);
                if failed && after_change {
                    let reason = out.state_reason().or(out.last_update_status_reason()).unwrap_or("no reason given");
                    return Err(ProviderError::other("GetFunctionConfiguration", format!("{name} failed: {reason}")));
                }
                let busy = out.state() == Some(&State::Pending)
                    || out.last_update_status() == Some(&LastUpdateStatus::InProgress);
                Ok((!busy).then_some(()))
            })
            .await
    }
}

/// The ARN and settings of a function as Lambda describes it.
fn live_function(out: &GetFunctionOutput) -> Result<(String, FunctionSpec), ProviderError> {
    let configuration = out.configuration().ok_or_else(|| ProviderError::missing("GetFunction", "configuration"))?;
    let arn = configuration.function_arn().ok_or_else(|| ProviderError::missing("GetFunction", "function ARN"))?;
    let spec = FunctionSpec {
        runtime: configuration.runtime().map(|r| r.as_str().to_string()).unwrap_or_default(),
        handler: configuration.handler().unwrap_or_default().to_string(),
        memory_mb: configuration.memory_size().unwrap_or_default().into(),
        timeout_s: configuration.timeout().unwrap_or_default().into(),
        environment: configuration
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        code_sha256: configuration.code_sha256().unwrap_or_default().to_string(),
        role: configuration.role().unwrap_or_default().to_string(),
        tags: user_tags(out.tags().into_iter().flatten()),
    };
    Ok((arn.to_string(), spec))
}

impl Kind for FunctionSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListFunctions", "lambda:ListFunctions", On::Anything, Sent::Reading),
        needs("GetFunction", "lambda:GetFunction", On::Functions, Sent::Reading),
        needs("GetFunction", "lambda:ListTags", On::Functions, Sent::Reading),
        needs("GetFunctionConfiguration", "lambda:GetFunctionConfiguration", On::Functions, Sent::Reading),
        needs("CreateFunction", "iam:PassRole", On::PassedRoles, Sent::Changing),
        needs("UpdateFunctionConfiguration", "iam:PassRole", On::PassedRoles, Sent::Changing),
        needs("CreateFunction", "lambda:CreateFunction", On::NewFunctions, Sent::Changing),
        // Tagging on create also needs lambda:TagResource (Lambda developer guide, "Using tags on
        // Lambda functions").
        needs("CreateFunction", "lambda:TagResource", On::NewFunctions, Sent::Changing),
        needs("TagResource", "lambda:TagResource", On::Functions, Sent::Changing),
        needs("UntagResource", "lambda:UntagResource", On::Functions, Sent::Changing),
        needs("UpdateFunctionCode", "lambda:UpdateFunctionCode", On::Functions, Sent::Changing),
        needs("UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", On::Functions, Sent::Changing),
        needs("DeleteFunction", "lambda:DeleteFunction", On::Functions, Sent::Deleting),
    ];
}

impl Handler<FunctionSpec> for Functions {
    /// Creates the function, tagged in the create call. A role created moments ago may not be
    /// assumable yet: the classifier makes that error transient, so the call is retried.
    async fn create(&self, cx: &StepContext<'_>, wanted: &FunctionSpec) -> Result<String, ProviderError> {
        let artifact =
            cx.artifact.ok_or_else(|| ProviderError::other("code", format!("no code package for {}", cx.address)))?;
        let name = self.name(cx.address);
        let out = self
            .calls
            .call("CreateFunction", || {
                let builder = self.client.create_function().function_name(&name);
                with_function_settings!(builder, wanted)
                    .code(FunctionCode::builder().zip_file(Blob::new(artifact.bytes.as_slice())).build())
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.function_arn.ok_or_else(|| ProviderError::missing("CreateFunction", "function ARN"))
    }

    /// Waits until the new function is active.
    async fn finish(&self, cx: &StepContext<'_>, _id: &str, _wanted: &FunctionSpec) -> Result<(), ProviderError> {
        self.settle(&self.name(cx.address), true).await
    }

    /// Retags the function, then uploads new code and/or configuration, waiting for each
    /// update to finish before the next.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &FunctionSpec,
        wanted: &FunctionSpec,
    ) -> Result<(), ProviderError> {
        let lock = self.change_lock(id);
        let _changing = lock.lock().await;
        let name = self.name(cx.address);
        self.settle(&name, false).await?;
        let changes =
            TagChanges::between(&live.tags, &wanted.tags).adopting(cx.adopt, ownership_tags(&self.stack, cx.address));
        self.retag(id, &changes).await?;
        if live.code_sha256 != wanted.code_sha256 {
            let artifact = cx
                .artifact
                .ok_or_else(|| ProviderError::other("code", format!("no code package for {}", cx.address)))?;
            self.calls
                .call("UpdateFunctionCode", || {
                    self.client
                        .update_function_code()
                        .function_name(&name)
                        .zip_file(Blob::new(artifact.bytes.as_slice()))
                        .send()
                })
                .await?;
            self.settle(&name, true).await?;
        }
        let configuration_changed =
            FunctionSpec { code_sha256: wanted.code_sha256.clone(), tags: wanted.tags.clone(), ..live.clone() }
                != *wanted;
        if configuration_changed {
            self.calls
                .call("UpdateFunctionConfiguration", || {
                    let builder = self.client.update_function_configuration().function_name(&name);
                    with_function_settings!(builder, wanted).send()
                })
                .await?;
            self.settle(&name, true).await?;
        }
        Ok(())
    }

    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &FunctionSpec) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteFunction", || self.client.delete_function().function_name(id).send()).await)
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &FunctionSpec) -> Result<Option<String>, ProviderError> {
        let Some(out) = self.function(&self.name(cx.address)).await? else { return Ok(None) };
        let tags = out.tags().cloned().unwrap_or_default();
        if crate::live::check_ownership(&tags, &self.stack, cx.address).is_err() {
            return Ok(None);
        }
        live_function(&out).map(|(arn, _)| Some(arn))
    }
}

impl Kind for PermissionSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetPolicy", "lambda:GetPolicy", On::Functions, Sent::Reading),
        needs("AddPermission", "lambda:AddPermission", On::Functions, Sent::Changing),
        needs("RemovePermission", "lambda:RemovePermission", On::Functions, Sent::Deleting),
    ];
}

impl Handler<PermissionSpec> for Functions {
    /// Lets API Gateway invoke the function for one route; the id is the statement id.
    async fn create(&self, cx: &StepContext<'_>, wanted: &PermissionSpec) -> Result<String, ProviderError> {
        let sid = permission_sid(&cx.address.name);
        self.calls
            .call_alone("AddPermission", &self.change_lock(&wanted.function), || {
                self.client
                    .add_permission()
                    .function_name(&wanted.function)
                    .statement_id(&sid)
                    .action("lambda:InvokeFunction")
                    .principal("apigateway.amazonaws.com")
                    .source_arn(&wanted.source_arn)
                    .send()
            })
            .await?;
        Ok(sid)
    }

    async fn delete(&self, _cx: &StepContext<'_>, id: &str, live: &PermissionSpec) -> Result<(), ProviderError> {
        let removed = self
            .calls
            .call_alone("RemovePermission", &self.change_lock(&live.function), || {
                self.client.remove_permission().function_name(&live.function).statement_id(id).send()
            })
            .await;
        deleted(removed)
    }

    /// A repeated AddPermission finds its statement already there: it counts only if it allows
    /// the same source.
    async fn find(&self, cx: &StepContext<'_>, wanted: &PermissionSpec) -> Result<Option<String>, ProviderError> {
        let sid = permission_sid(&cx.address.name);
        let policy =
            self.calls.call("GetPolicy", || self.client.get_policy().function_name(&wanted.function).send()).await;
        let Some(policy) = found(policy)?.and_then(|p| p.policy) else { return Ok(None) };
        let document: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
        let same = document["Statement"].as_array().into_iter().flatten().any(|statement| {
            statement["Sid"].as_str() == Some(sid.as_str())
                && statement["Condition"]["ArnLike"]["AWS:SourceArn"].as_str() == Some(wanted.source_arn.as_str())
        });
        Ok(same.then_some(sid))
    }
}

/// The permissions (statements `authdemo-…`) in a function's resource policy.
fn discover_permissions(policy: &str, arn: &str, desired: &DesiredState, live: &mut LiveState) {
    let document: serde_json::Value = serde_json::from_str(policy).unwrap_or_default();
    for statement in document["Statement"].as_array().into_iter().flatten() {
        let Some(sid) = statement["Sid"].as_str().filter(|s| s.starts_with("authdemo-")) else { continue };
        let wanted = desired
            .resources
            .iter()
            .map(|r| &r.address)
            .find(|a| a.kind == ResourceKind::LambdaPermission && permission_sid(&a.name) == sid);
        let route = route_of_sid(sid).unwrap_or_else(|| sid.to_string());
        let address = wanted.cloned().unwrap_or_else(|| Address::new(ResourceKind::LambdaPermission, route));
        let source = statement["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap_or_default();
        let spec = PermissionSpec { function: arn.to_string(), source_arn: source.to_string() };
        live.insert(LiveResource::of(address, sid.to_string(), &spec));
    }
}
