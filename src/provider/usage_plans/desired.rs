//! The usage plan's desired state: the plan on the API's stage, each API key, and each key's
//! link to the plan.

use std::collections::BTreeSet;

use super::{ApiKeySpec, UsagePlanKeySpec, UsagePlanSpec, plan_address};
use crate::provider::apigateway::StageSpec;
use crate::resource::{DesiredResource, DesiredState, Sensitive, Spec, reference, rest_api_address};
use crate::stack::Stack;

/// Adds the usage plan on the stage of `stack`'s API, each API key, and each key's link to the
/// plan, when the stack has both.
pub(super) fn desired(stack: &Stack, state: &mut DesiredState) {
    let (Some(api), Some(plan)) = (&stack.api, &stack.usage_plan) else { return };
    let (stage, tags) = (&api.stage, &stack.tags);
    let address = plan_address();
    let spec = UsagePlanSpec {
        rate: plan.rate,
        burst: plan.burst,
        quota_limit: plan.quota_limit,
        quota_period: plan.quota_period.clone(),
        api_stages: BTreeSet::from([format!("{}:{stage}", reference(&rest_api_address()))]),
        tags: tags.clone(),
    };
    let depends_on = vec![rest_api_address(), StageSpec::address(stage)];
    state.resources.push(DesiredResource::of(address.clone(), &spec, depends_on));
    for key in &plan.api_keys {
        let key_address = ApiKeySpec::address(&key.name);
        let spec = ApiKeySpec { enabled: true, value: key.value.as_ref().map(|_| Sensitive), tags: tags.clone() };
        state.add_secret(&key_address, key.value.as_ref());
        state.resources.push(DesiredResource::of(key_address.clone(), &spec, Vec::new()));
        let link = UsagePlanKeySpec { key: reference(&key_address) };
        let link_address = UsagePlanKeySpec::address(&key.name);
        state.resources.push(DesiredResource::of(link_address, &link, vec![address.clone(), key_address]));
    }
}
