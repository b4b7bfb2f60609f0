//! IAM roles with their inline policies. A role is named `<stack>-<name>`, lives under the IAM
//! path `/authdemo/<stack>/` and is owned by its tags; its id is its ARN. Deleting a role first removes its inline and attached policies,
//! which AWS requires.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{Role, Tag};
use futures::future::try_join_all;

use super::error::{ErrorClass, ProviderError, deleted, found, sdk};
use super::{claim, desired, live_id};
use crate::live::{ADDRESS_TAG, LiveResource, LiveState, ownership_tags};
use crate::plan::ResourceChange;
use crate::resource::policy_document::canonical_from_aws;
use crate::resource::{Address, AttributeReads, Attributes, DesiredState, ResourceKind, Value, identity_pool_address};

/// The IAM side of the provider.
pub struct Roles {
    client: Client,
    stack: String,
}

impl Roles {
    /// The roles of `stack` through `client`.
    pub fn new(client: Client, stack: &str) -> Self {
        Self { client, stack: stack.to_string() }
    }

    fn role_name(&self, address: &Address) -> String {
        format!("{}-{}", self.stack, address.name)
    }

    /// Every role of the stack lives under this IAM path, so one listing finds them all, even
    /// the ones the file no longer names.
    fn path(&self) -> String {
        format!("/authdemo/{}/", self.stack)
    }

    /// Lists the stack's path and confirms each role by its tags; a wanted role found only by
    /// name (outside the path or without the tags) is foreign.
    pub async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let mut pages = self.client.list_roles().path_prefix(self.path()).into_paginator().items().send();
        let mut names = Vec::new();
        while let Some(role) = pages.next().await {
            names.push(role.map_err(sdk("ListRoles"))?.role_name().to_string());
        }
        let wanted = desired.resources.iter().filter(|r| r.address.kind == ResourceKind::IamRole).map(|r| &r.address);
        for address in wanted {
            let name = self.role_name(address);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let roles = try_join_all(names.iter().map(|name| self.role_with_policies(name))).await?;
        for (name, (role, policies)) in names.into_iter().zip(roles).filter_map(|(n, r)| Some((n, r?))) {
            let tags: HashMap<String, String> =
                role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            let claimed = tags.get(ADDRESS_TAG).and_then(|a| a.parse::<Address>().ok());
            let address = match claimed {
                Some(a) if a.kind == ResourceKind::IamRole && self.role_name(&a) == name => a,
                _ => {
                    Address::new(ResourceKind::IamRole, name.strip_prefix(&format!("{}-", self.stack)).unwrap_or(&name))
                }
            };
            let candidates = vec![(role.arn().to_string(), tags, role)];
            let Some(role) = claim(candidates, &self.stack, &address, live)? else { continue };
            let depends_on = if address.name.starts_with("fn-") { Vec::new() } else { vec![identity_pool_address()] };
            live.insert(LiveResource {
                address,
                id: role.arn().to_string(),
                attributes: Attributes::from([
                    (
                        "trust_policy".into(),
                        Value::Str(canonical_from_aws(role.assume_role_policy_document().unwrap_or_default())),
                    ),
                    ("policies".into(), Value::Map(policies)),
                ]),
                depends_on,
            });
        }
        Ok(())
    }

    /// A role and its inline policies, if it exists (all roles are read concurrently).
    async fn role_with_policies(&self, name: &str) -> Result<Option<(Role, BTreeMap<String, String>)>, ProviderError> {
        let found_role = found(self.client.get_role().role_name(name).send().await.map_err(sdk("GetRole")))?;
        let Some(role) = found_role.and_then(|out| out.role) else { return Ok(None) };
        let policies = self.inline_policies(name).await?;
        Ok(Some((role, policies)))
    }

    async fn inline_policies(&self, role_name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let names = self.inline_policy_names(role_name).await?;
        let documents = try_join_all(names.iter().map(|name| async move {
            let out = self
                .client
                .get_role_policy()
                .role_name(role_name)
                .policy_name(name)
                .send()
                .await
                .map_err(sdk("GetRolePolicy"))?;
            Ok::<_, ProviderError>(canonical_from_aws(out.policy_document()))
        }))
        .await?;
        Ok(names.into_iter().zip(documents).collect())
    }

    async fn inline_policy_names(&self, role_name: &str) -> Result<Vec<String>, ProviderError> {
        let mut pages = self.client.list_role_policies().role_name(role_name).into_paginator().items().send();
        let mut names = Vec::new();
        while let Some(name) = pages.next().await {
            names.push(name.map_err(sdk("ListRolePolicies"))?);
        }
        Ok(names)
    }

    /// Creates the role, tagged in the create call, then puts its inline policies.
    pub async fn create(&self, change: &ResourceChange) -> Result<String, ProviderError> {
        let attrs = desired(change);
        let tags = self.tags(&change.address)?;
        let name = self.role_name(&change.address);
        let out = self
            .client
            .create_role()
            .role_name(&name)
            .path(self.path())
            .assume_role_policy_document(attrs.text("trust_policy"))
            .description(format!("authdemo stack {}: {}", self.stack, change.address))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(sdk("CreateRole"))?;
        let arn = out.role.map(|r| r.arn).unwrap_or_default();
        self.put_policies(&name, &attrs.entries("policies"), &BTreeMap::new()).await?;
        Ok(arn)
    }

    /// Updates the trust policy and the inline policies that differ; tags an adopted role.
    pub async fn update(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let attrs = desired(change);
        let name = self.role_name(&change.address);
        if change.adopt {
            self.client
                .tag_role()
                .role_name(&name)
                .set_tags(Some(self.tags(&change.address)?))
                .send()
                .await
                .map_err(sdk("TagRole"))?;
        }
        if change.changed_fields.iter().any(|f| f.field == "trust_policy") {
            self.client
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(attrs.text("trust_policy"))
                .send()
                .await
                .map_err(sdk("UpdateAssumeRolePolicy"))?;
        }
        let live = change.before.as_ref().map(|b| b.entries("policies")).unwrap_or_default();
        let wanted = attrs.entries("policies");
        self.put_policies(&name, &wanted, &live).await?;
        for removed in live.keys().filter(|k| !wanted.contains_key(*k)) {
            self.delete_policy(&name, removed).await?;
        }
        Ok(())
    }

    fn tags(&self, address: &Address) -> Result<Vec<Tag>, ProviderError> {
        ownership_tags(&self.stack, address)
            .into_iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ProviderError::new(ErrorClass::Other, "Tag", e.to_string()))
    }

    async fn put_policies(
        &self,
        role_name: &str,
        wanted: &BTreeMap<String, String>,
        live: &BTreeMap<String, String>,
    ) -> Result<(), ProviderError> {
        for (policy, document) in wanted.iter().filter(|(k, v)| live.get(*k) != Some(v)) {
            self.client
                .put_role_policy()
                .role_name(role_name)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map_err(sdk("PutRolePolicy"))?;
        }
        Ok(())
    }

    async fn delete_policy(&self, role_name: &str, policy: &str) -> Result<(), ProviderError> {
        let result = self.client.delete_role_policy().role_name(role_name).policy_name(policy).send().await;
        deleted("DeleteRolePolicy", result)
    }

    /// Deletes the role after removing its inline and attached policies.
    pub async fn delete(&self, change: &ResourceChange) -> Result<(), ProviderError> {
        let name = live_id(change).rsplit('/').next().unwrap_or_default().to_string();
        for policy in self.inline_policy_names(&name).await? {
            self.delete_policy(&name, &policy).await?;
        }
        let attached = self
            .client
            .list_attached_role_policies()
            .role_name(&name)
            .send()
            .await
            .map_err(sdk("ListAttachedRolePolicies"))?;
        for policy in attached.attached_policies() {
            self.client
                .detach_role_policy()
                .role_name(&name)
                .policy_arn(policy.policy_arn().unwrap_or_default())
                .send()
                .await
                .map_err(sdk("DetachRolePolicy"))?;
        }
        let result = self.client.delete_role().role_name(&name).send().await;
        deleted("DeleteRole", result)
    }
}
