//! The users the stack file names, looked up by those names.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType, UserStatusType};

use super::UserPools;
use crate::error::{ProviderError, deleted, found};
use crate::live::LiveResource;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, PASSWORD_SET, Sensitive, Spec, user_pool_address};
use crate::spec;

spec! {
    /// A user the stack creates.
    pub(in crate::provider) struct UserSpec for UserPoolUser {
        /// Attribute name → value.
        attributes: BTreeMap<String, String>,
        /// The password: set on create, never read back.
        password: Option<Sensitive> => WriteOnly,
        /// `permanent` once the password is set for good (an interrupted create leaves it temporary).
        password_status: Option<String>,
        /// The groups it is a member of; absent when the pool has no groups (none to manage).
        groups: Option<BTreeSet<String>>,
    }
}

/// The developer-only attribute whose value (the stack's name) marks a user authdemo created:
/// users carry no tags, and only IAM-authenticated calls can write it, so a user who signed
/// themselves up under a name the file gives cannot carry it.
pub(super) const MARK: &str = "dev:custom:authdemo";

impl UserPools {
    /// Reads the user at `address`, keeping the attributes the stack manages: everything but
    /// `sub`, the `*_verified` flags (unless the stack file sets them) and the mark; and says
    /// whether the mark names this stack. Its groups are read by [`UserPools::with_groups`],
    /// once the pool is known to have any.
    pub(super) async fn user(
        &self,
        pool_id: &str,
        address: &Address,
        desired: &crate::resource::Attributes,
    ) -> Result<Option<(UserSpec, bool)>, ProviderError> {
        let declared = UserSpec::from_attributes(desired).map(|s| s.attributes).unwrap_or_default();
        let out = self
            .calls
            .call("AdminGetUser", || self.client.admin_get_user().user_pool_id(pool_id).username(&address.name).send())
            .await;
        let Some(user) = found(out)? else { return Ok(None) };
        let marked = user.user_attributes().iter().any(|a| a.name() == MARK && a.value() == Some(self.stack.as_str()));
        let attributes: BTreeMap<String, String> = user
            .user_attributes()
            .iter()
            .filter(|a| a.name() != MARK)
            .filter(|a| declared.contains_key(a.name()) || !(a.name() == "sub" || a.name().ends_with("_verified")))
            .map(|a| (a.name().to_string(), a.value().unwrap_or_default().to_string()))
            .collect();
        let status = match user.user_status() {
            Some(UserStatusType::Confirmed) => PASSWORD_SET.to_string(),
            Some(UserStatusType::ForceChangePassword) => "temporary".to_string(),
            Some(other) => other.as_str().to_lowercase(),
            None => "unknown".to_string(),
        };
        Ok(Some((UserSpec { attributes, password: None, password_status: Some(status), groups: None }, marked)))
    }

    /// The user at `address`, as [`UserPools::user`] read it (`spec`), as a live resource, with
    /// its groups when the pool has any (`pool_has_groups`).
    pub(super) async fn with_groups(
        &self,
        pool_id: &str,
        address: Address,
        mut spec: UserSpec,
        pool_has_groups: bool,
    ) -> Result<LiveResource, ProviderError> {
        if pool_has_groups {
            spec.groups = Some(self.groups_of(pool_id, &address.name).await?);
        }
        let id = address.name.clone();
        Ok(LiveResource::of(address, id, &spec))
    }

    async fn set_permanent_password(&self, cx: &StepContext<'_>, pool_id: &str) -> Result<(), ProviderError> {
        let Some(password) = cx.secret else {
            let message = format!("{} has no password in the stack file to make permanent", cx.address);
            return Err(ProviderError::other("AdminSetUserPassword", message));
        };
        self.calls
            .call("AdminSetUserPassword", || {
                self.client
                    .admin_set_user_password()
                    .user_pool_id(pool_id)
                    .username(&cx.address.name)
                    .password(password.expose())
                    .permanent(true)
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Kind for UserSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("AdminGetUser", "cognito-idp:AdminGetUser", On::UserPools, Sent::Reading),
        needs("AdminCreateUser", "cognito-idp:AdminCreateUser", On::UserPools, Sent::Changing),
        needs("AdminSetUserPassword", "cognito-idp:AdminSetUserPassword", On::UserPools, Sent::Changing),
        needs("AdminUpdateUserAttributes", "cognito-idp:AdminUpdateUserAttributes", On::UserPools, Sent::Changing),
        needs("AdminDeleteUserAttributes", "cognito-idp:AdminDeleteUserAttributes", On::UserPools, Sent::Changing),
        needs("AdminDeleteUser", "cognito-idp:AdminDeleteUser", On::UserPools, Sent::Deleting),
        needs("AdminListGroupsForUser", "cognito-idp:AdminListGroupsForUser", On::UserPools, Sent::Reading),
        needs("AdminAddUserToGroup", "cognito-idp:AdminAddUserToGroup", On::UserPools, Sent::Changing),
        needs("AdminRemoveUserFromGroup", "cognito-idp:AdminRemoveUserFromGroup", On::UserPools, Sent::Changing),
    ];
}

impl Handler<UserSpec> for UserPools {
    /// Creates a user without sending any message. The password is first set as the temporary
    /// one, so an interruption before [`Handler::finish`] leaves a user whose `password_status`
    /// the next plan shows as unfinished.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UserSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let mut marked = wanted.attributes.clone();
        marked.insert(MARK.to_string(), self.stack.clone());
        let attributes = user_attributes(&marked)?;
        self.calls
            .call("AdminCreateUser", || {
                self.client
                    .admin_create_user()
                    .user_pool_id(pool_id)
                    .username(&cx.address.name)
                    .set_user_attributes(Some(attributes.clone()))
                    .set_temporary_password(cx.secret.map(|p| p.expose().to_string()))
                    .message_action(MessageActionType::Suppress)
                    .send()
            })
            .await?;
        Ok(cx.address.name.clone())
    }

    /// Makes the password permanent and adds the user to its groups.
    async fn finish(&self, cx: &StepContext<'_>, id: &str, wanted: &UserSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        if wanted.password.is_some() {
            self.set_permanent_password(cx, pool_id).await?;
        }
        self.set_groups(pool_id, id, None, wanted.groups.as_ref()).await
    }

    /// Updates a user's attributes (set changed ones, delete removed ones; an adopted user gets
    /// the mark) and finishes an interrupted password set-up.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &UserSpec,
        wanted: &UserSpec,
    ) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let mut changed: BTreeMap<String, String> = wanted
            .attributes
            .iter()
            .filter(|(k, v)| live.attributes.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if cx.adopt {
            changed.insert(MARK.to_string(), self.stack.clone());
        }
        let removed: Vec<String> =
            live.attributes.keys().filter(|k| !wanted.attributes.contains_key(*k)).cloned().collect();
        if !changed.is_empty() {
            let attributes = user_attributes(&changed)?;
            self.calls
                .call("AdminUpdateUserAttributes", || {
                    self.client
                        .admin_update_user_attributes()
                        .user_pool_id(pool_id)
                        .username(id)
                        .set_user_attributes(Some(attributes.clone()))
                        .send()
                })
                .await?;
        }
        if !removed.is_empty() {
            self.calls
                .call("AdminDeleteUserAttributes", || {
                    self.client
                        .admin_delete_user_attributes()
                        .user_pool_id(pool_id)
                        .username(id)
                        .set_user_attribute_names(Some(removed.clone()))
                        .send()
                })
                .await?;
        }
        if wanted.password_status.is_some() && live.password_status != wanted.password_status {
            self.set_permanent_password(cx, pool_id).await?;
        }
        self.set_groups(pool_id, id, live.groups.as_ref(), wanted.groups.as_ref()).await
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &UserSpec) -> Result<(), ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let result = self
            .calls
            .call("AdminDeleteUser", || self.client.admin_delete_user().user_pool_id(pool_id).username(id).send())
            .await;
        deleted(result)
    }

    /// A user whose create was not answered is the stack's only if it carries the stack's mark
    /// (AdminCreateUser sets it): a same-named stranger is never taken for it.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &UserSpec) -> Result<Option<String>, ProviderError> {
        let pool_id = cx.id_of(&user_pool_address())?;
        let out = self
            .calls
            .call("AdminGetUser", || {
                self.client.admin_get_user().user_pool_id(pool_id).username(&cx.address.name).send()
            })
            .await;
        let marked = |user: &aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput| {
            user.user_attributes().iter().any(|a| a.name() == MARK && a.value() == Some(self.stack.as_str()))
        };
        Ok(found(out)?.filter(marked).map(|_| cx.address.name.clone()))
    }
}

fn user_attributes(attributes: &BTreeMap<String, String>) -> Result<Vec<AttributeType>, ProviderError> {
    attributes
        .iter()
        .map(|(name, value)| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| ProviderError::other("AttributeType", e.to_string()))
        })
        .collect()
}
