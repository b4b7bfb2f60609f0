//! Signing in the way a web client does, for `authdemo verify`: a guest of the identity pool
//! (GetId without logins, GetCredentialsForIdentity), and a user of the user pool (InitiateAuth
//! with USER_PASSWORD_AUTH, or SRP through RespondToAuthChallenge) whose ID token the identity
//! pool exchanges for credentials. Every call goes through [`Calls`]. GetId creates an identity
//! in the identity pool (or finds the user's); nothing else is changed.

use aws_cognito_srp::{SrpClient, User};
use aws_sdk_cognitoidentity::types::Credentials;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, AuthenticationResultType, ChallengeNameType};

use super::call::Calls;
use crate::error::ProviderError;
use crate::secret::Secret;

/// Credentials the identity pool issued to an identity: what signs calls as that caller.
#[derive(Debug, Clone)]
pub(crate) struct IdentityCredentials {
    /// The access key id (not a secret, but only meaningful with the other two).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_key: Secret,
    /// The session token.
    pub session_token: Secret,
}

/// The tokens of a user's sign-in through the API (InitiateAuth).
#[derive(Debug, Clone)]
pub(crate) struct UserTokens {
    /// The ID token.
    pub id_token: Secret,
    /// The access token (scope `aws.cognito.signin.user.admin`).
    pub access_token: Secret,
}

/// How a user proves the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordFlow {
    /// USER_PASSWORD_AUTH: the password itself goes to Cognito (over TLS).
    UserPassword,
    /// USER_SRP_AUTH: Secure Remote Password, the password never leaves the machine.
    Srp,
}

/// A user of a user pool app client, and the password to sign in with.
#[derive(Debug)]
pub(crate) struct Login<'a> {
    /// The user pool's id (`us-west-2_abc`).
    pub user_pool_id: &'a str,
    /// The app client's id.
    pub client_id: &'a str,
    /// The user's name.
    pub username: &'a str,
    /// The password.
    pub password: &'a Secret,
    /// How to prove it.
    pub flow: PasswordFlow,
}

/// The Cognito calls of signing in.
pub(super) struct SignIn {
    idp: aws_sdk_cognitoidentityprovider::Client,
    identity: aws_sdk_cognitoidentity::Client,
    idp_calls: Calls,
    identity_calls: Calls,
}

impl SignIn {
    pub(super) fn new(
        idp: aws_sdk_cognitoidentityprovider::Client,
        identity: aws_sdk_cognitoidentity::Client,
        idp_calls: Calls,
        identity_calls: Calls,
    ) -> Self {
        Self { idp, identity, idp_calls, identity_calls }
    }

    /// Credentials of a new guest (unauthenticated identity) of `identity_pool_id`.
    pub(super) async fn guest(&self, identity_pool_id: &str) -> Result<IdentityCredentials, ProviderError> {
        self.credentials(identity_pool_id, None).await
    }

    /// Credentials of the identity of the user whose ID token `token` the provider `provider`
    /// (`cognito-idp.<region>.amazonaws.com/<user pool id>`) issued.
    pub(super) async fn signed_in(
        &self,
        identity_pool_id: &str,
        provider: &str,
        token: &Secret,
    ) -> Result<IdentityCredentials, ProviderError> {
        self.credentials(identity_pool_id, Some((provider, token))).await
    }

    async fn credentials(
        &self,
        identity_pool_id: &str,
        login: Option<(&str, &Secret)>,
    ) -> Result<IdentityCredentials, ProviderError> {
        let logins = || login.map(|(provider, token)| [(provider.to_string(), token.expose().to_string())].into());
        let id = self
            .identity_calls
            .call("GetId", || self.identity.get_id().identity_pool_id(identity_pool_id).set_logins(logins()).send())
            .await?;
        let identity_id = id.identity_id.ok_or_else(|| ProviderError::missing("GetId", "identity id"))?;
        let issued = self
            .identity_calls
            .call("GetCredentialsForIdentity", || {
                self.identity.get_credentials_for_identity().identity_id(&identity_id).set_logins(logins()).send()
            })
            .await?;
        let credentials =
            issued.credentials.ok_or_else(|| ProviderError::missing("GetCredentialsForIdentity", "credentials"))?;
        identity_credentials(credentials)
    }

    /// Tries to sign a stranger up through `client_id` (a random name and password): whether
    /// Cognito refused it (NotAuthorizedException, as it does when only admins create users).
    /// A sign-up that goes through is undone (AdminDeleteUser in `user_pool_id`): nothing is kept.
    pub(super) async fn stranger_refused(
        &self,
        user_pool_id: &str,
        client_id: &str,
        username: &str,
    ) -> Result<bool, ProviderError> {
        // 100 characters of every class: whatever the pool's password policy asks (at most 99).
        let random = || format!("{:032x}", fastrand::u128(..));
        let password = Secret::new(format!("Aa1!{}{}{}", random(), random(), random()));
        let answer = self
            .idp_calls
            .call("SignUp", || {
                self.idp.sign_up().client_id(client_id).username(username).password(password.expose()).send()
            })
            .await;
        match answer {
            // The same code also means a missing SECRET_HASH: only this message is the refusal.
            Err(error)
                if error.code.as_deref() == Some("NotAuthorizedException")
                    && error.message.contains("SignUp is not permitted") =>
            {
                Ok(true)
            }
            Err(error) => Err(error),
            Ok(_) => {
                self.idp_calls
                    .call("AdminDeleteUser", || {
                        self.idp.admin_delete_user().user_pool_id(user_pool_id).username(username).send()
                    })
                    .await?;
                Ok(false)
            }
        }
    }

    /// Signs `login` in and returns the user's ID token.
    pub(super) async fn id_token(&self, login: &Login<'_>) -> Result<Secret, ProviderError> {
        Ok(self.tokens(login).await?.id_token)
    }

    /// Signs `login` in and returns the user's ID and access tokens.
    pub(super) async fn tokens(&self, login: &Login<'_>) -> Result<UserTokens, ProviderError> {
        let result = match login.flow {
            PasswordFlow::UserPassword => self.password_auth(login).await?,
            PasswordFlow::Srp => self.srp_auth(login).await?,
        };
        let tokens = result.and_then(|r| Some((r.id_token?, r.access_token?))).ok_or_else(|| {
            ProviderError::other(
                "InitiateAuth",
                "Cognito asked for another challenge (MFA, a new password): cannot sign in",
            )
        })?;
        Ok(UserTokens { id_token: Secret::new(tokens.0), access_token: Secret::new(tokens.1) })
    }

    async fn password_auth(&self, login: &Login<'_>) -> Result<Option<AuthenticationResultType>, ProviderError> {
        let started = self
            .idp_calls
            .call("InitiateAuth", || {
                self.idp
                    .initiate_auth()
                    .client_id(login.client_id)
                    .auth_flow(AuthFlowType::UserPasswordAuth)
                    .auth_parameters("USERNAME", login.username)
                    .auth_parameters("PASSWORD", login.password.expose())
                    .send()
            })
            .await?;
        Ok(started.authentication_result)
    }

    async fn srp_auth(&self, login: &Login<'_>) -> Result<Option<AuthenticationResultType>, ProviderError> {
        let srp = SrpClient::new(
            User::new(login.user_pool_id, login.username, login.password.expose()),
            login.client_id,
            None,
        );
        let parameters = srp.get_auth_parameters();
        let started = self
            .idp_calls
            .call("InitiateAuth", || {
                self.idp
                    .initiate_auth()
                    .client_id(login.client_id)
                    .auth_flow(AuthFlowType::UserSrpAuth)
                    .auth_parameters("USERNAME", &parameters.username)
                    .auth_parameters("SRP_A", &parameters.a)
                    .send()
            })
            .await?;
        if started.challenge_name != Some(ChallengeNameType::PasswordVerifier) {
            return Ok(started.authentication_result);
        }
        let challenge = started.challenge_parameters.unwrap_or_default();
        let parameter = |name: &str| {
            challenge
                .get(name)
                .cloned()
                .ok_or_else(|| ProviderError::missing("InitiateAuth", &format!("challenge parameter {name}")))
        };
        let user_id = parameter("USER_ID_FOR_SRP")?;
        let verified = srp
            .verify(&parameter("SECRET_BLOCK")?, &user_id, &parameter("SALT")?, &parameter("SRP_B")?)
            .map_err(|e| ProviderError::other("InitiateAuth", format!("cannot answer the SRP challenge: {e}")))?;
        let answered = self
            .idp_calls
            .call("RespondToAuthChallenge", || {
                self.idp
                    .respond_to_auth_challenge()
                    .client_id(login.client_id)
                    .challenge_name(ChallengeNameType::PasswordVerifier)
                    .set_session(started.session.clone())
                    .challenge_responses("USERNAME", &user_id)
                    .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", &verified.password_claim_secret_block)
                    .challenge_responses("PASSWORD_CLAIM_SIGNATURE", &verified.password_claim_signature)
                    .challenge_responses("TIMESTAMP", &verified.timestamp)
                    .send()
            })
            .await?;
        Ok(answered.authentication_result)
    }
}

fn identity_credentials(credentials: Credentials) -> Result<IdentityCredentials, ProviderError> {
    let missing = |what| ProviderError::missing("GetCredentialsForIdentity", what);
    Ok(IdentityCredentials {
        access_key_id: credentials.access_key_id.ok_or_else(|| missing("access key id"))?,
        secret_key: Secret::new(credentials.secret_key.ok_or_else(|| missing("secret key"))?),
        session_token: Secret::new(credentials.session_token.ok_or_else(|| missing("session token"))?),
    })
}
