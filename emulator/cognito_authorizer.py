"""Cognito user pool tokens at API Gateway, which moto 5.2.5 does not check: resource servers with
their custom scopes, COGNITO_USER_POOLS authorizers, and the data plane's check of a call's token.

Patched into moto by `patch()` (launcher.py):

- cognito-idp `UpdateResourceServer` and `DeleteResourceServer`, which moto lacks, and AWS's
  limits on resource servers; an app client may list a custom scope (`IDENTIFIER/SCOPE`) in
  `AllowedOAuthScopes` only when a resource server of its pool declares it (else 400
  ScopeDoesNotExistException), as on AWS;
- apigateway: `UpdateAuthorizer` on `/providerARNs` (add, remove), which moto refuses; a method
  with `COGNITO_USER_POOLS` authorization needs the id of a COGNITO_USER_POOLS authorizer of its
  API (400 BadRequestException); an authorizer a method uses cannot be deleted (409
  ConflictException); a deployment snapshots the API's authorizers with its methods.

Custom scopes reach an access token only through the OAuth endpoints of the pool's domain
(hosted_ui.py): Cognito's own InitiateAuth access tokens carry only `aws.cognito.signin.user.admin`
(AWS knowledge center "api-calls-access-tokens-custom-scopes"), and moto keeps that.

`authorize(deployed, method, request)` is the data plane's COGNITO_USER_POOLS check, as API Gateway
makes it: the `Authorization` header's JWT, signed by the key of a user pool the authorizer names
(its `iss`), not expired, issued to a client of that pool (`aud` of an ID token, `client_id` of an
access token); a method without `authorizationScopes` takes only ID tokens, one with scopes only
access tokens whose `scope` claim holds one of them. Every refusal is 401 `{"message":
"Unauthorized"}` (gateway response UNAUTHORIZED), as API Gateway answers a missing, bad, expired,
wrong-kind or wrong-scope token (AWS knowledge center "api-gateway-cognito-401-unauthorized").
"""

import json
import re
import time

from dataplane import GatewayError

COGNITO = "COGNITO_USER_POOLS"
MAX_SCOPES = 100
MAX_RESOURCE_SERVERS = 25
STANDARD_SCOPES = {"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}
POOL_ARN = re.compile(r"arn:[^:]+:cognito-idp:(?P<region>[^:]+):(?P<account>\d+):userpool/(?P<pool>.+)")


def unauthorized():
    return GatewayError("UNAUTHORIZED", 401, {"message": "Unauthorized"}, "UnauthorizedException")


# --- Resource servers and client scopes --------------------------------------------------------

def custom_scopes(pool):
    """Every `IDENTIFIER/SCOPE` the resource servers of `pool` declare."""
    return {f"{identifier}/{scope['ScopeName']}" for identifier, server in pool.resource_servers.items()
            for scope in server.scopes or []}


def patch_cognito_idp():
    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult, EmptyResult

    backend = models.CognitoIdpBackend
    response = responses.CognitoIdpResponse

    def check_scopes(scopes):
        if len(scopes or []) > MAX_SCOPES:
            raise InvalidParameterException(f"1 validation error detected: Value at 'scopes' failed to satisfy "
                                            f"constraint: Member must have length less than or equal to {MAX_SCOPES}")

    original_create_server = backend.create_resource_server

    def create_resource_server(self, user_pool_id, identifier, name, scopes):
        pool = self.describe_user_pool(user_pool_id)
        check_scopes(scopes)
        if identifier not in pool.resource_servers and len(pool.resource_servers) >= MAX_RESOURCE_SERVERS:
            raise JsonRESTError("LimitExceededException", "The maximum number of resource servers was reached.")
        return original_create_server(self, user_pool_id, identifier, name, scopes)

    def server_of(self, pool_id, identifier):
        pool = self.backend.describe_user_pool(pool_id)
        server = pool.resource_servers.get(identifier)
        if server is None:
            raise ResourceNotFoundError(f"Resource server {identifier} does not exist.")
        return pool, server

    def update_resource_server(self):
        _, server = server_of(self, self._get_param("UserPoolId"), self._get_param("Identifier"))
        check_scopes(self._get_param("Scopes"))
        server.name = self._get_param("Name")
        server.scopes = self._get_param("Scopes") or []
        return ActionResult({"ResourceServer": server.to_json()})

    def delete_resource_server(self):
        pool, _ = server_of(self, self._get_param("UserPoolId"), self._get_param("Identifier"))
        pool.resource_servers.pop(self._get_param("Identifier"))
        return EmptyResult()

    def refuse_unknown_scopes(pool, extended_config):
        for scope in extended_config.get("AllowedOAuthScopes") or []:
            if scope not in STANDARD_SCOPES and scope not in custom_scopes(pool):
                raise JsonRESTError("ScopeDoesNotExistException", f"Invalid scope requested: {scope}")

    def checking_scopes(original):
        def changed(self, user_pool_id, *args):
            refuse_unknown_scopes(self.describe_user_pool(user_pool_id), args[-1])
            return original(self, user_pool_id, *args)
        return changed

    backend.create_resource_server = create_resource_server
    backend.create_user_pool_client = checking_scopes(backend.create_user_pool_client)
    backend.update_user_pool_client = checking_scopes(backend.update_user_pool_client)
    response.update_resource_server = update_resource_server
    response.delete_resource_server = delete_resource_server


# --- Authorizers --------------------------------------------------------------------------------

def patch_apigateway():
    from moto.apigateway import models
    from moto.apigateway.exceptions import BadRequestException, ConflictException

    backend = models.APIGatewayBackend
    original_put_method = backend.put_method

    def put_method(self, function_id, resource_id, method_type, authorization_type, *args, **kwargs):
        if authorization_type == COGNITO:
            authorizer = self.get_rest_api(function_id).authorizers.get(kwargs.get("authorizer_id") or "")
            if authorizer is None or authorizer.type != COGNITO:
                raise BadRequestException("Invalid authorizer ID specified. Setting the authorization type to "
                                          "COGNITO_USER_POOLS requires a valid authorizer.")
        return original_put_method(self, function_id, resource_id, method_type, authorization_type, *args, **kwargs)

    original_delete_authorizer = backend.delete_authorizer

    def delete_authorizer(self, restapi_id, authorizer_id):
        api = self.get_rest_api(restapi_id)
        for resource in api.resources.values():
            for name, method in resource.resource_methods.items():
                if method.authorizer_id == authorizer_id:
                    raise ConflictException(f"Cannot delete authorizer '{api.authorizers[authorizer_id].name}', "
                                            f"is referenced in method: {name}/{resource.get_path()}")
        return original_delete_authorizer(self, restapi_id, authorizer_id)

    original_apply = models.Authorizer.apply_operations

    def apply_operations(self, patch_operations):
        others = []
        for operation in patch_operations:
            if operation.get("path") != "/providerARNs":
                others.append(operation)
            elif operation.get("op") == "add":
                self.provider_arns = sorted(set(self.provider_arns or []) | {operation["value"]})
            elif operation.get("op") == "remove":
                self.provider_arns = [arn for arn in self.provider_arns or [] if arn != operation.get("value")]
            else:
                raise BadRequestException(f"Invalid patch operation specified: {operation.get('op')} /providerARNs")
        return original_apply(self, others)

    backend.put_method = put_method
    backend.delete_authorizer = delete_authorizer
    models.Authorizer.apply_operations = apply_operations


def update_method_scopes(method, operation):
    """Applies one UpdateMethod patch on `/authorizerId` or `/authorizationScopes` to `method`;
    whether it was one (launcher.py's UpdateMethod hands them here)."""
    path, op, value = operation.get("path"), operation.get("op"), operation.get("value")
    if path == "/authorizerId" and op == "replace":
        method.authorizer_id = value or None
    elif path == "/authorizationScopes" and op == "add":
        method.authorization_scopes = sorted(set(method.authorization_scopes or []) | {value})
    elif path == "/authorizationScopes" and op == "remove":
        method.authorization_scopes = [s for s in method.authorization_scopes or [] if s != value] or None
    else:
        return False
    return True


def patch():
    patch_cognito_idp()
    patch_apigateway()


# --- The data plane's check ---------------------------------------------------------------------

def find_pool(account, pool_id):
    from moto.cognitoidp.models import cognitoidp_backends

    for backend in list(cognitoidp_backends[account].values()):
        pool = backend.user_pools.get(pool_id or "")
        if pool is not None:
            return pool
    return None


def claims_of(token, pools):
    """The verified claims of `token` if a pool of `pools` (pool id -> moto user pool) signed it."""
    from joserfc import jwt

    try:
        header = json.loads(jwt_part(token, 0))
        issuer = json.loads(jwt_part(token, 1)).get("iss", "")
    except (ValueError, IndexError):
        raise unauthorized()
    pool = pools.get(issuer.rsplit("/", 1)[-1])
    if pool is None or header.get("alg") != "RS256" or issuer != pool_issuer(pool):
        raise unauthorized()
    try:
        return pool, jwt.decode(token, pool.json_web_key).claims
    except Exception:  # joserfc raises a family of errors for a bad signature or token
        raise unauthorized()


def jwt_part(token, index):
    import base64

    part = token.split(".")[index]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def pool_issuer(pool):
    return f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.id}"


def authorizer_pools(deployed, authorizer):
    """The user pools (id -> moto pool) that `authorizer` (as deployed) names."""
    pools = {}
    for arn in authorizer.get("providerARNs") or []:
        found = POOL_ARN.fullmatch(arn)
        pool = find_pool(found.group("account"), found.group("pool")) if found else None
        if pool is not None and found.group("account") == deployed.account:
            pools[pool.id] = pool
    return pools


def authorize(deployed, method, request):
    """Refuses the call (401) unless its token passes the method's COGNITO_USER_POOLS authorizer;
    the token's claims otherwise."""
    authorizer = deployed.authorizers.get(method.get("authorizerId") or "")
    if authorizer is None or authorizer.get("type") != COGNITO:
        raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, {"message": "Authorizer configuration error"},
                           "AuthorizerConfigurationException")
    source = authorizer.get("identitySource") or ""
    token = request.header(source.removeprefix("method.request.header.")) if source else None
    if not token:
        raise unauthorized()
    pool, claims = claims_of(token.removeprefix("Bearer "), authorizer_pools(deployed, authorizer))
    scopes = method.get("authorizationScopes") or []
    kind = "access" if scopes else "id"
    client = claims.get("client_id") if kind == "access" else claims.get("aud")
    if claims.get("token_use") != kind or client not in pool.clients or claims.get("exp", 0) <= time.time():
        raise unauthorized()
    if scopes and not set(scopes) & set((claims.get("scope") or "").split()):
        raise unauthorized()
    return claims
