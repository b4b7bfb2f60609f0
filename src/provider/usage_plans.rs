//! API Gateway usage plans, API keys and the keys' links to the plan. The plan and the keys are
//! found by name (`<stack>`, `<stack>-<key>`) and owned by their tags; plan keys belong to the plan.
//! UpdateUsagePlan and CreateUsagePlanKey run one at a time (AWS's limits), each change to the
//! plan batched into a single UpdateUsagePlan call.

mod desired;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    ApiKey, ApiStage, Op, PatchOperation, QuotaPeriodType, QuotaSettings, ThrottleSettings, UsagePlan,
};

use super::apigateway::{StageSpec, replace, retag};
use super::call::Calls;
use super::handler::{Handler, StepContext};
use super::ownership::{Candidate, candidates, claim, owned_id, several_claim};
use super::{Serial, whole};
use crate::error::{ProviderError, deleted, found};
use crate::live::{ADDRESS_TAG, ForeignResource, LiveResource, LiveState, STACK_TAG, creation_tags};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{Address, DesiredState, ResourceKind, Sensitive, Spec, Target};
use crate::spec;
use crate::stack;

spec! {
    /// The usage plan: throttle and quota on the API's stage.
    pub(crate) struct UsagePlanSpec for UsagePlan {
        /// Steady-state requests per second.
        rate @ "throttle.rate": i64,
        /// Burst size.
        burst @ "throttle.burst": i64,
        /// Requests per period.
        quota_limit @ "quota.limit": i64,
        /// `DAY`, `WEEK` or `MONTH`.
        quota_period @ "quota.period": String,
        /// `API_ID:STAGE` of each stage the plan covers.
        api_stages: BTreeSet<String>,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// An API key.
    pub(crate) struct ApiKeySpec for ApiKey {
        /// Whether the key is accepted.
        enabled: bool,
        /// A value from the environment: set on create, never read back.
        value: Option<Sensitive> => WriteOnly,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// An API key's link to the usage plan.
    pub(crate) struct UsagePlanKeySpec for UsagePlanKey {
        /// The key's id.
        key: String => ForcesReplacement,
    }
}

fn plan_address() -> Address {
    Address::new(ResourceKind::UsagePlan, "main")
}

/// The usage plan side of the provider.
pub(super) struct UsagePlans {
    client: Client,
    stack: String,
    /// Where the plans and keys are, for their ARNs.
    target: Target,
    serial: Serial,
    calls: Calls,
}

impl UsagePlans {
    /// The usage plans of `stack` through `client`, at `target`, sharing `serial` with deployments.
    pub(super) fn new(client: Client, stack: &str, target: &Target, serial: Serial, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), target: target.clone(), serial, calls }
    }

    fn key_name(&self, address: &Address) -> String {
        format!("{}-{}", self.stack, address.name)
    }

    /// The plans named after the stack: id, tags and description of each.
    async fn candidates(&self) -> Result<Vec<Candidate<UsagePlan>>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "GetUsagePlans",
                |position| self.client.get_usage_plans().limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        candidates(listed, &self.stack, UsagePlan::name, |plan| async move {
            Ok(plan.id.clone().map(|id| (id, plan.tags.clone().unwrap_or_default(), plan)))
        })
        .await
    }

    /// Finds the stack's usage plan with its keys, and the stack's API keys.
    pub(super) async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        self.discover_keys(desired, live).await?;
        let candidates =
            self.candidates().await?.into_iter().map(|(id, tags, plan)| (id.clone(), tags, (id, plan))).collect();
        let Some((plan_id, plan)) = claim(candidates, &self.stack, &plan_address(), live)? else { return Ok(()) };
        let throttle = plan.throttle();
        let quota = plan.quota();
        #[expect(clippy::cast_possible_truncation, reason = "the plan's rate is a whole number of requests per second")]
        let rate = throttle.map(|t| t.rate_limit().round() as i64).unwrap_or_default();
        let spec = UsagePlanSpec {
            rate,
            burst: throttle.map(|t| t.burst_limit().into()).unwrap_or_default(),
            quota_limit: quota.map(|q| q.limit().into()).unwrap_or_default(),
            quota_period: quota.and_then(|q| q.period()).map(|p| p.as_str().to_string()).unwrap_or_default(),
            api_stages: plan
                .api_stages()
                .iter()
                .map(|s| format!("{}:{}", s.api_id().unwrap_or_default(), s.stage().unwrap_or_default()))
                .collect(),
            tags: user_tags(plan.tags().into_iter().flatten()),
        };
        // The plan names the API's stages: it goes before them when the stack is torn down.
        let mut resource = LiveResource::of(plan_address(), plan_id.clone(), &spec);
        resource.depends_on.extend(plan.api_stages().iter().filter_map(|s| s.stage()).map(StageSpec::address));
        live.insert(resource);
        let prefix = format!("{}-", self.stack);
        let keys = self
            .calls
            .all_pages(
                "GetUsagePlanKeys",
                |position| {
                    self.client.get_usage_plan_keys().usage_plan_id(&plan_id).limit(500).set_position(position).send()
                },
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        for key in keys {
            let Some(key_id) = key.id else { continue };
            let name = key.name.as_deref().and_then(|n| n.strip_prefix(&prefix)).unwrap_or(&key_id).to_string();
            let spec = UsagePlanKeySpec { key: key_id.clone() };
            live.insert(LiveResource::of(Address::new(ResourceKind::UsagePlanKey, name), key_id, &spec));
        }
        Ok(())
    }

    /// The API keys whose names start with `name_query`, with their tags (values left out).
    async fn keys(&self, name_query: &str) -> Result<Vec<ApiKey>, ProviderError> {
        self.calls
            .all_pages(
                "GetApiKeys",
                |position| {
                    self.client
                        .get_api_keys()
                        .name_query(name_query)
                        .include_values(false)
                        .limit(500)
                        .set_position(position)
                        .send()
                },
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await
    }

    async fn discover_keys(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let mut claimed_ids: BTreeMap<Address, Vec<String>> = BTreeMap::new();
        for key in self.keys(&format!("{}-", self.stack)).await? {
            let (Some(id), Some(name)) = (key.id(), key.name()) else { continue };
            let tags = key.tags().cloned().unwrap_or_default();
            let claimed = tags.get(ADDRESS_TAG).and_then(|a| a.parse::<Address>().ok()).filter(|address| {
                address.kind == ResourceKind::ApiKey
                    && tags.get(STACK_TAG) == Some(&self.stack)
                    && self.key_name(address) == name
            });
            if let Some(address) = claimed {
                claimed_ids.entry(address.clone()).or_default().push(id.to_string());
                live.insert(LiveResource::of(
                    address,
                    id.to_string(),
                    &ApiKeySpec { enabled: key.enabled(), value: None, tags: user_tags(&tags) },
                ));
                continue;
            }
            let wanted = desired
                .resources
                .iter()
                .find(|r| r.address.kind == ResourceKind::ApiKey && self.key_name(&r.address) == name);
            if let Some(foreign) =
                wanted.and_then(|w| ForeignResource::of(&w.address, id.to_string(), &tags, &self.stack))
            {
                live.foreign.push(foreign);
            }
        }
        match claimed_ids.into_iter().find(|(_, ids)| ids.len() > 1) {
            Some((address, ids)) => Err(several_claim(&address, &self.stack, ids.iter().map(String::as_str))),
            None => Ok(()),
        }
    }

    async fn patch_plan(&self, plan_id: &str, patches: Vec<PatchOperation>) -> Result<(), ProviderError> {
        if patches.is_empty() {
            return Ok(());
        }
        self.calls
            .call_alone("UpdateUsagePlan", &self.serial, || {
                self.client
                    .update_usage_plan()
                    .usage_plan_id(plan_id)
                    .set_patch_operations(Some(patches.clone()))
                    .send()
            })
            .await?;
        Ok(())
    }

    /// The value of an API key, for `authdemo output --show-sensitive`.
    pub(super) async fn key_value(&self, key_id: &str) -> Result<String, ProviderError> {
        let out = self
            .calls
            .call("GetApiKey", || self.client.get_api_key().api_key(key_id).include_value(true).send())
            .await?;
        out.value.ok_or_else(|| ProviderError::missing("GetApiKey", "value"))
    }
}

impl Kind for UsagePlanSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetUsagePlans", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateUsagePlan", "apigateway:POST", On::NewApis, Sent::Changing),
        needs("UpdateUsagePlan", "apigateway:PATCH", On::Apis, Sent::Deleting),
        needs("DeleteUsagePlan", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];

    /// The usage plan of the API's stage, with its keys and their links to it.
    fn desired(stack: &stack::Stack, state: &mut DesiredState) {
        desired::desired(stack, state);
    }
}

impl Handler<UsagePlanSpec> for UsagePlans {
    /// Creates the plan with its stage, tagged in the create call.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UsagePlanSpec) -> Result<String, ProviderError> {
        let stages: Vec<ApiStage> = wanted
            .api_stages
            .iter()
            .filter_map(|s| s.split_once(':'))
            .map(|(api, stage)| ApiStage::builder().api_id(api).stage(stage).build())
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "validation bounds the rate far below 2^52")]
        let rate = wanted.rate as f64;
        let out = self
            .calls
            .call("CreateUsagePlan", || {
                self.client
                    .create_usage_plan()
                    .name(&self.stack)
                    .throttle(ThrottleSettings::builder().rate_limit(rate).burst_limit(whole(wanted.burst)).build())
                    .quota(
                        QuotaSettings::builder()
                            .limit(whole(wanted.quota_limit))
                            .period(QuotaPeriodType::from(wanted.quota_period.as_str()))
                            .build(),
                    )
                    .set_api_stages(Some(stages.clone()))
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateUsagePlan", "plan id"))
    }

    /// Changes the plan in one UpdateUsagePlan call holding every differing field, and retags it.
    async fn update(
        &self,
        _cx: &StepContext<'_>,
        id: &str,
        live: &UsagePlanSpec,
        wanted: &UsagePlanSpec,
    ) -> Result<(), ProviderError> {
        let mut patches = Vec::new();
        if live.rate != wanted.rate {
            patches.push(replace("/throttle/rateLimit", &wanted.rate.to_string()));
        }
        if live.burst != wanted.burst {
            patches.push(replace("/throttle/burstLimit", &wanted.burst.to_string()));
        }
        if live.quota_limit != wanted.quota_limit {
            patches.push(replace("/quota/limit", &wanted.quota_limit.to_string()));
        }
        if live.quota_period != wanted.quota_period {
            patches.push(replace("/quota/period", &wanted.quota_period));
        }
        patches.extend(live.api_stages.difference(&wanted.api_stages).map(|s| stage_patch(Op::Remove, s)));
        patches.extend(wanted.api_stages.difference(&live.api_stages).map(|s| stage_patch(Op::Add, s)));
        self.patch_plan(id, patches).await?;
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/usageplans/{id}"), &changes).await
    }

    /// Detaches the plan's stages (AWS refuses to delete a plan that has some), then deletes it.
    async fn delete(&self, _cx: &StepContext<'_>, id: &str, live: &UsagePlanSpec) -> Result<(), ProviderError> {
        let detach = live.api_stages.iter().map(|s| stage_patch(Op::Remove, s)).collect();
        found(self.patch_plan(id, detach).await)?;
        deleted(self.calls.call("DeleteUsagePlan", || self.client.delete_usage_plan().usage_plan_id(id).send()).await)
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &UsagePlanSpec) -> Result<Option<String>, ProviderError> {
        owned_id(self.candidates().await?, &self.stack, cx.address)
    }
}

impl Kind for ApiKeySpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetApiKeys", "apigateway:GET", On::Apis, Sent::Reading),
        needs("GetApiKey", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateApiKey", "apigateway:POST", On::NewApis, Sent::Changing),
        // CreateApiKey also authorizes apigateway:PUT (Service Authorization Reference).
        needs("CreateApiKey", "apigateway:PUT", On::NewApis, Sent::Changing),
        needs("UpdateApiKey", "apigateway:PATCH", On::Apis, Sent::Changing),
        needs("DeleteApiKey", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<ApiKeySpec> for UsagePlans {
    /// Creates an API key with the value from the environment, or one AWS generates.
    async fn create(&self, cx: &StepContext<'_>, wanted: &ApiKeySpec) -> Result<String, ProviderError> {
        let out = self
            .calls
            .call("CreateApiKey", || {
                self.client
                    .create_api_key()
                    .name(self.key_name(cx.address))
                    .enabled(wanted.enabled)
                    .set_value(cx.secret.map(|v| v.expose().to_string()))
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateApiKey", "key id"))
    }

    /// The stack's key of this name, confirmed by its tags.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &ApiKeySpec) -> Result<Option<String>, ProviderError> {
        let name = self.key_name(cx.address);
        let candidates = self
            .keys(&name)
            .await?
            .into_iter()
            .filter(|key| key.name() == Some(name.as_str()))
            .filter_map(|key| Some((key.id.clone()?, key.tags.clone().unwrap_or_default(), ())))
            .collect();
        owned_id(candidates, &self.stack, cx.address)
    }

    /// Enables or disables an API key, and retags it.
    async fn update(
        &self,
        _cx: &StepContext<'_>,
        id: &str,
        live: &ApiKeySpec,
        wanted: &ApiKeySpec,
    ) -> Result<(), ProviderError> {
        if live.enabled != wanted.enabled {
            self.calls
                .call("UpdateApiKey", || {
                    self.client
                        .update_api_key()
                        .api_key(id)
                        .patch_operations(replace("/enabled", &wanted.enabled.to_string()))
                        .send()
                })
                .await?;
        }
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/apikeys/{id}"), &changes).await
    }

    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &ApiKeySpec) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteApiKey", || self.client.delete_api_key().api_key(id).send()).await)
    }
}

impl Kind for UsagePlanKeySpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetUsagePlanKeys", "apigateway:GET", On::Apis, Sent::Reading),
        needs("GetUsagePlanKey", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateUsagePlanKey", "apigateway:POST", On::Apis, Sent::Changing),
        needs("DeleteUsagePlanKey", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<UsagePlanKeySpec> for UsagePlans {
    /// Links an API key to the plan; the id is the key's id. AWS takes these one at a time and
    /// answers a concurrent one with ConflictException, which the classifier makes transient.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UsagePlanKeySpec) -> Result<String, ProviderError> {
        let plan_id = cx.id_of(&plan_address())?;
        self.calls
            .call_alone("CreateUsagePlanKey", &self.serial, || {
                self.client
                    .create_usage_plan_key()
                    .usage_plan_id(plan_id)
                    .key_id(&wanted.key)
                    .key_type("API_KEY")
                    .send()
            })
            .await?;
        Ok(wanted.key.clone())
    }

    /// Unlinks an API key from the plan.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &UsagePlanKeySpec) -> Result<(), ProviderError> {
        let plan_id = cx.id_of(&plan_address())?;
        deleted(
            self.calls
                .call("DeleteUsagePlanKey", || {
                    self.client.delete_usage_plan_key().usage_plan_id(plan_id).key_id(id).send()
                })
                .await,
        )
    }

    /// A link answered "exists" counts once the plan lists the key.
    async fn find(&self, cx: &StepContext<'_>, wanted: &UsagePlanKeySpec) -> Result<Option<String>, ProviderError> {
        let plan_id = cx.id_of(&plan_address())?;
        let linked = self
            .calls
            .call("GetUsagePlanKey", || {
                self.client.get_usage_plan_key().usage_plan_id(plan_id).key_id(&wanted.key).send()
            })
            .await;
        Ok(found(linked)?.map(|_| wanted.key.clone()))
    }
}

fn stage_patch(op: Op, stage: &str) -> PatchOperation {
    PatchOperation::builder().op(op).path("/apiStages").value(stage).build()
}
