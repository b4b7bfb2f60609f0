//! The user pool's hosted-UI domain.

use aws_sdk_cognitoidentityprovider::types::DomainStatusType;

use super::UserPools;
use crate::error::{ProviderError, deleted};
use crate::provider::call::Settling;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::user_pool_address;
use crate::spec;

spec! {
    /// The hosted-UI domain.
    pub(in crate::provider) struct DomainSpec for UserPoolDomain {
        /// The prefix.
        domain: String => ForcesReplacement,
    }
}

impl Kind for DomainSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("DescribeUserPoolDomain", "cognito-idp:DescribeUserPoolDomain", On::Anything, Sent::Reading),
        needs("CreateUserPoolDomain", "cognito-idp:CreateUserPoolDomain", On::UserPools, Sent::Changing),
        needs("DeleteUserPoolDomain", "cognito-idp:DeleteUserPoolDomain", On::UserPools, Sent::Deleting),
    ];
}

impl Handler<DomainSpec> for UserPools {
    /// Creates the hosted-UI domain; its id is the prefix.
    async fn create(&self, cx: &StepContext<'_>, wanted: &DomainSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        self.calls
            .call("CreateUserPoolDomain", || {
                self.client.create_user_pool_domain().user_pool_id(pool_id).domain(&wanted.domain).send()
            })
            .await?;
        Ok(wanted.domain.clone())
    }

    /// Waits until the domain is ACTIVE (AWS creates it asynchronously).
    async fn finish(&self, _cx: &StepContext<'_>, id: &str, _wanted: &DomainSpec) -> Result<(), ProviderError> {
        self.await_domain(id, |status| match status {
            Some(DomainStatusType::Active) => Ok(true),
            Some(DomainStatusType::Failed) => Err(format!("domain {id} failed to create")),
            _ => Ok(false),
        })
        .await
    }

    /// Deletes the domain and waits until it is gone (AWS deletes it asynchronously; until
    /// then the pool cannot be deleted nor the prefix taken again). When the pool goes for good,
    /// the pool's delete does the waiting: AWS refuses it until the domain is gone, and its first
    /// delete that goes through is one round trip sooner than a look that sees the domain gone.
    /// (A replaced pool's domain still waits here: its prefix is taken again.)
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &DomainSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("DeleteUserPoolDomain", || {
                self.client.delete_user_pool_domain().user_pool_id(pool_id).domain(id).send()
            })
            .await;
        deleted(result)?;
        if cx.container_goes_for_good {
            return Ok(());
        }
        self.await_domain(id, |status| Ok(status.is_none())).await
    }
}

impl UserPools {
    /// The domain's status as DescribeUserPoolDomain gives it; `None` when there is no such domain.
    pub(in crate::provider) async fn domain_status(&self, domain: &str) -> Result<Option<String>, ProviderError> {
        let out = self
            .calls
            .call("DescribeUserPoolDomain", || self.client.describe_user_pool_domain().domain(domain).send())
            .await?;
        Ok(out.domain_description().and_then(|d| d.status()).map(|s| s.as_str().to_string()))
    }

    /// Polls DescribeUserPoolDomain until `done` says so for the domain's status (`None` when
    /// no such domain exists).
    async fn await_domain(
        &self,
        domain: &str,
        done: impl Fn(Option<&DomainStatusType>) -> Result<bool, String>,
    ) -> Result<(), ProviderError> {
        self.calls
            .wait_until(&format!("hosted-UI domain {domain} to settle"), Settling::Domain, || async {
                let out = self
                    .calls
                    .call("DescribeUserPoolDomain", || self.client.describe_user_pool_domain().domain(domain).send())
                    .await?;
                let status = out.domain_description().and_then(|d| d.status());
                match done(status) {
                    Ok(true) => Ok(Some(())),
                    Ok(false) => Ok(None),
                    Err(message) => Err(ProviderError::other("DescribeUserPoolDomain", message)),
                }
            })
            .await
    }
}
