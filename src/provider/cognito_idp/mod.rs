//! Cognito user pools: the pool, its app clients, hosted-UI domain and users.
//!
//! The pool is found by name (the stack name) and owned by its tags; its children belong to it.
//! Users are looked up by the names the stack file gives: users who signed up by themselves are
//! never listed, compared or deleted. One file per kind: [`user_pool`], [`client`], [`domain`],
//! [`user`]; this one derives their desired state and discovers them.

mod client;
mod domain;
mod group;
mod membership;
mod resource_server;
mod user;
mod user_pool;

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::Client;
use futures::future::try_join_all;

pub(crate) use client::ClientSpec;
pub(in crate::provider) use domain::DomainSpec;
pub(crate) use group::GroupSpec;
pub(crate) use resource_server::ResourceServerSpec;
pub(in crate::provider) use user::UserSpec;
pub(crate) use user_pool::UserPoolSpec;
use user_pool::pool_spec;

use super::call::Calls;
use super::ownership::{claim, send_tags};
use crate::error::ProviderError;
use crate::live::{ForeignResource, LiveResource, LiveState};
use crate::resource::tags::TagChanges;
use crate::resource::{
    Address, DesiredResource, DesiredState, PASSWORD_SET, ResourceKind, Sensitive, Spec, Target, user_pool_address,
};
use crate::stack::{SignIn, UserPool};

/// The user pool's settings as the stack file gives them.
fn wanted_pool_spec(pool: &UserPool, tags: &BTreeMap<String, String>) -> UserPoolSpec {
    let policy = &pool.password_policy;
    let sign_in = match pool.sign_in {
        SignIn::Username => vec!["username"],
        SignIn::Email => vec!["email"],
        SignIn::PhoneNumber => vec!["phone_number"],
        SignIn::EmailOrPhoneNumber => vec!["email", "phone_number"],
    };
    UserPoolSpec {
        sign_in: sign_in.into_iter().map(str::to_string).collect(),
        custom_attributes: pool.custom_attributes.clone(),
        min_length: policy.min_length,
        require_uppercase: policy.require_uppercase,
        require_lowercase: policy.require_lowercase,
        require_numbers: policy.require_numbers,
        require_symbols: policy.require_symbols,
        temporary_password_validity_days: policy.temporary_password_validity_days,
        auto_verified_attributes: pool.auto_verified_attributes.iter().cloned().collect(),
        deletion_protection: pool.deletion_protection,
        self_sign_up: pool.self_sign_up,
        marks_users: true,
        tags: tags.clone(),
    }
}

/// Adds the user pool, its domain, clients and users to `state`.
pub(super) fn desired(state: &mut DesiredState, pool: &UserPool, tags: &BTreeMap<String, String>) {
    let pool_address = user_pool_address();
    state.resources.push(DesiredResource::of(pool_address.clone(), &wanted_pool_spec(pool, tags), Vec::new()));
    if let Some(domain) = &pool.domain {
        let spec = DomainSpec { domain: domain.clone() };
        state.resources.push(DesiredResource::of(DomainSpec::address("main"), &spec, vec![pool_address.clone()]));
    }
    for (identifier, server) in &pool.resource_servers {
        let address = ResourceServerSpec::address(identifier);
        let spec = ResourceServerSpec { name: server.name.clone(), scopes: server.scopes.clone() };
        state.resources.push(DesiredResource::of(address, &spec, vec![pool_address.clone()]));
    }
    for (name, client) in &pool.clients {
        let spec = ClientSpec {
            callback_urls: client.callback_urls.clone(),
            logout_urls: client.logout_urls.clone(),
            oauth_flows: client.oauth_flows.iter().cloned().collect(),
            oauth_scopes: client.oauth_scopes.iter().cloned().collect(),
            auth_flows: client.auth_flows.iter().cloned().collect(),
        };
        let address = ClientSpec::address(name);
        state.resources.push(DesiredResource::of(address, &spec, client_dependencies(pool, &client.oauth_scopes)));
    }
    for (name, group) in &pool.groups {
        let spec = GroupSpec { description: group.description.clone(), precedence: group.precedence, role_arn: None };
        state.resources.push(DesiredResource::of(GroupSpec::address(name), &spec, vec![pool_address.clone()]));
    }
    for (name, user) in &pool.users {
        let address = UserSpec::address(name);
        let spec = UserSpec {
            attributes: user.attributes.clone(),
            password: user.password.as_ref().map(|_| Sensitive),
            password_status: user.password.as_ref().map(|_| PASSWORD_SET.to_string()),
            groups: (!pool.groups.is_empty()).then(|| user.groups.iter().cloned().collect()),
        };
        state.add_secret(&address, user.password.as_ref());
        let mut depends_on = vec![pool_address.clone()];
        depends_on.extend(user.groups.iter().map(GroupSpec::address));
        state.resources.push(DesiredResource::of(address, &spec, depends_on));
    }
}

/// What a client is made after: the pool, and the resource servers of the custom scopes it
/// asks for (Cognito refuses a scope no resource server declares).
fn client_dependencies(pool: &UserPool, oauth_scopes: &[String]) -> Vec<Address> {
    let servers = pool.resource_servers.keys().filter(|identifier| {
        oauth_scopes.iter().any(|scope| scope.rsplit_once('/').is_some_and(|(server, _)| server == *identifier))
    });
    let servers = servers.map(|identifier| Address::new(ResourceKind::UserPoolResourceServer, identifier));
    std::iter::once(user_pool_address()).chain(servers).collect()
}

/// The user `user` (with whether it carries this stack's mark) if it is the stack's: marked,
/// taken over with `--adopt`, or made before the mark existed (`pre_mark`: the pool has no
/// mark attribute yet and only admins create users, so an authdemo made it) and marked by this
/// apply; otherwise recorded as foreign, and left alone.
fn owned_user((user, marked): (LiveResource, bool), pre_mark: bool, live: &mut LiveState) -> Option<LiveResource> {
    if marked {
        return Some(user);
    }
    if pre_mark || live.adoptable.contains(&user.address) {
        live.adopted.insert(user.address.clone());
        return Some(user);
    }
    live.foreign.push(ForeignResource {
        address: user.address.clone(),
        id: user.id,
        reason: format!(
            "it was not created by authdemo (it lacks the `{}` mark only administrators can set): it may have signed itself up",
            user::MARK
        ),
        owner: None,
    });
    None
}

/// `N thing` or `N things`.
fn count(n: impl Into<i64>, thing: &str) -> String {
    let n = n.into();
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The Cognito user pool side of the provider.
pub(super) struct UserPools {
    client: Client,
    stack: String,
    /// Where the pools are, for their ARNs.
    target: Target,
    calls: Calls,
}

impl UserPools {
    /// The user pools of `stack` through `client`, at `target`.
    pub(super) fn new(client: Client, stack: &str, target: &Target, calls: Calls) -> Self {
        Self { client, stack: stack.to_string(), target: target.clone(), calls }
    }

    /// Untags and tags the pool `pool_id` as `changes` say (removals first, so the pool never
    /// holds more tags than AWS allows).
    async fn retag(&self, pool_id: &str, changes: &TagChanges) -> Result<(), ProviderError> {
        let arn = self.target.arn("cognito-idp", &format!("userpool/{pool_id}"));
        let untag = |keys| self.client.untag_resource().resource_arn(&arn).set_tag_keys(Some(keys)).send();
        let tag = |tags| self.client.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send();
        send_tags(&self.calls, changes, ("UntagResource", untag), ("TagResource", tag)).await
    }

    /// Finds the stack's pool by name and reads its children meanwhile, then confirms it by tags.
    pub(super) async fn discover(&self, desired: &DesiredState, live: &mut LiveState) -> Result<(), ProviderError> {
        let address = user_pool_address();
        let candidates = self.candidates_with(|pool_id| async move { self.children(&pool_id, desired).await }).await?;
        let Some((pool, children)) = claim(candidates, &self.stack, &address, live)? else { return Ok(()) };
        let PoolChildren { clients, servers, groups, users } = children?;
        let pool_id = pool.id().ok_or_else(|| ProviderError::missing("DescribeUserPool", "pool id"))?.to_string();
        let estimated_users = pool.estimated_number_of_users();
        let live_spec = pool_spec(&pool);
        let mut pool_resource = LiveResource {
            holds: Some(count(estimated_users, "user")),
            ..LiveResource::of(address, pool_id.clone(), &live_spec)
        };
        if let Some(domain) = pool.domain().filter(|d| !d.is_empty()) {
            let address = Address::new(ResourceKind::UserPoolDomain, "main");
            live.insert(LiveResource::of(address, domain.to_string(), &DomainSpec { domain: domain.to_string() }));
        }
        let pre_mark = !live_spec.marks_users && !live_spec.self_sign_up;
        let users: Vec<LiveResource> = users.into_iter().filter_map(|user| owned_user(user, pre_mark, live)).collect();
        let others = i64::from(estimated_users) - i64::try_from(users.len()).unwrap_or(i64::MAX);
        if others > 0 {
            pool_resource.notes.push(format!(
                "about {} not in the stack file (signed up, made by hand, or removed from the file): \
                 they stay; authdemo creates the users the file names and never deletes users",
                count(others, "user")
            ));
        }
        live.insert(pool_resource);
        for resource in clients.into_iter().chain(servers).chain(groups).chain(users) {
            live.insert(resource);
        }
        Ok(())
    }

    /// Reads the children of pool `pool_id` at once: its clients, resource servers, groups,
    /// and the users the stack file names, each with its groups once the pool's are listed and
    /// there are any.
    async fn children(&self, pool_id: &str, desired: &DesiredState) -> Result<PoolChildren, ProviderError> {
        let wanted_users = desired.resources.iter().filter(|r| r.address.kind == ResourceKind::UserPoolUser);
        let users = try_join_all(wanted_users.map(|r| async move {
            let user = self.user(pool_id, &r.address, &r.attributes).await?;
            Ok::<_, ProviderError>(user.map(|(spec, marked)| (r.address.clone(), spec, marked)))
        }));
        let groups_and_users = async {
            let (groups, users) = tokio::try_join!(self.groups(pool_id), users)?;
            let has_groups = !groups.is_empty();
            let users = try_join_all(users.into_iter().flatten().map(|(address, spec, marked)| async move {
                Ok::<_, ProviderError>((self.with_groups(pool_id, address, spec, has_groups).await?, marked))
            }))
            .await?;
            Ok((groups, users))
        };
        let (clients, servers, (groups, users)) =
            tokio::try_join!(self.clients(pool_id), self.resource_servers(pool_id), groups_and_users)?;
        Ok(PoolChildren { clients, servers, groups, users })
    }
}

/// What is read of a user pool while it is described: its clients, resource servers, groups,
/// and the stack file's users (each with whether it carries this stack's mark).
struct PoolChildren {
    clients: Vec<LiveResource>,
    servers: Vec<LiveResource>,
    groups: Vec<LiveResource>,
    users: Vec<(LiveResource, bool)>,
}
