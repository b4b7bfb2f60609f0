//! The user pool's groups. Groups carry no tags: a group belongs to the stack because its pool
//! does, so every group of the pool is the stack's (one made by hand is drift that apply deletes),
//! except those Cognito makes itself for a federated identity provider (`<pool id>_<provider>`).

use aws_sdk_cognitoidentityprovider::types::GroupType;

use super::UserPools;
use crate::error::{ProviderError, deleted, found};
use crate::live::LiveResource;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, ResourceKind, user_pool_address};
use crate::spec;

spec! {
    /// A group of the user pool.
    pub(crate) struct GroupSpec for UserPoolGroup {
        /// What it is for.
        description: Option<String>,
        /// Which group's role a member of several gets: the lowest wins; absent comes last.
        precedence: Option<i64>,
        /// The IAM role Cognito names in its members' tokens (`cognito:roles`,
        /// `cognito:preferred_role`), which the identity pool's Token role mapping hands out.
        role_arn: Option<String>,
    }
}

/// The spec of a listed group.
fn group_spec(group: &GroupType) -> GroupSpec {
    GroupSpec {
        description: group.description().filter(|d| !d.is_empty()).map(str::to_string),
        precedence: group.precedence().map(i64::from),
        role_arn: group.role_arn().filter(|a| !a.is_empty()).map(str::to_string),
    }
}

impl UserPools {
    /// The groups of the pool `pool_id`, but those Cognito made for a federated provider.
    pub(super) async fn groups(&self, pool_id: &str) -> Result<Vec<LiveResource>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "ListGroups",
                |token| self.client.list_groups().user_pool_id(pool_id).limit(60).set_next_token(token).send(),
                |out| (out.groups.unwrap_or_default(), out.next_token),
            )
            .await?;
        let federated = format!("{pool_id}_");
        Ok(listed
            .iter()
            .filter_map(|group| {
                let name = group.group_name()?;
                (!name.starts_with(&federated)).then(|| {
                    let address = Address::new(ResourceKind::UserPoolGroup, name);
                    LiveResource::of(address, name.to_string(), &group_spec(group))
                })
            })
            .collect())
    }

    /// Sends UpdateGroup with every field: a field left out is reset, as in Cognito's other
    /// update calls.
    async fn put_group(&self, pool_id: &str, name: &str, wanted: &GroupSpec) -> Result<(), ProviderError> {
        self.calls
            .call("UpdateGroup", || {
                self.client
                    .update_group()
                    .user_pool_id(pool_id)
                    .group_name(name)
                    .set_description(wanted.description.clone())
                    .set_precedence(wanted.precedence.and_then(|p| i32::try_from(p).ok()))
                    .set_role_arn(wanted.role_arn.clone())
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Kind for GroupSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListGroups", "cognito-idp:ListGroups", On::UserPools, Sent::Reading),
        needs("GetGroup", "cognito-idp:GetGroup", On::UserPools, Sent::Changing),
        needs("CreateGroup", "cognito-idp:CreateGroup", On::UserPools, Sent::Changing),
        needs("CreateGroup", "iam:PassRole", On::PassedRoles, Sent::Changing),
        needs("UpdateGroup", "cognito-idp:UpdateGroup", On::UserPools, Sent::Changing),
        needs("UpdateGroup", "iam:PassRole", On::PassedRoles, Sent::Changing),
        needs("DeleteGroup", "cognito-idp:DeleteGroup", On::UserPools, Sent::Deleting),
    ];
}

impl Handler<GroupSpec> for UserPools {
    /// Creates the group; its id is its name. A repeat after a lost answer finds it (`find`).
    async fn create(&self, cx: &StepContext<'_>, wanted: &GroupSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        self.calls
            .call("CreateGroup", || {
                self.client
                    .create_group()
                    .user_pool_id(pool_id)
                    .group_name(&cx.address.name)
                    .set_description(wanted.description.clone())
                    .set_precedence(wanted.precedence.and_then(|p| i32::try_from(p).ok()))
                    .set_role_arn(wanted.role_arn.clone())
                    .send()
            })
            .await?;
        Ok(cx.address.name.clone())
    }

    /// Makes a group found after a lost answer what the file says.
    async fn finish(&self, cx: &StepContext<'_>, id: &str, wanted: &GroupSpec) -> Result<(), ProviderError> {
        self.put_group(cx.id_of(&user_pool_address())?, id, wanted).await
    }

    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        _live: &GroupSpec,
        wanted: &GroupSpec,
    ) -> Result<(), ProviderError> {
        self.put_group(cx.id_of(&user_pool_address())?, id, wanted).await
    }

    /// Deletes the group (Cognito drops its memberships with it).
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &GroupSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("DeleteGroup", || self.client.delete_group().user_pool_id(pool_id).group_name(id).send())
            .await;
        deleted(result)
    }

    /// A group of the stack's pool is the stack's: the one of this name is it.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &GroupSpec) -> Result<Option<String>, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let out = self
            .calls
            .call("GetGroup", || self.client.get_group().user_pool_id(pool_id).group_name(&cx.address.name).send())
            .await;
        Ok(found(out)?.map(|_| cx.address.name.clone()))
    }
}
