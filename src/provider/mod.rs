//! AWS, one module per service: mapping between SDK types and resource attributes, and nothing
//! else. Diffing, ordering, retries and reporting are the engine's.

mod apigateway;
mod cognito_identity;
mod cognito_idp;
mod config;
mod error;
mod iam;
mod lambda;
mod usage_plans;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

pub use config::{ConnectOptions, NoRegion, sdk_config};
pub use error::{ErrorClass, ProviderError};

use crate::apply::{Operation, RetryPolicy, Runner, Step, retry};
use crate::live::{ForeignResource, LiveState, check_ownership, is_untagged};
use crate::plan::ResourceChange;
use crate::resource::{Address, Attributes, DesiredState, ResourceKind, abstract_ids, resolve};
use crate::secret::Secret;

/// Secret values to send, by resource and field.
pub type Secrets = BTreeMap<(Address, String), Secret>;

/// Held around the API Gateway calls AWS allows only one at a time per account
/// (CreateDeployment, UpdateUsagePlan, CreateUsagePlanKey).
type Serial = std::sync::Arc<tokio::sync::Mutex<()>>;

/// The stack's view of one AWS account and region.
pub struct AwsProvider {
    user_pools: cognito_idp::UserPools,
    identity_pools: cognito_identity::IdentityPools,
    roles: iam::Roles,
    functions: lambda::Functions,
    apis: apigateway::RestApis,
    usage_plans: usage_plans::UsagePlans,
    sts: aws_sdk_sts::Client,
    region: String,
    account: OnceLock<String>,
    retry_policy: RetryPolicy,
}

impl AwsProvider {
    /// A provider for `stack` over `config`.
    pub fn new(config: &aws_config::SdkConfig, stack: &str) -> Self {
        let region = config.region().map(ToString::to_string).unwrap_or_default();
        let retry_policy = RetryPolicy::default();
        let serial = Serial::default();
        Self {
            user_pools: cognito_idp::UserPools::new(aws_sdk_cognitoidentityprovider::Client::new(config), stack),
            identity_pools: cognito_identity::IdentityPools::new(
                aws_sdk_cognitoidentity::Client::new(config),
                stack,
                &region,
            ),
            roles: iam::Roles::new(aws_sdk_iam::Client::new(config), stack),
            functions: lambda::Functions::new(aws_sdk_lambda::Client::new(config), stack, retry_policy),
            apis: apigateway::RestApis::new(aws_sdk_apigateway::Client::new(config), stack, serial.clone()),
            usage_plans: usage_plans::UsagePlans::new(aws_sdk_apigateway::Client::new(config), stack, serial),
            sts: aws_sdk_sts::Client::new(config),
            region,
            account: OnceLock::new(),
            retry_policy,
        }
    }

    /// Keeps what creates send but plans never show: secrets and code packages.
    pub fn prepare(&mut self, desired: &DesiredState) {
        self.user_pools.prepare(desired.secrets.clone());
        self.functions.prepare(desired.artifacts.clone());
        self.usage_plans.prepare(desired.secrets.clone());
    }

    /// The region every call goes to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        if let Some(account) = self.account.get() {
            return Ok(account.clone());
        }
        let identity = self.sts.get_caller_identity().send().await.map_err(error::sdk("GetCallerIdentity"))?;
        Ok(self.account.get_or_init(|| identity.account().unwrap_or("unknown").to_string()).clone())
    }

    /// The value of an API key (a secret: only for `output --show-sensitive`).
    pub async fn api_key_value(&self, key_id: &str) -> Result<String, ProviderError> {
        self.usage_plans.key_value(key_id).await
    }

    /// Finds the stack's resources (and same-named foreign ones) in AWS. Read-only. Physical ids
    /// inside attribute values become references (see [`crate::resource::reference`]). The
    /// untagged resources of `adopt` are taken over.
    pub async fn discover(
        &self,
        desired: &DesiredState,
        adopt: &BTreeSet<Address>,
    ) -> Result<LiveState, ProviderError> {
        let account = self.account_id().await?;
        let mut live = LiveState { account, region: self.region.clone(), ..LiveState::adopting(adopt) };
        let mut parts: [LiveState; 5] = std::array::from_fn(|_| LiveState::adopting(adopt));
        let [pools, roles, functions, apis, plans] = &mut parts;
        // The identity pool names the user pool's clients, so it is read after the user pool;
        // everything else is read concurrently with both.
        let cognito = async {
            self.user_pools.discover(desired, pools).await?;
            let mut identity = LiveState::adopting(adopt);
            self.identity_pools.discover(pools, &mut identity).await?;
            pools.merge(identity);
            Ok::<_, ProviderError>(())
        };
        tokio::try_join!(
            cognito,
            self.roles.discover(desired, roles),
            self.functions.discover(desired, functions),
            self.apis.discover(apis),
            self.usage_plans.discover(desired, plans),
        )?;
        for part in parts {
            live.merge(part);
        }
        let ids: Vec<(String, Address)> = live
            .resources
            .values()
            .filter(|r| r.address.kind.is_referenced() && !r.id.is_empty())
            .map(|r| (r.id.clone(), r.address.clone()))
            .collect();
        for resource in live.resources.values_mut() {
            for value in resource.attributes.values_mut() {
                *value = abstract_ids(value, &ids);
            }
        }
        Ok(live)
    }

    async fn run_once(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Option<String>, ProviderError> {
        let change = &resolved(change, ids)?;
        let (pools, identity, roles) = (&self.user_pools, &self.identity_pools, &self.roles);
        let (functions, apis, plans) = (&self.functions, &self.apis, &self.usage_plans);
        let done = |result: Result<(), ProviderError>| result.map(|()| None);
        match (step.address.kind, step.operation) {
            (ResourceKind::UserPool, Operation::Create) => pools.create_pool(change).await.map(Some),
            (ResourceKind::UserPool, Operation::Update) => done(pools.update_pool(change).await),
            (ResourceKind::UserPool, Operation::Delete) => done(pools.delete_pool(change).await),
            (ResourceKind::UserPoolClient, Operation::Create) => pools.create_client(change, ids).await.map(Some),
            (ResourceKind::UserPoolClient, Operation::Update) => done(pools.update_client(change, ids).await),
            (ResourceKind::UserPoolClient, Operation::Delete) => done(pools.delete_client(change, ids).await),
            (ResourceKind::UserPoolDomain, Operation::Create) => pools.create_domain(change, ids).await.map(Some),
            (ResourceKind::UserPoolDomain, Operation::Update) => {
                unreachable!("every field of a domain forces replacement")
            }
            (ResourceKind::UserPoolDomain, Operation::Delete) => done(pools.delete_domain(change, ids).await),
            (ResourceKind::UserPoolUser, Operation::Create) => pools.create_user(change, ids).await.map(Some),
            (ResourceKind::UserPoolUser, Operation::Update) => done(pools.update_user(change, ids).await),
            (ResourceKind::UserPoolUser, Operation::Delete) => done(pools.delete_user(change, ids).await),
            (ResourceKind::IdentityPool, Operation::Create) => identity.create_pool(change, ids).await.map(Some),
            (ResourceKind::IdentityPool, Operation::Update) => done(identity.update_pool(change, ids).await),
            (ResourceKind::IdentityPool, Operation::Delete) => done(identity.delete_pool(change).await),
            (ResourceKind::IamRole, Operation::Create) => roles.create(change).await.map(Some),
            (ResourceKind::IamRole, Operation::Update) => done(roles.update(change).await),
            (ResourceKind::IamRole, Operation::Delete) => done(roles.delete(change).await),
            (ResourceKind::IdentityPoolRoles, Operation::Create) => identity.set_roles(change, ids).await.map(Some),
            (ResourceKind::IdentityPoolRoles, Operation::Update) => identity.set_roles(change, ids).await.map(|_| None),
            (ResourceKind::IdentityPoolRoles, Operation::Delete) => done(identity.clear_roles(change).await),
            (ResourceKind::Function, Operation::Create) => functions.create(change).await.map(Some),
            (ResourceKind::Function, Operation::Update) => done(functions.update(change).await),
            (ResourceKind::Function, Operation::Delete) => done(functions.delete(change).await),
            (ResourceKind::LambdaPermission, Operation::Create) => functions.add_permission(change).await.map(Some),
            (ResourceKind::LambdaPermission, Operation::Update) => {
                unreachable!("every field of a permission forces replacement")
            }
            (ResourceKind::LambdaPermission, Operation::Delete) => done(functions.remove_permission(change).await),
            (ResourceKind::RestApi, Operation::Create) => apis.create_api(change).await.map(Some),
            (ResourceKind::RestApi, Operation::Update) => unreachable!("every field of an API forces replacement"),
            (ResourceKind::RestApi, Operation::Delete) => done(apis.delete_api(change).await),
            (ResourceKind::ApiResource, Operation::Create) => apis.create_resource(change, ids).await.map(Some),
            (ResourceKind::ApiResource, Operation::Update) => unreachable!("every field of a path forces replacement"),
            (ResourceKind::ApiResource, Operation::Delete) => done(apis.delete_resource(change, ids).await),
            (ResourceKind::ApiRoute, Operation::Create) => apis.create_route(change, ids).await.map(Some),
            (ResourceKind::ApiRoute, Operation::Update) => done(apis.update_route(change, ids).await),
            (ResourceKind::ApiRoute, Operation::Delete) => done(apis.delete_route(change, ids).await),
            (ResourceKind::ApiStage, Operation::Create) => apis.create_stage(change, ids).await.map(Some),
            (ResourceKind::ApiStage, Operation::Update) => done(apis.redeploy_stage(change, ids).await),
            (ResourceKind::ApiStage, Operation::Delete) => done(apis.delete_stage(change, ids).await),
            (ResourceKind::UsagePlan, Operation::Create) => plans.create_plan(change).await.map(Some),
            (ResourceKind::UsagePlan, Operation::Update) => done(plans.update_plan(change).await),
            (ResourceKind::UsagePlan, Operation::Delete) => done(plans.delete_plan(change).await),
            (ResourceKind::ApiKey, Operation::Create) => plans.create_key(change).await.map(Some),
            (ResourceKind::ApiKey, Operation::Update) => done(plans.update_key(change).await),
            (ResourceKind::ApiKey, Operation::Delete) => done(plans.delete_key(change).await),
            (ResourceKind::UsagePlanKey, Operation::Create) => plans.link_key(change, ids).await.map(Some),
            (ResourceKind::UsagePlanKey, Operation::Update) => {
                unreachable!("every field of a plan key forces replacement")
            }
            (ResourceKind::UsagePlanKey, Operation::Delete) => done(plans.unlink_key(change, ids).await),
        }
    }
}

impl Runner for AwsProvider {
    async fn run(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Option<String>, ProviderError> {
        retry(self.retry_policy, || self.run_once(step, change, ids)).await
    }
}

/// `change` with the references in its attributes replaced by physical ids.
fn resolved(change: &ResourceChange, ids: &BTreeMap<Address, String>) -> Result<ResourceChange, ProviderError> {
    let resolve_all = |attributes: &Option<Attributes>| -> Result<Option<Attributes>, ProviderError> {
        let Some(attributes) = attributes else { return Ok(None) };
        let mut out = Attributes::new();
        for (field, value) in attributes {
            let value = resolve(value, ids).map_err(|missing| {
                ProviderError::new(
                    ErrorClass::Other,
                    "resolve",
                    format!("{} refers to {missing}, which does not exist (yet)", change.address),
                )
            })?;
            out.insert(field.clone(), value);
        }
        Ok(Some(out))
    };
    Ok(ResourceChange { before: resolve_all(&change.before)?, after: resolve_all(&change.after)?, ..change.clone() })
}

/// Picks the stack's resource among same-named `candidates` (id, tags, description) by its
/// ownership tags; the others are recorded as foreign. Two owned candidates are a conflict. An
/// untagged candidate of an address the user asked to adopt is taken over instead.
fn claim<T>(
    candidates: Vec<(String, HashMap<String, String>, T)>,
    stack: &str,
    address: &Address,
    live: &mut LiveState,
) -> Result<Option<T>, ProviderError> {
    let mut owned = Vec::new();
    let mut adoptable = Vec::new();
    for (id, tags, description) in candidates {
        match check_ownership(&tags, stack, address) {
            Ok(()) => owned.push((id, description)),
            Err(_) if live.adoptable.contains(address) && is_untagged(&tags) => adoptable.push((id, description)),
            Err(reason) => live.foreign.push(ForeignResource { address: address.clone(), id, reason }),
        }
    }
    if owned.is_empty() && adoptable.len() == 1 {
        live.adopted.insert(address.clone());
        owned = adoptable;
    } else if !adoptable.is_empty() {
        let ids: Vec<&str> = adoptable.iter().map(|(id, _)| id.as_str()).collect();
        return Err(ProviderError::new(
            ErrorClass::Conflict,
            "adopt",
            format!(
                "cannot adopt {address}: {} candidates ({}); delete or rename the extra ones by hand",
                ids.len(),
                ids.join(", ")
            ),
        ));
    }
    if owned.len() > 1 {
        let ids: Vec<&str> = owned.iter().map(|(id, _)| id.as_str()).collect();
        return Err(ProviderError::new(
            ErrorClass::Conflict,
            "discovery",
            format!(
                "several resources claim {address} of stack `{stack}`: {}; delete the extra ones by hand, keeping the one in use",
                ids.join(", ")
            ),
        ));
    }
    Ok(owned.pop().map(|(_, description)| description))
}

/// The physical id of the resource at `address`, known once it exists.
fn id_of<'a>(ids: &'a BTreeMap<Address, String>, address: &Address) -> Result<&'a str, ProviderError> {
    ids.get(address).map(String::as_str).ok_or_else(|| {
        ProviderError::new(ErrorClass::Other, "lookup", format!("{address} has no id yet (was it created?)"))
    })
}

/// The live physical id a change acts on.
fn live_id(change: &ResourceChange) -> &str {
    change.id.as_deref().unwrap_or_default()
}

/// A whole-number attribute as the `i32` the SDKs take (saturating; validation bounds it first).
fn whole(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The desired attributes of a change.
fn desired(change: &ResourceChange) -> &Attributes {
    static EMPTY: Attributes = Attributes::new();
    change.after.as_ref().unwrap_or(&EMPTY)
}
