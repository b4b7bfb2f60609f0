//! API Gateway REST APIs: the API (found by name, owned by tags), its paths, methods with Lambda
//! proxy integrations, and the stage whose deployment carries the route table's fingerprint.

use std::collections::BTreeMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType, Method, Op, PatchOperation};

use super::error::{ErrorClass, ProviderError, deleted, found, sdk};
use super::{Serial, claim, desired, id_of, live_id};
use crate::live::{LiveResource, LiveState, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::{Address, AttributeReads, Attributes, ResourceKind, Value, function_name, rest_api_address};

/// The prefix of a deployment description before the routes' fingerprint.
const FINGERPRINT_PREFIX: &str = "authdemo routes ";

/// The API Gateway side of the provider.
pub struct RestApis {
    client: Client,
    stack: String,
    serial: Serial,
}

impl RestApis {
    /// The REST APIs of `stack` through `client`; `serial` is held around the calls API Gateway
    /// allows only one at a time per account.
    pub fn new(client: Client, stack: &str, serial: Serial) -> Self {
        Self { client, stack: stack.to_string(), serial }
    }

    /// Finds the stack's API, then its paths, routes and stages.
    pub async fn discover(&self, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = rest_api_address();
        let mut candidates = Vec::new();
        let mut apis = self.client.get_rest_apis().limit(500).into_paginator().items().send();
        while let Some(api) = apis.next().await {
            let api = api.map_err(sdk("GetRestApis"))?;
            if api.name() == Some(self.stack.as_str()) {
                candidates.push((
                    api.id().unwrap_or_default().to_string(),
                    api.tags().cloned().unwrap_or_default(),
                    api,
                ));
            }
        }
        let Some(api) = claim(candidates, &self.stack, &address, live)? else { return Ok(()) };
        let api_id = api.id().unwrap_or_default().to_string();
        let endpoint =
            api.endpoint_configuration().and_then(|e| e.types().first()).map(|t| t.as_str()).unwrap_or_default();
        live.insert(LiveResource {
            address: address.clone(),
            id: api_id.clone(),
            attributes: Attributes::from([("endpoint_type".into(), Value::Str(endpoint.to_string()))]),
            depends_on: Vec::new(),
        });
        self.discover_paths(&api_id, live).await?;
        self.discover_stages(&api_id, live).await
    }

    async fn discover_paths(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let mut resources =
            self.client.get_resources().rest_api_id(api_id).limit(500).embed("methods").into_paginator().items().send();
        while let Some(resource) = resources.next().await {
            let resource = resource.map_err(sdk("GetResources"))?;
            let path = resource.path().unwrap_or("/");
            let resource_id = resource.id().unwrap_or_default();
            let mut route_parents = vec![rest_api_address()];
            if path != "/" {
                let resource_address = Address::new(ResourceKind::ApiResource, path);
                let mut depends_on = vec![rest_api_address()];
                if let Some((parent, _)) = path.rsplit_once('/').filter(|(p, _)| !p.is_empty()) {
                    depends_on.push(Address::new(ResourceKind::ApiResource, parent));
                }
                live.insert(LiveResource {
                    address: resource_address.clone(),
                    id: resource_id.to_string(),
                    attributes: Attributes::from([(
                        "path_part".into(),
                        Value::Str(resource.path_part().unwrap_or_default().to_string()),
                    )]),
                    depends_on,
                });
                route_parents.push(resource_address);
            }
            for (method, details) in resource.resource_methods().into_iter().flatten() {
                let details = match details.authorization_type() {
                    Some(_) => details.clone(),
                    None => self.method(api_id, resource_id, method).await?,
                };
                let uri = details.method_integration().and_then(|i| i.uri()).unwrap_or_default();
                let mut depends_on = route_parents.clone();
                depends_on.extend(self.function_in(uri));
                live.insert(LiveResource {
                    address: Address::new(ResourceKind::ApiRoute, format!("{method} {path}")),
                    id: format!("{resource_id}/{method}"),
                    attributes: Attributes::from([
                        ("authorization".into(), Value::Str(details.authorization_type().unwrap_or("NONE").into())),
                        ("api_key_required".into(), Value::Bool(details.api_key_required().unwrap_or(false))),
                        ("integration_uri".into(), Value::Str(uri.to_string())),
                    ]),
                    depends_on,
                });
            }
        }
        Ok(())
    }

    /// A method's details, for listings that did not embed them.
    async fn method(&self, api_id: &str, resource_id: &str, method: &str) -> Result<Method, ProviderError> {
        let out = self
            .client
            .get_method()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(method)
            .send()
            .await
            .map_err(sdk("GetMethod"))?;
        Ok(Method::builder()
            .set_authorization_type(out.authorization_type().map(str::to_string))
            .set_api_key_required(out.api_key_required())
            .set_method_integration(out.method_integration().cloned())
            .build())
    }

    /// The stack's function an integration URI invokes, if any.
    fn function_in(&self, uri: &str) -> Option<Address> {
        let name = uri.rsplit(":function:").next()?.strip_suffix("/invocations")?;
        let function = name.strip_prefix(&format!("{}-", self.stack))?;
        (function_name(&self.stack, function) == name).then(|| Address::new(ResourceKind::Function, function))
    }

    async fn discover_stages(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let stages = self.client.get_stages().rest_api_id(api_id).send().await.map_err(sdk("GetStages"))?;
        let routes: Vec<Address> =
            live.resources.keys().filter(|a| a.kind == ResourceKind::ApiRoute).cloned().collect();
        for stage in stages.item() {
            let deployment_id = stage.deployment_id().unwrap_or_default();
            let deployment = self.client.get_deployment().rest_api_id(api_id).deployment_id(deployment_id).send().await;
            let description =
                found(deployment.map_err(sdk("GetDeployment")))?.and_then(|d| d.description).unwrap_or_default();
            let fingerprint = description.strip_prefix(FINGERPRINT_PREFIX).unwrap_or("(not deployed by authdemo)");
            let mut depends_on = vec![rest_api_address()];
            depends_on.extend(routes.iter().cloned());
            live.insert(LiveResource {
                address: Address::new(ResourceKind::ApiStage, stage.stage_name().unwrap_or_default()),
                id: stage.stage_name().unwrap_or_default().to_string(),
                attributes: Attributes::from([
                    ("routes_fingerprint".into(), Value::Str(fingerprint.to_string())),
                    ("deployment_id".into(), Value::Str(deployment_id.to_string())),
                ]),
                depends_on,
            });
        }
        Ok(())
    }

    /// Creates the API, tagged in the create call.
    pub async fn create_api(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let endpoint =
            EndpointConfiguration::builder().types(EndpointType::from(desired(change).text("endpoint_type"))).build();
        let out = self
            .client
            .create_rest_api()
            .name(&self.stack)
            .description(format!("authdemo stack {}", self.stack))
            .endpoint_configuration(endpoint)
            .set_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("CreateRestApi"))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    /// Deletes the API with everything in it.
    pub async fn delete_api(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self.client.delete_rest_api().rest_api_id(live_id(change)).send().await;
        deleted("DeleteRestApi", result)
    }

    /// The id of the resource at `path` ("/" is the API's root).
    async fn resource_id(
        &self,
        api_id: &str,
        path: &str,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        if path != "/" {
            return id_of(ids, &Address::new(ResourceKind::ApiResource, path)).map(str::to_string);
        }
        let resources =
            self.client.get_resources().rest_api_id(api_id).limit(500).send().await.map_err(sdk("GetResources"))?;
        resources.items().iter().find(|r| r.path() == Some("/")).and_then(|r| r.id()).map(str::to_string).ok_or_else(
            || ProviderError::new(ErrorClass::Other, "GetResources", format!("API {api_id} has no root resource")),
        )
    }

    /// Creates a path under its parent.
    pub async fn create_resource(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let parent =
            change.address.name.rsplit_once('/').map(|(p, _)| if p.is_empty() { "/" } else { p }).unwrap_or("/");
        let parent_id = self.resource_id(api_id, parent, ids).await?;
        let out = self
            .client
            .create_resource()
            .rest_api_id(api_id)
            .parent_id(parent_id)
            .path_part(desired(change).text("path_part"))
            .send()
            .await
            .map_err(sdk("CreateResource"))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    /// Deletes a path.
    pub async fn delete_resource(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let result = self.client.delete_resource().rest_api_id(api_id).resource_id(live_id(change)).send().await;
        deleted("DeleteResource", result)
    }

    /// Creates a method with its Lambda proxy integration; the id is `RESOURCE_ID/METHOD`.
    pub async fn create_route(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let api_id = id_of(ids, &rest_api_address())?;
        let (method, path) = change.address.name.split_once(' ').unwrap_or(("ANY", "/"));
        let resource_id = self.resource_id(api_id, path, ids).await?;
        self.client
            .put_method()
            .rest_api_id(api_id)
            .resource_id(&resource_id)
            .http_method(method)
            .authorization_type(attrs.text("authorization"))
            .api_key_required(attrs.flag("api_key_required"))
            .send()
            .await
            .map_err(sdk("PutMethod"))?;
        self.put_integration(api_id, &resource_id, method, attrs.text("integration_uri")).await?;
        Ok(format!("{resource_id}/{method}"))
    }

    async fn put_integration(
        &self,
        api_id: &str,
        resource_id: &str,
        method: &str,
        uri: &str,
    ) -> Result<(), ProviderError> {
        self.client
            .put_integration()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(method)
            .r#type(IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(uri)
            .send()
            .await
            .map_err(sdk("PutIntegration"))?;
        Ok(())
    }

    /// Updates a method's authorization and API key flag in one patch call, and its integration.
    pub async fn update_route(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let attrs = desired(change);
        let api_id = id_of(ids, &rest_api_address())?;
        let (resource_id, method) = live_id(change).split_once('/').unwrap_or_default();
        let changed = |field: &str| change.changed_fields.iter().any(|f| f.field == field);
        let mut patches = Vec::new();
        if changed("authorization") {
            patches.push(replace("/authorizationType", attrs.text("authorization")));
        }
        if changed("api_key_required") {
            patches.push(replace("/apiKeyRequired", &attrs.flag("api_key_required").to_string()));
        }
        if !patches.is_empty() {
            self.client
                .update_method()
                .rest_api_id(api_id)
                .resource_id(resource_id)
                .http_method(method)
                .set_patch_operations(Some(patches))
                .send()
                .await
                .map_err(sdk("UpdateMethod"))?;
        }
        if changed("integration_uri") {
            self.put_integration(api_id, resource_id, method, attrs.text("integration_uri")).await?;
        }
        Ok(())
    }

    /// Deletes a method (and its integration).
    pub async fn delete_route(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let (resource_id, method) = live_id(change).split_once('/').unwrap_or_default();
        let result =
            self.client.delete_method().rest_api_id(api_id).resource_id(resource_id).http_method(method).send().await;
        deleted("DeleteMethod", result)
    }

    async fn deploy(&self, api_id: &str, change: &ResourceChange) -> Result<String, ProviderError> {
        let description = format!("{FINGERPRINT_PREFIX}{}", desired(change).text("routes_fingerprint"));
        let _one_at_a_time = self.serial.lock().await;
        let out = self
            .client
            .create_deployment()
            .rest_api_id(api_id)
            .description(description)
            .send()
            .await
            .map_err(sdk("CreateDeployment"))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    /// Deploys the routes and creates the stage on that deployment. Deployments no stage uses
    /// (left by an interrupted run between the two calls) are deleted.
    pub async fn create_stage(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let deployment = self.deploy(api_id, change).await?;
        self.client
            .create_stage()
            .rest_api_id(api_id)
            .stage_name(&change.address.name)
            .deployment_id(deployment)
            .set_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("CreateStage"))?;
        self.delete_unused_deployments(api_id).await?;
        Ok(change.address.name.clone())
    }

    /// Redeploys: a new deployment, the stage moved to it, the old deployment deleted.
    pub async fn redeploy_stage(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let deployment = self.deploy(api_id, change).await?;
        self.client
            .update_stage()
            .rest_api_id(api_id)
            .stage_name(live_id(change))
            .patch_operations(replace("/deploymentId", &deployment))
            .send()
            .await
            .map_err(sdk("UpdateStage"))?;
        self.delete_deployment(api_id, change).await
    }

    /// Deletes the stage, then its deployment.
    pub async fn delete_stage(
        &self,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let api_id = id_of(ids, &rest_api_address())?;
        let result = self.client.delete_stage().rest_api_id(api_id).stage_name(live_id(change)).send().await;
        deleted("DeleteStage", result)?;
        self.delete_deployment(api_id, change).await
    }

    async fn delete_unused_deployments(&self, api_id: &str) -> Result<(), ProviderError> {
        let stages = self.client.get_stages().rest_api_id(api_id).send().await.map_err(sdk("GetStages"))?;
        let used: Vec<&str> = stages.item().iter().filter_map(|s| s.deployment_id()).collect();
        let mut deployments =
            self.client.get_deployments().rest_api_id(api_id).limit(500).into_paginator().items().send();
        let mut unused = Vec::new();
        while let Some(deployment) = deployments.next().await {
            let id = deployment.map_err(sdk("GetDeployments"))?.id.unwrap_or_default();
            if !used.contains(&id.as_str()) {
                unused.push(id);
            }
        }
        for id in unused {
            let result = self.client.delete_deployment().rest_api_id(api_id).deployment_id(id).send().await;
            deleted("DeleteDeployment", result)?;
        }
        Ok(())
    }

    async fn delete_deployment(&self, api_id: &str, change: &ResourceChange) -> Result<(), ProviderError> {
        let old = change.before.as_ref().map(|b| b.text("deployment_id").to_string()).unwrap_or_default();
        if old.is_empty() {
            return Ok(());
        }
        let result = self.client.delete_deployment().rest_api_id(api_id).deployment_id(old).send().await;
        deleted("DeleteDeployment", result)
    }
}

/// A patch operation replacing `path` with `value`.
pub(super) fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}
