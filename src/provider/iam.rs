//! IAM roles with their inline policies. A role is named `<stack>-<name>`, lives under the IAM
//! path `/authdemo/<stack>/` and is owned by its tags; its id is its ARN. Deleting a role first
//! removes its inline and attached policies, which AWS requires.
//!
//! IAM is global while the rest of a stack is regional: a role also carries the region of its
//! stack (tag `authdemo:region`), and a stack whose roles serve another region is refused before
//! any change, so applying or destroying it in a second region cannot take over or delete the
//! first region's roles.

mod region;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{Role, Tag};
use futures::future::try_join_all;

use self::details::RoleFound;

use super::call::Calls;
use super::handler::{Handler, StepContext};
use super::ownership::{claim, send_tags};
use crate::error::{ErrorClass, ProviderError, deleted, found};
use crate::live::{ADDRESS_TAG, LiveResource, LiveState, check_ownership, ownership_tags};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::policy_document::canonical_from_aws;
use crate::resource::tags::TagChanges;
use crate::resource::{Address, DesiredState, ResourceKind, Spec};
use crate::spec;
use region::role_region;

mod details;

spec! {
    /// An IAM role: who may assume it and what it may do.
    pub(crate) struct RoleSpec for IamRole {
        /// The trust policy, as canonical JSON.
        trust_policy: String,
        /// The inline policies by name, as canonical JSON.
        policies: BTreeMap<String, String>,
        /// The ARNs of the managed policies attached to it (the file attaches none: one
        /// attached by hand shows as drift, and apply detaches it).
        managed_policies: BTreeSet<String>,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
        /// The ARN of the managed policy that caps what the role may do; one removed or changed
        /// by hand is drift that apply puts back.
        permissions_boundary: Option<String>,
    }
}

/// Sets `boundary` on every role of `state` (the stack's `iam.permissions_boundary`).
pub(super) fn bound_roles(state: &mut DesiredState, boundary: &str) {
    for resource in state.resources.iter_mut().filter(|r| r.address.kind == ResourceKind::IamRole) {
        let mut spec = RoleSpec::from_attributes(&resource.attributes).expect("a desired role is a RoleSpec");
        spec.permissions_boundary = Some(boundary.to_string());
        resource.attributes = spec.to_attributes();
    }
}

/// The IAM side of the provider.
pub(super) struct Roles {
    client: Client,
    stack: String,
    /// The region the stack is applied in.
    region: String,
    calls: Calls,
}

impl Roles {
    /// The roles of `stack` through `client`.
    pub(super) fn new(client: Client, stack: &str, region: &str, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), region: region.to_string(), calls }
    }

    fn role_name(&self, address: &Address) -> String {
        format!("{}-{}", self.stack, address.name)
    }

    /// Every role of the stack lives under this IAM path, so one listing finds them all, even
    /// the ones the file no longer names.
    fn path(&self) -> String {
        format!("/authdemo/{}/", self.stack)
    }

    /// Reads the account's roles (with their policies and tags, in one paged call) under the
    /// stack's path or named like a wanted role, and confirms each by its tags; a wanted role
    /// found only by name (outside the path or without the tags) is foreign.
    pub(super) async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let wanted: BTreeSet<String> = desired
            .resources
            .iter()
            .filter(|r| r.address.kind == ResourceKind::IamRole)
            .map(|r| self.role_name(&r.address))
            .collect();
        let path = self.path();
        let roles = self.roles_found(|role_path, name| role_path == path || wanted.contains(name)).await?;
        for RoleFound { name, arn, tags, spec } in roles {
            let claimed = tags.get(ADDRESS_TAG).and_then(|a| a.parse::<Address>().ok());
            let address = match claimed {
                Some(a) if a.kind == ResourceKind::IamRole && self.role_name(&a) == name => a,
                _ => {
                    Address::new(ResourceKind::IamRole, name.strip_prefix(&format!("{}-", self.stack)).unwrap_or(&name))
                }
            };
            let region = role_region(&tags, &spec);
            let candidates = vec![(arn.clone(), tags, name)];
            let Some(name) = claim(candidates, &self.stack, &address, live)? else { continue };
            if let Some(region) = region.filter(|r| *r != self.region) {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    "discovery",
                    format!(
                        "stack `{}` already lives in region {region}: its IAM role {name} serves that region, and IAM \
                         roles are global. Nothing was changed. Give the stack in {} another name (e.g. --var env=…), \
                         or run in --region {region}",
                        self.stack, self.region
                    ),
                ));
            }
            live.insert(LiveResource::of(address, arn, &spec));
        }
        Ok(())
    }

    /// The ARNs of the managed policies attached to the role.
    async fn attached_policies(&self, role_name: &str) -> Result<BTreeSet<String>, ProviderError> {
        let attached = self
            .calls
            .all_pages(
                "ListAttachedRolePolicies",
                |marker| self.client.list_attached_role_policies().role_name(role_name).set_marker(marker).send(),
                |out| (out.attached_policies.unwrap_or_default(), out.marker),
            )
            .await?;
        Ok(attached.into_iter().filter_map(|policy| policy.policy_arn).collect())
    }

    /// Attaches each of `wanted` not in `live` and detaches each of `live` not in `wanted`.
    async fn attach_policies(
        &self,
        role_name: &str,
        wanted: &BTreeSet<String>,
        live: &BTreeSet<String>,
    ) -> Result<(), ProviderError> {
        for arn in wanted.difference(live) {
            self.calls
                .call("AttachRolePolicy", || {
                    self.client.attach_role_policy().role_name(role_name).policy_arn(arn).send()
                })
                .await?;
        }
        for arn in live.difference(wanted) {
            let detached = self
                .calls
                .call("DetachRolePolicy", || {
                    self.client.detach_role_policy().role_name(role_name).policy_arn(arn).send()
                })
                .await;
            deleted(detached)?;
        }
        Ok(())
    }

    async fn inline_policies(&self, role_name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let names = self.inline_policy_names(role_name).await?;
        let documents = try_join_all(names.iter().map(|name| async move {
            let out = self
                .calls
                .call("GetRolePolicy", || self.client.get_role_policy().role_name(role_name).policy_name(name).send())
                .await?;
            Ok::<_, ProviderError>(canonical_from_aws(out.policy_document()))
        }))
        .await?;
        Ok(names.into_iter().zip(documents).collect())
    }

    async fn inline_policy_names(&self, role_name: &str) -> Result<Vec<String>, ProviderError> {
        self.calls
            .all_pages(
                "ListRolePolicies",
                |marker| self.client.list_role_policies().role_name(role_name).set_marker(marker).send(),
                |out| (out.policy_names, out.marker),
            )
            .await
    }

    /// A role's inline policy documents (canonical JSON, by name) and the ARNs of its attached
    /// managed policies; `None` if there is no such role. For roles discovery does not read.
    pub(super) async fn policies_of(
        &self,
        role_name: &str,
    ) -> Result<Option<(BTreeMap<String, String>, BTreeSet<String>)>, ProviderError> {
        let got = found(self.calls.call("GetRole", || self.client.get_role().role_name(role_name).send()).await)?;
        if got.and_then(|out| out.role).is_none() {
            return Ok(None);
        }
        Ok(Some(tokio::try_join!(self.inline_policies(role_name), self.attached_policies(role_name))?))
    }

    /// The document of a managed policy's default version (canonical JSON).
    pub(super) async fn managed_document(&self, arn: &str) -> Result<String, ProviderError> {
        let policy = self.calls.call("GetPolicy", || self.client.get_policy().policy_arn(arn).send()).await?;
        let version = policy
            .policy
            .and_then(|p| p.default_version_id)
            .ok_or_else(|| ProviderError::missing("GetPolicy", "default version"))?;
        let out = self
            .calls
            .call("GetPolicyVersion", || self.client.get_policy_version().policy_arn(arn).version_id(&version).send())
            .await?;
        let document = out.policy_version.and_then(|v| v.document);
        document.map(|d| canonical_from_aws(&d)).ok_or_else(|| ProviderError::missing("GetPolicyVersion", "document"))
    }

    /// The authdemo tags of the role at `address`: ownership and the region it serves.
    fn own_tags(&self, address: &Address) -> HashMap<String, String> {
        let mut tags = ownership_tags(&self.stack, address);
        tags.insert(REGION_TAG.to_string(), self.region.clone());
        tags
    }

    /// Untags and tags the role `name` as `changes` say, removals first.
    async fn retag(&self, name: &str, changes: &TagChanges) -> Result<(), ProviderError> {
        let set = iam_tags(changes.set.clone())?;
        let untag = |keys| self.client.untag_role().role_name(name).set_tag_keys(Some(keys)).send();
        let tag = |_| self.client.tag_role().role_name(name).set_tags(Some(set.clone())).send();
        send_tags(&self.calls, changes, ("UntagRole", untag), ("TagRole", tag)).await
    }

    /// Puts each policy of `wanted` that differs from `live`.
    async fn put_policies(
        &self,
        role_name: &str,
        wanted: &BTreeMap<String, String>,
        live: &BTreeMap<String, String>,
    ) -> Result<(), ProviderError> {
        for (policy, document) in wanted.iter().filter(|(k, v)| live.get(*k) != Some(v)) {
            self.calls
                .call("PutRolePolicy", || {
                    self.client
                        .put_role_policy()
                        .role_name(role_name)
                        .policy_name(policy)
                        .policy_document(document)
                        .send()
                })
                .await?;
        }
        Ok(())
    }

    /// Deletes the inline policies `inline` of a role and detaches its managed policies `attached`.
    async fn strip_policies(
        &self,
        role_name: &str,
        inline: Vec<String>,
        attached: &BTreeSet<String>,
    ) -> Result<(), ProviderError> {
        for policy in inline {
            self.delete_policy(role_name, &policy).await?;
        }
        self.attach_policies(role_name, &BTreeSet::new(), attached).await
    }

    /// Puts `boundary` on the role, or removes its boundary when `None`.
    async fn put_boundary(&self, role_name: &str, boundary: Option<&str>) -> Result<(), ProviderError> {
        let Some(arn) = boundary else {
            let removed = self
                .calls
                .call("DeleteRolePermissionsBoundary", || {
                    self.client.delete_role_permissions_boundary().role_name(role_name).send()
                })
                .await;
            return deleted(removed);
        };
        self.calls
            .call("PutRolePermissionsBoundary", || {
                self.client.put_role_permissions_boundary().role_name(role_name).permissions_boundary(arn).send()
            })
            .await?;
        Ok(())
    }

    async fn delete_policy(&self, role_name: &str, policy: &str) -> Result<(), ProviderError> {
        let result = self
            .calls
            .call("DeleteRolePolicy", || {
                self.client.delete_role_policy().role_name(role_name).policy_name(policy).send()
            })
            .await;
        deleted(result)
    }
}

/// The tag naming the region whose stack a role serves.
const REGION_TAG: &str = "authdemo:region";

/// `tags` as IAM's tag list.
fn iam_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ProviderError::other("Tag", e.to_string()))
}

fn tags_of(role: &Role) -> HashMap<String, String> {
    role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

impl Kind for RoleSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListRoles", "iam:ListRoles", On::Anything, Sent::Reading),
        needs("GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails", On::Anything, Sent::Reading),
        needs("GetRole", "iam:GetRole", On::RolesAndLock, Sent::Reading),
        needs("ListRolePolicies", "iam:ListRolePolicies", On::RolesAndLock, Sent::Reading),
        needs("GetRolePolicy", "iam:GetRolePolicy", On::RolesAndLock, Sent::Reading),
        needs("ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", On::RolesAndLock, Sent::Reading),
        needs("GetPolicy", "iam:GetPolicy", On::ManagedPolicies, Sent::Reading),
        needs("GetPolicyVersion", "iam:GetPolicyVersion", On::ManagedPolicies, Sent::Reading),
        needs("CreateRole", "iam:CreateRole", On::Roles, Sent::Changing),
        needs("TagRole", "iam:TagRole", On::Roles, Sent::Changing),
        needs("UntagRole", "iam:UntagRole", On::Roles, Sent::Changing),
        needs("UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", On::Roles, Sent::Changing),
        needs("PutRolePolicy", "iam:PutRolePolicy", On::Roles, Sent::Changing),
        needs("AttachRolePolicy", "iam:AttachRolePolicy", On::Roles, Sent::Changing),
        needs("PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", On::Roles, Sent::Changing),
        needs("DeleteRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", On::Roles, Sent::Changing),
        needs("DeleteRolePolicy", "iam:DeleteRolePolicy", On::Roles, Sent::Deleting),
        needs("DetachRolePolicy", "iam:DetachRolePolicy", On::Roles, Sent::Deleting),
        needs("DeleteRole", "iam:DeleteRole", On::Roles, Sent::Deleting),
    ];
}

impl Handler<RoleSpec> for Roles {
    /// Creates the role, tagged in the create call.
    async fn create(&self, cx: &StepContext<'_>, wanted: &RoleSpec) -> Result<String, ProviderError> {
        let mut tags = self.own_tags(cx.address);
        tags.extend(wanted.tags.clone());
        let tags = iam_tags(tags)?;
        let name = self.role_name(cx.address);
        let out = self
            .calls
            .call("CreateRole", || {
                self.client
                    .create_role()
                    .role_name(&name)
                    .path(self.path())
                    .assume_role_policy_document(&wanted.trust_policy)
                    .description(format!("authdemo stack {}: {}", self.stack, cx.address))
                    .set_tags(Some(tags.clone()))
                    .set_permissions_boundary(wanted.permissions_boundary.clone())
                    .send()
            })
            .await?;
        out.role.map(|r| r.arn).ok_or_else(|| ProviderError::missing("CreateRole", "role"))
    }

    /// Puts the role's inline policies.
    async fn finish(&self, cx: &StepContext<'_>, _id: &str, wanted: &RoleSpec) -> Result<(), ProviderError> {
        self.put_policies(&self.role_name(cx.address), &wanted.policies, &BTreeMap::new()).await
    }

    /// Updates the trust policy, the inline and attached policies and the tags that differ;
    /// tags an adopted role as the stack's.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        _id: &str,
        live: &RoleSpec,
        wanted: &RoleSpec,
    ) -> Result<(), ProviderError> {
        let name = self.role_name(cx.address);
        // The boundary first: a policy that grants policy changes only on roles with the
        // boundary allows the rest once it is back.
        if live.permissions_boundary != wanted.permissions_boundary {
            self.put_boundary(&name, wanted.permissions_boundary.as_deref()).await?;
        }
        let changes = TagChanges::between(&live.tags, &wanted.tags).adopting(cx.adopt, self.own_tags(cx.address));
        self.retag(&name, &changes).await?;
        if live.trust_policy != wanted.trust_policy {
            self.calls
                .call("UpdateAssumeRolePolicy", || {
                    self.client
                        .update_assume_role_policy()
                        .role_name(&name)
                        .policy_document(&wanted.trust_policy)
                        .send()
                })
                .await?;
        }
        self.put_policies(&name, &wanted.policies, &live.policies).await?;
        for removed in live.policies.keys().filter(|k| !wanted.policies.contains_key(*k)) {
            self.delete_policy(&name, removed).await?;
        }
        self.attach_policies(&name, &wanted.managed_policies, &live.managed_policies).await?;
        Ok(())
    }

    /// Deletes the role after removing the inline and attached policies discovery read; when
    /// IAM answers that some are left (added since), lists them, removes them and tries again.
    async fn delete(&self, cx: &StepContext<'_>, _id: &str, live: &RoleSpec) -> Result<(), ProviderError> {
        let name = self.role_name(cx.address);
        let inline: Vec<String> = live.policies.keys().cloned().collect();
        self.strip_policies(&name, inline, &live.managed_policies).await?;
        let delete_role = || self.calls.call("DeleteRole", || self.client.delete_role().role_name(&name).send());
        match delete_role().await {
            Err(error) if error.code.as_deref() == Some("DeleteConflict") => {
                let attached = found(self.attached_policies(&name).await)?.unwrap_or_default();
                self.strip_policies(&name, self.inline_policy_names(&name).await?, &attached).await?;
                deleted(delete_role().await)
            }
            result => deleted(result),
        }
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &RoleSpec) -> Result<Option<String>, ProviderError> {
        let name = self.role_name(cx.address);
        let got = found(self.calls.call("GetRole", || self.client.get_role().role_name(&name).send()).await)?;
        let role = got
            .and_then(|out| out.role)
            .filter(|role| check_ownership(&tags_of(role), &self.stack, cx.address).is_ok());
        Ok(role.map(|role| role.arn))
    }
}
