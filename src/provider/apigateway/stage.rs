//! The stage and the deployment it serves, whose description carries the route table's
//! fingerprint.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{RestApis, cors, replace, retag};
use crate::error::{ProviderError, deleted, found};
use crate::live::{LiveResource, LiveState, creation_tags};
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{Address, ResourceKind, rest_api_address};
use crate::spec;
use crate::stack::Api;

/// The prefix of a deployment description before the routes' fingerprint.
const FINGERPRINT_PREFIX: &str = "authdemo routes ";

spec! {
    /// The stage and the deployment it serves.
    pub(crate) struct StageSpec for ApiStage {
        /// The fingerprint of the route table the deployment was made from.
        routes_fingerprint: String,
        /// What the deployment serves, by route (`METHOD /path`): its authorization and whether
        /// it needs an API key. Read from the deployment itself, so a method changed and
        /// deployed by hand shows here even when the fingerprint matches.
        served: BTreeMap<String, String>,
        /// The deployment the stage serves (live only).
        deployment_id: Option<String>,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

/// The fingerprint of a route table and its CORS settings, carried in the stage's deployment
/// description.
pub(super) fn routes_fingerprint(api: &Api) -> String {
    let mut hasher = Sha256::new();
    for route in &api.routes {
        hasher
            .update(format!("{} {} {} {:?} {}\n", route.method, route.path, route.function, route.auth, route.api_key));
        if !route.scopes.is_empty() {
            hasher.update(format!("scopes {}\n", route.scopes.join(" ")));
        }
    }
    if let Some(settings) = &api.cors {
        hasher.update(cors::fingerprint_line(settings));
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Makes each stage of `live` depend on the API's routes and preflights: a stage serves them, so
/// it goes before them when the stack is torn down.
pub(super) fn stages_serve_routes(live: &mut LiveState) {
    let methods = [ResourceKind::ApiRoute, ResourceKind::ApiPreflight];
    let routes: Vec<Address> = live.resources.keys().filter(|a| methods.contains(&a.kind)).cloned().collect();
    for stage in live.resources.values_mut().filter(|r| r.address.kind == ResourceKind::ApiStage) {
        stage.depends_on.extend(routes.iter().cloned());
    }
}

/// How a deployment serves one route, as [`StageSpec::served`] writes it.
pub(crate) fn serving(authorization: &str, api_key_required: bool) -> String {
    if api_key_required { format!("{authorization} + API key") } else { authorization.to_string() }
}

impl RestApis {
    pub(super) async fn discover_stages(&self, api_id: &str, live: &mut LiveState) -> Result<(), ProviderError> {
        let stages = self.calls.call("GetStages", || self.client.get_stages().rest_api_id(api_id).send()).await?;
        for stage in stages.item() {
            let Some(name) = stage.stage_name() else { continue };
            let deployment_id = stage.deployment_id().map(str::to_string);
            let deployment = match &deployment_id {
                Some(id) => found(
                    self.calls
                        .call("GetDeployment", || {
                            self.client
                                .get_deployment()
                                .rest_api_id(api_id)
                                .deployment_id(id)
                                .embed("apisummary")
                                .send()
                        })
                        .await,
                )?,
                None => None,
            };
            let description = deployment.as_ref().and_then(|d| d.description()).unwrap_or_default();
            let fingerprint = description.strip_prefix(FINGERPRINT_PREFIX).unwrap_or("(not deployed by authdemo)");
            let spec = StageSpec {
                routes_fingerprint: fingerprint.to_string(),
                served: deployment.as_ref().map(served_by).unwrap_or_default(),
                deployment_id,
                tags: user_tags(stage.tags().into_iter().flatten()),
            };
            live.insert(LiveResource::of(Address::new(ResourceKind::ApiStage, name), name.to_string(), &spec));
        }
        Ok(())
    }

    async fn deploy(&self, api_id: &str, wanted: &StageSpec) -> Result<String, ProviderError> {
        self.deploy_described(api_id, &format!("{FINGERPRINT_PREFIX}{}", wanted.routes_fingerprint)).await
    }

    /// Moves every stage of the API to a new deployment of the API as it is now, with the
    /// description (so the fingerprint) of the one it served: what a change that takes effect
    /// only once deployed (an authorizer's) needs.
    pub(super) async fn redeploy_stages(&self, api_id: &str) -> Result<(), ProviderError> {
        let stages = self.calls.call("GetStages", || self.client.get_stages().rest_api_id(api_id).send()).await?;
        for stage in stages.item() {
            let (Some(name), Some(old)) = (stage.stage_name(), stage.deployment_id()) else { continue };
            let served = self
                .calls
                .call("GetDeployment", || self.client.get_deployment().rest_api_id(api_id).deployment_id(old).send())
                .await?;
            let deployment = self.deploy_described(api_id, served.description().unwrap_or_default()).await?;
            self.calls
                .call("UpdateStage", || {
                    self.client
                        .update_stage()
                        .rest_api_id(api_id)
                        .stage_name(name)
                        .patch_operations(replace("/deploymentId", &deployment))
                        .send()
                })
                .await?;
            self.delete_deployment(api_id, old).await?;
        }
        Ok(())
    }

    async fn deploy_described(&self, api_id: &str, description: &str) -> Result<String, ProviderError> {
        let out = self
            .calls
            .call_alone("CreateDeployment", &self.serial, || {
                self.client.create_deployment().rest_api_id(api_id).description(description).send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateDeployment", "deployment id"))
    }

    /// Deletes the deployments no stage uses (left by an interrupted run between the two calls
    /// of a stage's create).
    async fn delete_unused_deployments(&self, api_id: &str) -> Result<(), ProviderError> {
        let stages = self.calls.call("GetStages", || self.client.get_stages().rest_api_id(api_id).send()).await?;
        let used: Vec<&str> = stages.item().iter().filter_map(|s| s.deployment_id()).collect();
        let deployments = self
            .calls
            .all_pages(
                "GetDeployments",
                |position| self.client.get_deployments().rest_api_id(api_id).limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        for id in deployments.into_iter().filter_map(|d| d.id).filter(|id| !used.contains(&id.as_str())) {
            self.delete_deployment(api_id, &id).await?;
        }
        Ok(())
    }

    async fn delete_deployment(&self, api_id: &str, id: &str) -> Result<(), ProviderError> {
        let result = self
            .calls
            .call("DeleteDeployment", || self.client.delete_deployment().rest_api_id(api_id).deployment_id(id).send())
            .await;
        deleted(result)
    }
}

impl Kind for StageSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetStages", "apigateway:GET", On::Apis, Sent::Reading),
        needs("GetDeployment", "apigateway:GET", On::Apis, Sent::Reading),
        needs("GetDeployments", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateDeployment", "apigateway:POST", On::Apis, Sent::Changing),
        needs("CreateStage", "apigateway:POST", On::Apis, Sent::Changing),
        needs("TagResource", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("UpdateStage", "apigateway:PATCH", On::Apis, Sent::Changing),
        needs("UntagResource", "apigateway:DELETE", On::Apis, Sent::Changing),
        needs("DeleteStage", "apigateway:DELETE", On::Apis, Sent::Deleting),
        needs("DeleteDeployment", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<StageSpec> for RestApis {
    /// Deploys the routes and creates the stage on that deployment.
    async fn create(&self, cx: &StepContext<'_>, wanted: &StageSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let deployment = self.deploy(api_id, wanted).await?;
        self.calls
            .call("CreateStage", || {
                self.client
                    .create_stage()
                    .rest_api_id(api_id)
                    .stage_name(&cx.address.name)
                    .deployment_id(&deployment)
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        Ok(cx.address.name.clone())
    }

    /// Deletes the deployments no stage uses (an API this run created has none).
    async fn finish(&self, cx: &StepContext<'_>, _id: &str, _wanted: &StageSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        if let (_, true) = self.known(api_id) {
            return Ok(());
        }
        self.delete_unused_deployments(api_id).await
    }

    /// Retags the stage, and when what it serves differs, redeploys: a new deployment, the
    /// stage moved to it, the old deployment deleted.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &StageSpec,
        wanted: &StageSpec,
    ) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/restapis/{api_id}/stages/{id}"), &changes).await?;
        if live.routes_fingerprint == wanted.routes_fingerprint && live.served == wanted.served {
            return Ok(());
        }
        let deployment = self.deploy(api_id, wanted).await?;
        self.calls
            .call("UpdateStage", || {
                self.client
                    .update_stage()
                    .rest_api_id(api_id)
                    .stage_name(id)
                    .patch_operations(replace("/deploymentId", &deployment))
                    .send()
            })
            .await?;
        match &live.deployment_id {
            Some(old) if !old.is_empty() => self.delete_deployment(api_id, old).await,
            _ => Ok(()),
        }
    }

    /// Deletes the stage, then its deployment.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, live: &StageSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        deleted(
            self.calls
                .call("DeleteStage", || self.client.delete_stage().rest_api_id(api_id).stage_name(id).send())
                .await,
        )?;
        match &live.deployment_id {
            Some(old) if !old.is_empty() => self.delete_deployment(api_id, old).await,
            _ => Ok(()),
        }
    }
}

/// What a deployment serves, from its API summary (path → method → settings).
fn served_by(
    deployment: &aws_sdk_apigateway::operation::get_deployment::GetDeploymentOutput,
) -> BTreeMap<String, String> {
    let mut served = BTreeMap::new();
    for (path, methods) in deployment.api_summary().into_iter().flatten() {
        for (method, snapshot) in methods {
            let authorization = snapshot.authorization_type().unwrap_or("NONE");
            served.insert(format!("{method} {path}"), serving(authorization, snapshot.api_key_required()));
        }
    }
    served
}
