"""authdemo's test emulator: moto's server, patched in-process to behave like AWS where it matters.

Stock moto is more lenient than AWS (see ../shared/AWS-NOTES.md, "Gaps"). A tool tested against a
lenient emulator ships bugs that only AWS catches, so this launcher adds the refusals AWS makes and
the operations moto lacks, for the moto version pinned in requirements.txt, then serves on loopback.

It also records every request it serves, keyed by the SDK user agent's app id
(`AWS_SDK_UA_APP_ID`), so a test can ask which operations one run of the tool called:
`GET /_authdemo/requests?app=ID` answers a JSON list of operation names.

Usage: python launcher.py [--port N] [--parent-pid PID] [--latency-ms MS]
Prints `READY <port>` on stdout once it accepts connections; exits when PARENT-PID is gone.
"""

import argparse
import io
import json
import os
import re
import socket
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import parse_qs

import moto
from werkzeug.serving import make_server

PINNED_MOTO = "5.2.5"
# How long a hosted-UI domain stays CREATING after its create and DELETING after its delete.
DOMAIN_SETTLE_S = 0.4


def patch_cognito_idp():
    """User pools: refusals and reset semantics AWS has and moto 5.2.5 lacks."""
    from moto.cognitoidp import models
    from moto.cognitoidp.exceptions import InvalidParameterException

    backend = models.CognitoIdpBackend

    original_delete_pool = backend.delete_user_pool

    def delete_user_pool(self, user_pool_id):
        pool = self.describe_user_pool(user_pool_id)
        if pool.extended_config.get("DeletionProtection") == "ACTIVE":
            raise InvalidParameterException(
                "The user pool cannot be deleted because deletion protection is activated. "
                "Deletion protection must be inactivated first."
            )
        if pool.domain is not None:
            raise InvalidParameterException(
                "User pool cannot be deleted. It has a domain configured that should be deleted first."
            )
        return original_delete_pool(self, user_pool_id)

    original_create_domain = backend.create_user_pool_domain

    def create_user_pool_domain(self, user_pool_id, domain, custom_domain_config=None):
        pool = self.describe_user_pool(user_pool_id)
        if not custom_domain_config:
            if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", domain) or any(
                word in domain for word in ("aws", "amazon", "cognito")
            ):
                raise InvalidParameterException(f"Invalid domain prefix: {domain}")
        # A prefix domain is unique per region across every account.
        for account_backends in models.cognitoidp_backends.values():
            regional = account_backends.get(self.region_name)
            if regional is not None and domain in regional.user_pool_domains:
                raise InvalidParameterException("Domain already associated with another user pool.")
        if pool.domain is not None:
            raise InvalidParameterException("User pool already has a domain configured.")
        created = original_create_domain(self, user_pool_id, domain, custom_domain_config)
        created.settles_at = time.time() + DOMAIN_SETTLE_S
        return created

    def delete_user_pool_domain(self, domain):
        # AWS deletes a domain asynchronously: it stays (DELETING, still attached to its pool and
        # holding its prefix) for a while.
        found = self.user_pool_domains.get(domain)
        if found is None:
            raise models.ResourceNotFoundError(domain)
        if getattr(found, "deleting", False):
            return
        found.deleting = True
        found.settles_at = time.time() + DOMAIN_SETTLE_S
        threading.Timer(DOMAIN_SETTLE_S, lambda: self.user_pool_domains.pop(domain, None)).start()

    original_domain_json = models.CognitoIdpUserPoolDomain.to_json

    def domain_json(self, extended=True):
        described = original_domain_json(self, extended)
        if extended and time.time() < getattr(self, "settles_at", 0):
            described["Status"] = "DELETING" if getattr(self, "deleting", False) else "CREATING"
        return described

    models.CognitoIdpUserPoolDomain.to_json = domain_json

    def update_user_pool(self, user_pool_id, extended_config):
        # AWS resets omitted settings to defaults but keeps what cannot change after creation.
        pool = self.describe_user_pool(user_pool_id)
        # DescribeUserPool hands back the deprecated UnusedAccountValidityDays, but an update that
        # sends it back is refused. (The Rust SDK always serializes it, as 0 when unset.)
        if (extended_config.get("AdminCreateUserConfig") or {}).get("UnusedAccountValidityDays"):
            raise InvalidParameterException(
                "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays"
            )
        kept = {
            key: pool.extended_config[key]
            for key in ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")
            if key in pool.extended_config
        }
        pool.update_extended_config({**extended_config, **kept})

    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        # AWS resets every omitted field of the client to its default.
        pool = self.describe_user_pool(user_pool_id)
        client = pool.clients.get(client_id)
        if not client:
            raise models.ResourceNotFoundError(client_id)
        kept = {
            key: client.extended_config[key]
            for key in ("ClientSecret",)
            if key in client.extended_config
        }
        client.extended_config = {**extended_config, **kept}
        return client

    backend.delete_user_pool = delete_user_pool
    backend.create_user_pool_domain = create_user_pool_domain
    backend.delete_user_pool_domain = delete_user_pool_domain
    backend.update_user_pool = update_user_pool
    backend.update_user_pool_client = update_user_pool_client


def patch_cognito_identity():
    """Identity pools: the role attachment moto lacks, and the checks AWS makes when it hands out
    credentials (a trusted provider and audience, an attached role whose trust policy names the
    pool), so a test that gets credentials proves the wiring."""
    import base64

    from moto.cognitoidentity import models, responses
    from moto.cognitoidentity.exceptions import ResourceNotFoundError
    from moto.core.exceptions import JsonRESTError
    from moto.iam.models import iam_backends

    backend = models.CognitoIdentityBackend
    response = responses.CognitoIdentityResponse

    def refuse(error_type, message):
        error = JsonRESTError(error_type, message)
        error.code = 400
        return error

    def pool_of(self, pool_id):
        pool = self.identity_pools.get(pool_id)
        if pool is None:
            raise ResourceNotFoundError(pool_id)
        return pool

    role_arn = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+")

    def set_identity_pool_roles(self):
        pool = pool_of(self.backend, self._get_param("IdentityPoolId"))
        roles = self._get_param("Roles") or {}
        for kind, arn in roles.items():
            if kind not in ("authenticated", "unauthenticated") or not role_arn.fullmatch(arn or ""):
                raise refuse("InvalidParameterException", f"Invalid role {kind}: {arn}")
        pool.roles = roles
        pool.role_mappings = self._get_param("RoleMappings") or {}
        return ""

    def get_identity_pool_roles(self):
        pool = pool_of(self.backend, self._get_param("IdentityPoolId"))
        return json.dumps(
            {
                "IdentityPoolId": pool.identity_pool_id,
                "Roles": getattr(pool, "roles", {}),
                "RoleMappings": getattr(pool, "role_mappings", {}),
            }
        )

    original_update = backend.update_identity_pool

    def update_identity_pool(self, identity_pool_id, identity_pool_name, allow_unauthenticated, login_providers,
                             provider_name, provider_arns, identity_providers, saml_providers, tags):
        # AWS replaces the whole configuration: omitted provider lists are emptied.
        pool_of(self, identity_pool_id)
        return original_update(self, identity_pool_id, identity_pool_name, allow_unauthenticated,
                               login_providers or {}, provider_name, provider_arns or [],
                               identity_providers or [], saml_providers or [], tags)

    def jwt_claims(token):
        try:
            payload = token.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            raise refuse("NotAuthorizedException", "Invalid login token.")

    def regional(self, qualified_id):
        # GetId and GetCredentialsForIdentity are unsigned, so the region comes from the id.
        return models.cognitoidentity_backends[self.current_account][qualified_id.split(":")[0]]

    def get_id(self):
        pool_id = self._get_param("IdentityPoolId")
        backend = regional(self, pool_id)
        pool = pool_of(backend, pool_id)
        logins = self._get_param("Logins") or {}
        if not logins and not pool.allow_unauthenticated_identities:
            raise refuse("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
        for provider_name, token in logins.items():
            claims = jwt_claims(token)
            trusted = [
                p for p in pool.cognito_identity_providers
                if p.get("ProviderName") == provider_name and p.get("ClientId") == claims.get("aud")
            ]
            if not trusted or claims.get("iss") != f"https://{provider_name}":
                raise refuse("NotAuthorizedException", "Invalid login token. Couldn't verify signed token.")
        body = json.loads(backend.get_id(identity_pool_id=pool_id))
        backend.identity_kinds = getattr(backend, "identity_kinds", {})
        backend.identity_kinds[body["IdentityId"]] = (pool_id, bool(logins))
        return json.dumps(body)

    def trusts(document, pool_id, amr):
        for statement in document.get("Statement", []):
            principal = statement.get("Principal", {}).get("Federated")
            conditions = statement.get("Condition", {})
            aud = conditions.get("StringEquals", {}).get("cognito-identity.amazonaws.com:aud")
            amrs = conditions.get("ForAnyValue:StringLike", {}).get("cognito-identity.amazonaws.com:amr")
            if (statement.get("Effect") == "Allow" and principal == "cognito-identity.amazonaws.com"
                    and statement.get("Action") in ("sts:AssumeRoleWithWebIdentity", ["sts:AssumeRoleWithWebIdentity"])
                    and aud == pool_id and amr in (amrs if isinstance(amrs, list) else [amrs])):
                return True
        return False

    def get_credentials_for_identity(self):
        identity_id = self._get_param("IdentityId")
        backend = regional(self, identity_id)
        kinds = getattr(backend, "identity_kinds", {})
        if identity_id not in kinds:
            raise ResourceNotFoundError(identity_id)
        pool_id, authenticated = kinds[identity_id]
        pool = pool_of(backend, pool_id)
        kind = "authenticated" if authenticated else "unauthenticated"
        arn = getattr(pool, "roles", {}).get(kind)
        if not arn:
            raise refuse("InvalidIdentityPoolConfigurationException",
                         "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
        try:
            role = iam_backends[self.current_account]["global"].get_role_by_arn(arn)
        except Exception:
            raise refuse("InvalidIdentityPoolConfigurationException", f"Role {arn} does not exist.")
        document = role.assume_role_policy_document
        document = json.loads(document) if isinstance(document, str) else document
        if not trusts(document, pool_id, kind):
            raise refuse("InvalidIdentityPoolConfigurationException",
                         f"Invalid identity pool configuration: {arn} does not trust this pool for {kind} identities.")
        body = json.loads(backend.get_credentials_for_identity(identity_id))
        body["RoleArn"] = arn
        return json.dumps(body)

    response.set_identity_pool_roles = set_identity_pool_roles
    response.get_identity_pool_roles = get_identity_pool_roles
    response.get_id = get_id
    response.get_credentials_for_identity = get_credentials_for_identity
    backend.update_identity_pool = update_identity_pool


def patch_apigateway():
    """REST APIs and usage plans: UpdateMethod (missing in moto), numbers where moto stores strings,
    and the refusals AWS makes that moto skips."""
    from moto.apigateway import models, responses
    from moto.apigateway.exceptions import BadRequestException, ConflictException, NotFoundException

    backend = models.APIGatewayBackend
    response = responses.APIGatewayResponse

    original_create_resource = backend.create_resource

    def create_resource(self, function_id, parent_resource_id, path_part):
        api = self.get_rest_api(function_id)
        if parent_resource_id not in api.resources:
            raise NotFoundException(f"Invalid Resource identifier specified: {parent_resource_id}")
        for resource in api.resources.values():
            if resource.parent_id == parent_resource_id and resource.path_part == path_part:
                raise ConflictException(f"Another resource with the same parent already has this name: {path_part}")
        return original_create_resource(self, function_id, parent_resource_id, path_part)

    def delete_resource(self, function_id, resource_id):
        # AWS deletes the resource with everything below it.
        api = self.get_rest_api(function_id)
        if resource_id not in api.resources:
            raise NotFoundException("Invalid Resource identifier specified")
        doomed = {resource_id}
        while True:
            children = {r.id for r in api.resources.values() if r.parent_id in doomed} - doomed
            if not children:
                break
            doomed |= children
        for child in doomed - {resource_id}:
            api.resources.pop(child)
        return api.resources.pop(resource_id)

    original_put_method = backend.put_method

    def put_method(self, function_id, resource_id, method_type, *args, **kwargs):
        resource = self.get_resource(function_id, resource_id)
        if method_type in resource.resource_methods:
            raise ConflictException("Method already exists for this resource")
        return original_put_method(self, function_id, resource_id, method_type, *args, **kwargs)

    original_delete_deployment = backend.delete_deployment

    def delete_deployment(self, function_id, deployment_id):
        api = self.get_rest_api(function_id)
        if any(stage.deployment_id == deployment_id for stage in api.stages.values()):
            raise BadRequestException("Active stages pointing to this deployment must be moved or deleted")
        return original_delete_deployment(self, function_id, deployment_id)

    def update_method(self):
        parts = self.path.split("/")
        method = self.backend.get_method(parts[2], parts[4], parts[6])
        for operation in self._get_param("patchOperations") or []:
            path, value = operation.get("path"), operation.get("value")
            if operation.get("op") != "replace":
                raise BadRequestException(f"Invalid patch operation specified: {operation.get('op')}")
            if path == "/authorizationType":
                method.authorization_type = value
            elif path == "/apiKeyRequired":
                method.api_key_required = str(value).lower() == "true"
            elif path == "/operationName":
                method.operation_name = value
            else:
                raise BadRequestException(f"Invalid patch path {path}")
        return 200, {}, json.dumps(method.to_json())

    original_apply_patch = models.UsagePlan.apply_patch_operations

    def usage_plan_patch(self, patch_operations):
        # moto stores a patched quota limit as the JSON string it came in, which SDKs cannot
        # parse back; AWS stores a number.
        original_apply_patch(self, patch_operations)
        for key in ("limit", "offset"):
            if key in self.quota:
                self.quota[key] = int(self.quota[key])

    def delete_usage_plan(self, usage_plan_id):
        plan = self.usage_plans.get(usage_plan_id)
        if plan is None:
            raise NotFoundException("Invalid Usage Plan ID specified")
        if plan.api_stages:
            raise BadRequestException(
                f"Cannot delete Usage Plan {usage_plan_id} because there are API Stages associated with it"
            )
        self.usage_plans.pop(usage_plan_id)

    original_create_plan_key = backend.create_usage_plan_key

    def create_usage_plan_key(self, usage_plan_id, payload):
        if usage_plan_id not in self.usage_plans:
            raise NotFoundException("Invalid Usage Plan ID specified")
        if payload["keyId"] in self.usage_plan_keys.get(usage_plan_id, {}):
            raise ConflictException(f"Usage Plan {usage_plan_id} already has API key {payload['keyId']}")
        return original_create_plan_key(self, usage_plan_id, payload)

    models.UsagePlan.apply_patch_operations = usage_plan_patch
    backend.delete_usage_plan = delete_usage_plan
    backend.create_usage_plan_key = create_usage_plan_key
    backend.create_resource = create_resource
    backend.delete_resource = delete_resource
    backend.put_method = put_method
    backend.delete_deployment = delete_deployment
    response.update_method = update_method


class RequestRecorder:
    """WSGI middleware recording each request's operation under the caller's SDK app id."""

    APP_ID = re.compile(r"\bapp/([^\s]+)")

    def __init__(self, app, latency_ms=0):
        self.app = app
        self.latency = latency_ms / 1000
        self.lock = threading.Lock()
        self.calls = defaultdict(list)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_authdemo/requests":
            app_id = parse_qs(environ.get("QUERY_STRING", "")).get("app", [""])[0]
            with self.lock:
                body = json.dumps(self.calls.get(app_id, [])).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        match = self.APP_ID.search(environ.get("HTTP_USER_AGENT", ""))
        if match:
            operation = self.operation(environ)
            with self.lock:
                self.calls[match.group(1)].append(operation)
        if self.latency:
            time.sleep(self.latency)
        return self.app(environ, start_response)

    @staticmethod
    def operation(environ):
        """The operation name: from X-Amz-Target (JSON protocols), the form's Action (query
        protocols, e.g. STS and IAM), else the method and path (REST protocols)."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return target.rpartition(".")[2]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            action = parse_qs(body.decode()).get("Action")
            if action:
                return action[0]
        return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exit_with_parent(parent_pid):
    while True:
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every AWS call, as the network to AWS does")
    args = parser.parse_args()

    if moto.__version__ != PINNED_MOTO:
        sys.exit(f"launcher.py patches moto {PINNED_MOTO}, found {moto.__version__}")
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    patch_cognito_idp()
    patch_cognito_identity()
    patch_apigateway()

    port = args.port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    app = RequestRecorder(DomainDispatcherApplication(create_backend_app), args.latency_ms)
    server = make_server("127.0.0.1", port, app, threaded=True)
    if args.parent_pid:
        threading.Thread(target=exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
