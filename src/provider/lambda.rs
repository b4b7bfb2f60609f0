//! Lambda functions and the permissions that let API Gateway invoke them. A function is found
//! among those named `<stack>-…` and owned by its tags; its id is its ARN. Permissions live in
//! the function's resource policy as statements `authdemo-…`.

use std::collections::BTreeMap;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, LastUpdateStatus, Runtime, State};
use futures::future::try_join_all;

use super::error::{ErrorClass, ProviderError, deleted, found, sdk};
use super::{claim, desired, live_id, whole};
use crate::apply::{RetryPolicy, wait_until};
use crate::artifact::Artifact;
use crate::live::{ADDRESS_TAG, LiveResource, LiveState, STACK_TAG, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::{
    Address, AttributeReads, Attributes, DesiredState, ResourceKind, Value, function_name, function_role_address,
    permission_sid, rest_api_address, route_of_sid,
};

/// Sets every managed configuration setting on a CreateFunction or UpdateFunctionConfiguration
/// builder (different types with the same setters).
macro_rules! with_function_settings {
    ($builder:expr, $attrs:expr) => {{
        let attrs: &Attributes = $attrs;
        $builder
            .runtime(Runtime::from(attrs.text("runtime")))
            .handler(attrs.text("handler"))
            .role(attrs.text("role"))
            .memory_size(whole(attrs.number("memory_mb")))
            .timeout(whole(attrs.number("timeout_s")))
            .environment(environment(attrs))
    }};
}

/// The Lambda side of the provider.
pub struct Functions {
    client: Client,
    stack: String,
    artifacts: BTreeMap<Address, Artifact>,
    policy: RetryPolicy,
}

impl Functions {
    /// The functions of `stack` through `client`.
    pub fn new(client: Client, stack: &str, policy: RetryPolicy) -> Self {
        Self { client, stack: stack.to_string(), artifacts: BTreeMap::new(), policy }
    }

    /// Keeps the code packages to upload.
    pub fn prepare(&mut self, artifacts: BTreeMap<Address, Artifact>) {
        self.artifacts = artifacts;
    }

    /// Finds the stack's functions (by name prefix, owned by tags) and their permissions.
    pub async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let prefix = format!("{}-", self.stack);
        let mut pages = self.client.list_functions().max_items(50).into_paginator().items().send();
        let mut names = Vec::new();
        while let Some(function) = pages.next().await {
            let function = function.map_err(sdk("ListFunctions"))?;
            if let Some(name) = function.function_name().filter(|n| n.starts_with(&prefix)) {
                names.push(name.to_string());
            }
        }
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
                    .find(|a| a.kind == ResourceKind::Function && function_name(&self.stack, &a.name) == name)
            };
            let Some(address) = claimed.or_else(wanted) else { continue };
            let Some(out) = claim(vec![(name.clone(), tags, out)], &self.stack, &address, live)? else { continue };
            let Some(configuration) = out.configuration() else { continue };
            let arn = configuration.function_arn().unwrap_or_default().to_string();
            live.insert(LiveResource {
                address: address.clone(),
                id: arn.clone(),
                attributes: Attributes::from([
                    (
                        "runtime".into(),
                        Value::Str(configuration.runtime().map(|r| r.as_str()).unwrap_or_default().into()),
                    ),
                    ("handler".into(), Value::Str(configuration.handler().unwrap_or_default().into())),
                    ("memory_mb".into(), Value::Int(configuration.memory_size().unwrap_or_default().into())),
                    ("timeout_s".into(), Value::Int(configuration.timeout().unwrap_or_default().into())),
                    (
                        "environment".into(),
                        Value::Map(
                            configuration
                                .environment()
                                .and_then(|e| e.variables())
                                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                                .unwrap_or_default(),
                        ),
                    ),
                    ("code_sha256".into(), Value::Str(configuration.code_sha256().unwrap_or_default().into())),
                    ("role".into(), Value::Str(configuration.role().unwrap_or_default().into())),
                ]),
                depends_on: vec![function_role_address(&address.name)],
            });
            if let Some(policy) = policy {
                discover_permissions(&policy, &arn, &address, desired, live);
            }
        }
        Ok(())
    }

    /// A function and its resource policy, if it exists (all functions are read concurrently).
    async fn function_with_policy(
        &self,
        name: &str,
    ) -> Result<Option<(GetFunctionOutput, Option<String>)>, ProviderError> {
        let function = self.client.get_function().function_name(name).send().await.map_err(sdk("GetFunction"));
        let Some(function) = found(function)? else { return Ok(None) };
        let policy = found(self.client.get_policy().function_name(name).send().await.map_err(sdk("GetPolicy")))?;
        Ok(Some((function, policy.and_then(|p| p.policy))))
    }

    fn code(&self, address: &Address) -> Result<Blob, ProviderError> {
        self.artifacts
            .get(address)
            .map(|a| Blob::new(a.bytes.as_slice()))
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, "code", format!("no code package for {address}")))
    }

    /// Creates the function, tagged in the create call, and waits until it is active. A role
    /// created moments ago may not be assumable yet: that error is retried.
    pub async fn create(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let name = function_name(&self.stack, &change.address.name);
        let builder = self.client.create_function().function_name(&name);
        let out = with_function_settings!(builder, attrs)
            .code(FunctionCode::builder().zip_file(self.code(&change.address)?).build())
            .set_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(role_not_ready("CreateFunction"))?;
        self.settle(&name).await?;
        Ok(out.function_arn().unwrap_or_default().to_string())
    }

    /// Uploads new code and/or configuration, waiting for each update to finish before the next;
    /// tags an adopted function.
    pub async fn update(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let attrs = desired(change);
        let name = function_name(&self.stack, &change.address.name);
        if change.adopt {
            self.client
                .tag_resource()
                .resource(live_id(change))
                .set_tags(Some(ownership_tags(&self.stack, &change.address)))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        let changed = |field: &str| change.changed_fields.iter().any(|f| f.field == field);
        if changed("code_sha256") {
            self.client
                .update_function_code()
                .function_name(&name)
                .zip_file(self.code(&change.address)?)
                .send()
                .await
                .map_err(sdk("UpdateFunctionCode"))?;
            self.settle(&name).await?;
        }
        let configuration = ["runtime", "handler", "role", "memory_mb", "timeout_s", "environment"];
        if configuration.iter().any(|field| changed(field)) {
            let builder = self.client.update_function_configuration().function_name(&name);
            let sent = with_function_settings!(builder, attrs).send().await;
            sent.map_err(role_not_ready("UpdateFunctionConfiguration"))?;
            self.settle(&name).await?;
        }
        Ok(())
    }

    /// Deletes the function.
    pub async fn delete(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self.client.delete_function().function_name(live_id(change)).send().await;
        deleted("DeleteFunction", result)
    }

    /// Waits until the function is neither being created nor updated.
    async fn settle(&self, name: &str) -> Result<(), ProviderError> {
        wait_until(self.policy, &format!("function {name} to finish updating"), || async {
            let out = self
                .client
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(sdk("GetFunctionConfiguration"))?;
            if out.state() == Some(&State::Failed) || out.last_update_status() == Some(&LastUpdateStatus::Failed) {
                let reason = out.state_reason().or(out.last_update_status_reason()).unwrap_or("no reason given");
                return Err(ProviderError::new(
                    ErrorClass::Other,
                    "GetFunctionConfiguration",
                    format!("{name} failed: {reason}"),
                ));
            }
            let busy =
                out.state() == Some(&State::Pending) || out.last_update_status() == Some(&LastUpdateStatus::InProgress);
            Ok((!busy).then_some(()))
        })
        .await
    }

    /// Lets API Gateway invoke the function for one route; the id is the statement id.
    pub async fn add_permission(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let sid = permission_sid(&change.address.name);
        self.client
            .add_permission()
            .function_name(attrs.text("function"))
            .statement_id(&sid)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(attrs.text("source_arn"))
            .send()
            .await
            .map_err(sdk("AddPermission"))?;
        Ok(sid)
    }

    /// Removes a route's permission.
    pub async fn remove_permission(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let function = change.before.as_ref().map(|b| b.text("function").to_string()).unwrap_or_default();
        let result = self.client.remove_permission().function_name(function).statement_id(live_id(change)).send().await;
        deleted("RemovePermission", result)
    }
}

/// Converts an error of `operation`; Lambda's "the role cannot be assumed" (a role created moments
/// ago, not yet visible) is transient. Lambda gives it no code of its own, so the message decides.
fn role_not_ready<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        let propagating = e.code() == Some("InvalidParameterValueException")
            && e.message().is_some_and(|m| m.contains("cannot be assumed"));
        let error = ProviderError::from_sdk(operation, e);
        if propagating { ProviderError { class: ErrorClass::Propagating, ..error } } else { error }
    }
}

fn environment(attrs: &Attributes) -> Environment {
    Environment::builder().set_variables(Some(attrs.entries("environment").into_iter().collect())).build()
}

/// The permissions (statements `authdemo-…`) in a function's resource policy.
fn discover_permissions(policy: &str, arn: &str, function: &Address, desired: &DesiredState, live: &mut LiveState) {
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
        live.insert(LiveResource {
            address,
            id: sid.to_string(),
            attributes: Attributes::from([
                ("function".into(), Value::Str(arn.to_string())),
                ("source_arn".into(), Value::Str(source.to_string())),
            ]),
            depends_on: vec![function.clone(), rest_api_address()],
        });
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::config::http::HttpResponse;
    use aws_sdk_lambda::operation::create_function::CreateFunctionError;
    use aws_sdk_lambda::types::error::InvalidParameterValueException;

    use super::*;

    fn invalid_parameter(message: &str) -> SdkError<CreateFunctionError, HttpResponse> {
        let error = InvalidParameterValueException::builder()
            .message(message)
            .meta(
                aws_sdk_lambda::error::ErrorMetadata::builder()
                    .code("InvalidParameterValueException")
                    .message(message)
                    .build(),
            )
            .build();
        let response = HttpResponse::new(400.try_into().unwrap(), aws_sdk_lambda::primitives::SdkBody::empty());
        SdkError::service_error(CreateFunctionError::InvalidParameterValueException(error), response)
    }

    #[test]
    fn a_role_not_yet_assumable_is_retried_and_other_invalid_parameters_are_not() {
        let racing = role_not_ready("CreateFunction")(invalid_parameter(
            "The role defined for the function cannot be assumed by Lambda.",
        ));
        assert_eq!(racing.class, ErrorClass::Propagating);
        let wrong = role_not_ready("CreateFunction")(invalid_parameter("Unzipped size must be smaller than 262144000"));
        assert_eq!(wrong.class, ErrorClass::Other);
    }
}
