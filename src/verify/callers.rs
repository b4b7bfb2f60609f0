//! The callers of `verify`, made real: the stack's API key, a guest's credentials, a user of the
//! file in no group signed in, and for each group of the file one of its members (one whose
//! highest-ranked group it is, as Cognito ranks them). Each is what it sends, or the observation
//! every call of that caller gets when it cannot be had (no key, no credentials from Cognito, no
//! user to sign in as).

use std::collections::BTreeMap;

use anyhow::bail;

use super::outcome::Observed;
use crate::error::ProviderError;
use crate::live::LiveState;
use crate::provider::{ApiKeySpec, AwsProvider, ClientSpec, IdentityCredentials, Login, PasswordFlow, UserTokens};
use crate::resource::{Address, ResourceKind, Spec, identity_pool_address, user_pool_address};
use crate::secret::Secret;
use crate::stack::{Stack, User};

/// The client flow that lets a user send the password itself.
const USER_PASSWORD_AUTH: &str = "ALLOW_USER_PASSWORD_AUTH";

/// Cognito's answers that mean "no credentials for this caller" (guests off, no role, a token
/// the identity pool does not trust), rather than a failure.
const REFUSALS: [&str; 2] = ["NotAuthorizedException", "InvalidIdentityPoolConfigurationException"];

/// What each caller sends, or what all its calls observe instead.
pub(crate) struct Callers {
    /// The value of the stack's API key linked to the stage.
    pub api_key: Result<Secret, Observed>,
    /// A guest's credentials.
    pub guest: Result<IdentityCredentials, Observed>,
    /// The signed-in user's credentials.
    pub signed_in: Result<IdentityCredentials, Observed>,
    /// A member's credentials, by group.
    pub members: BTreeMap<String, Result<IdentityCredentials, Observed>>,
    /// What a group without a member in the file observes.
    no_member: Result<IdentityCredentials, Observed>,
    /// Who signed in, and how (`demouser (SRP)`; then `adminuser for group:admins (SRP)`).
    pub user: Option<String>,
    /// The signed-in user's tokens, for cognito routes.
    pub tokens: Result<UserTokens, Observed>,
}

impl Callers {
    /// Every secret the callers hold, to keep out of messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut secrets: Vec<&str> = self.api_key.iter().map(Secret::expose).collect();
        for credentials in [&self.guest, &self.signed_in].into_iter().chain(self.members.values()).flatten() {
            secrets.extend([credentials.secret_key.expose(), credentials.session_token.expose()]);
        }
        if let Ok(tokens) = &self.tokens {
            secrets.extend([tokens.id_token.expose(), tokens.access_token.expose()]);
        }
        secrets
    }

    /// What a member of `group` signs with.
    pub(crate) fn member(&self, group: &str) -> &Result<IdentityCredentials, Observed> {
        self.members.get(group).unwrap_or(&self.no_member)
    }
}

/// Makes the callers of `stack`'s live deployment: reads the key's value, signs a guest in,
/// and signs `user` (default: the file's first user) in.
pub(crate) async fn callers(
    provider: &AwsProvider,
    stack: &Stack,
    live: &LiveState,
    linked_keys: &[String],
    user: Option<&str>,
) -> anyhow::Result<Callers> {
    let chosen = chosen_user(stack, user)?;
    let api_key = match linked_keys.first().and_then(|name| id_of(live, ApiKeySpec::KIND, name)) {
        Some(id) => Ok(Secret::new(provider.api_key_value(&id).await?)),
        None => Err(skipped("no enabled API key of the stack is linked to a usage plan on the stage")),
    };
    let tokens = match chosen {
        Some(chosen) => user_tokens(provider, stack, live, chosen).await,
        None => Err(skipped("the stack file names no user to sign in as")),
    };
    let identity_pool = live.resources.get(&identity_pool_address()).map(|r| r.id.clone());
    let Some(identity_pool) = identity_pool else {
        let none =
            || Observed::Denied { status: None, message: "the stack has no identity pool: no credentials".into() };
        let user = chosen.map(|(name, _)| name.to_string());
        let (members, no_member) = (BTreeMap::new(), Err(none()));
        return Ok(Callers { api_key, guest: Err(none()), signed_in: Err(none()), members, no_member, user, tokens });
    };
    let guest = provider.guest_credentials(&identity_pool).await.map_err(refusal);
    let (signed_in, mut user) = match chosen {
        None => (Err(skipped("the stack file names no user to sign in as")), None),
        Some((name, user)) => {
            let signed_in = sign_in(provider, stack, live, (name, user), &identity_pool).await;
            (signed_in.0, Some(format!("{name} ({})", signed_in.1)))
        }
    };
    let mut members = BTreeMap::new();
    for (group, member) in members_by_group(stack) {
        let Some((name, member)) = member else {
            let why = format!("no user of the file has {group} as its highest-ranked group");
            members.insert(group, Err(skipped(&why)));
            continue;
        };
        let (credentials, flow) = sign_in(provider, stack, live, (name, member), &identity_pool).await;
        let signed = format!("{name} for group:{group} ({flow})");
        user = Some(user.map_or(signed.clone(), |user| format!("{user}, {signed}")));
        members.insert(group, credentials);
    }
    let no_member = Err(skipped("the stack file has no such group"));
    Ok(Callers { api_key, guest, signed_in, members, no_member, user, tokens })
}

/// For each group of the file, its first user whose highest-ranked group it is (lowest
/// precedence, none last, then name), as Cognito picks the role of a member of several.
fn members_by_group(stack: &Stack) -> BTreeMap<String, Option<(&str, &User)>> {
    let Some(pool) = &stack.user_pool else { return BTreeMap::new() };
    let rank = |group: &&String| {
        let precedence = pool.groups.get(*group).and_then(|g| g.precedence);
        (precedence.is_none(), precedence, (*group).clone())
    };
    let mut members: BTreeMap<String, Option<(&str, &User)>> =
        pool.groups.keys().map(|group| (group.clone(), None)).collect();
    for (name, user) in &pool.users {
        if let Some(first) = user.groups.iter().min_by_key(rank)
            && let Some(slot @ None) = members.get_mut(first)
        {
            *slot = Some((name.as_str(), user));
        }
    }
    members
}

/// The user `wanted`, else the file's first in no group (else its first); `None` when the
/// file has none.
fn chosen_user<'a>(stack: &'a Stack, wanted: Option<&str>) -> anyhow::Result<Option<(&'a str, &'a User)>> {
    let users = stack.user_pool.as_ref().map(|p| &p.users);
    let mut all = users.into_iter().flatten().map(|(name, user)| (name.as_str(), user));
    let in_no_group = users.into_iter().flatten().find(|(_, user)| user.groups.is_empty());
    match wanted {
        None => Ok(in_no_group.map(|(name, user)| (name.as_str(), user)).or_else(|| all.next())),
        Some(wanted) => match all.find(|(name, _)| *name == wanted) {
            Some(found) => Ok(Some(found)),
            None => bail!("--user {wanted}: the stack file has no such user under user_pool.users"),
        },
    }
}

/// Signs the chosen user (`name`, `user`) in through the identity pool's (else the pool's
/// first) app client; the result and the flow used.
async fn sign_in(
    provider: &AwsProvider,
    stack: &Stack,
    live: &LiveState,
    (name, user): (&str, &User),
    identity_pool: &str,
) -> (Result<IdentityCredentials, Observed>, &'static str) {
    let Some(password) = &user.password else {
        return (Err(skipped(&format!("user {name} has no password in the stack file"))), "-");
    };
    let Some(password) = &password.value else {
        let unset = format!("cannot sign in as {name}: ${{env:{}}} is not set", password.env);
        return (Err(Observed::Failed { status: None, message: unset }), "-");
    };
    let (Some(user_pool_id), Some((client_id, flow))) =
        (live.resources.get(&user_pool_address()).map(|r| r.id.clone()), sign_in_client(stack, live))
    else {
        return (Err(skipped("the user pool has no app client to sign in with")), "-");
    };
    let login = Login { user_pool_id: &user_pool_id, client_id: &client_id, username: name, password, flow };
    let flow_name = if flow == PasswordFlow::Srp { "SRP" } else { "USER_PASSWORD_AUTH" };
    (provider.signed_in_credentials(&login, identity_pool).await.map_err(refusal), flow_name)
}

/// The chosen user's tokens of a sign-in through the API (as [`sign_in`] signs in).
async fn user_tokens(
    provider: &AwsProvider,
    stack: &Stack,
    live: &LiveState,
    (name, user): (&str, &User),
) -> Result<UserTokens, Observed> {
    let Some(password) = user.password.as_ref() else {
        return Err(skipped(&format!("user {name} has no password in the stack file")));
    };
    let Some(password) = &password.value else {
        return Err(Observed::Failed { status: None, message: format!("${{env:{}}} is not set", password.env) });
    };
    let (Some(user_pool_id), Some((client_id, flow))) =
        (live.resources.get(&user_pool_address()).map(|r| r.id.clone()), sign_in_client(stack, live))
    else {
        return Err(skipped("the user pool has no app client to sign in with"));
    };
    let login = Login { user_pool_id: &user_pool_id, client_id: &client_id, username: name, password, flow };
    provider
        .user_tokens(&login)
        .await
        .map_err(|e| Observed::Failed { status: None, message: format!("cannot sign in: {e}") })
}

/// The app client to sign in with (the identity pool's first, else the pool's first) and the
/// flow it allows: the password itself where ALLOW_USER_PASSWORD_AUTH is on, SRP otherwise.
fn sign_in_client(stack: &Stack, live: &LiveState) -> Option<(String, PasswordFlow)> {
    let trusted = stack.identity_pool.iter().flat_map(|p| p.clients.iter());
    let any = stack.user_pool.iter().flat_map(|p| p.clients.keys());
    let address = trusted.chain(any).map(ClientSpec::address).find(|address| live.resources.contains_key(address))?;
    let id = live.resources.get(&address)?.id.clone();
    let allows_password = live.spec::<ClientSpec>(&address).is_some_and(|c| c.auth_flows.contains(USER_PASSWORD_AUTH));
    Some((id, if allows_password { PasswordFlow::UserPassword } else { PasswordFlow::Srp }))
}

fn id_of(live: &LiveState, kind: ResourceKind, name: &str) -> Option<String> {
    live.resources.get(&Address::new(kind, name)).map(|r| r.id.clone())
}

fn skipped(why: &str) -> Observed {
    Observed::Skipped { why: why.to_string() }
}

/// What a failed sign-in shows: Cognito refusing credentials is a denial (the calls cannot be
/// signed), anything else (a wrong password, no answer) a failure to verify.
fn refusal(error: ProviderError) -> Observed {
    let issues_credentials = matches!(error.operation.as_str(), "GetId" | "GetCredentialsForIdentity");
    if issues_credentials && error.code.as_deref().is_some_and(|code| REFUSALS.contains(&code)) {
        Observed::Denied { status: None, message: format!("Cognito gives no credentials: {error}") }
    } else {
        Observed::Failed { status: None, message: format!("cannot get credentials: {error}") }
    }
}
