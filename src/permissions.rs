//! `authdemo permissions`: the IAM policy the credentials need to run a command on a stack:
//! exactly the actions the tool calls, scoped to the stack's resources wherever IAM allows
//! (its roles by path and name, its functions by name, its lock role), with `*` only where AWS
//! offers no resource to scope by (listing, and creating a pool whose id does not exist yet).

use serde_json::{Value, json};

/// The command the policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForCommand {
    /// `plan` (and `validate`, `output`, `access`, `verify`, whose sign-in calls are Cognito's
    /// public APIs, which need no IAM permission): reads only.
    Plan,
    /// `apply`.
    Apply,
    /// `destroy`.
    Destroy,
}

/// Where the stack lives, for the ARNs.
pub struct Scope<'a> {
    /// The stack name.
    pub stack: &'a str,
    /// The AWS partition (`aws`, `aws-cn`, …).
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
}

impl Scope<'_> {
    fn roles(&self) -> Vec<String> {
        let p = self.partition;
        vec![format!("arn:{p}:iam::*:role/authdemo/{}/*", self.stack), format!("arn:{p}:iam::*:role/{}-*", self.stack)]
    }

    fn lock_role(&self) -> String {
        format!("arn:{}:iam::*:role/authdemo-lock/authdemo-lock-{}", self.partition, self.stack)
    }

    fn functions(&self) -> String {
        format!("arn:{}:lambda:{}:*:function:{}-*", self.partition, self.region, self.stack)
    }

    fn user_pools(&self) -> String {
        format!("arn:{}:cognito-idp:{}:*:userpool/*", self.partition, self.region)
    }

    fn identity_pools(&self) -> String {
        format!("arn:{}:cognito-identity:{}:*:identitypool/*", self.partition, self.region)
    }

    fn api_gateway(&self) -> Vec<String> {
        ["/restapis", "/restapis/*", "/usageplans", "/usageplans/*", "/apikeys", "/apikeys/*", "/tags/*"]
            .iter()
            .map(|path| format!("arn:{}:apigateway:{}::{path}", self.partition, self.region))
            .collect()
    }
}

fn statement(sid: &str, actions: &[&str], resources: Vec<String>) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

/// What every command reads: who the caller is and the stack's live state.
fn reads(scope: &Scope<'_>) -> Vec<Value> {
    let mut roles = scope.roles();
    roles.push(scope.lock_role());
    vec![
        statement(
            "ListWithoutResourceScope",
            &[
                "sts:GetCallerIdentity",
                "iam:ListRoles",
                "lambda:ListFunctions",
                "cognito-idp:ListUserPools",
                "cognito-idp:DescribeUserPoolDomain",
                "cognito-identity:ListIdentityPools",
            ],
            vec!["*".into()],
        ),
        statement(
            "ReadRoles",
            &["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"],
            roles,
        ),
        statement(
            "ReadAttachedManagedPolicies",
            &["iam:GetPolicy", "iam:GetPolicyVersion"],
            vec![format!("arn:{}:iam::*:policy/*", scope.partition)],
        ),
        statement(
            "ReadFunctions",
            &["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetPolicy"],
            vec![scope.functions()],
        ),
        statement(
            "ReadUserPools",
            &[
                "cognito-idp:DescribeUserPool",
                "cognito-idp:ListUserPoolClients",
                "cognito-idp:DescribeUserPoolClient",
                "cognito-idp:AdminGetUser",
            ],
            vec![scope.user_pools()],
        ),
        statement(
            "ReadIdentityPools",
            &["cognito-identity:DescribeIdentityPool", "cognito-identity:GetIdentityPoolRoles"],
            vec![scope.identity_pools()],
        ),
        statement("ReadApis", &["apigateway:GET"], scope.api_gateway()),
    ]
}

/// The stack lock (an IAM role, see `provider::lock`), taken by apply and destroy.
fn lock(scope: &Scope<'_>) -> Value {
    statement("StackLock", &["iam:CreateRole", "iam:DeleteRole", "iam:TagRole"], vec![scope.lock_role()])
}

/// What `apply` changes.
fn changes(scope: &Scope<'_>) -> Vec<Value> {
    [role_and_function_changes(scope), pool_and_api_changes(scope)].concat()
}

/// What `apply` changes of the stack's roles (and passes to Lambda and Cognito) and functions.
fn role_and_function_changes(scope: &Scope<'_>) -> Vec<Value> {
    vec![
        statement(
            "ChangeRoles",
            &[
                "iam:CreateRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:DeleteRole",
            ],
            scope.roles(),
        ),
        json!({
            "Sid": "PassOwnRolesToLambdaAndCognito",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": scope.roles(),
            "Condition": { "StringEquals": { "iam:PassedToService": ["lambda.amazonaws.com", "cognito-identity.amazonaws.com"] } },
        }),
        statement(
            "ChangeFunctions",
            &[
                "lambda:CreateFunction",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:DeleteFunction",
            ],
            vec![scope.functions()],
        ),
    ]
}

/// What `apply` changes of the stack's pools and its API.
fn pool_and_api_changes(scope: &Scope<'_>) -> Vec<Value> {
    vec![
        statement(
            "CreatePools",
            &["cognito-idp:CreateUserPool", "cognito-identity:CreateIdentityPool", "cognito-identity:TagResource"],
            vec!["*".into()],
        ),
        statement(
            "ChangeUserPools",
            &[
                "cognito-idp:UpdateUserPool",
                "cognito-idp:TagResource",
                "cognito-idp:UntagResource",
                "cognito-idp:AddCustomAttributes",
                "cognito-idp:DeleteUserPool",
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:UpdateUserPoolClient",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:CreateUserPoolDomain",
                "cognito-idp:DeleteUserPoolDomain",
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminUpdateUserAttributes",
                "cognito-idp:AdminDeleteUserAttributes",
                "cognito-idp:AdminDeleteUser",
            ],
            vec![scope.user_pools()],
        ),
        statement(
            "ChangeIdentityPools",
            &[
                "cognito-identity:UpdateIdentityPool",
                "cognito-identity:UntagResource",
                "cognito-identity:SetIdentityPoolRoles",
                "cognito-identity:DeleteIdentityPool",
            ],
            vec![scope.identity_pools()],
        ),
        statement(
            "ChangeApis",
            &["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
            scope.api_gateway(),
        ),
    ]
}

/// What `destroy` changes: deletes, and the updates that come before them (detaching the
/// identity pool's roles and the usage plan's stages, removing a role's policies).
fn deletes(scope: &Scope<'_>) -> Vec<Value> {
    vec![
        statement("DeleteRoles", &["iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRole"], scope.roles()),
        statement("DeleteFunctions", &["lambda:RemovePermission", "lambda:DeleteFunction"], vec![scope.functions()]),
        statement(
            "DeleteUserPools",
            &[
                "cognito-idp:DeleteUserPool",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:DeleteUserPoolDomain",
                "cognito-idp:AdminDeleteUser",
            ],
            vec![scope.user_pools()],
        ),
        statement(
            "DeleteIdentityPools",
            &["cognito-identity:SetIdentityPoolRoles", "cognito-identity:DeleteIdentityPool"],
            vec![scope.identity_pools()],
        ),
        statement("DeleteApis", &["apigateway:PATCH", "apigateway:DELETE"], scope.api_gateway()),
    ]
}

/// The policy document for `command` on the stack at `scope`.
pub fn policy(scope: &Scope<'_>, command: ForCommand) -> Value {
    let mut statements = reads(scope);
    match command {
        ForCommand::Plan => {}
        ForCommand::Apply => {
            statements.push(lock(scope));
            statements.extend(changes(scope));
        }
        ForCommand::Destroy => {
            statements.push(lock(scope));
            statements.extend(deletes(scope));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(policy: &Value) -> Vec<String> {
        let statements = policy["Statement"].as_array().unwrap();
        statements
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn the_plan_policy_only_reads() {
        let scope = Scope { stack: "demo", partition: "aws", region: "us-west-2" };
        let mutating = [
            "Create",
            "Update",
            "Delete",
            "Put",
            "Add",
            "Remove",
            "Tag",
            "Attach",
            "Detach",
            "Set",
            "Pass",
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
            "AdminCreate",
            "AdminSet",
            "AdminDelete",
        ];
        for action in actions(&policy(&scope, ForCommand::Plan)) {
            let name = action.split_once(':').unwrap().1;
            assert!(!mutating.iter().any(|m| name.starts_with(m)), "{action}");
        }
    }

    #[test]
    fn roles_and_functions_are_scoped_to_the_stack() {
        let scope = Scope { stack: "demo", partition: "aws-cn", region: "cn-north-1" };
        let text = policy(&scope, ForCommand::Apply).to_string();
        assert!(text.contains("arn:aws-cn:iam::*:role/authdemo/demo/*"), "{text}");
        assert!(text.contains("arn:aws-cn:lambda:cn-north-1:*:function:demo-*"), "{text}");
        assert!(text.contains("iam:PassedToService"), "{text}");
    }
}
