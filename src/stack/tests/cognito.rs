//! Resource servers, their custom scopes in app clients, and `auth: cognito` routes.

use super::parse_with;

/// A pool with one resource server and a client asking for `scope`.
fn pool_with_client_scope(scope: &str) -> String {
    format!(
        "stack: demo
user_pool:
  resource_servers:
    items: {{ name: Items API, scopes: {{ write: may change items, read: may read items }} }}
  clients:
    web:
      callback_urls: [\"http://localhost:3000/\"]
      oauth: {{ flows: [code], scopes: [openid, {scope}] }}
"
    )
}

#[test]
fn reads_resource_servers_and_the_custom_scopes_clients_ask_for() {
    let stack = parse_with(&pool_with_client_scope("items/write"), &[]).unwrap();
    let pool = stack.user_pool.unwrap();
    let server = &pool.resource_servers["items"];
    assert_eq!(server.name, "Items API");
    assert_eq!(server.scopes.keys().collect::<Vec<_>>(), ["read", "write"]);
    assert_eq!(pool.clients["web"].oauth_scopes, ["openid", "items/write"]);
}

#[test]
fn refuses_a_custom_scope_no_resource_server_declares() {
    let errors = parse_with(&pool_with_client_scope("items/delete"), &[]).unwrap_err();
    let [error] = errors.items.as_slice() else { panic!("one error: {errors:?}") };
    assert_eq!((error.location.line, error.location.column), (8, 48));
    assert_eq!(error.path, "user_pool.clients.web.oauth.scopes[1]");
    assert!(error.message.contains("`items/delete` is not a scope of a resource server"), "{}", error.message);
    assert!(error.hint.as_deref().is_some_and(|h| h.contains("items/")), "{:?}", error.hint);
}

#[test]
fn checks_resource_server_identifiers_and_scope_names() {
    let text = "stack: demo
user_pool:
  resource_servers:
    \"bad id\": { name: x }
    items: { name: Items, scopes: { \"a/b\": x } }
    other: { scopes: {} }
";
    let errors = parse_with(text, &[]).unwrap_err();
    let found: Vec<(usize, &str)> = errors.items.iter().map(|d| (d.location.line, d.path.as_str())).collect();
    assert_eq!(
        found,
        [
            (4, "user_pool.resource_servers.bad id"),
            (5, "user_pool.resource_servers.items.scopes.a/b"),
            (6, "user_pool.resource_servers.other.name")
        ]
    );
}

/// A stack with a user pool declaring `items/write` and one route written `route`.
fn stack_with_route(route: &str) -> String {
    format!(
        "stack: demo
user_pool:
  resource_servers:
    items: {{ name: Items, scopes: {{ write: may change items }} }}
functions:
  api: {{ runtime: nodejs24.x, handler: api.handler, code: examples/api }}
api:
  stage: v1
  routes:
    POST /items: {route}
"
    )
}

#[test]
fn reads_cognito_routes_with_their_scopes() {
    let stack = parse_with(&stack_with_route("{ function: api, auth: cognito, scopes: [items/write] }"), &[]).unwrap();
    let route = &stack.api.unwrap().routes[0];
    assert_eq!(
        (route.auth, route.scopes.as_slice()),
        (crate::stack::Auth::Cognito, ["items/write".to_string()].as_slice())
    );
    let stack = parse_with(&stack_with_route("{ function: api, auth: cognito }"), &[]).unwrap();
    assert!(stack.api.unwrap().routes[0].scopes.is_empty());
}

#[test]
fn refuses_scopes_off_cognito_routes_undeclared_scopes_and_groups() {
    let cases = [
        (
            "{ function: api, auth: iam, scopes: [items/write] }",
            "api.routes.POST /items.scopes",
            "only on `auth: cognito`",
        ),
        ("{ function: api, auth: cognito, scopes: [items/read] }", "api.routes.POST /items.scopes[0]", "not a scope"),
        ("{ function: api, auth: cognito, groups: [admins] }", "api.routes.POST /items.groups", "cannot check groups"),
    ];
    for (route, path, words) in cases {
        let errors = parse_with(&stack_with_route(route), &[]).unwrap_err();
        let found = errors.items.iter().find(|d| d.path == path && d.message.contains(words));
        assert!(found.is_some_and(|d| d.hint.is_some()), "{route}: {errors:?}");
    }
    let text = stack_with_route("{ function: api, auth: cognito }").replace(
        "user_pool:\n  resource_servers:\n    items: { name: Items, scopes: { write: may change items } }\n",
        "",
    );
    let errors = parse_with(&text, &[]).unwrap_err();
    assert!(
        errors.items.iter().any(|d| d.path == "api.routes.POST /items.auth" && d.message.contains("no `user_pool`"))
    );
}
