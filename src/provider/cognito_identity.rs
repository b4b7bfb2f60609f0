//! Cognito identity pools, their two roles and the role attachment. The pool is found by name
//! (the stack name) and owned by its tags; it trusts the stack's user pool clients as identity
//! providers.

mod mappings;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_cognitoidentity::Client;
use aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolOutput;
use aws_sdk_cognitoidentity::operation::get_identity_pool_roles::GetIdentityPoolRolesOutput;
use aws_sdk_cognitoidentity::types::{CognitoIdentityProvider, RoleMapping};
use serde_json::json;

use self::mappings::{own_mappings, role_mapping};

use super::call::Calls;
use super::cognito_idp::ClientSpec;
use super::handler::{Handler, StepContext};
use super::iam::RoleSpec;
use super::ownership::{Candidate, candidates, claim, owned_id, send_tags};
use crate::error::{ProviderError, deleted, found};
use crate::live::{LiveResource, LiveState, creation_tags, ownership_tags};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::policy_document::document;
use crate::resource::tags::{TagChanges, user_tags};
use crate::resource::{
    Address, DesiredResource, DesiredState, EXTRA_POLICY, ResourceKind, Spec, Target, identity_pool_address, reference,
    user_pool_address,
};
use crate::spec;
use crate::stack::IdentityPool;

spec! {
    /// The identity pool's settings.
    pub(crate) struct IdentityPoolSpec for IdentityPool {
        /// Whether guests get credentials (of the unauthenticated role).
        allow_unauthenticated: bool,
        /// The trusted user pool clients: references to the stack's own, `PROVIDER:CLIENT_ID` for others.
        providers @ "clients": BTreeSet<String>,
        /// Whether Cognito checks with the user pool that a token was not revoked.
        server_side_token_check: bool,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

spec! {
    /// The identity pool's role attachment.
    pub(crate) struct IdentityPoolRolesSpec for IdentityPoolRoles {
        /// Role ARN by `authenticated` / `unauthenticated`.
        roles: BTreeMap<String, String>,
        /// The role mappings of the stack's user pool, one per app client: `CLIENT
        /// TYPE:AMBIGUOUS_ROLE_RESOLUTION`, e.g. `${user_pool_client.web.id}
        /// Token:AuthenticatedRole`; absent: none (the authenticated role for everyone signed in).
        role_mappings: Option<BTreeSet<String>>,
    }
}

/// The stack's identity pool and its role attachment as AWS answered them.
pub(super) struct ReadPool {
    pool: DescribeIdentityPoolOutput,
    roles: Option<GetIdentityPoolRolesOutput>,
}

/// Adds the identity pool, its two roles (trusting exactly this pool) and the role attachment.
pub(super) fn desired(state: &mut DesiredState, pool: &IdentityPool, tags: &BTreeMap<String, String>) {
    let address = identity_pool_address();
    let clients: Vec<Address> = pool.clients.iter().map(ClientSpec::address).collect();
    let mut depends_on = clients.clone();
    if !clients.is_empty() {
        depends_on.insert(0, user_pool_address());
    }
    let spec = IdentityPoolSpec {
        allow_unauthenticated: pool.allow_unauthenticated,
        providers: clients.iter().map(reference).collect(),
        server_side_token_check: pool.server_side_token_check,
        tags: tags.clone(),
    };
    state.resources.push(DesiredResource::of(address.clone(), &spec, depends_on));
    let mut roles = vec![("authenticated", &pool.authenticated_policy)];
    if pool.allow_unauthenticated {
        roles.push(("unauthenticated", &pool.unauthenticated_policy));
    }
    let mut attachment = BTreeMap::new();
    let mut role_addresses = vec![address.clone()];
    for (kind, statements) in roles {
        let role = RoleSpec::address(kind);
        let mut policies = BTreeMap::new();
        if !statements.is_empty() {
            policies.insert(EXTRA_POLICY.to_string(), document(statements.clone()));
        }
        let role_spec = RoleSpec {
            trust_policy: identity_trust_policy(&address, kind),
            policies,
            managed_policies: BTreeSet::new(),
            tags: tags.clone(),
            permissions_boundary: None,
        };
        state.resources.push(DesiredResource::of(role.clone(), &role_spec, vec![address.clone()]));
        attachment.insert(kind.to_string(), reference(&role));
        role_addresses.push(role);
    }
    let attachment = IdentityPoolRolesSpec { roles: attachment, role_mappings: None };
    state.resources.push(DesiredResource::of(
        Address::new(ResourceKind::IdentityPoolRoles, "main"),
        &attachment,
        role_addresses,
    ));
}

/// Trust for Cognito identities of `pool`, `amr` being `authenticated` or `unauthenticated`.
pub(super) fn identity_trust_policy(pool: &Address, amr: &str) -> String {
    document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Federated": "cognito-identity.amazonaws.com" },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": { "cognito-identity.amazonaws.com:aud": reference(pool) },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": amr },
        },
    })])
}

/// The Cognito identity pool side of the provider.
pub(super) struct IdentityPools {
    client: Client,
    stack: String,
    /// The user pools' host name, which their provider names start with.
    user_pools_host: String,
    /// Where the pools are, for their ARNs.
    target: Target,
    calls: Calls,
}

impl IdentityPools {
    /// The identity pools of `stack` through `client`, at `target`.
    pub(super) fn new(client: Client, stack: &str, target: &Target, calls: Calls) -> Self {
        let user_pools_host = target.host("cognito-idp");
        Self { client, stack: stack.to_string(), user_pools_host, target: target.clone(), calls }
    }

    /// Untags and tags the identity pool `pool_id` as `changes` say, removals first.
    async fn retag(&self, pool_id: &str, changes: &TagChanges) -> Result<(), ProviderError> {
        let arn = self.target.arn("cognito-identity", &format!("identitypool/{pool_id}"));
        let untag = |keys| self.client.untag_resource().resource_arn(&arn).set_tag_keys(Some(keys)).send();
        let tag = |tags| self.client.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send();
        send_tags(&self.calls, changes, ("UntagResource", untag), ("TagResource", tag)).await
    }

    /// The provider name of a user pool, as identity pools know it.
    fn provider_name(&self, user_pool_id: &str) -> String {
        format!("{}/{user_pool_id}", self.user_pools_host)
    }

    /// The same-named identity pools: id, tags and description of each.
    async fn candidates(&self) -> Result<Vec<Candidate<DescribeIdentityPoolOutput>>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "ListIdentityPools",
                |token| self.client.list_identity_pools().max_results(60).set_next_token(token).send(),
                |out| (out.identity_pools.unwrap_or_default(), out.next_token),
            )
            .await?;
        candidates(
            listed,
            &self.stack,
            aws_sdk_cognitoidentity::types::IdentityPoolShortDescription::identity_pool_name,
            |pool| async move {
                let Some(id) = pool.identity_pool_id else { return Ok(None) };
                let described = self
                    .calls
                    .call("DescribeIdentityPool", || self.client.describe_identity_pool().identity_pool_id(&id).send())
                    .await;
                let tags = |d: &DescribeIdentityPoolOutput| d.identity_pool_tags().cloned().unwrap_or_default();
                Ok(found(described)?.map(|described| (id, tags(&described), described)))
            },
        )
        .await
    }

    /// Whether the identity pool `id` allows the basic (classic) flow, for `access`.
    pub(super) async fn allows_classic_flow(&self, id: &str) -> Result<bool, ProviderError> {
        let described = self
            .calls
            .call("DescribeIdentityPool", || self.client.describe_identity_pool().identity_pool_id(id).send())
            .await;
        Ok(found(described)?.and_then(|pool| pool.allow_classic_flow).unwrap_or(false))
    }

    /// Reads the stack's identity pool and its role attachment as AWS has them (claiming the
    /// pool in `live`), before the user pool is known; [`IdentityPools::record`] files them.
    pub(super) async fn read(&self, live: &mut LiveState) -> Result<Option<ReadPool>, ProviderError> {
        let Some(pool) = claim(self.candidates().await?, &self.stack, &identity_pool_address(), live)? else {
            return Ok(None);
        };
        let roles = self
            .calls
            .call("GetIdentityPoolRoles", || {
                self.client.get_identity_pool_roles().identity_pool_id(pool.identity_pool_id()).send()
            })
            .await;
        let roles = found(roles)?;
        Ok(Some(ReadPool { pool, roles }))
    }

    /// Files what [`IdentityPools::read`] found into `live`; `user_pools` holds the discovered
    /// user pool, whose clients the providers name.
    pub(super) fn record(&self, read: Option<ReadPool>, user_pools: &LiveState, live: &mut LiveState) {
        let Some(ReadPool { pool, roles }) = read else { return };
        let own_user_pool = user_pools.resources.get(&user_pool_address()).map(|p| self.provider_name(&p.id));
        let pool_id = pool.identity_pool_id().to_string();
        live.insert(LiveResource::of(
            identity_pool_address(),
            pool_id.clone(),
            &pool_spec(&pool, own_user_pool.as_deref()),
        ));
        let mappings = own_mappings(roles.as_ref().and_then(|r| r.role_mappings.as_ref()), own_user_pool.as_deref());
        let attached: BTreeMap<String, String> =
            roles.and_then(|r| r.roles).unwrap_or_default().into_iter().filter(|(_, arn)| !arn.is_empty()).collect();
        if !attached.is_empty() || mappings.is_some() {
            let address = Address::new(ResourceKind::IdentityPoolRoles, "main");
            let spec = IdentityPoolRolesSpec { roles: attached, role_mappings: mappings };
            live.insert(LiveResource::of(address, pool_id, &spec));
        }
    }

    fn providers(
        &self,
        cx: &StepContext<'_>,
        spec: &IdentityPoolSpec,
    ) -> Result<Vec<CognitoIdentityProvider>, ProviderError> {
        if spec.providers.is_empty() {
            return Ok(Vec::new());
        }
        let provider_name = self.provider_name(cx.id_of(&user_pool_address())?);
        Ok(spec
            .providers
            .iter()
            .map(|client_id| {
                CognitoIdentityProvider::builder()
                    .provider_name(&provider_name)
                    .client_id(client_id)
                    .server_side_token_check(spec.server_side_token_check)
                    .build()
            })
            .collect())
    }
}

impl Kind for IdentityPoolSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("ListIdentityPools", "cognito-identity:ListIdentityPools", On::Anything, Sent::Reading),
        needs("DescribeIdentityPool", "cognito-identity:DescribeIdentityPool", On::IdentityPools, Sent::Reading),
        needs("CreateIdentityPool", "cognito-identity:CreateIdentityPool", On::NewPools, Sent::Changing),
        needs("TagResource", "cognito-identity:TagResource", On::IdentityPools, Sent::Changing),
        needs("UpdateIdentityPool", "cognito-identity:UpdateIdentityPool", On::IdentityPools, Sent::Changing),
        needs("UntagResource", "cognito-identity:UntagResource", On::IdentityPools, Sent::Changing),
        needs("DeleteIdentityPool", "cognito-identity:DeleteIdentityPool", On::IdentityPools, Sent::Deleting),
    ];
}

impl Handler<IdentityPoolSpec> for IdentityPools {
    /// Creates the identity pool, tagged in the create call.
    async fn create(&self, cx: &StepContext<'_>, wanted: &IdentityPoolSpec) -> Result<String, ProviderError> {
        let providers = self.providers(cx, wanted)?;
        let out = self
            .calls
            .call("CreateIdentityPool", || {
                self.client
                    .create_identity_pool()
                    .identity_pool_name(&self.stack)
                    .allow_unauthenticated_identities(wanted.allow_unauthenticated)
                    .set_cognito_identity_providers(Some(providers.clone()))
                    .set_identity_pool_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        Ok(out.identity_pool_id)
    }

    /// Updates the identity pool's settings when they differ, then its tags. UpdateIdentityPool
    /// replaces the whole configuration, so the pool is read first and what the file does not
    /// manage (other login providers, developer, OpenID Connect and SAML providers) and its tags
    /// as they are are sent back.
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        live: &IdentityPoolSpec,
        wanted: &IdentityPoolSpec,
    ) -> Result<(), ProviderError> {
        let settings_changed = IdentityPoolSpec { tags: wanted.tags.clone(), ..live.clone() } != *wanted;
        if settings_changed {
            self.update_settings(cx, id, wanted).await?;
        }
        let changes =
            TagChanges::between(&live.tags, &wanted.tags).adopting(cx.adopt, ownership_tags(&self.stack, cx.address));
        self.retag(id, &changes).await
    }

    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &IdentityPoolSpec) -> Result<(), ProviderError> {
        deleted(
            self.calls
                .call("DeleteIdentityPool", || self.client.delete_identity_pool().identity_pool_id(id).send())
                .await,
        )
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &IdentityPoolSpec) -> Result<Option<String>, ProviderError> {
        owned_id(self.candidates().await?, &self.stack, cx.address)
    }
}

impl IdentityPools {
    /// Sends the pool's settings with everything else it has as it is (see `update`).
    async fn update_settings(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        wanted: &IdentityPoolSpec,
    ) -> Result<(), ProviderError> {
        let providers = self.providers(cx, wanted)?;
        let live = self
            .calls
            .call("DescribeIdentityPool", || self.client.describe_identity_pool().identity_pool_id(id).send())
            .await?;
        self.calls
            .call("UpdateIdentityPool", || {
                self.client
                    .update_identity_pool()
                    .identity_pool_id(id)
                    .identity_pool_name(&self.stack)
                    .allow_unauthenticated_identities(wanted.allow_unauthenticated)
                    .set_cognito_identity_providers(Some(providers.clone()))
                    .set_allow_classic_flow(live.allow_classic_flow)
                    .set_supported_login_providers(live.supported_login_providers.clone())
                    .set_developer_provider_name(live.developer_provider_name.clone())
                    .set_open_id_connect_provider_arns(live.open_id_connect_provider_arns.clone())
                    .set_saml_provider_arns(live.saml_provider_arns.clone())
                    .set_identity_pool_tags(live.identity_pool_tags().cloned())
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl IdentityPools {
    /// Sets the role attachment with the role mappings of `wanted` for the stack's user pool
    /// (`user_pool_id`); SetIdentityPoolRoles replaces every role mapping, so the live ones the
    /// file does not manage (other providers', and all of them when `wanted` has none) are read
    /// first and sent back.
    async fn set_roles(
        &self,
        pool_id: &str,
        user_pool_id: Option<&str>,
        wanted: &IdentityPoolRolesSpec,
    ) -> Result<(), ProviderError> {
        let roles: HashMap<String, String> = wanted.roles.clone().into_iter().collect();
        let live = self
            .calls
            .call("GetIdentityPoolRoles", || self.client.get_identity_pool_roles().identity_pool_id(pool_id).send())
            .await;
        let own =
            user_pool_id.filter(|_| wanted.role_mappings.is_some()).map(|id| format!("{}:", self.provider_name(id)));
        let mut mappings: HashMap<String, RoleMapping> = found(live)?
            .and_then(|live| live.role_mappings)
            .unwrap_or_default()
            .into_iter()
            .filter(|(provider, _)| own.as_ref().is_none_or(|own| !provider.starts_with(own)))
            .collect();
        if let (Some(own), Some(wanted)) = (&own, &wanted.role_mappings) {
            for entry in wanted {
                let (client_id, mapping) = entry.split_once(' ').unwrap_or((entry, ""));
                mappings.insert(format!("{own}{client_id}"), role_mapping(mapping)?);
            }
        }
        let mappings = (!mappings.is_empty()).then_some(mappings);
        self.calls
            .call("SetIdentityPoolRoles", || {
                self.client
                    .set_identity_pool_roles()
                    .identity_pool_id(pool_id)
                    .set_roles(Some(roles.clone()))
                    .set_role_mappings(mappings.clone())
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Kind for IdentityPoolRolesSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetIdentityPoolRoles", "cognito-identity:GetIdentityPoolRoles", On::IdentityPools, Sent::Reading),
        needs("SetIdentityPoolRoles", "iam:PassRole", On::PassedRoles, Sent::Changing),
        needs("SetIdentityPoolRoles", "cognito-identity:SetIdentityPoolRoles", On::IdentityPools, Sent::Deleting),
    ];
}

impl Handler<IdentityPoolRolesSpec> for IdentityPools {
    /// Attaches the roles (a role created moments ago may not be visible to Cognito yet: the
    /// classifier makes that transient). The id is the pool's.
    async fn create(&self, cx: &StepContext<'_>, wanted: &IdentityPoolRolesSpec) -> Result<String, ProviderError> {
        let pool_id = cx.id_of(&identity_pool_address())?;
        self.set_roles(pool_id, cx.id_of(&user_pool_address()).ok(), wanted).await?;
        Ok(pool_id.to_string())
    }

    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        _live: &IdentityPoolRolesSpec,
        wanted: &IdentityPoolRolesSpec,
    ) -> Result<(), ProviderError> {
        self.set_roles(id, cx.id_of(&user_pool_address()).ok(), wanted).await
    }

    /// Detaches every role, and drops the stack's user pool's role mappings.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &IdentityPoolRolesSpec) -> Result<(), ProviderError> {
        let none = IdentityPoolRolesSpec { roles: BTreeMap::new(), role_mappings: Some(BTreeSet::new()) };
        deleted(self.set_roles(id, cx.id_of(&user_pool_address()).ok(), &none).await)
    }
}

/// The pool's settings; providers of the stack's own user pool are listed by client id (which
/// discovery turns into references), others by their full provider name.
fn pool_spec(pool: &DescribeIdentityPoolOutput, own_user_pool: Option<&str>) -> IdentityPoolSpec {
    let providers = pool.cognito_identity_providers();
    let names = providers.iter().map(|p| {
        let client_id = p.client_id().unwrap_or_default();
        match p.provider_name() {
            Some(name) if Some(name) == own_user_pool => client_id.to_string(),
            name => format!("{}:{client_id}", name.unwrap_or_default()),
        }
    });
    IdentityPoolSpec {
        allow_unauthenticated: pool.allow_unauthenticated_identities(),
        providers: names.collect(),
        server_side_token_check: providers.iter().any(|p| p.server_side_token_check() == Some(true)),
        tags: user_tags(pool.identity_pool_tags().into_iter().flatten()),
    }
}
