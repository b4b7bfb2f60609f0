//! AWS: one module per service, each holding the typed specs, desired state, discovery and
//! handlers of its resource kinds; the [`registry`] lists the kinds; every call goes through
//! [`call::Calls`]. Diffing, ordering and reporting are the engine's.

mod apigateway;
mod call;
mod cognito_identity;
mod cognito_idp;
mod config;
mod group_roles;
mod handler;
mod iam;
pub(crate) mod iam_actions;
mod kind;
mod lambda;
mod lock;
mod ownership;
mod pace;
mod registry;
mod sign_in;
mod usage_plans;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub(crate) use apigateway::serving;
/// The specs the read side (`access`, `outputs`, `verify`) reads live resources as.
pub(crate) use apigateway::{AuthorizerSpec, RouteSpec, StageSpec};
pub(crate) use call::{Calls, RetryPolicy};
pub(crate) use cognito_identity::{IdentityPoolRolesSpec, IdentityPoolSpec};
pub(crate) use cognito_idp::{ClientSpec, GroupSpec, UserPoolSpec};
pub(crate) use config::{ClientEndpoints, ConnectOptions, sdk_config};
pub(crate) use iam::RoleSpec;
pub(crate) use lambda::FunctionSpec;
pub(crate) use lock::{FirstRead, Holder, LockError, Observed, StackLock};
use pace::Service;
pub(crate) use registry::Applier;
pub(crate) use sign_in::{IdentityCredentials, Login, PasswordFlow, UserTokens};
pub(crate) use usage_plans::{ApiKeySpec, UsagePlanKeySpec, UsagePlanSpec};

use crate::error::ProviderError;
use crate::live::LiveState;
use crate::resource::{Address, DesiredState, Target, abstract_ids};
use crate::stack::Stack;

/// Held (per run) around the API Gateway calls that conflict when they overlap: concurrent
/// CreateUsagePlanKey calls answer ConflictException, and CreateDeployment and UpdateUsagePlan
/// change the same stage and plan.
type Serial = std::sync::Arc<tokio::sync::Mutex<()>>;

/// Derives the desired state of `stack` going to `target`: each service module adds its kinds,
/// then each kind that derives its own (see [`kind::Kind::desired`]).
pub(crate) fn desired_state(stack: &Stack, target: &Target) -> DesiredState {
    let mut state = DesiredState {
        stack: stack.name.clone(),
        resources: Vec::new(),
        secrets: BTreeMap::new(),
        unset_secrets: BTreeMap::new(),
        sensitive: BTreeMap::new(),
        hidden_maps: BTreeSet::new(),
        artifacts: BTreeMap::new(),
    };
    let tags = &stack.tags;
    if let Some(pool) = &stack.user_pool {
        cognito_idp::desired(&mut state, pool, tags);
    }
    if let Some(pool) = &stack.identity_pool {
        cognito_identity::desired(&mut state, pool, tags);
    }
    group_roles::desired(&mut state, stack, tags);
    for (name, function) in &stack.functions {
        lambda::desired(&mut state, target, name, function, tags);
    }
    if let Some(api) = &stack.api {
        apigateway::desired(&mut state, target, api, tags);
    }
    registry::desired(stack, &mut state);
    if let Some(boundary) = &stack.permissions_boundary {
        iam::bound_roles(&mut state, boundary);
    }
    state.hide_sensitive(&stack.env_values);
    state
}

/// The desired state without AWS: ARNs name `REGION` (unless the file names one) and `ACCOUNT`.
pub(crate) fn offline_desired_state(stack: &Stack) -> DesiredState {
    desired_state(stack, &offline_target(stack))
}

fn offline_target(stack: &Stack) -> Target {
    let region = stack.region.clone().unwrap_or_else(|| "REGION".into());
    Target { partition: "aws".into(), region, account: "ACCOUNT".into() }
}

/// Refuses, before any call, a stack whose derived policies cannot fit AWS's size limits (the
/// error gives each figure and its limit).
pub(crate) fn check_budgets(stack: &Stack) -> Result<(), String> {
    let target = offline_target(stack);
    apigateway::check_budgets(&desired_state(stack, &target), &target)
}

/// The partition, region and account of the credentials of `config`, from STS.
async fn identify(config: &aws_config::SdkConfig, calls: &Calls) -> Result<Target, ProviderError> {
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let sts = aws_sdk_sts::Client::new(config);
    let identity = calls.to(Service::Sts).call("GetCallerIdentity", || sts.get_caller_identity().send()).await?;
    let account = identity.account.ok_or_else(|| ProviderError::missing("GetCallerIdentity", "account"))?;
    Ok(Target::of_caller(identity.arn.as_deref().unwrap_or_default(), &region, &account))
}

/// Why [`AwsProvider::connect_observing_lock`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// STS did not say whose the credentials are.
    #[error("cannot identify the AWS account of these credentials: {0}")]
    Identity(ProviderError),
    /// The stack's lock could not be read.
    #[error("cannot read the stack's lock: {0}")]
    Lock(ProviderError),
}

/// The stack's view of one AWS account and region.
pub(crate) struct AwsProvider {
    user_pools: cognito_idp::UserPools,
    identity_pools: cognito_identity::IdentityPools,
    roles: iam::Roles,
    functions: lambda::Functions,
    apis: apigateway::RestApis,
    usage_plans: usage_plans::UsagePlans,
    locks: lock::Locks,
    sign_in: sign_in::SignIn,
    target: Target,
    client_endpoints: ClientEndpoints,
}

/// The SDK client of each service the stack uses, and the endpoints its own clients call.
struct ServiceClients {
    apigateway: aws_sdk_apigateway::Client,
    cognito_idp: aws_sdk_cognitoidentityprovider::Client,
    cognito_identity: aws_sdk_cognitoidentity::Client,
    iam: aws_sdk_iam::Client,
    lambda: aws_sdk_lambda::Client,
    endpoints: ClientEndpoints,
}

impl ServiceClients {
    /// The clients of `config`, built on a blocking thread while `first` (the run's first calls)
    /// is awaited: each service's first client loads its endpoint rules and partitions, some
    /// milliseconds of CPU that would otherwise hold up the calls after `first`.
    async fn built_while<T>(config: &aws_config::SdkConfig, first: impl Future<Output = T>) -> (Self, T) {
        let config = config.clone();
        let clients = tokio::task::spawn_blocking(move || Self {
            apigateway: aws_sdk_apigateway::Client::new(&config),
            cognito_idp: aws_sdk_cognitoidentityprovider::Client::new(&config),
            cognito_identity: aws_sdk_cognitoidentity::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            endpoints: ClientEndpoints::of(&config),
        });
        let answer = first.await;
        (clients.await.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic())), answer)
    }
}

impl AwsProvider {
    /// A provider for `stack` over `config`: asks STS who the credentials are, so that every
    /// ARN and host name names their partition, region and account.
    pub(crate) async fn connect(config: &aws_config::SdkConfig, stack: &str) -> Result<Self, ProviderError> {
        let calls = Calls::new(RetryPolicy::default());
        let locks = lock::Locks::new(config, stack, &calls.to(Service::Iam));
        let (clients, target) = ServiceClients::built_while(config, identify(config, &calls)).await;
        Ok(Self::assemble(stack, &calls, clients, target?, locks))
    }

    /// Like [`AwsProvider::connect`], and observes the stack's lock while STS answers (the lock
    /// names no account): `apply` and `destroy` see the lock before their first read.
    pub(crate) async fn connect_observing_lock(
        config: &aws_config::SdkConfig,
        stack: &str,
    ) -> Result<(Self, Observed), ConnectError> {
        let calls = Calls::new(RetryPolicy::default());
        let locks = lock::Locks::new(config, stack, &calls.to(Service::Iam));
        let first = async { tokio::join!(identify(config, &calls), locks.observe(0)) };
        let (clients, (target, observed)) = ServiceClients::built_while(config, first).await;
        let target = target.map_err(ConnectError::Identity)?;
        let observed = observed.map_err(ConnectError::Lock)?;
        Ok((Self::assemble(stack, &calls, clients, target, locks), observed))
    }

    /// The provider of `stack` in `target`, its calls made under `calls` through `clients`.
    fn assemble(stack: &str, calls: &Calls, clients: ServiceClients, target: Target, locks: lock::Locks) -> Self {
        let serial = Serial::default();
        let ServiceClients { apigateway, cognito_idp, cognito_identity, iam, lambda, endpoints } = clients;
        Self {
            user_pools: cognito_idp::UserPools::new(cognito_idp.clone(), stack, &target, calls.to(Service::CognitoIdp)),
            identity_pools: cognito_identity::IdentityPools::new(
                cognito_identity.clone(),
                stack,
                &target,
                calls.to(Service::CognitoIdentity),
            ),
            roles: iam::Roles::new(iam, stack, &target.region, calls.to(Service::Iam)),
            locks,
            functions: lambda::Functions::new(lambda, stack, calls.to(Service::Lambda)),
            apis: apigateway::RestApis::new(
                apigateway.clone(),
                stack,
                &target,
                serial.clone(),
                calls.to(Service::ApiGateway).changes_one_at_a_time(),
            ),
            usage_plans: usage_plans::UsagePlans::new(
                apigateway,
                stack,
                &target,
                serial,
                calls.to(Service::ApiGateway),
            ),
            sign_in: sign_in::SignIn::new(
                cognito_idp,
                cognito_identity,
                calls.to(Service::CognitoIdp),
                calls.to(Service::CognitoIdentity),
            ),
            target,
            client_endpoints: endpoints,
        }
    }

    /// The partition, region and account the credentials point at.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// The endpoints that override AWS's for what the stack's clients call (see
    /// [`ClientEndpoints`]).
    pub(crate) fn client_endpoints(&self) -> &ClientEndpoints {
        &self.client_endpoints
    }

    /// Credentials of a new guest of the identity pool `identity_pool_id` (GetId creates the
    /// guest's identity).
    pub(crate) async fn guest_credentials(&self, identity_pool_id: &str) -> Result<IdentityCredentials, ProviderError> {
        self.sign_in.guest(identity_pool_id).await
    }

    /// Whether a stranger's SignUp as `username` through the app client `client_id` of
    /// `user_pool_id` is refused; one that goes through is deleted again.
    pub(crate) async fn sign_up_refused(
        &self,
        user_pool_id: &str,
        client_id: &str,
        username: &str,
    ) -> Result<bool, ProviderError> {
        self.sign_in.stranger_refused(user_pool_id, client_id, username).await
    }

    /// The status of the hosted-UI domain `prefix` (`ACTIVE`, `CREATING`, …); `None` when there
    /// is no such domain.
    pub(crate) async fn domain_status(&self, prefix: &str) -> Result<Option<String>, ProviderError> {
        self.user_pools.domain_status(prefix).await
    }

    /// Signs `login` in: the user's ID and access tokens.
    pub(crate) async fn user_tokens(&self, login: &Login<'_>) -> Result<UserTokens, ProviderError> {
        self.sign_in.tokens(login).await
    }

    /// Signs `login` in and exchanges the user's ID token for the identity pool's credentials.
    pub(crate) async fn signed_in_credentials(
        &self,
        login: &Login<'_>,
        identity_pool_id: &str,
    ) -> Result<IdentityCredentials, ProviderError> {
        let token = self.sign_in.id_token(login).await?;
        let provider = format!("{}/{}", self.target.host("cognito-idp"), login.user_pool_id);
        self.sign_in.signed_in(identity_pool_id, &provider, &token).await
    }

    /// Takes the stack's lock (see [`lock`]), from what the run `observed` before its first
    /// read, waiting up to `timeout` for another run to let go; `waiting` is told who holds it
    /// when the run has to wait.
    pub(crate) async fn lock(
        &self,
        timeout: std::time::Duration,
        waiting: &dyn Fn(&Holder),
        observed: Option<Observed>,
    ) -> Result<StackLock, LockError> {
        self.locks.acquire(timeout, waiting, observed).await
    }

    /// Who holds the stack's lock, if anyone, with the generation held.
    pub(crate) async fn lock_holder(&self) -> Result<Option<(u64, Holder)>, ProviderError> {
        self.locks.holder().await
    }

    /// Breaks the stack's lock: marks `generation` let go of.
    pub(crate) async fn unlock(&self, generation: u64) -> Result<(), ProviderError> {
        self.locks.break_lock(generation).await
    }

    /// The value of an API key (a secret: only for `output --show-sensitive`).
    pub(crate) async fn api_key_value(&self, key_id: &str) -> Result<String, ProviderError> {
        self.usage_plans.key_value(key_id).await
    }

    /// The inline policy documents (canonical JSON, by name) and attached managed policy ARNs
    /// of the role `role_name`, if it exists: for a role that is not the stack's (set on its
    /// identity pool by hand), which discovery does not read.
    pub(crate) async fn role_policies(
        &self,
        role_name: &str,
    ) -> Result<Option<(BTreeMap<String, String>, BTreeSet<String>)>, ProviderError> {
        self.roles.policies_of(role_name).await
    }

    /// Whether the identity pool `id` allows the basic (classic) flow, which Cognito's guest
    /// session policy does not bound (discovery leaves the setting as it is live).
    pub(crate) async fn identity_pool_allows_classic_flow(&self, id: &str) -> Result<bool, ProviderError> {
        self.identity_pools.allows_classic_flow(id).await
    }

    /// The default version's document (canonical JSON) of each managed policy in `arns`.
    pub(crate) async fn managed_policy_documents(
        &self,
        arns: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        let documents = futures::future::try_join_all(arns.iter().map(|arn| self.roles.managed_document(arn))).await?;
        Ok(arns.iter().cloned().zip(documents).collect())
    }

    /// Finds the stack's resources (and same-named foreign ones) in AWS. Read-only. Physical ids
    /// inside attribute values become references (see [`crate::resource::reference`]), and each
    /// resource depends on what it lives in and what it refers to. The untagged resources of
    /// `adopt` are taken over.
    pub(crate) async fn discover(
        &self,
        desired: &DesiredState,
        adopt: &BTreeSet<Address>,
    ) -> Result<LiveState, ProviderError> {
        let mut live = LiveState { target: self.target.clone(), ..LiveState::adopting(adopt) };
        let mut parts: [LiveState; 5] = std::array::from_fn(|_| LiveState::adopting(adopt));
        let [pools, roles, functions, apis, plans] = &mut parts;
        // The identity pool names the user pool's clients: it is read concurrently with the user
        // pool and filed once that is known; everything else is read concurrently with both.
        let cognito = async {
            let mut identity = LiveState::adopting(adopt);
            let ((), read) =
                tokio::try_join!(self.user_pools.discover(desired, pools), self.identity_pools.read(&mut identity))?;
            self.identity_pools.record(read, pools, &mut identity);
            pools.merge(identity);
            Ok::<_, ProviderError>(())
        };
        let took = tokio::try_join!(
            timed(cognito),
            timed(self.roles.discover(desired, roles)),
            timed(self.functions.discover(desired, functions)),
            timed(self.apis.discover(apis)),
            timed(self.usage_plans.discover(desired, plans)),
        )?;
        let took = [took.0, took.1, took.2, took.3, took.4];
        let services = ["Cognito pools", "IAM roles", "Lambda functions", "REST API", "usage plan and keys"];
        for ((part, service), took) in parts.into_iter().zip(services).zip(took) {
            tracing::debug!(
                "discovered {service} in {} ms: {} of the stack's, {} not",
                took.as_millis(),
                part.resources.len(),
                part.foreign.len()
            );
            live.merge(part);
        }
        registry::discover(self, desired, &mut live).await?;
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
            resource.attributes = registry::normalized(resource.address.kind, &resource.attributes);
        }
        live.link();
        live.hide_sensitive(desired);
        Ok(live)
    }
}

/// How long `discovery` took.
async fn timed(discovery: impl Future<Output = Result<(), ProviderError>>) -> Result<Duration, ProviderError> {
    let started = Instant::now();
    discovery.await?;
    Ok(started.elapsed())
}

/// A whole-number attribute as the `i32` the SDKs take (saturating; validation bounds it first).
fn whole(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::resource::Value;
    use crate::stack::{LoadOptions, parse};

    /// The demo stack's desired state at `target`.
    fn demo_at(target: &Target) -> DesiredState {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/demo.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        let env = |name: &str| (name == "DEMO_USER_PASSWORD").then(|| "Demo-Passw0rd".to_string());
        let stack = parse(&file, &text, &LoadOptions { var_overrides: &[], env: &env }).unwrap();
        desired_state(&stack, target)
    }

    /// Every ARN in every attribute value of `state`.
    fn arns(state: &DesiredState) -> Vec<String> {
        let texts = state.resources.iter().flat_map(|r| r.attributes.values()).flat_map(|value| match value {
            Value::Str(s) => vec![s.clone()],
            Value::List(items) => items.clone(),
            Value::Map(map) => map.values().cloned().collect(),
            _ => Vec::new(),
        });
        texts
            .flat_map(|text| text.split('"').filter(|t| t.starts_with("arn:")).map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn every_arn_names_the_partition_of_the_account() {
        for (partition, region) in [("aws-us-gov", "us-gov-west-1"), ("aws-cn", "cn-north-1")] {
            let target = Target { partition: partition.into(), region: region.into(), account: "123456789012".into() };
            let arns = arns(&demo_at(&target));
            assert!(arns.len() >= 4, "{arns:?}");
            for arn in arns {
                assert!(arn.starts_with(&format!("arn:{partition}:")), "{arn}");
            }
        }
    }
}
