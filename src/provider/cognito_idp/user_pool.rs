//! The user pool itself: its settings, found by name and confirmed by tags.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, AttributeDataType, DeletionProtectionType, PasswordPolicyType, SchemaAttributeType,
    UserPoolPolicyType, UserPoolType, UsernameAttributeType, VerifiedAttributeType,
};

use super::UserPools;
use crate::error::{ProviderError, deleted, found};
use crate::live::{creation_tags, ownership_tags};
use crate::provider::call::Settling;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::provider::ownership::{Candidate, candidates, owned_id};
use crate::provider::whole;
use crate::resource::ResourceKind;
use crate::resource::tags::{TagChanges, user_tags};
use crate::spec;

spec! {
    /// The user pool's settings.
    pub(crate) struct UserPoolSpec for UserPool {
        /// The attributes users sign in with: fixed at creation.
        sign_in: Vec<String> => ForcesReplacement,
        /// Custom attribute name → type: may be added, never changed or removed.
        custom_attributes: BTreeMap<String, String> => AddOnly,
        /// Minimum password length.
        min_length @ "password_policy.min_length": i64,
        /// Passwords need an uppercase letter.
        require_uppercase @ "password_policy.require_uppercase": bool,
        /// Passwords need a lowercase letter.
        require_lowercase @ "password_policy.require_lowercase": bool,
        /// Passwords need a digit.
        require_numbers @ "password_policy.require_numbers": bool,
        /// Passwords need a symbol.
        require_symbols @ "password_policy.require_symbols": bool,
        /// Days an admin-set temporary password stays valid.
        temporary_password_validity_days @ "password_policy.temporary_password_validity_days": i64,
        /// Attributes Cognito verifies automatically.
        auto_verified_attributes: BTreeSet<String>,
        /// Refuses deletion while on.
        deletion_protection: bool,
        /// Anyone may sign up (`AllowAdminCreateUserOnly` off).
        self_sign_up: bool,
        /// The schema holds the developer-only attribute that marks the users authdemo creates
        /// ([`super::user::MARK`]).
        marks_users: bool,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

impl UserPools {
    /// The pools named after the stack: id, tags and description of each.
    pub(super) async fn candidates(&self) -> Result<Vec<Candidate<UserPoolType>>, ProviderError> {
        let found = self.candidates_with(|_| async { Ok(()) }).await?;
        Ok(found.into_iter().map(|(id, tags, (pool, _))| (id, tags, pool)).collect())
    }

    /// The pools named after the stack, each described while `also` reads more of it by its id
    /// (its children: one round trip instead of two, before the tags say whose it is). What
    /// `also` read is kept with its error, if any: only the pool that turns out to be the
    /// stack's may fail the run, not one of someone else's.
    pub(super) async fn candidates_with<T, Also>(
        &self,
        also: impl Fn(String) -> Also,
    ) -> Result<Vec<Candidate<(UserPoolType, Result<T, ProviderError>)>>, ProviderError>
    where
        Also: Future<Output = Result<T, ProviderError>>,
    {
        let listed = self
            .calls
            .all_pages(
                "ListUserPools",
                |token| self.client.list_user_pools().max_results(60).set_next_token(token).send(),
                |out| (out.user_pools.unwrap_or_default(), out.next_token),
            )
            .await?;
        let also = &also;
        candidates(
            listed,
            &self.stack,
            aws_sdk_cognitoidentityprovider::types::UserPoolDescriptionType::name,
            |p| async move {
                let Some(id) = p.id else { return Ok(None) };
                let describe =
                    self.calls.call("DescribeUserPool", || self.client.describe_user_pool().user_pool_id(&id).send());
                let (described, more) = tokio::join!(describe, also(id.clone()));
                // A pool gone since the listing: what was read of it does not matter.
                let Some(pool) = found(described)?.and_then(|d| d.user_pool) else { return Ok(None) };
                Ok(Some((id, pool.user_pool_tags().cloned().unwrap_or_default(), (pool, more))))
            },
        )
        .await
    }
}

impl Kind for UserPoolSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListUserPools", "cognito-idp:ListUserPools", On::Anything, Sent::Reading),
        needs("DescribeUserPool", "cognito-idp:DescribeUserPool", On::UserPools, Sent::Reading),
        needs("CreateUserPool", "cognito-idp:CreateUserPool", On::NewPools, Sent::Changing),
        needs("UpdateUserPool", "cognito-idp:UpdateUserPool", On::UserPools, Sent::Changing),
        needs("TagResource", "cognito-idp:TagResource", On::UserPools, Sent::Changing),
        needs("UntagResource", "cognito-idp:UntagResource", On::UserPools, Sent::Changing),
        needs("AddCustomAttributes", "cognito-idp:AddCustomAttributes", On::UserPools, Sent::Changing),
        needs("DeleteUserPool", "cognito-idp:DeleteUserPool", On::UserPools, Sent::Deleting),
    ];
}

impl Handler<UserPoolSpec> for UserPools {
    /// Creates the pool, tagged in the create call itself.
    async fn create(&self, cx: &StepContext<'_>, wanted: &UserPoolSpec) -> Result<String, ProviderError> {
        let username_attributes: Vec<UsernameAttributeType> = wanted
            .sign_in
            .iter()
            .filter(|s| *s != "username")
            .map(|s| UsernameAttributeType::from(s.as_str()))
            .collect();
        let mut schema = custom_schema(&wanted.custom_attributes);
        schema.extend(wanted.marks_users.then(mark_schema));
        let out = self
            .calls
            .call("CreateUserPool", || {
                self.client
                    .create_user_pool()
                    .pool_name(&self.stack)
                    .policies(password_policy(wanted))
                    .set_auto_verified_attributes(Some(verified_attributes(wanted)))
                    .deletion_protection(deletion_protection(wanted))
                    .admin_create_user_config(admin_create_user_config(None, wanted))
                    .set_username_attributes((!username_attributes.is_empty()).then(|| username_attributes.clone()))
                    .set_schema((!schema.is_empty()).then(|| schema.clone()))
                    .set_user_pool_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        out.user_pool.and_then(|p| p.id).ok_or_else(|| ProviderError::missing("CreateUserPool", "pool id"))
    }

    /// Updates the pool: new custom attributes first, then its settings when they differ, then
    /// its tags (see [`UserPools::retag`]). UpdateUserPool resets every setting it is not sent
    /// and overwrites the tags, so the pool is read first and everything the file does not
    /// manage (triggers, messages, MFA, email and SMS configuration, account recovery, …) and
    /// its tags as they are are sent back.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &UserPoolSpec,
        wanted: &UserPoolSpec,
    ) -> Result<(), ProviderError> {
        let added: BTreeMap<String, String> = wanted
            .custom_attributes
            .iter()
            .filter(|(name, _)| !live.custom_attributes.contains_key(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut schema = custom_schema(&added);
        schema.extend((wanted.marks_users && !live.marks_users).then(mark_schema));
        if !schema.is_empty() {
            self.calls
                .call("AddCustomAttributes", || {
                    self.client
                        .add_custom_attributes()
                        .user_pool_id(id)
                        .set_custom_attributes(Some(schema.clone()))
                        .send()
                })
                .await?;
        }
        let settings_changed =
            UserPoolSpec { tags: wanted.tags.clone(), marks_users: wanted.marks_users, ..live.clone() } != *wanted;
        if settings_changed {
            let described = self
                .calls
                .call("DescribeUserPool", || self.client.describe_user_pool().user_pool_id(id).send())
                .await?;
            let pool = described.user_pool.ok_or_else(|| ProviderError::missing("DescribeUserPool", "user pool"))?;
            self.calls
                .call("UpdateUserPool", || {
                    with_unmanaged_pool_settings(self.client.update_user_pool(), &pool)
                        .user_pool_id(id)
                        .policies(password_policy_over(pool.policies(), wanted))
                        .set_auto_verified_attributes(Some(verified_attributes(wanted)))
                        .deletion_protection(deletion_protection(wanted))
                        .admin_create_user_config(admin_create_user_config(pool.admin_create_user_config(), wanted))
                        .set_user_pool_tags(pool.user_pool_tags().cloned())
                        .send()
                })
                .await?;
        }
        let changes =
            TagChanges::between(&live.tags, &wanted.tags).adopting(cx.adopt, ownership_tags(&self.stack, cx.address));
        self.retag(id, &changes).await
    }

    /// Deletes the pool (and with it every user in it). When the plan deleted its hosted-UI
    /// domain, AWS refuses until the domain is gone (a destroy does not wait for it, see the
    /// domain's delete): the delete is tried again as often as a settling domain is looked at.
    /// A domain the plan does not delete (one added by hand) fails it at once.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &UserPoolSpec) -> Result<(), ProviderError> {
        let domain_goes = cx.deleted_inside.iter().any(|a| a.kind == ResourceKind::UserPoolDomain);
        let delete = || async {
            match self.calls.call("DeleteUserPool", || self.client.delete_user_pool().user_pool_id(id).send()).await {
                Err(error) if domain_goes && has_a_domain(&error) => Ok(None),
                result => deleted(result).map(Some),
            }
        };
        if delete().await?.is_some() {
            return Ok(());
        }
        self.calls.wait_until(&format!("the hosted-UI domain of user pool {id} to go"), Settling::Domain, delete).await
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &UserPoolSpec) -> Result<Option<String>, ProviderError> {
        owned_id(self.candidates().await?, &self.stack, cx.address)
    }
}

/// Whether DeleteUserPool was refused because the pool still has a domain (one being deleted
/// counts until it is gone).
fn has_a_domain(error: &ProviderError) -> bool {
    error.code.as_deref() == Some("InvalidParameterException") && error.message.contains("has a domain configured")
}

pub(super) fn pool_spec(pool: &UserPoolType) -> UserPoolSpec {
    let policy = pool.policies().and_then(|p| p.password_policy());
    let sign_in: Vec<String> = if pool.username_attributes().is_empty() {
        vec!["username".to_string()]
    } else {
        pool.username_attributes().iter().map(|a| a.as_str().to_string()).collect()
    };
    let custom_attributes: BTreeMap<String, String> = pool
        .schema_attributes()
        .iter()
        .filter_map(|a| {
            let name = a.name()?.strip_prefix("custom:")?;
            let kind = a.attribute_data_type().map(|t| t.as_str().to_lowercase()).unwrap_or_default();
            Some((name.to_string(), kind))
        })
        .collect();
    let marks_users = pool.schema_attributes().iter().any(|a| a.name() == Some(super::user::MARK));
    UserPoolSpec {
        sign_in,
        custom_attributes,
        marks_users,
        min_length: policy
            .and_then(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::minimum_length)
            .unwrap_or(8)
            .into(),
        require_uppercase: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_uppercase),
        require_lowercase: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_lowercase),
        require_numbers: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_numbers),
        require_symbols: policy
            .is_some_and(aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::require_symbols),
        temporary_password_validity_days: policy
            .map_or(7, aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::temporary_password_validity_days)
            .into(),
        auto_verified_attributes: pool.auto_verified_attributes().iter().map(|a| a.as_str().to_string()).collect(),
        deletion_protection: pool.deletion_protection() == Some(&DeletionProtectionType::Active),
        // Without the setting AWS lets anyone sign up.
        self_sign_up: !pool
            .admin_create_user_config()
            .is_some_and(AdminCreateUserConfigType::allow_admin_create_user_only),
        tags: user_tags(pool.user_pool_tags().into_iter().flatten()),
    }
}

fn password_policy(spec: &UserPoolSpec) -> UserPoolPolicyType {
    UserPoolPolicyType::builder().password_policy(password_rules(spec).build()).build()
}

/// The password rules the file manages.
fn password_rules(spec: &UserPoolSpec) -> aws_sdk_cognitoidentityprovider::types::builders::PasswordPolicyTypeBuilder {
    PasswordPolicyType::builder()
        .minimum_length(whole(spec.min_length))
        .require_uppercase(spec.require_uppercase)
        .require_lowercase(spec.require_lowercase)
        .require_numbers(spec.require_numbers)
        .require_symbols(spec.require_symbols)
        .temporary_password_validity_days(whole(spec.temporary_password_validity_days))
}

/// The live password and sign-in policy with the fields the file manages set to `spec`'s (the
/// password history and sign-in policy stay as they are).
fn password_policy_over(live: Option<&UserPoolPolicyType>, spec: &UserPoolSpec) -> UserPoolPolicyType {
    let history = live.and_then(|p| p.password_policy()).and_then(PasswordPolicyType::password_history_size);
    UserPoolPolicyType::builder()
        .password_policy(password_rules(spec).set_password_history_size(history).build())
        .set_sign_in_policy(live.and_then(|p| p.sign_in_policy()).cloned())
        .build()
}

/// `builder` with every setting of the live `pool` that the stack file does not manage, as
/// DescribeUserPool gave it. The deprecated `UnusedAccountValidityDays` is left out (AWS refuses
/// it beside `TemporaryPasswordValidityDays`), and so are the legacy verification message fields
/// when the template, which carries them, is there.
fn with_unmanaged_pool_settings(
    builder: aws_sdk_cognitoidentityprovider::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder,
    pool: &UserPoolType,
) -> aws_sdk_cognitoidentityprovider::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder {
    let legacy = pool.verification_message_template().is_none();
    builder
        .set_pool_name(pool.name().map(str::to_string))
        .set_lambda_config(pool.lambda_config().cloned())
        .set_verification_message_template(pool.verification_message_template().cloned())
        .set_sms_verification_message(pool.sms_verification_message().filter(|_| legacy).map(str::to_string))
        .set_email_verification_message(pool.email_verification_message().filter(|_| legacy).map(str::to_string))
        .set_email_verification_subject(pool.email_verification_subject().filter(|_| legacy).map(str::to_string))
        .set_sms_authentication_message(pool.sms_authentication_message().map(str::to_string))
        .set_user_attribute_update_settings(pool.user_attribute_update_settings().cloned())
        .set_mfa_configuration(pool.mfa_configuration().cloned())
        .set_device_configuration(pool.device_configuration().cloned())
        .set_email_configuration(pool.email_configuration().cloned())
        .set_sms_configuration(pool.sms_configuration().cloned())
        .set_user_pool_add_ons(pool.user_pool_add_ons().cloned())
        .set_account_recovery_setting(pool.account_recovery_setting().cloned())
        .set_user_pool_tier(pool.user_pool_tier().cloned())
}

/// Who may create users, as the file says, over the live setting's invite message template
/// (kept: the file does not manage it).
fn admin_create_user_config(
    live: Option<&AdminCreateUserConfigType>,
    spec: &UserPoolSpec,
) -> AdminCreateUserConfigType {
    AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(!spec.self_sign_up)
        .set_invite_message_template(live.and_then(AdminCreateUserConfigType::invite_message_template).cloned())
        .build()
}

fn verified_attributes(spec: &UserPoolSpec) -> Vec<VerifiedAttributeType> {
    spec.auto_verified_attributes.iter().map(|a| VerifiedAttributeType::from(a.as_str())).collect()
}

fn deletion_protection(spec: &UserPoolSpec) -> DeletionProtectionType {
    if spec.deletion_protection { DeletionProtectionType::Active } else { DeletionProtectionType::Inactive }
}

/// The developer-only attribute that marks the users authdemo creates: only IAM-authenticated
/// calls (AdminCreateUser, AdminUpdateUserAttributes) can write it; app clients, SignUp
/// included, cannot.
fn mark_schema() -> SchemaAttributeType {
    let name = super::user::MARK.trim_start_matches("dev:custom:");
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::String)
        .developer_only_attribute(true)
        .mutable(true)
        .build()
}

fn custom_schema(custom: &BTreeMap<String, String>) -> Vec<SchemaAttributeType> {
    custom
        .iter()
        .map(|(name, kind)| {
            let data_type = match kind.as_str() {
                "number" => AttributeDataType::Number,
                "boolean" => AttributeDataType::Boolean,
                "datetime" => AttributeDataType::Datetime,
                _ => AttributeDataType::String,
            };
            SchemaAttributeType::builder().name(name).attribute_data_type(data_type).mutable(true).build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_a_pool_as_the_spec_it_was_created_with() {
        let desired = UserPoolSpec {
            sign_in: vec!["username".into()],
            custom_attributes: BTreeMap::new(),
            min_length: 12,
            require_uppercase: true,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            temporary_password_validity_days: 3,
            auto_verified_attributes: ["email".to_string()].into(),
            deletion_protection: true,
            self_sign_up: false,
            marks_users: false,
            tags: BTreeMap::new(),
        };
        let pool = UserPoolType::builder()
            .policies(password_policy(&desired))
            .set_auto_verified_attributes(Some(verified_attributes(&desired)))
            .deletion_protection(deletion_protection(&desired))
            .admin_create_user_config(admin_create_user_config(None, &desired))
            .set_schema_attributes(Some(custom_schema(&BTreeMap::from([("team".into(), "string".into())]))))
            .build();
        // Schema names as sent to CreateUserPool carry no prefix; only read-backs do.
        assert_eq!(pool_spec(&pool), desired);
    }
}
