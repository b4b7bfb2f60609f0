//! The IAM action(s) each AWS call needs, keyed by the operation name its call gives
//! [`super::call::Calls`] (`calls.call("CreateUserPool", …)`), with what the permission is scoped
//! to and which commands send the call. Each kind declares the rows of its calls beside its
//! handler (`Kind::PERMISSIONS`, collected by the registry); this module holds the row type and
//! the few calls no kind sends. `authdemo permissions` derives its policies from [`permissions`]
//! alone, and a test holds every call of `provider/` to a row (or to the few Cognito answers
//! unsigned).

/// What an action is allowed on; `crate::permissions` turns it into ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum On {
    /// Anything: AWS offers no resource to scope by (listing, and what names no resource).
    Anything,
    /// A user pool or identity pool being created (no id, so no ARN, yet): allowed only when the
    /// create call tags it as the stack's.
    NewPools,
    /// A function of the stack being created: allowed only when the call tags it as the stack's.
    NewFunctions,
    /// A REST API, usage plan or API key being created: allowed only when the call tags it as
    /// the stack's.
    NewApis,
    /// The stack's roles.
    Roles,
    /// The stack's roles and its lock role (the reads of both).
    RolesAndLock,
    /// The stack's lock role.
    LockRole,
    /// The managed policies attached to roles.
    ManagedPolicies,
    /// The stack's roles, passed to Lambda or Cognito.
    PassedRoles,
    /// The stack's functions (changed only when tagged as the stack's).
    Functions,
    /// The region's user pools (changed only when tagged as the stack's).
    UserPools,
    /// The region's identity pools (changed only when tagged as the stack's).
    IdentityPools,
    /// The region's REST APIs, usage plans and API keys (changed only when tagged as the
    /// stack's, or, for a REST API's children and a usage plan's keys, when their parent is).
    Apis,
}

/// Which commands send a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Every command that reads the live state.
    Reading,
    /// `apply`, which creates and changes.
    Changing,
    /// `apply` and `destroy`: deletes and what comes before them.
    Deleting,
    /// `apply` and `destroy`, taking and releasing the stack's lock.
    Locking,
}

/// One IAM action of one call.
#[derive(Debug)]
pub(crate) struct Permission {
    /// The operation, as its call names it: the key tests hold the calls to.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests that hold every call to a row"))]
    pub(crate) operation: &'static str,
    /// The IAM action it needs.
    pub(crate) action: &'static str,
    /// What the action is allowed on.
    pub(crate) on: On,
    /// Which commands send it.
    pub(crate) sent: Sent,
}

/// The row of `operation`'s `action` on `on`, sent by the commands of `sent`.
pub(super) const fn needs(operation: &'static str, action: &'static str, on: On, sent: Sent) -> Permission {
    Permission { operation, action, on, sent }
}

/// The IAM actions of the calls no resource kind sends: who the caller is, and the stack lock
/// (`lock.rs`). Every kind declares its own calls' in its provider file (`Kind::PERMISSIONS`).
pub(super) const SHARED: &[Permission] = &[
    needs("GetCallerIdentity", "sts:GetCallerIdentity", On::Anything, Sent::Reading),
    needs("GetRole", "iam:GetRole", On::RolesAndLock, Sent::Reading),
    needs("CreateRole", "iam:CreateRole", On::LockRole, Sent::Locking),
    needs("DeleteRole", "iam:DeleteRole", On::LockRole, Sent::Locking),
    needs("TagRole", "iam:TagRole", On::LockRole, Sent::Locking),
    needs("UpdateRole", "iam:UpdateRole", On::LockRole, Sent::Locking),
];

/// Every call's IAM action(s): the shared ones, then each kind's in the order of
/// [`crate::kinds`].
pub(crate) fn permissions() -> impl Iterator<Item = &'static Permission> {
    SHARED.iter().chain(super::registry::PERMISSIONS.iter().copied().flatten())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The calls Cognito answers without IAM permission (signing in and a stranger's sign-up,
    /// for `verify`).
    const UNSIGNED: &[&str] =
        &["InitiateAuth", "RespondToAuthChallenge", "GetId", "GetCredentialsForIdentity", "SignUp"];

    /// The operation names the calls under `dir` give: the first argument of `call`,
    /// `call_alone` and `all_pages`, and the operations `send_tags` is handed.
    fn operations_called(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                operations_called(&path, found);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for marker in [".call(", ".call_alone(", ".all_pages(", "(\""] {
                for rest in code.split(marker).skip(1) {
                    let rest = if marker == "(\"" { rest } else { rest.trim_start().strip_prefix('"').unwrap_or("") };
                    let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
                    let tagging = marker != "(\""
                        || rest[name.len()..].starts_with("\", untag)")
                        || rest[name.len()..].starts_with("\", tag)");
                    if tagging && name.starts_with(|c: char| c.is_ascii_uppercase()) {
                        found.push(name);
                    }
                }
            }
        }
    }

    #[test]
    fn every_call_of_the_provider_declares_its_iam_actions() {
        let mut called = Vec::new();
        operations_called(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider"), &mut called);
        assert!(called.len() > 80, "the calls are found: {called:?}");
        for operation in called {
            let declared = permissions().any(|p| p.operation == operation) || UNSIGNED.contains(&operation.as_str());
            assert!(declared, "{operation} has no IAM action in its kind's PERMISSIONS nor in SHARED");
        }
    }

    #[test]
    fn every_row_is_a_call_of_the_provider() {
        let mut called = Vec::new();
        operations_called(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider"), &mut called);
        for permission in permissions() {
            assert!(called.iter().any(|c| c == permission.operation), "{} is never called", permission.operation);
        }
    }
}
