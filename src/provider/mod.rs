//! AWS, one module per service: mapping between SDK types and resource attributes, and nothing
//! else. Diffing, ordering, retries and reporting are the engine's.

mod cognito_idp;
mod config;
mod error;

use std::collections::BTreeMap;

pub use config::{ConnectOptions, NoRegion, sdk_config};
pub use error::{ErrorClass, ProviderError};

use crate::apply::{Operation, RetryPolicy, Runner, Step, retry};
use crate::live::LiveState;
use crate::plan::ResourceChange;
use crate::resource::{Address, DesiredState, ResourceKind};
use crate::secret::Secret;

/// Secret values to send, by resource and field.
pub type Secrets = BTreeMap<(Address, String), Secret>;

/// The stack's view of one AWS account and region.
pub struct AwsProvider {
    user_pools: cognito_idp::UserPools,
    sts: aws_sdk_sts::Client,
    region: String,
    retry_policy: RetryPolicy,
}

impl AwsProvider {
    /// A provider for `stack` over `config`; `secrets` are sent when resources are created.
    pub fn new(config: &aws_config::SdkConfig, stack: &str, secrets: Secrets) -> Self {
        Self {
            user_pools: cognito_idp::UserPools::new(
                aws_sdk_cognitoidentityprovider::Client::new(config),
                stack,
                secrets,
            ),
            sts: aws_sdk_sts::Client::new(config),
            region: config.region().map(ToString::to_string).unwrap_or_default(),
            retry_policy: RetryPolicy::default(),
        }
    }

    /// The region every call goes to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        let identity =
            self.sts.get_caller_identity().send().await.map_err(|e| ProviderError::from_sdk("GetCallerIdentity", e))?;
        Ok(identity.account().unwrap_or("unknown").to_string())
    }

    /// Finds the stack's resources (and same-named foreign ones) in AWS. Read-only.
    pub async fn discover(&self, desired: &DesiredState) -> Result<LiveState, ProviderError> {
        let mut live = LiveState::default();
        self.user_pools.discover(desired, &mut live).await?;
        Ok(live)
    }

    async fn run_once(
        &self,
        step: &Step,
        change: &ResourceChange,
        ids: &BTreeMap<Address, String>,
    ) -> Result<Option<String>, ProviderError> {
        let pools = &self.user_pools;
        match (step.address.kind, step.operation) {
            (ResourceKind::UserPool, Operation::Create) => pools.create_pool(change).await.map(Some),
            (ResourceKind::UserPool, Operation::Update) => pools.update_pool(change).await.map(|()| None),
            (ResourceKind::UserPool, Operation::Delete) => pools.delete_pool(change).await.map(|()| None),
            (ResourceKind::UserPoolClient, Operation::Create) => pools.create_client(change, ids).await.map(Some),
            (ResourceKind::UserPoolClient, Operation::Update) => pools.update_client(change, ids).await.map(|()| None),
            (ResourceKind::UserPoolClient, Operation::Delete) => pools.delete_client(change, ids).await.map(|()| None),
            (ResourceKind::UserPoolDomain, Operation::Create) => pools.create_domain(change, ids).await.map(Some),
            (ResourceKind::UserPoolDomain, Operation::Update) => {
                unreachable!("every field of a domain forces replacement")
            }
            (ResourceKind::UserPoolDomain, Operation::Delete) => pools.delete_domain(change, ids).await.map(|()| None),
            (ResourceKind::UserPoolUser, Operation::Create) => pools.create_user(change, ids).await.map(Some),
            (ResourceKind::UserPoolUser, Operation::Update) => pools.update_user(change, ids).await.map(|()| None),
            (ResourceKind::UserPoolUser, Operation::Delete) => pools.delete_user(change, ids).await.map(|()| None),
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
