//! API Gateway usage plans, API keys and the keys' links to the plan. The plan and the keys are
//! found by name (`<stack>`, `<stack>-<key>`) and owned by their tags; plan keys belong to the plan.
//! UpdateUsagePlan and CreateUsagePlanKey run one at a time (AWS's limits), each change to the
//! plan batched into a single UpdateUsagePlan call.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{Op, PatchOperation, QuotaPeriodType, QuotaSettings, ThrottleSettings};

use super::apigateway::replace;
use super::error::{ErrorClass, ProviderError, deleted, found, sdk, sdk_transient};
use super::{Secrets, Serial, claim, desired, id_of, live_id, whole};
use crate::live::{ADDRESS_TAG, ForeignResource, LiveResource, LiveState, STACK_TAG, check_ownership, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::{Address, AttributeReads, Attributes, DesiredState, ResourceKind, Value, rest_api_address};

/// The usage plan side of the provider.
pub struct UsagePlans {
    client: Client,
    stack: String,
    serial: Serial,
    secrets: Secrets,
}

fn plan_address() -> Address {
    Address::new(ResourceKind::UsagePlan, "main")
}

impl UsagePlans {
    /// The usage plans of `stack` through `client`, sharing `serial` with deployments.
    pub fn new(client: Client, stack: &str, serial: Serial) -> Self {
        Self { client, stack: stack.to_string(), serial, secrets: Secrets::new() }
    }

    /// Keeps the API key values that creates send.
    pub fn prepare(&mut self, secrets: Secrets) {
        self.secrets = secrets;
    }

    fn key_name(&self, address: &Address) -> String {
        format!("{}-{}", self.stack, address.name)
    }

    /// Finds the stack's usage plan with its keys, and the stack's API keys.
    pub async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        self.discover_keys(desired, live).await?;
        let mut candidates = Vec::new();
        let mut plans = self.client.get_usage_plans().limit(500).into_paginator().items().send();
        while let Some(plan) = plans.next().await {
            let plan = plan.map_err(sdk("GetUsagePlans"))?;
            if plan.name() == Some(self.stack.as_str()) {
                candidates.push((
                    plan.id().unwrap_or_default().to_string(),
                    plan.tags().cloned().unwrap_or_default(),
                    plan,
                ));
            }
        }
        let Some(plan) = claim(candidates, &self.stack, &plan_address(), live)? else { return Ok(()) };
        let plan_id = plan.id().unwrap_or_default().to_string();
        let throttle = plan.throttle();
        let quota = plan.quota();
        let stages = plan
            .api_stages()
            .iter()
            .map(|s| format!("{}:{}", s.api_id().unwrap_or_default(), s.stage().unwrap_or_default()));
        // The plan names the API's stages: it goes before them when the stack is torn down.
        let mut depends_on = vec![rest_api_address()];
        let stage_names = plan.api_stages().iter().filter_map(|s| s.stage());
        depends_on.extend(stage_names.map(|s| Address::new(ResourceKind::ApiStage, s)));
        live.insert(LiveResource {
            address: plan_address(),
            id: plan_id.clone(),
            attributes: Attributes::from([
                (
                    "throttle.rate".into(),
                    Value::Int(throttle.map(|t| t.rate_limit().round() as i64).unwrap_or_default()),
                ),
                ("throttle.burst".into(), Value::Int(throttle.map(|t| t.burst_limit().into()).unwrap_or_default())),
                ("quota.limit".into(), Value::Int(quota.map(|q| q.limit().into()).unwrap_or_default())),
                (
                    "quota.period".into(),
                    Value::Str(quota.and_then(|q| q.period()).map(|p| p.as_str().to_string()).unwrap_or_default()),
                ),
                ("api_stages".into(), Value::list(stages)),
            ]),
            depends_on,
        });
        let prefix = format!("{}-", self.stack);
        let mut keys =
            self.client.get_usage_plan_keys().usage_plan_id(&plan_id).limit(500).into_paginator().items().send();
        while let Some(key) = keys.next().await {
            let key = key.map_err(sdk("GetUsagePlanKeys"))?;
            let key_id = key.id().unwrap_or_default().to_string();
            let name =
                key.name().and_then(|n| n.strip_prefix(&prefix)).map(str::to_string).unwrap_or_else(|| key_id.clone());
            live.insert(LiveResource {
                address: Address::new(ResourceKind::UsagePlanKey, &name),
                id: key_id.clone(),
                attributes: Attributes::from([("key".into(), Value::Str(key_id))]),
                depends_on: vec![plan_address(), Address::new(ResourceKind::ApiKey, name)],
            });
        }
        Ok(())
    }

    async fn discover_keys(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let prefix = format!("{}-", self.stack);
        let mut keys = self
            .client
            .get_api_keys()
            .name_query(&prefix)
            .include_values(false)
            .limit(500)
            .into_paginator()
            .items()
            .send();
        while let Some(key) = keys.next().await {
            let key = key.map_err(sdk("GetApiKeys"))?;
            let name = key.name().unwrap_or_default();
            let tags = key.tags().cloned().unwrap_or_default();
            let claimed = tags.get(ADDRESS_TAG).and_then(|a| a.parse::<Address>().ok());
            let id = key.id().unwrap_or_default().to_string();
            match claimed {
                Some(address)
                    if address.kind == ResourceKind::ApiKey
                        && tags.get(STACK_TAG) == Some(&self.stack)
                        && self.key_name(&address) == name =>
                {
                    live.insert(LiveResource {
                        address,
                        id,
                        attributes: Attributes::from([("enabled".into(), Value::Bool(key.enabled()))]),
                        depends_on: Vec::new(),
                    });
                }
                _ => {
                    let wanted = desired
                        .resources
                        .iter()
                        .find(|r| r.address.kind == ResourceKind::ApiKey && self.key_name(&r.address) == name);
                    if let Some(wanted) = wanted {
                        let reason = check_ownership(&tags, &self.stack, &wanted.address).err().unwrap_or_default();
                        live.foreign.push(ForeignResource { address: wanted.address.clone(), id, reason });
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates the plan with its stage, tagged in the create call.
    pub async fn create_plan(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let stages = attrs
            .items("api_stages")
            .iter()
            .filter_map(|s| s.split_once(':'))
            .map(|(api, stage)| aws_sdk_apigateway::types::ApiStage::builder().api_id(api).stage(stage).build())
            .collect();
        let out = self
            .client
            .create_usage_plan()
            .name(&self.stack)
            .throttle(
                ThrottleSettings::builder()
                    .rate_limit(attrs.number("throttle.rate") as f64)
                    .burst_limit(whole(attrs.number("throttle.burst")))
                    .build(),
            )
            .quota(
                QuotaSettings::builder()
                    .limit(whole(attrs.number("quota.limit")))
                    .period(QuotaPeriodType::from(attrs.text("quota.period")))
                    .build(),
            )
            .set_api_stages(Some(stages))
            .set_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("CreateUsagePlan"))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    /// Changes the plan in one UpdateUsagePlan call holding every differing field.
    pub async fn update_plan(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let attrs = desired(change);
        let mut patches = Vec::new();
        for field in &change.changed_fields {
            match field.field.as_str() {
                "throttle.rate" => {
                    patches.push(replace("/throttle/rateLimit", &attrs.number("throttle.rate").to_string()))
                }
                "throttle.burst" => {
                    patches.push(replace("/throttle/burstLimit", &attrs.number("throttle.burst").to_string()))
                }
                "quota.limit" => patches.push(replace("/quota/limit", &attrs.number("quota.limit").to_string())),
                "quota.period" => patches.push(replace("/quota/period", attrs.text("quota.period"))),
                "api_stages" => {
                    let live = change.before.as_ref().map(|b| b.items("api_stages").to_vec()).unwrap_or_default();
                    let wanted = attrs.items("api_stages");
                    patches.extend(live.iter().filter(|s| !wanted.contains(s)).map(|s| stage_patch(Op::Remove, s)));
                    patches.extend(wanted.iter().filter(|s| !live.contains(s)).map(|s| stage_patch(Op::Add, s)));
                }
                _ => {}
            }
        }
        self.patch_plan(live_id(change), patches).await
    }

    async fn patch_plan(&self, plan_id: &str, patches: Vec<PatchOperation>) -> Result<(), ProviderError> {
        if patches.is_empty() {
            return Ok(());
        }
        let _one_at_a_time = self.serial.lock().await;
        self.client
            .update_usage_plan()
            .usage_plan_id(plan_id)
            .set_patch_operations(Some(patches))
            .send()
            .await
            .map_err(sdk("UpdateUsagePlan"))?;
        Ok(())
    }

    /// Detaches the plan's stages (AWS refuses to delete a plan that has some), then deletes it.
    pub async fn delete_plan(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let stages = change.before.as_ref().map(|b| b.items("api_stages").to_vec()).unwrap_or_default();
        let detach = stages.iter().map(|s| stage_patch(Op::Remove, s)).collect();
        found(self.patch_plan(live_id(change), detach).await)?;
        let result = self.client.delete_usage_plan().usage_plan_id(live_id(change)).send().await;
        deleted("DeleteUsagePlan", result)
    }

    /// Creates an API key with the value from the environment, or one AWS generates.
    pub async fn create_key(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let value = self.secrets.get(&(change.address.clone(), "value".to_string()));
        let out = self
            .client
            .create_api_key()
            .name(self.key_name(&change.address))
            .enabled(desired(change).flag("enabled"))
            .set_value(value.map(|v| v.expose().to_string()))
            .set_tags(Some(ownership_tags(&self.stack, &change.address)))
            .send()
            .await
            .map_err(sdk("CreateApiKey"))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    /// Enables or disables an API key.
    pub async fn update_key(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        self.client
            .update_api_key()
            .api_key(live_id(change))
            .patch_operations(replace("/enabled", &desired(change).flag("enabled").to_string()))
            .send()
            .await
            .map_err(sdk("UpdateApiKey"))?;
        Ok(())
    }

    /// Deletes an API key.
    pub async fn delete_key(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let result = self.client.delete_api_key().api_key(live_id(change)).send().await;
        deleted("DeleteApiKey", result)
    }

    /// The value of an API key, for `authdemo output --show-sensitive`.
    pub async fn key_value(&self, key_id: &str) -> Result<String, ProviderError> {
        let out =
            self.client.get_api_key().api_key(key_id).include_value(true).send().await.map_err(sdk("GetApiKey"))?;
        Ok(out.value().unwrap_or_default().to_string())
    }

    /// Links an API key to the plan; the id is the key's id. AWS takes these one at a time and
    /// answers a concurrent one with ConflictException, which is retried.
    pub async fn link_key(
        &self,
        change: &ResourceChange,
        ids: &std::collections::BTreeMap<Address, String>,
    ) -> Result<String, ProviderError> {
        let key_id = desired(change).text("key").to_string();
        let _one_at_a_time = self.serial.lock().await;
        self.client
            .create_usage_plan_key()
            .usage_plan_id(id_of(ids, &plan_address())?)
            .key_id(&key_id)
            .key_type("API_KEY")
            .send()
            .await
            .map_err(sdk_transient("CreateUsagePlanKey", "ConflictException", ErrorClass::Throttled))?;
        Ok(key_id)
    }

    /// Unlinks an API key from the plan.
    pub async fn unlink_key(
        &self,
        change: &ResourceChange,
        ids: &std::collections::BTreeMap<Address, String>,
    ) -> Result<(), ProviderError> {
        let result = self
            .client
            .delete_usage_plan_key()
            .usage_plan_id(id_of(ids, &plan_address())?)
            .key_id(live_id(change))
            .send()
            .await;
        deleted("DeleteUsagePlanKey", result)
    }
}

fn stage_patch(op: Op, stage: &str) -> PatchOperation {
    PatchOperation::builder().op(op).path("/apiStages").value(stage).build()
}
