//! `authdemo permissions`: the IAM policy the credentials need to run a command on a stack:
//! exactly the actions the tool calls, scoped to the stack's resources wherever IAM allows: its
//! roles by their path `/authdemo/<stack>/`, its lock role by name, and every other write by the
//! stack's ownership tag (`aws:ResourceTag/authdemo:stack` on what exists, its functions also by
//! name prefix; `aws:RequestTag/authdemo:stack` on what a call creates), with `*` only where AWS
//! offers no resource to scope by (listing). Reads stay as wide as discovery needs.
//! The actions come from the table beside the calls (`provider::iam_actions`); this module only
//! groups them into statements, scopes them and conditions them.

use serde_json::{Value, json};

use crate::provider::iam_actions::{On, Sent, permissions};
use crate::resource::function_name;
use crate::stack::Stack;

/// The command the policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ForCommand {
    /// `plan` (and `validate`, `output`, `access`, `verify`, whose sign-in calls are Cognito's
    /// public APIs, which need no IAM permission): reads only.
    Plan,
    /// `apply`.
    Apply,
    /// `destroy`.
    Destroy,
    /// Not a command: the permissions boundary of the stack's roles, for an administrator to
    /// create once (see [`boundary`]).
    Boundary,
}

/// Where the stack lives, for the ARNs.
pub(crate) struct Scope<'a> {
    /// The stack name.
    pub stack: &'a str,
    /// The AWS partition (`aws`, `aws-cn`, …).
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
    /// The permissions boundary every role of the stack carries, if the stack sets one.
    pub boundary: Option<&'a str>,
}

impl Scope<'_> {
    /// The stack's roles: every role under its path, which no other stack's path contains.
    fn roles(&self) -> Vec<String> {
        vec![format!("arn:{}:iam::*:role/authdemo/{}/*", self.partition, self.stack)]
    }

    /// The roles discovery reads: the stack's, and any role by one of its names (a role the file
    /// names but that does not exist is named by its path-less ARN, and a same-named role outside
    /// the path is a conflict discovery must see).
    fn roles_read(&self) -> Vec<String> {
        let by_name = format!("arn:{}:iam::*:role/{}-*", self.partition, self.stack);
        [self.roles(), vec![by_name, self.lock_role()]].concat()
    }

    fn lock_role(&self) -> String {
        format!("arn:{}:iam::*:role/authdemo-lock/{stack}/authdemo-lock-{stack}.*", self.partition, stack = self.stack)
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

    fn api_gateway(&self, paths: &[&str]) -> Vec<String> {
        paths.iter().map(|path| format!("arn:{}:apigateway:{}::{path}", self.partition, self.region)).collect()
    }

    /// The condition that the resource acted on (for `existing`) or the request creating it
    /// carries the stack's ownership tag. `StringLike`, which matches the stack's name alone, so
    /// that one policy widened to many stacks (`-pr-*`) still holds.
    fn tagged(&self, existing: bool) -> Value {
        let key = if existing { "aws:ResourceTag/authdemo:stack" } else { "aws:RequestTag/authdemo:stack" };
        json!({ "StringLike": { key: self.stack } })
    }
}

/// The statements of a policy: each Sid with what its actions are allowed on, and the calls
/// whose actions it holds.
type Statements = &'static [(&'static str, On)];

/// What every command reads: who the caller is and the stack's live state.
const READS: Statements = &[
    ("ListWithoutResourceScope", On::Anything),
    ("ReadRoles", On::RolesAndLock),
    ("ReadAttachedManagedPolicies", On::ManagedPolicies),
    ("ReadFunctions", On::Functions),
    ("ReadUserPools", On::UserPools),
    ("ReadIdentityPools", On::IdentityPools),
    ("ReadApis", On::Apis),
];

/// The stack lock (an IAM role, see `provider::lock`), taken by apply and destroy.
const LOCK: Statements = &[("StackLock", On::LockRole)];

/// What `apply` changes.
const CHANGES: Statements = &[
    ("ChangeRoles", On::Roles),
    ("PassOwnRolesToLambdaAndCognito", On::PassedRoles),
    ("ChangeFunctions", On::Functions),
    ("CreateFunctions", On::NewFunctions),
    ("CreatePools", On::NewPools),
    ("ChangeUserPools", On::UserPools),
    ("ChangeIdentityPools", On::IdentityPools),
    ("CreateApis", On::NewApis),
    ("ChangeApis", On::Apis),
];

/// What `destroy` changes: deletes, and the updates that come before them (detaching the
/// identity pool's roles and the usage plan's stages, removing a role's policies).
const DELETES: Statements = &[
    ("DeleteRoles", On::Roles),
    ("DeleteFunctions", On::Functions),
    ("DeleteUserPools", On::UserPools),
    ("DeleteIdentityPools", On::IdentityPools),
    ("DeleteApis", On::Apis),
];

impl Scope<'_> {
    /// The ARNs of what `on` names.
    fn resources(&self, on: On) -> Vec<String> {
        match on {
            On::Anything | On::NewPools => vec!["*".into()],
            On::Roles | On::PassedRoles => self.roles(),
            On::RolesAndLock => self.roles_read(),
            On::LockRole => vec![self.lock_role()],
            On::ManagedPolicies => vec![format!("arn:{}:iam::*:policy/*", self.partition)],
            On::Functions | On::NewFunctions => vec![self.functions()],
            On::UserPools => vec![self.user_pools()],
            On::IdentityPools => vec![self.identity_pools()],
            On::NewApis => self.api_gateway(&["/restapis", "/usageplans", "/apikeys"]),
            On::Apis => self.api_gateway(&[
                "/restapis",
                "/restapis/*",
                "/usageplans",
                "/usageplans/*",
                "/apikeys",
                "/apikeys/*",
                "/tags/*",
            ]),
        }
    }

    /// The condition of a statement on `on`: a change needs the stack's ownership tag on what
    /// it changes, a create in its request, the roles passed on the service they go to.
    fn condition(&self, on: On, reading: bool) -> Option<Value> {
        match on {
            On::NewPools | On::NewFunctions | On::NewApis => Some(self.tagged(false)),
            On::Functions | On::UserPools | On::IdentityPools | On::Apis if !reading => Some(self.tagged(true)),
            On::PassedRoles => Some(json!({ "StringEquals": { "iam:PassedToService": PASSED_TO } })),
            _ => None,
        }
    }
}

/// The statements of `statements`, each with the actions of the calls `sent` keeps (each action
/// once, in the table's order), on the resources of `scope`.
fn derive(scope: &Scope<'_>, statements: Statements, sent: &[Sent]) -> Vec<Value> {
    let mut derived = Vec::new();
    for (sid, on) in statements {
        let mut actions: Vec<&str> = Vec::new();
        for permission in permissions().filter(|p| p.on == *on && sent.contains(&p.sent)) {
            if !actions.contains(&permission.action) {
                actions.push(permission.action);
            }
        }
        if *on == On::Roles
            && let Some(boundary) = scope.boundary
        {
            derived.extend(bounded(scope, sid, &actions, boundary));
            continue;
        }
        if actions.is_empty() {
            continue;
        }
        let mut statement =
            json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": scope.resources(*on) });
        if let Some(condition) = scope.condition(*on, sent.contains(&Sent::Reading)) {
            statement["Condition"] = condition;
        }
        derived.push(statement);
    }
    derived
}

/// The IAM actions on roles that accept the `iam:PermissionsBoundary` condition key (IAM's
/// Service Authorization Reference): with a boundary, allowed only with it.
const BOUNDED: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
];

/// The statements of `actions` on the stack's roles when they carry `boundary`: the actions
/// that accept `iam:PermissionsBoundary` only with it, the others as they are, and removing the
/// boundary denied.
fn bounded(scope: &Scope<'_>, sid: &str, actions: &[&str], boundary: &str) -> Vec<Value> {
    let removing = "iam:DeleteRolePermissionsBoundary";
    let (with, without): (Vec<&str>, Vec<&str>) =
        actions.iter().filter(|a| **a != removing).partition(|a| BOUNDED.contains(a));
    let roles = scope.resources(On::Roles);
    let mut statements = Vec::new();
    if !without.is_empty() {
        statements.push(json!({ "Sid": sid, "Effect": "Allow", "Action": without, "Resource": roles }));
    }
    if !with.is_empty() {
        statements.push(json!({
            "Sid": format!("{sid}WithTheBoundary"),
            "Effect": "Allow",
            "Action": with,
            "Resource": roles,
            "Condition": { "StringEquals": { "iam:PermissionsBoundary": boundary } },
        }));
    }
    statements.push(json!({
        "Sid": format!("{sid}NeverRemoveTheBoundary"),
        "Effect": "Deny",
        "Action": [removing],
        "Resource": roles,
    }));
    statements
}

/// The services the stack's roles are passed to: Lambda (a function's role) and Cognito (the
/// identity pool's).
const PASSED_TO: [&str; 2] = ["lambda.amazonaws.com", "cognito-identity.amazonaws.com"];

/// The policy document for `command` on the stack at `scope`.
pub(crate) fn policy(scope: &Scope<'_>, command: ForCommand) -> Value {
    let mut statements = derive(scope, READS, &[Sent::Reading]);
    match command {
        ForCommand::Apply => {
            statements.extend(derive(scope, LOCK, &[Sent::Locking]));
            statements.extend(derive(scope, CHANGES, &[Sent::Changing, Sent::Deleting]));
        }
        // The boundary is `boundary`'s: no command's policy adds to the reads for it.
        ForCommand::Plan | ForCommand::Boundary => {}
        ForCommand::Destroy => {
            statements.extend(derive(scope, LOCK, &[Sent::Locking]));
            statements.extend(derive(scope, DELETES, &[Sent::Deleting]));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The permissions boundary of `stack`'s roles: the most any of them may do. Invoking the
/// region's APIs (an API's id, which its ARN carries, exists only once it is created), writing the
/// functions' own log groups, and every statement the file grants (the functions' `policy`, the
/// identity pool's authenticated and unauthenticated policies).
pub(crate) fn boundary(scope: &Scope<'_>, stack: &Stack) -> Value {
    let (p, region) = (scope.partition, scope.region);
    let mut statements = Vec::new();
    if stack.api.is_some() {
        statements.push(json!({
            "Sid": "InvokeTheApi",
            "Effect": "Allow",
            "Action": ["execute-api:Invoke"],
            "Resource": [format!("arn:{p}:execute-api:{region}:*:*/*")],
        }));
    }
    if !stack.functions.is_empty() {
        let groups: Vec<String> = stack
            .functions
            .keys()
            .map(|name| format!("arn:{p}:logs:{region}:*:log-group:/aws/lambda/{}:*", function_name(&stack.name, name)))
            .collect();
        statements.push(json!({
            "Sid": "FunctionLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": groups,
        }));
    }
    let granted = stack.functions.values().flat_map(|f| &f.policy);
    let pool = stack
        .identity_pool
        .iter()
        .flat_map(|pool| pool.authenticated_policy.iter().chain(&pool.unauthenticated_policy));
    for statement in granted.chain(pool) {
        let mut statement = statement.clone();
        if let Some(fields) = statement.as_object_mut() {
            fields.remove("Sid");
        }
        if !statements.contains(&statement) {
            statements.push(statement);
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
        let scope = Scope { stack: "demo", partition: "aws", region: "us-west-2", boundary: None };
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
        let scope = Scope { stack: "demo", partition: "aws-cn", region: "cn-north-1", boundary: None };
        let text = policy(&scope, ForCommand::Apply).to_string();
        assert!(text.contains("arn:aws-cn:iam::*:role/authdemo/demo/*"), "{text}");
        assert!(text.contains("arn:aws-cn:lambda:cn-north-1:*:function:demo-*"), "{text}");
        assert!(text.contains("iam:PassedToService"), "{text}");
    }

    #[test]
    fn every_write_is_scoped_by_the_stack_path_or_its_tag() {
        let scope = Scope { stack: "demo", partition: "aws", region: "us-west-2", boundary: None };
        for command in [ForCommand::Apply, ForCommand::Destroy] {
            let policy = policy(&scope, command);
            let reads = derive(&scope, READS, &[Sent::Reading]).len();
            for statement in &policy["Statement"].as_array().unwrap()[reads..] {
                let resources = statement["Resource"].to_string();
                assert!(!resources.contains("role/demo-"), "{statement}");
                let on_path = resources.contains("role/authdemo/demo/*") || resources.contains("authdemo-lock-demo");
                let like = &statement["Condition"]["StringLike"];
                let tagged =
                    like["aws:ResourceTag/authdemo:stack"] == "demo" || like["aws:RequestTag/authdemo:stack"] == "demo";
                assert!(on_path || tagged, "{statement}");
            }
        }
    }

    #[test]
    fn with_a_boundary_role_changes_need_it_and_removing_it_is_denied() {
        let boundary = "arn:aws:iam::123456789012:policy/authdemo-boundary";
        let scope = Scope { stack: "demo", partition: "aws", region: "us-west-2", boundary: Some(boundary) };
        for command in [ForCommand::Apply, ForCommand::Destroy] {
            let policy = policy(&scope, command);
            let statements = policy["Statement"].as_array().unwrap();
            // The lock role gets no policy (CreateRole, TagRole, UpdateRole, DeleteRole only): it needs no boundary.
            let on_stack_roles =
                |s: &&Value| s["Effect"] == "Allow" && !s["Resource"].to_string().contains("authdemo-lock");
            for statement in statements.iter().filter(on_stack_roles) {
                let actions: Vec<&str> =
                    statement["Action"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
                assert!(!actions.contains(&"iam:DeleteRolePermissionsBoundary"), "{statement}");
                if actions.iter().any(|a| BOUNDED.contains(a)) {
                    assert_eq!(
                        statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"], boundary,
                        "{statement}"
                    );
                    assert!(actions.iter().all(|a| BOUNDED.contains(a)), "{statement}");
                }
            }
            let deny = statements.iter().find(|s| s["Effect"] == "Deny").expect("a deny");
            assert_eq!(deny["Action"], json!(["iam:DeleteRolePermissionsBoundary"]));
        }
        let text = policy(&scope, ForCommand::Apply).to_string();
        assert!(text.contains("\"iam:CreateRole\""), "{text}");
    }

    #[test]
    fn the_boundary_holds_what_the_file_grants() {
        let text = "stack: demo\nuser_pool:\n  clients:\n    web: {}\nidentity_pool:\n  clients: [web]\n  authenticated_policy:\n    - { Sid: Read, Effect: Allow, Action: s3:GetObject, Resource: \"arn:aws:s3:::demo/*\" }\n";
        let env = |_: &str| None;
        let options = crate::stack::LoadOptions { var_overrides: &[], env: &env };
        let stack = crate::stack::parse(std::path::Path::new("s.yaml"), text, &options).unwrap();
        let scope = Scope { stack: "demo", partition: "aws", region: "us-west-2", boundary: None };
        let boundary = boundary(&scope, &stack);
        let statements = boundary["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{boundary}");
        assert_eq!(statements[0]["Action"], json!(["s3:GetObject"]), "{boundary}");
        assert!(statements[0].get("Sid").is_none(), "{boundary}");
    }
}
