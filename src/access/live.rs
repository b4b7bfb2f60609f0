//! The live side of `access`: a [`Deployment`] from the discovered state of the stack, plus
//! the reads discovery does not make: the documents of attached managed policies (GetPolicy,
//! GetPolicyVersion) and the policies of a role set on the identity pool that is not the
//! stack's. Every read goes through the provider, so through `Calls`; nothing is changed.

use std::collections::{BTreeMap, BTreeSet};

use super::cognito::{self, CognitoRoute};
use super::matrix::{Deployment, Group, LiveRoute, Role};
use super::policy::NamedPolicy;
use crate::error::ProviderError;
use crate::live::LiveState;
use crate::provider::{
    ApiKeySpec, AuthorizerSpec, AwsProvider, ClientSpec, GroupSpec, IdentityPoolRolesSpec, IdentityPoolSpec, RoleSpec,
    RouteSpec, StageSpec, UsagePlanKeySpec, UsagePlanSpec, UserPoolSpec, serving,
};
use crate::resource::{Address, ResourceKind, identity_pool_address, rest_api_address, user_pool_address};

/// Why the report cannot be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessError {
    /// The stack's API or stage does not exist in AWS.
    #[error("stack `{stack}` has no {what} in AWS yet: run `authdemo apply` first")]
    NotDeployed {
        /// The stack.
        stack: String,
        /// What is missing.
        what: String,
    },
    /// A policy document that is not IAM policy JSON.
    #[error("cannot read policy {policy} of role {role}: {error}")]
    Policy {
        /// The role.
        role: String,
        /// The policy's name or ARN.
        policy: String,
        /// What is wrong with it.
        error: serde_json::Error,
    },
    /// An AWS read failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// A role's policies as read: inline documents by name, attached managed policy ARNs.
type RolePolicies = (BTreeMap<String, String>, BTreeSet<String>);

/// Reads what `access` needs about `stack`'s `stage` from `live` (discovered by `provider`)
/// and the few reads discovery lacks.
pub(crate) async fn read(
    provider: &AwsProvider,
    stack: &str,
    stage: &str,
    live: &LiveState,
) -> Result<Deployment, AccessError> {
    let view = View::of(live);
    let mut roles: BTreeMap<String, RolePolicies> = BTreeMap::new();
    let pool_roles = [view.pool_role("unauthenticated"), view.pool_role("authenticated")];
    let group_roles = live.each::<GroupSpec>().filter_map(|(_, group)| group.role_arn);
    for arn in pool_roles.into_iter().flatten().chain(group_roles) {
        let policies = match view.stack_role(&arn) {
            Some(policies) => Some(policies),
            None => provider.role_policies(role_name(&arn)).await?,
        };
        roles.extend(policies.map(|p| (arn, p)));
    }
    let managed: BTreeSet<String> = roles.values().flat_map(|(_, managed)| managed.iter().cloned()).collect();
    let documents = provider.managed_policy_documents(&managed).await?;
    let mut deployment = view.deployment(stack, stage, &roles, &documents)?;
    if let Some(pool) = live.resources.get(&identity_pool_address()) {
        deployment.classic_flow = provider.identity_pool_allows_classic_flow(&pool.id).await?;
    }
    Ok(deployment)
}

/// The discovered state, read through the kinds' typed specs (references resolved back to
/// physical ids).
struct View<'a> {
    live: &'a LiveState,
}

impl<'a> View<'a> {
    fn of(live: &'a LiveState) -> Self {
        Self { live }
    }

    /// The ARN of the identity pool's `kind` role, as set live on the pool.
    fn pool_role(&self, kind: &str) -> Option<String> {
        let attachment = Address::new(ResourceKind::IdentityPoolRoles, identity_pool_address().name);
        self.live.spec::<IdentityPoolRolesSpec>(&attachment)?.roles.remove(kind)
    }

    /// The policies of the stack's role with ARN `arn`, as discovery read them.
    fn stack_role(&self, arn: &str) -> Option<RolePolicies> {
        let (_, role) = self.live.each::<RoleSpec>().find(|(resource, _)| resource.id == arn)?;
        Some((role.policies, role.managed_policies))
    }

    fn deployment(
        &self,
        stack: &str,
        stage: &str,
        roles: &BTreeMap<String, RolePolicies>,
        documents: &BTreeMap<String, String>,
    ) -> Result<Deployment, AccessError> {
        let not_deployed = |what: &str| AccessError::NotDeployed { stack: stack.to_string(), what: what.to_string() };
        let api_id = self.live.resources.get(&rest_api_address()).map(|r| r.id.clone());
        let api_id = api_id.ok_or_else(|| not_deployed("REST API"))?;
        let stage_address = Address::new(ResourceKind::ApiStage, stage);
        let Some(deployed) = self.live.spec::<StageSpec>(&stage_address) else {
            return Err(not_deployed(&format!("stage `{stage}`")));
        };
        let role = |kind: &str| -> Result<Option<Role>, AccessError> {
            let Some(arn) = self.pool_role(kind) else { return Ok(None) };
            roles.get(&arn).map(|policies| parsed_role(&arn, policies, documents)).transpose()
        };
        let pool = identity_pool_address();
        Ok(Deployment {
            stack: stack.to_string(),
            arn_prefix: self.live.target.arn("execute-api", ""),
            routes: self.routes(&deployed.served),
            linked_keys: self.linked_keys(&format!("{api_id}:{stage}")),
            api_id,
            stage: stage.to_string(),
            guests_allowed: self.live.spec::<IdentityPoolSpec>(&pool).is_some_and(|p| p.allow_unauthenticated),
            guest_role: role("unauthenticated")?,
            signed_in_role: role("authenticated")?,
            groups: self.groups(roles, documents)?,
            token_mapping: self.token_mapping(),
            self_sign_up: self.live.spec::<UserPoolSpec>(&user_pool_address()).is_some_and(|p| p.self_sign_up),
            classic_flow: false,
        })
    }

    /// The user pool's groups with their roles, by precedence (none last), then name.
    fn groups(
        &self,
        roles: &BTreeMap<String, RolePolicies>,
        documents: &BTreeMap<String, String>,
    ) -> Result<Vec<Group>, AccessError> {
        let mut groups = Vec::new();
        for (resource, spec) in self.live.each::<GroupSpec>() {
            let role = match spec.role_arn.as_ref().and_then(|arn| roles.get(arn).map(|p| (arn, p))) {
                Some((arn, policies)) => Some(parsed_role(arn, policies, documents)?),
                None => None,
            };
            let name = resource.address.name.clone();
            groups.push(Group { name, precedence: spec.precedence, role_arn: spec.role_arn, role });
        }
        groups.sort_by_key(|g| (g.precedence.is_none(), g.precedence, g.name.clone()));
        Ok(groups)
    }

    /// The identity pool's role mapping for the stack's user pool (`TYPE:RESOLUTION`), as set live.
    fn token_mapping(&self) -> Option<String> {
        let attachment = Address::new(ResourceKind::IdentityPoolRoles, identity_pool_address().name);
        let mappings = self.live.spec::<IdentityPoolRolesSpec>(&attachment)?.role_mappings?;
        mappings.into_iter().find_map(|entry| entry.split_once(' ').map(|(_, mapping)| mapping.to_string()))
    }

    /// The API's methods, each compared with what the stage's deployment `served`.
    fn routes(&self, served: &BTreeMap<String, String>) -> Vec<LiveRoute> {
        self.live
            .each::<RouteSpec>()
            .filter_map(|(resource, route)| {
                let (method, path) = resource.address.name.split_once(' ')?;
                let cognito = (route.authorization == cognito::COGNITO_USER_POOLS).then(|| self.cognito(&route));
                let RouteSpec { authorization, api_key_required, .. } = route;
                let deployed_differently = match served.get(&resource.address.name) {
                    None => Some("not at all".to_string()),
                    Some(deployed) if *deployed != serving(&authorization, api_key_required) => {
                        Some(format!("as {deployed}"))
                    }
                    Some(_) => None,
                };
                Some(LiveRoute {
                    method: method.to_string(),
                    path: path.to_string(),
                    authorization,
                    api_key_required,
                    deployed_differently,
                    cognito,
                })
            })
            .collect()
    }

    /// What decides who passes the COGNITO_USER_POOLS method `route`: its authorizer, its
    /// scopes, the stack's user pool and its clients.
    fn cognito(&self, route: &RouteSpec) -> CognitoRoute {
        let authorizer = route.authorizer.as_ref().and_then(|id| {
            let (resource, spec) = self.live.each::<AuthorizerSpec>().find(|(resource, _)| &resource.id == id)?;
            Some(cognito::Authorizer {
                name: resource.address.name.clone(),
                kind: spec.authorizer_type,
                provider_arns: spec.provider_arns.into_iter().collect(),
                identity_source: spec.identity_source,
            })
        });
        let pool = self.live.resources.get(&user_pool_address());
        let clients = self.live.each::<ClientSpec>().map(|(resource, client)| cognito::Client {
            name: resource.address.name.clone(),
            oauth: !client.oauth_flows.is_empty(),
            scopes: client.oauth_scopes.into_iter().collect(),
        });
        CognitoRoute {
            authorizer,
            scopes: route.scopes.iter().cloned().collect(),
            pool_arn: pool.map(|p| self.live.target.arn("cognito-idp", &format!("userpool/{}", p.id))),
            clients: clients.collect(),
        }
    }

    /// The names of the stack's enabled API keys linked to its usage plan, if that plan covers
    /// `api_stage` (`API_ID:STAGE`).
    fn linked_keys(&self, api_stage: &str) -> Vec<String> {
        let plan = Address::new(ResourceKind::UsagePlan, "main");
        if !self.live.spec::<UsagePlanSpec>(&plan).is_some_and(|p| p.api_stages.contains(api_stage)) {
            return Vec::new();
        }
        let linked: BTreeSet<String> = self.live.each::<UsagePlanKeySpec>().map(|(_, link)| link.key).collect();
        let keys = self.live.each::<ApiKeySpec>();
        keys.filter(|(key, spec)| linked.contains(&key.id) && spec.enabled)
            .map(|(key, _)| key.address.name.clone())
            .collect()
    }
}

/// The role `arn` with its inline policies and its managed policies' `documents`, parsed.
fn parsed_role(
    arn: &str,
    (inline, managed): &RolePolicies,
    documents: &BTreeMap<String, String>,
) -> Result<Role, AccessError> {
    let name = role_name(arn).to_string();
    let texts = inline.iter().chain(managed.iter().filter_map(|arn| documents.get_key_value(arn)));
    let policies = texts
        .map(|(policy, json)| {
            NamedPolicy::parse(policy, json).map_err(|error| AccessError::Policy {
                role: name.clone(),
                policy: policy.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Role { name, policies })
}

/// A role's name: the last part of its ARN (after its path).
fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
