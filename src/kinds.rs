//! The one list of resource kinds. [`with_kinds!`] hands it to a macro of the caller's, which
//! expands what that layer needs from it: `resource` the `ResourceKind` enum
//! with its address names and rules, `provider::registry` the dispatch to each kind's spec and
//! handler, and what its spec's `impl Kind` declares (the IAM actions of its calls, its
//! desired-state and discovery hooks). This file names other modules' items only as tokens, so
//! it depends on nothing.
//!
//! Each entry: the variant with its doc, its name in addresses, its spec (a path from
//! `provider/registry.rs`), the provider field holding its handler, the kind it lives in
//! (replacing that one replaces this one too), and its flags: `referenced` (other resources
//! name its physical id, so discovery turns that id into a reference), `adopt` (an untagged one
//! can be taken over with `--adopt`), `holds_data` (replacing or deleting it loses what users
//! made).

/// Calls `$callback!` with every resource kind, see the module doc.
macro_rules! with_kinds {
    ($callback:ident) => {
        $callback! {
            /// A Cognito user pool.
            UserPool: "user_pool", cognito_idp::UserPoolSpec, user_pools, parent: None,
                referenced: true, adopt: true, holds_data: true;
            /// An app client of the user pool.
            UserPoolClient: "user_pool_client", cognito_idp::ClientSpec, user_pools, parent: Some(UserPool),
                referenced: true, adopt: false, holds_data: false;
            /// The user pool's hosted-UI domain.
            UserPoolDomain: "user_pool_domain", cognito_idp::DomainSpec, user_pools, parent: Some(UserPool),
                referenced: false, adopt: false, holds_data: false;
            /// A resource server of the user pool: an API with custom OAuth scopes.
            UserPoolResourceServer: "user_pool_resource_server", cognito_idp::ResourceServerSpec, user_pools,
                parent: Some(UserPool), referenced: false, adopt: false, holds_data: false;
            /// A user of the user pool.
            UserPoolUser: "user_pool_user", cognito_idp::UserSpec, user_pools, parent: Some(UserPool),
                referenced: false, adopt: true, holds_data: false;
            /// A group of the user pool.
            UserPoolGroup: "user_pool_group", cognito_idp::GroupSpec, user_pools, parent: Some(UserPool),
                referenced: false, adopt: false, holds_data: false;
            /// The Cognito identity pool.
            IdentityPool: "identity_pool", cognito_identity::IdentityPoolSpec, identity_pools, parent: None,
                referenced: true, adopt: true, holds_data: false;
            /// An IAM role (the identity pool's two roles, a function's execution role).
            IamRole: "iam_role", iam::RoleSpec, roles, parent: None,
                referenced: true, adopt: true, holds_data: false;
            /// The identity pool's role attachment.
            IdentityPoolRoles: "identity_pool_roles", cognito_identity::IdentityPoolRolesSpec, identity_pools,
                parent: Some(IdentityPool), referenced: false, adopt: false, holds_data: false;
            /// A Lambda function.
            Function: "function", lambda::FunctionSpec, functions, parent: None,
                referenced: true, adopt: true, holds_data: false;
            /// API Gateway's permission to invoke a function for one route.
            LambdaPermission: "lambda_permission", lambda::PermissionSpec, functions, parent: Some(Function),
                referenced: false, adopt: false, holds_data: false;
            /// The REST API.
            RestApi: "rest_api", apigateway::RestApiSpec, apis, parent: None,
                referenced: true, adopt: false, holds_data: false;
            /// The REST API's Cognito user pool authorizer, which `auth: cognito` routes name.
            ApiAuthorizer: "api_authorizer", apigateway::AuthorizerSpec, apis, parent: Some(RestApi),
                referenced: true, adopt: false, holds_data: false;
            /// A path of the REST API (`/items`, `/items/{id}`).
            ApiResource: "api_resource", apigateway::ApiResourceSpec, apis, parent: Some(RestApi),
                referenced: false, adopt: false, holds_data: false;
            /// A method of a path with its Lambda proxy integration (`GET /items/{id}`).
            ApiRoute: "api_route", apigateway::RouteSpec, apis, parent: Some(RestApi),
                referenced: false, adopt: false, holds_data: false;
            /// The CORS preflight of a path: an OPTIONS method answered by API Gateway (MOCK).
            ApiPreflight: "api_preflight", apigateway::PreflightSpec, apis, parent: Some(RestApi),
                referenced: false, adopt: false, holds_data: false;
            /// A gateway response (`DEFAULT_4XX`, `DEFAULT_5XX`) carrying the CORS headers.
            ApiGatewayResponse: "api_gateway_response", apigateway::GatewayResponseSpec, apis,
                parent: Some(RestApi), referenced: false, adopt: false, holds_data: false;
            /// The stage with its deployment of the routes.
            ApiStage: "api_stage", apigateway::StageSpec, apis, parent: Some(RestApi),
                referenced: false, adopt: false, holds_data: false;
            /// The usage plan (throttle, quota) on the API's stage.
            UsagePlan: "usage_plan", usage_plans::UsagePlanSpec, usage_plans, parent: None,
                referenced: false, adopt: false, holds_data: false;
            /// An API key.
            ApiKey: "api_key", usage_plans::ApiKeySpec, usage_plans, parent: None,
                referenced: true, adopt: false, holds_data: false;
            /// An API key's link to the usage plan.
            UsagePlanKey: "usage_plan_key", usage_plans::UsagePlanKeySpec, usage_plans, parent: Some(UsagePlan),
                referenced: false, adopt: false, holds_data: false;
        }
    };
}

pub(crate) use with_kinds;
