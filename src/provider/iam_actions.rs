//! The IAM action(s) each AWS call needs, keyed by the operation name its call gives
//! [`super::call::Calls`] (`calls.call("CreateUserPool", …)`), with what the permission is scoped
//! to and which commands send the call. `authdemo permissions` derives its policies from this
//! table alone, and a test holds every call of `provider/` to a row here (or to the few Cognito
//! answers unsigned).

/// What an action is allowed on; `crate::permissions` turns it into ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum On {
    /// Anything: AWS offers no resource to scope by (listing, creating a pool without an id yet).
    Anything,
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
    /// The stack's functions.
    Functions,
    /// The region's user pools.
    UserPools,
    /// The region's identity pools.
    IdentityPools,
    /// The region's REST APIs, usage plans and API keys.
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

const fn needs(operation: &'static str, action: &'static str, on: On, sent: Sent) -> Permission {
    Permission { operation, action, on, sent }
}

use On::{
    Anything, Apis, Functions, IdentityPools, LockRole, ManagedPolicies, PassedRoles, Roles, RolesAndLock, UserPools,
};
use Sent::{Changing, Deleting, Locking, Reading};

/// Every call's IAM action(s), by service; within a service, in the order the policies list them.
pub(crate) const PERMISSIONS: &[Permission] = &[
    needs("GetCallerIdentity", "sts:GetCallerIdentity", Anything, Reading),
    // IAM: the stack's roles (`iam.rs`) and its lock role (`lock.rs`).
    needs("ListRoles", "iam:ListRoles", Anything, Reading),
    needs("GetRole", "iam:GetRole", RolesAndLock, Reading),
    needs("ListRolePolicies", "iam:ListRolePolicies", RolesAndLock, Reading),
    needs("GetRolePolicy", "iam:GetRolePolicy", RolesAndLock, Reading),
    needs("ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", RolesAndLock, Reading),
    needs("GetPolicy", "iam:GetPolicy", ManagedPolicies, Reading),
    needs("GetPolicyVersion", "iam:GetPolicyVersion", ManagedPolicies, Reading),
    needs("CreateRole", "iam:CreateRole", LockRole, Locking),
    needs("DeleteRole", "iam:DeleteRole", LockRole, Locking),
    needs("TagRole", "iam:TagRole", LockRole, Locking),
    needs("CreateRole", "iam:CreateRole", Roles, Changing),
    needs("TagRole", "iam:TagRole", Roles, Changing),
    needs("UntagRole", "iam:UntagRole", Roles, Changing),
    needs("UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", Roles, Changing),
    needs("PutRolePolicy", "iam:PutRolePolicy", Roles, Changing),
    needs("AttachRolePolicy", "iam:AttachRolePolicy", Roles, Changing),
    needs("PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", Roles, Changing),
    needs("DeleteRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", Roles, Changing),
    needs("DeleteRolePolicy", "iam:DeleteRolePolicy", Roles, Deleting),
    needs("DetachRolePolicy", "iam:DetachRolePolicy", Roles, Deleting),
    needs("DeleteRole", "iam:DeleteRole", Roles, Deleting),
    // Lambda (`lambda.rs`); a function's role and the identity pool's are passed on.
    needs("ListFunctions", "lambda:ListFunctions", Anything, Reading),
    needs("GetFunction", "lambda:GetFunction", Functions, Reading),
    needs("GetFunction", "lambda:ListTags", Functions, Reading),
    needs("GetFunctionConfiguration", "lambda:GetFunctionConfiguration", Functions, Reading),
    needs("GetPolicy", "lambda:GetPolicy", Functions, Reading),
    needs("CreateFunction", "iam:PassRole", PassedRoles, Changing),
    needs("UpdateFunctionConfiguration", "iam:PassRole", PassedRoles, Changing),
    needs("SetIdentityPoolRoles", "iam:PassRole", PassedRoles, Changing),
    needs("CreateGroup", "iam:PassRole", PassedRoles, Changing),
    needs("UpdateGroup", "iam:PassRole", PassedRoles, Changing),
    needs("CreateFunction", "lambda:CreateFunction", Functions, Changing),
    needs("TagResource", "lambda:TagResource", Functions, Changing),
    needs("UntagResource", "lambda:UntagResource", Functions, Changing),
    needs("UpdateFunctionCode", "lambda:UpdateFunctionCode", Functions, Changing),
    needs("UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", Functions, Changing),
    needs("AddPermission", "lambda:AddPermission", Functions, Changing),
    needs("RemovePermission", "lambda:RemovePermission", Functions, Deleting),
    needs("DeleteFunction", "lambda:DeleteFunction", Functions, Deleting),
    // Cognito user pools (`cognito_idp/`).
    needs("ListUserPools", "cognito-idp:ListUserPools", Anything, Reading),
    needs("DescribeUserPoolDomain", "cognito-idp:DescribeUserPoolDomain", Anything, Reading),
    needs("DescribeUserPool", "cognito-idp:DescribeUserPool", UserPools, Reading),
    needs("ListUserPoolClients", "cognito-idp:ListUserPoolClients", UserPools, Reading),
    needs("DescribeUserPoolClient", "cognito-idp:DescribeUserPoolClient", UserPools, Reading),
    needs("AdminGetUser", "cognito-idp:AdminGetUser", UserPools, Reading),
    needs("ListGroups", "cognito-idp:ListGroups", UserPools, Reading),
    needs("GetGroup", "cognito-idp:GetGroup", UserPools, Changing),
    needs("AdminListGroupsForUser", "cognito-idp:AdminListGroupsForUser", UserPools, Reading),
    needs("CreateUserPool", "cognito-idp:CreateUserPool", Anything, Changing),
    needs("UpdateUserPool", "cognito-idp:UpdateUserPool", UserPools, Changing),
    needs("TagResource", "cognito-idp:TagResource", UserPools, Changing),
    needs("UntagResource", "cognito-idp:UntagResource", UserPools, Changing),
    needs("AddCustomAttributes", "cognito-idp:AddCustomAttributes", UserPools, Changing),
    needs("DeleteUserPool", "cognito-idp:DeleteUserPool", UserPools, Deleting),
    needs("CreateUserPoolClient", "cognito-idp:CreateUserPoolClient", UserPools, Changing),
    needs("UpdateUserPoolClient", "cognito-idp:UpdateUserPoolClient", UserPools, Changing),
    needs("DeleteUserPoolClient", "cognito-idp:DeleteUserPoolClient", UserPools, Deleting),
    needs("CreateUserPoolDomain", "cognito-idp:CreateUserPoolDomain", UserPools, Changing),
    needs("DeleteUserPoolDomain", "cognito-idp:DeleteUserPoolDomain", UserPools, Deleting),
    needs("AdminCreateUser", "cognito-idp:AdminCreateUser", UserPools, Changing),
    needs("AdminSetUserPassword", "cognito-idp:AdminSetUserPassword", UserPools, Changing),
    needs("AdminUpdateUserAttributes", "cognito-idp:AdminUpdateUserAttributes", UserPools, Changing),
    needs("AdminDeleteUserAttributes", "cognito-idp:AdminDeleteUserAttributes", UserPools, Changing),
    needs("AdminDeleteUser", "cognito-idp:AdminDeleteUser", UserPools, Deleting),
    needs("CreateGroup", "cognito-idp:CreateGroup", UserPools, Changing),
    needs("UpdateGroup", "cognito-idp:UpdateGroup", UserPools, Changing),
    needs("AdminAddUserToGroup", "cognito-idp:AdminAddUserToGroup", UserPools, Changing),
    needs("AdminRemoveUserFromGroup", "cognito-idp:AdminRemoveUserFromGroup", UserPools, Changing),
    needs("DeleteGroup", "cognito-idp:DeleteGroup", UserPools, Deleting),
    // Cognito identity pools (`cognito_identity.rs`).
    needs("ListIdentityPools", "cognito-identity:ListIdentityPools", Anything, Reading),
    needs("DescribeIdentityPool", "cognito-identity:DescribeIdentityPool", IdentityPools, Reading),
    needs("GetIdentityPoolRoles", "cognito-identity:GetIdentityPoolRoles", IdentityPools, Reading),
    needs("CreateIdentityPool", "cognito-identity:CreateIdentityPool", Anything, Changing),
    needs("TagResource", "cognito-identity:TagResource", Anything, Changing),
    needs("UpdateIdentityPool", "cognito-identity:UpdateIdentityPool", IdentityPools, Changing),
    needs("UntagResource", "cognito-identity:UntagResource", IdentityPools, Changing),
    needs("SetIdentityPoolRoles", "cognito-identity:SetIdentityPoolRoles", IdentityPools, Deleting),
    needs("DeleteIdentityPool", "cognito-identity:DeleteIdentityPool", IdentityPools, Deleting),
    // API Gateway (`apigateway/`, `usage_plans.rs`): IAM knows its calls by HTTP method.
    needs("GetRestApis", "apigateway:GET", Apis, Reading),
    needs("GetResources", "apigateway:GET", Apis, Reading),
    needs("GetMethod", "apigateway:GET", Apis, Reading),
    needs("GetStages", "apigateway:GET", Apis, Reading),
    needs("GetDeployment", "apigateway:GET", Apis, Reading),
    needs("GetDeployments", "apigateway:GET", Apis, Reading),
    needs("GetGatewayResponses", "apigateway:GET", Apis, Reading),
    needs("GetGatewayResponse", "apigateway:GET", Apis, Reading),
    needs("GetUsagePlans", "apigateway:GET", Apis, Reading),
    needs("GetUsagePlanKeys", "apigateway:GET", Apis, Reading),
    needs("GetUsagePlanKey", "apigateway:GET", Apis, Reading),
    needs("GetApiKeys", "apigateway:GET", Apis, Reading),
    needs("GetApiKey", "apigateway:GET", Apis, Reading),
    needs("CreateRestApi", "apigateway:POST", Apis, Changing),
    needs("CreateResource", "apigateway:POST", Apis, Changing),
    needs("CreateDeployment", "apigateway:POST", Apis, Changing),
    needs("CreateStage", "apigateway:POST", Apis, Changing),
    needs("CreateUsagePlan", "apigateway:POST", Apis, Changing),
    needs("CreateUsagePlanKey", "apigateway:POST", Apis, Changing),
    needs("CreateApiKey", "apigateway:POST", Apis, Changing),
    needs("PutMethod", "apigateway:PUT", Apis, Changing),
    needs("PutMethodResponse", "apigateway:PUT", Apis, Changing),
    needs("PutIntegration", "apigateway:PUT", Apis, Changing),
    needs("PutIntegrationResponse", "apigateway:PUT", Apis, Changing),
    needs("PutGatewayResponse", "apigateway:PUT", Apis, Changing),
    needs("TagResource", "apigateway:PUT", Apis, Changing),
    needs("UpdateMethod", "apigateway:PATCH", Apis, Changing),
    needs("UpdateStage", "apigateway:PATCH", Apis, Changing),
    needs("UpdateApiKey", "apigateway:PATCH", Apis, Changing),
    needs("UntagResource", "apigateway:DELETE", Apis, Changing),
    needs("UpdateUsagePlan", "apigateway:PATCH", Apis, Deleting),
    needs("DeleteRestApi", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteResource", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteMethod", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteStage", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteDeployment", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteGatewayResponse", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteUsagePlan", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteUsagePlanKey", "apigateway:DELETE", Apis, Deleting),
    needs("DeleteApiKey", "apigateway:DELETE", Apis, Deleting),
];

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
            let declared =
                PERMISSIONS.iter().any(|p| p.operation == operation) || UNSIGNED.contains(&operation.as_str());
            assert!(declared, "{operation} has no IAM action in PERMISSIONS");
        }
    }

    #[test]
    fn every_row_is_a_call_of_the_provider() {
        let mut called = Vec::new();
        operations_called(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider"), &mut called);
        for permission in PERMISSIONS {
            assert!(called.iter().any(|c| c == permission.operation), "{} is never called", permission.operation);
        }
    }
}
