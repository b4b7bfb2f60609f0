//! The door around the boundary `access` draws: whether a stranger can join the user pool.
//! With self sign-up off, SignUp as a stranger must be refused (a real check on AWS that
//! creates nothing); with it on, `access` already counts strangers as signed-in users, and
//! nobody is signed up to prove it.

use serde::Serialize;

use crate::live::LiveState;
use crate::provider::{AwsProvider, ClientSpec, UserPoolSpec};
use crate::resource::{Spec, user_pool_address};

/// What the sign-up check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "detail")]
pub(crate) enum SignUpCheck {
    /// Self sign-up is off, and Cognito refused a stranger's SignUp.
    Refused,
    /// Self sign-up is off, yet a stranger's SignUp went through (the user was deleted again).
    Accepted,
    /// Not tried, and why.
    NotTried(String),
}

impl SignUpCheck {
    /// Whether the check contradicts the stack file.
    pub(crate) fn fails(&self) -> bool {
        *self == Self::Accepted
    }

    /// One line for people.
    pub(crate) fn line(&self) -> String {
        match self {
            Self::Refused => "sign-up: a stranger's SignUp was refused (self sign-up is off) ... ok".into(),
            Self::Accepted => {
                "sign-up: a stranger's SignUp went through although the file turns self sign-up off (the user was \
                 deleted again) ... MISMATCH"
                    .into()
            }
            Self::NotTried(why) => format!("sign-up: not tried: {why}"),
        }
    }
}

/// Tries a stranger's SignUp on the stack's live user pool unless `self_sign_up` (the file's
/// setting) lets strangers in anyway.
pub(crate) async fn check(provider: &AwsProvider, live: &LiveState, self_sign_up: bool) -> SignUpCheck {
    if self_sign_up {
        return SignUpCheck::NotTried("self sign-up is on: anyone may join the user pool (see `access`)".into());
    }
    let Some(pool) = live.resources.get(&user_pool_address()) else {
        return SignUpCheck::NotTried("the stack has no user pool".into());
    };
    let Some(client) = live.resources.values().find(|r| r.address.kind == ClientSpec::KIND) else {
        return SignUpCheck::NotTried("the user pool has no app client to sign up through".into());
    };
    let sign_in = live.spec::<UserPoolSpec>(&user_pool_address()).map(|p| p.sign_in).unwrap_or_default();
    match provider.sign_up_refused(&pool.id, &client.id, &stranger_name(&sign_in)).await {
        Ok(true) => SignUpCheck::Refused,
        Ok(false) => SignUpCheck::Accepted,
        Err(error) => SignUpCheck::NotTried(format!("SignUp answered otherwise: {error}")),
    }
}

/// A random user name of the shape the pool signs in with (an e-mail address, a phone number
/// or a plain name), so that an open pool cannot refuse it for its shape.
fn stranger_name(sign_in: &[String]) -> String {
    let n = fastrand::u64(..);
    if sign_in.iter().any(|s| s == "email") {
        format!("authdemo-verify-{n:016x}@example.invalid")
    } else if sign_in.iter().any(|s| s == "phone_number") {
        format!("+1555{:07}", n % 10_000_000)
    } else {
        format!("authdemo-verify-{n:016x}")
    }
}
