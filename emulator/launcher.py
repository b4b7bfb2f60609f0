"""authdemo's test emulator: moto's server, patched in-process to behave like AWS where it matters.

Stock moto is more lenient than AWS (see ../shared/AWS-NOTES.md, "Gaps"). A tool tested against a
lenient emulator ships bugs that only AWS catches, so this launcher adds the refusals AWS makes and
the operations moto lacks, for the moto version pinned in requirements.txt, then serves on loopback.
Among them: the tag operations of user pools, identity pools, REST APIs, usage plans and API keys,
AWS's tag rules on every tag call (see `tag_problem`), and its size limits on policies: a role's
inline policies together at most 10,240 characters without whitespace (PutRolePolicy: 409
LimitExceeded), a function's resource policy at most 20,480 bytes (AddPermission: 400
PolicyLengthExceededException). User pool groups in tokens and the identity pool's role mappings
are in groups.py.

It also records every request it serves, keyed by the SDK user agent's app id
(`AWS_SDK_UA_APP_ID`), so a test can ask which operations one run of the tool called:
`GET /_authdemo/requests?app=ID` answers a JSON list of operation names (the whole app id, profile
included; throttled and refused calls count too), and `GET /_authdemo/throttled?app=ID` a JSON
number: how many of them got a throttling answer (from `r` or `tN` below).

Fault profiles. AWS fails transiently where moto never does, and the tool must retry. Tests share
one emulator, so each run asks for its faults in its app id: after the marker `-F`, dot-separated
tokens, e.g. `t123r4-Fc10.l400.i8.t10` or `t123r4-Fr.d50`. An app id without `-F` gets none; an
unknown token is an error (HTTP 500, traceback in the emulator's log).

  cN  Concurrent modification, by real overlap: a change to a REST API (PATCH or DELETE of the
      API, or PUT/POST/PATCH/DELETE of any of its children: resources, methods, integrations,
      authorizers, gateway responses, deployments, stages) while another change to the same API
      is being served or less than N ms after it was answered is 409 ConflictException; so is a
      CreateRole or DeleteRole of a role name while another one of that name is being served or
      less than N ms after it (IAM's 409 ConcurrentModification). Every change is timed, whatever
      its profile; only a request whose own profile has `c` is refused.
  lN  Lambda's windows last N ms: after CreateFunction the function reports `State: Pending`, after
      UpdateFunctionCode / UpdateFunctionConfiguration `LastUpdateStatus: InProgress`. Meanwhile
      UpdateFunctionCode, UpdateFunctionConfiguration, AddPermission, RemovePermission and
      TagResource on it are 409 ResourceConflictException (DeleteFunction is allowed, as on AWS).
      Each AddPermission / RemovePermission also keeps its function busy for 30 ms, so an
      overlapping change gets the same 409.
  iN  An IAM role is unusable for N s after its CreateRole: CreateFunction or
      UpdateFunctionConfiguration naming it is 400 InvalidParameterValueException, and
      SetIdentityPoolRoles naming it 400 InvalidParameterException.
  tN  N% of AWS calls are throttled before moto sees them, each in its service's shape: API Gateway
      and Lambda 429 TooManyRequestsException, Cognito 400 TooManyRequestsException, IAM and STS
      400 Throttling.
  r   AWS's control-plane rate limits (no number), as token buckets of the one account the emulator
      serves: shared by every request whose profile has `r`, whatever its run, and drawn on by no
      other. A call over a limit gets the throttling answer of `tN`. API Gateway: 10/s with a
      burst of 40 for all calls, and per operation CreateDeployment 1 per 5 s, UpdateUsagePlan 1
      per 20 s, CreateRestApi 1 per 3 s, DeleteRestApi 1 per 30 s, CreateResource, DeleteResource,
      CreateApiKey and DeleteApiKey 5/s, GetResources 5 per 2 s. Lambda: 15/s for all calls but
      GetFunction (100/s) and GetPolicy (15/s), which have their own. Cognito user pools: per
      category of operations (COGNITO_CATEGORIES: UserPoolRead 15/s, UserPoolClientUpdate 15/s
      and 5/s per user pool, UserRead 120/s, UserCreation 50/s, ...). Cognito identity: GetId
      25/s and TagResource 5/s. IAM and STS publish no such limits and get none. (A bucket of N/s
      holds N tokens; one of 1 per 5 s holds 1, refilled in 5 s.)
  dN  Every request is answered N ms after it arrived, as the round trip to AWS makes it: it is
      served on arrival, the emulator's own work inside those N ms when it fits. AWS serves a
      client's concurrent calls side by side; the emulator's Python, one request at a time under
      the GIL, would otherwise add each call's work to the next one's latency. (Serving on
      arrival rather than halfway moves every effect by the same N/2, so no chain of calls and
      waits is shorter for it: a wait for a state still begins when the change is served.)
  eN  N% of the creates that succeed are answered with a server error all the same, their resource
      kept (a 5xx after the write happened): CreateUserPool, CreateUserPoolClient,
      CreateIdentityPool, CreateRestApi, CreateUsagePlan, CreateApiKey, CreateRole and
      CreateFunction. Each in its service's shape: Cognito 500 InternalErrorException, API Gateway
      503 ServiceUnavailableException, IAM 500 ServiceFailure, Lambda 500 ServiceException.
  oN  The hosted UI's authorization codes issued to the run last N ms instead of 5 minutes.
  sN  Lists and IAM's reads lag N ms (see lag.py): ListUserPools, ListIdentityPools, GetRestApis,
      GetUsagePlans, GetApiKeys and ListRoles leave out what was created in the last N ms, and
      GetRole answers what the role was N ms ago (absent if created since, its old tags).

Percentages draw from a random.Random seeded with the app id, so retries eventually pass. The
emulator times every role and function change whatever the profile; a window is measured with, and
seen only by, a request whose own profile has the token.

The data plane of API Gateway, which moto lacks, is served by dataplane.py: a deployed stage
answers at `/restapis/<api_id>/<stage>/_user_request_/<path>` on this port (see its doc), checking
API keys and usage plans, SigV4 signatures of the credentials GetCredentialsForIdentity issued
here, the signer's role policies, and running Lambda proxies under the machine's `node`.
Each user pool domain's hosted UI (the OAuth 2.0 endpoints, a sign-in form) is served by
hosted_ui.py at `/_hosted_ui_/<prefix>.auth.<region>.amazoncognito.com/...`, over HTTP or TLS on
this port (see its doc).

Usage: python launcher.py [--port N] [--parent-pid PID] [--latency-ms MS]
Prints `READY <port>` on stdout once it accepts connections; exits when PARENT-PID is gone.
"""

import argparse
import io
import json
import os
import random
import re
import socket
import sys
import threading
import time
import types
import uuid
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs

import moto
from moto.core.exceptions import JsonRESTError
from werkzeug.serving import make_server

import cognito_authorizer
import dataplane
import groups
import hosted_ui
import iam_details
import iam_enforce
import lag
import srp
from dataplane import DataPlane

PINNED_MOTO = "5.2.5"
# How long a hosted-UI domain stays CREATING after its create and DELETING after its delete
# (scripts/bench-aws-like counts the same in its bound: SETTLE).
DOMAIN_SETTLE_S = 0.4

APP_ID = re.compile(r"\bapp/([^\s]+)")


def app_id_of(environ):
    """The SDK app id in the request's user agent, or ''."""
    match = APP_ID.search(environ.get("HTTP_USER_AGENT", ""))
    return match.group(1) if match else ""


@dataclass(frozen=True)
class Faults:
    """A fault profile (see the module doc); 0 turns a fault off."""

    conflict_window_ms: int = 0  # cN
    lambda_window_ms: int = 0  # lN
    role_delay_s: int = 0  # iN
    throttle_percent: int = 0  # tN
    rate_limits: bool = False  # r
    delay_ms: int = 0  # dN
    lost_create_percent: int = 0  # eN
    oauth_code_ms: int = 0  # oN
    listing_lag_ms: int = 0  # sN


FAULT_TOKENS = {"c": "conflict_window_ms", "l": "lambda_window_ms", "i": "role_delay_s", "t": "throttle_percent",
                "d": "delay_ms", "e": "lost_create_percent", "o": "oauth_code_ms", "s": "listing_lag_ms"}
FLAG_TOKENS = {"r": "rate_limits"}  # tokens without a number


def parse_faults(app_id):
    """The profile after `-F` in an app id: `t1r2-Fc10.l400.r` is conflicts within 10 ms of another
    change, 400 ms Lambda windows and the rate limits."""
    _, marker, spec = app_id.partition("-F")
    fields = {}
    for token in spec.split(".") if marker else []:
        if token in FLAG_TOKENS:
            fields[FLAG_TOKENS[token]] = True
            continue
        match = re.fullmatch(r"([a-z])(\d+)", token)
        if not match or match.group(1) not in FAULT_TOKENS:
            raise ValueError(f"unknown fault token {token!r} in app id {app_id!r}")
        fields[FAULT_TOKENS[match.group(1)]] = int(match.group(2))
    return Faults(**fields)


REQUEST = threading.local()  # the profile of the request this thread serves, set by FaultInjector


def faults():
    return getattr(REQUEST, "faults", Faults())


def aws_error(status, error_type, body, content_type="application/json"):
    """An AWS error answer with the given body: raised inside moto, or served as a WSGI app."""
    error = JsonRESTError(error_type, "")
    error.code = status
    error.description = body if isinstance(body, str) else json.dumps(body)
    error.content_type = content_type
    return error


def lambda_error(status, error_type, message):
    return aws_error(status, error_type, {"Type": "User", "message": message})


ROLE_CREATED = {}  # role ARN -> time.monotonic() of its CreateRole
ROLE_POLICIES_LIMIT = 10240  # characters of a role's inline policies together, whitespace left out
FUNCTION_POLICY_LIMIT = 20480  # bytes of a function's resource policy


# Lambda runtimes past their blocks, as AWS's runtime table gives them: (create block, update
# block, successor). authdemo's own table is src/stack/runtime.rs.
RUNTIME_BLOCKS = {
    "nodejs20.x": ("2026-08-31", "2026-09-30", "nodejs24.x"),
    "nodejs18.x": ("2026-02-03", "2026-03-09", "nodejs24.x"),
    "python3.9": ("2026-01-15", "2026-02-15", "python3.14"),
    "python3.10": ("2026-07-31", "2026-08-31", "python3.14"),
    "python3.11": ("2026-07-31", "2026-08-31", "python3.14"),
    "java17": ("2026-07-31", "2026-08-31", "java25"),
    "provided.al2": ("2026-07-31", "2026-08-31", "provided.al2023"),
    "dotnet8": ("2026-12-10", "2027-01-11", "dotnet10"),
    "nodejs22.x": ("2027-06-01", "2027-07-01", "nodejs24.x"),
    "ruby3.3": ("2027-04-30", "2027-05-31", "ruby3.4"),
}


def emulator_today():
    """The emulator's date (UTC, YYYY-MM-DD); AUTHDEMO_EMULATOR_TODAY pins it for tests."""
    return os.environ.get("AUTHDEMO_EMULATOR_TODAY") or time.strftime("%Y-%m-%d", time.gmtime())


def role_too_new(arn):
    """Whether the caller's profile (`iN`) finds the role at `arn` too new to be assumed."""
    created = ROLE_CREATED.get(arn)
    return created is not None and time.monotonic() - created < faults().role_delay_s


# AWS's tag rules, shared by Cognito, IAM, Lambda and API Gateway (moto checks few or none of them):
# letters, digits, Unicode spaces and `_.:/=+-@` (`\s` without the control characters).
TAG_TEXT = re.compile(r"(?:[^\W]|[_.:/=+\-@]|[^\S\t\n\r\x0b\x0c\x1c-\x1f\x85])*")
MAX_TAGS = 50


def tag_problem(existing, added):
    """What AWS refuses in adding the tags `added` (a dict) to a resource holding `existing`, or
    None: keys of 1-128 characters, values of at most 256, letters, digits, spaces and `_.:/=+-@`
    only, no `aws:` prefix (in any case; AWS's own tags), at most 50 tags besides AWS's own."""
    for key, value in added.items():
        if not 1 <= len(key) <= 128 or not TAG_TEXT.fullmatch(key):
            return f"Invalid tag key: {key!r}"
        if len(value or "") > 256 or not TAG_TEXT.fullmatch(value or ""):
            return f"Invalid tag value for key {key!r}"
        if key.lower().startswith("aws:"):
            return f"Tag keys starting with 'aws:' are reserved for AWS use: {key!r}"
    counted = [key for key in {**existing, **added} if not key.lower().startswith("aws:")]
    if len(counted) > MAX_TAGS:
        return f"A resource can have at most {MAX_TAGS} tags; this would give it {len(counted)}"
    return None


def patch_cognito_idp():
    """User pools: refusals and reset semantics AWS has and moto 5.2.5 lacks; SRP sign-in verified
    and the client's auth flows enforced (srp.py)."""
    from moto.cognitoidp import exceptions, models
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

    original_sign_up = backend.sign_up

    def refuse_developer_only(attributes):
        # Developer-only `dev:` attributes are read-only to every app client (moto writes them).
        if any(a.get("Name", "").startswith("dev:") for a in attributes or []):
            raise exceptions.NotAuthorizedError("A client attempted to write unauthorized attribute")

    original_update_user_attributes = backend.update_user_attributes

    def update_user_attributes(self, access_token, attributes):
        refuse_developer_only(attributes)
        return original_update_user_attributes(self, access_token, attributes)

    backend.update_user_attributes = update_user_attributes

    def sign_up(self, client_id, username, password, attributes):
        refuse_developer_only(attributes)
        # With AllowAdminCreateUserOnly, Cognito refuses SignUp (moto lets anyone in).
        for pool in self.user_pools.values():
            admin_only = (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")
            if client_id in pool.clients and admin_only:
                raise exceptions.NotAuthorizedError("SignUp is not permitted for this user pool")
        return original_sign_up(self, client_id, username, password, attributes)

    backend.sign_up = sign_up
    srp.patch(backend, exceptions)
    srp.enforce_client_flows(backend, exceptions)

    from moto.cognitoidp import responses

    def tagged_pool(self):
        arn = self._get_param("ResourceArn") or ""
        pool_id = arn.rsplit("userpool/", 1)[-1]
        pool = self.backend.user_pools.get(pool_id)
        if pool is None or not arn.startswith("arn:") or "userpool/" not in arn:
            raise models.ResourceNotFoundError(f"User pool {arn} does not exist.")
        return pool

    def tag_resource(self):
        pool = tagged_pool(self)
        tags = self._get_param("Tags") or {}
        existing = pool.extended_config.get("UserPoolTags") or {}
        problem = tag_problem(existing, tags)
        if problem:
            raise InvalidParameterException(problem)
        pool.extended_config["UserPoolTags"] = {**existing, **tags}
        return "{}"

    def untag_resource(self):
        pool = tagged_pool(self)
        keys = self._get_param("TagKeys") or []
        existing = pool.extended_config.get("UserPoolTags") or {}
        pool.extended_config["UserPoolTags"] = {k: v for k, v in existing.items() if k not in keys}
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tagged_pool(self).extended_config.get("UserPoolTags") or {}})

    responses.CognitoIdpResponse.tag_resource = tag_resource
    responses.CognitoIdpResponse.untag_resource = untag_resource
    responses.CognitoIdpResponse.list_tags_for_resource = list_tags_for_resource
    backend.delete_user_pool = delete_user_pool
    backend.create_user_pool_domain = create_user_pool_domain
    backend.delete_user_pool_domain = delete_user_pool_domain
    backend.update_user_pool = update_user_pool
    backend.update_user_pool_client = update_user_pool_client
    patch_refresh_tokens()
    parse_the_signing_key_once(models)


def parse_the_signing_key_once(models):
    """moto parses the same private JWK file for every new user pool, recovering its RSA primes in
    Python: 0.1-0.6 s holding the GIL, which stalls every call the emulator serves meanwhile (AWS's
    CreateUserPool delays no other call). Each parsed key is kept, and every pool signs with the
    one object, as every pool signs with the one key file."""
    real = models.jwk
    parsed = {}

    class CachedRSAKey:
        """joserfc's RSAKey, whose import_key answers a key it parsed before from memory."""

        @staticmethod
        def import_key(data, *args, **kwargs):
            if args or kwargs or not isinstance(data, dict):
                return real.RSAKey.import_key(data, *args, **kwargs)
            text = json.dumps(data, sort_keys=True)
            if text not in parsed:
                parsed[text] = real.RSAKey.import_key(data)
            return parsed[text]

        def __getattr__(self, name):
            return getattr(real.RSAKey, name)

    class Jwk:
        """joserfc's jwk module, but for RSAKey."""

        RSAKey = CachedRSAKey()

        def __getattr__(self, name):
            return getattr(real, name)

    models.jwk = Jwk()


def route_each_host_once():
    """moto's dispatcher finds each request's backend by listing the ~200 module directories of
    its package and matching hundreds of URL patterns, under one lock: about 2 ms of Python per
    call that no other call can overlap, so eight calls at once queued behind each other (AWS
    serves concurrent calls concurrently). A host's backend never changes: it is found once."""
    from moto.moto_server import werkzeug_app

    dispatcher = werkzeug_app.DomainDispatcherApplication
    original = dispatcher.get_backend_for_host
    found = {}

    def get_backend_for_host(self, host):
        if host not in found:
            found[host] = original(self, host)
        return found[host]

    dispatcher.get_backend_for_host = get_backend_for_host


def patch_refresh_tokens():
    """GetTokensFromRefreshToken (AWS, 2025), which moto 5.2.5 lacks and Amplify v6 calls to
    refresh a session: new tokens from a refresh token, as InitiateAuth's REFRESH_TOKEN_AUTH
    gives them (the same refusals of a bad token or client)."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult

    def get_tokens_from_refresh_token(self):
        parameters = {"REFRESH_TOKEN": self._get_param("RefreshToken")}
        result = self._get_region_agnostic_backend().initiate_auth(
            self._get_param("ClientId"), "REFRESH_TOKEN_AUTH", parameters)
        return ActionResult(result)

    CognitoIdpResponse.get_tokens_from_refresh_token = get_tokens_from_refresh_token


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
            if role_too_new(arn):
                raise refuse("InvalidParameterException",
                             "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
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
        check_logins(pool, logins)
        body = json.loads(backend.get_id(identity_pool_id=pool_id))
        backend.identity_kinds = getattr(backend, "identity_kinds", {})
        backend.identity_kinds[body["IdentityId"]] = (pool_id, bool(logins))
        return json.dumps(body)

    def check_logins(pool, logins):
        """Refuses guests of a pool without guest access, and tokens of providers or clients the
        pool does not trust."""
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
        pool_id, linked = kinds[identity_id]
        pool = pool_of(backend, pool_id)
        # As on AWS, the Logins of this call decide: valid tokens give the authenticated role
        # (and link a guest identity to the login, as Amplify relies on after a sign-in); none
        # give the guest role, which an identity linked to a login can no longer get.
        logins = self._get_param("Logins") or {}
        check_logins(pool, logins)
        if linked and not logins:
            raise refuse("NotAuthorizedException", f"Access to Identity '{identity_id}' is forbidden.")
        authenticated = bool(logins)
        kinds[identity_id] = (pool_id, authenticated)
        kind = "authenticated" if authenticated else "unauthenticated"
        arn = getattr(pool, "roles", {}).get(kind)
        if authenticated:
            arn = groups.mapped_role(pool, logins, arn, self._get_param("CustomRoleArn"))
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
        body["Credentials"] = dataplane.issue_credentials(arn, identity_id, pool_id, authenticated)
        body["RoleArn"] = arn
        return json.dumps(body)

    def tagged_identity_pool(self):
        arn = self._get_param("ResourceArn") or ""
        if not arn.startswith("arn:") or "identitypool/" not in arn:
            raise ResourceNotFoundError(arn)
        return pool_of(self.backend, arn.rsplit("identitypool/", 1)[-1])

    def tag_resource(self):
        pool = tagged_identity_pool(self)
        tags = self._get_param("Tags") or {}
        problem = tag_problem(pool.tags, tags)
        if problem:
            raise refuse("InvalidParameterException", problem)
        pool.tags = {**pool.tags, **tags}
        return "{}"

    def untag_resource(self):
        pool = tagged_identity_pool(self)
        keys = self._get_param("TagKeys") or []
        pool.tags = {k: v for k, v in pool.tags.items() if k not in keys}
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tagged_identity_pool(self).tags})

    response.tag_resource = tag_resource
    response.untag_resource = untag_resource
    response.list_tags_for_resource = list_tags_for_resource
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
            if cognito_authorizer.update_method_scopes(method, operation):
                continue
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

    original_create_deployment = models.RestAPI.create_deployment

    def create_deployment(self, name, description, stage_variables=None):
        # A deployment is a snapshot of the API's methods: what the stage serves until the next
        # one, whatever happens to the methods meanwhile. GetDeployment hands it back with
        # embed=apisummary, as AWS does.
        deployment = original_create_deployment(self, name, description, stage_variables)
        summary = {}
        for resource in self.resources.values():
            for method_type, method in resource.resource_methods.items():
                summary.setdefault(resource.get_path(), {})[method_type] = {
                    "authorizationType": method.authorization_type or "NONE",
                    "apiKeyRequired": bool(method.api_key_required),
                }
        deployment.api_summary = summary
        deployment.served = dataplane.snapshot(self)
        return deployment

    def get_deployment(self):
        parts = self.path.split("/")
        deployment = self.backend.get_deployment(parts[2], parts[4])
        described = deployment.to_json()
        if "apisummary" in self.querystring.get("embed", []):
            described["apiSummary"] = getattr(deployment, "api_summary", {})
        return json.dumps(described)

    models.RestAPI.create_deployment = create_deployment
    response.get_deployment = get_deployment
    models.UsagePlan.apply_patch_operations = usage_plan_patch
    backend.delete_usage_plan = delete_usage_plan
    backend.create_usage_plan_key = create_usage_plan_key
    backend.create_resource = create_resource
    backend.delete_resource = delete_resource
    backend.put_method = put_method
    backend.delete_deployment = delete_deployment
    response.update_method = update_method
    patch_apigateway_tags()


def patch_apigateway_tags():
    """TagResource / UntagResource / GetTags on REST API, stage, usage plan and API key ARNs (moto
    routes only stage ARNs), with AWS's tag rules."""
    from urllib.parse import unquote

    from moto.apigateway import responses, urls
    from moto.apigateway.exceptions import BadRequestException, NotFoundException

    response = responses.APIGatewayResponse
    urls.url_paths["{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/(?P<tagged>.+)$"] = (
        response.dispatch
    )
    arn_path = re.compile(r"arn:[^:]+:apigateway:[^:]+::/(.+)")

    def tagged(self):
        match = arn_path.fullmatch(unquote(self.path.split("/tags/", 1)[1]))
        parts = match.group(1).split("/") if match else []
        if len(parts) == 2 and parts[0] == "restapis":
            return self.backend.get_rest_api(parts[1])
        if len(parts) == 4 and parts[0] == "restapis" and parts[2] == "stages":
            return self.backend.get_stage(parts[1], parts[3])
        if len(parts) == 2 and parts[0] == "usageplans":
            return self.backend.get_usage_plan(parts[1])
        if len(parts) == 2 and parts[0] == "apikeys":
            return self.backend.get_api_key(parts[1])
        raise NotFoundException(f"Invalid resource ARN: {self.path}")

    def get_tags(self):
        return json.dumps({"tags": tagged(self).tags or {}})

    def tag_resource(self):
        resource = tagged(self)
        tags = self._get_param("tags") or {}
        problem = tag_problem(resource.tags or {}, tags)
        if problem:
            raise BadRequestException(problem)
        resource.tags = {**(resource.tags or {}), **tags}
        return 204, {}, ""

    def untag_resource(self):
        resource = tagged(self)
        keys = self.querystring.get("tagKeys") or []
        resource.tags = {k: v for k, v in (resource.tags or {}).items() if k not in keys}
        return 204, {}, ""

    response.get_tags = get_tags
    response.tag_resource = tag_resource
    response.untag_resource = untag_resource


# The gateway response types of a REST API and the status each answers with by default (none for
# the two DEFAULT_ types), as GetGatewayResponses lists them for the types left uncustomized.
GATEWAY_RESPONSE_DEFAULTS = {
    "ACCESS_DENIED": "403", "API_CONFIGURATION_ERROR": "500", "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500", "BAD_REQUEST_PARAMETERS": "400", "BAD_REQUEST_BODY": "400",
    "DEFAULT_4XX": None, "DEFAULT_5XX": None, "EXPIRED_TOKEN": "403", "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504", "INVALID_API_KEY": "403", "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403", "QUOTA_EXCEEDED": "429", "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404", "THROTTLED": "429", "UNAUTHORIZED": "401", "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}


def is_mapping_value(value):
    """Whether `value` is a mapping expression API Gateway accepts: a quoted static value or a
    reference to the request, the integration response, the context or a stage variable."""
    sources = ("method.request.", "integration.response.", "context.", "stageVariables.")
    return (len(value) >= 2 and value[0] == value[-1] == "'") or value.startswith(sources)


def patch_apigateway_cors():
    """What CORS setups rely on: PutIntegrationResponse maps only headers the method response
    declares, with valid expressions (moto maps anything), and GetGatewayResponses lists every
    type, the uncustomized ones as `defaultResponse: true` (moto lists only those put)."""
    from moto.apigateway import models
    from moto.apigateway.exceptions import BadRequestException

    backend = models.APIGatewayBackend

    def invalid(error):
        return BadRequestException(f"Invalid mapping expression specified: Validation Result: warnings : [], errors : [{error}]")

    original_put_integration_response = backend.put_integration_response

    def put_integration_response(self, function_id, resource_id, method_type, status_code, selection_pattern,
                                 response_templates, response_parameters, content_handling=None):
        method = self.get_method(function_id, resource_id, method_type)
        declared = method.get_response(str(status_code))
        if declared is None:
            raise invalid("No method response exists for method.")
        for key, value in (response_parameters or {}).items():
            if key not in (declared.response_parameters or {}):
                raise invalid(f"Invalid mapping expression parameter specified: {key}")
            if not is_mapping_value(value):
                raise invalid(f"Invalid mapping expression specified: {value}")
        return original_put_integration_response(self, function_id, resource_id, method_type, status_code,
                                                 selection_pattern, response_templates, response_parameters,
                                                 content_handling)

    def get_gateway_responses(self):
        listed = []
        for response_type, status in GATEWAY_RESPONSE_DEFAULTS.items():
            response = self.gateway_responses.get(response_type)
            if response is None:
                template = {"application/json": '{"message":$context.error.messageString}'}
                response = models.GatewayResponse(response_type, status, {}, template)
                response.default_response = True
            listed.append(response)
        return listed

    backend.put_integration_response = put_integration_response
    models.RestAPI.get_gateway_responses = get_gateway_responses


def patch_iam():
    """Roles: the time of each CreateRole, for the fault `iN`, AWS's tag rules on TagRole, and its
    budget for a role's inline policies."""
    from moto.iam import models
    from moto.iam.exceptions import InvalidInput, LimitExceededException

    original_create_role = models.IAMBackend.create_role

    def create_role(self, *args, **kwargs):
        role = original_create_role(self, *args, **kwargs)
        ROLE_CREATED[role.arn] = time.monotonic()
        return role

    original_tag_role = models.IAMBackend.tag_role

    def tag_role(self, role_name, tags):
        # moto counts only the tags of the call; AWS counts the role's after it.
        role = self.get_role(role_name)
        problem = tag_problem({t["Key"]: t["Value"] for t in role.tags}, {t["Key"]: t["Value"] for t in tags})
        if problem:
            raise LimitExceededException(problem) if "at most" in problem else InvalidInput(problem)
        return original_tag_role(self, role_name, tags)

    original_put_role_policy = models.IAMBackend.put_role_policy

    def put_role_policy(self, role_name, policy_name, policy_json):
        others = {name: doc for name, doc in self.get_role(role_name).policies.items() if name != policy_name}
        size = sum(len(re.sub(r"\s", "", doc)) for doc in [*others.values(), policy_json])
        if size > ROLE_POLICIES_LIMIT:
            raise LimitExceededException(f"Maximum policy size of {ROLE_POLICIES_LIMIT} bytes exceeded for role "
                                         f"{role_name}")
        return original_put_role_policy(self, role_name, policy_name, policy_json)

    models.IAMBackend.create_role = create_role
    models.IAMBackend.tag_role = tag_role
    models.IAMBackend.put_role_policy = put_role_policy


def patch_awslambda():
    """Functions: the Pending / InProgress windows after a change, during which AWS refuses the next
    change (fault `lN`), and a role too new to be assumed (fault `iN`)."""
    from moto.awslambda import models
    from moto.awslambda.utils import make_function_arn

    backend = models.LambdaBackend
    changed = {}  # unqualified function ARN -> ("create" | "update", time.monotonic())
    busy = set()  # functions a held AddPermission / RemovePermission is changing
    busy_lock = threading.Lock()
    permission_hold_s = 0.03

    def arn_of(fn):
        return make_function_arn(fn.region, fn.account_id, fn.function_name)

    def window(arn):
        """The function's last change, "create" or "update", while the caller's profile sees it
        going on; else None."""
        kind, started = changed.get(arn, (None, 0))
        return kind if (time.monotonic() - started) * 1000 < faults().lambda_window_ms else None

    def shown(config, arn):
        kind = window(arn)
        if kind == "create":
            config["State"] = "Pending"
        elif kind == "update":
            config["LastUpdateStatus"] = "InProgress"
        return config

    def refuse_while_changing(fn):
        arn = arn_of(fn)
        if window(arn) or (faults().lambda_window_ms and arn in busy):
            raise lambda_error(409, "ResourceConflictException", "The operation cannot be performed at this time. "
                               f"An update is in progress for resource: {arn}")

    def refuse_blocked_runtime(runtime, block):
        """AWS refuses a runtime past its create block (CreateFunction) or update block (any
        update of a function on it), with this message."""
        dates = RUNTIME_BLOCKS.get(runtime)
        if dates and dates[block] <= emulator_today():
            raise lambda_error(400, "InvalidParameterValueException",
                               f"The runtime parameter of {runtime} is no longer supported for creating or updating "
                               f"AWS Lambda functions. We recommend you use the new runtime ({dates[2]}) while "
                               "creating or updating functions.")

    def refuse_new_role(arn):
        if role_too_new(arn):
            raise lambda_error(400, "InvalidParameterValueException",
                               "The role defined for the function cannot be assumed by Lambda.")

    def holding(fn, change):
        """A permission change: with `lN` it keeps the function busy a moment, as AWS's policy
        update does, so an overlapping change is refused."""
        if not faults().lambda_window_ms:
            return change()
        arn = arn_of(fn)
        with busy_lock:
            refuse_while_changing(fn)
            busy.add(arn)
        try:
            time.sleep(permission_hold_s)
            return change()
        finally:
            busy.discard(arn)

    original_configuration = models.LambdaFunction.get_configuration

    def get_configuration(self, on_create=False):
        return shown(original_configuration(self, on_create), arn_of(self))

    original_create = backend.create_function

    def refuse_large_environment(spec):
        """Lambda measures the variables as JSON and refuses more than 4 KB, quoting them."""
        variables = (spec.get("Environment") or {}).get("Variables")
        measured = json.dumps(variables or {}, separators=(",", ":"))
        if variables and len(measured) > 4096:
            raise lambda_error(400, "InvalidParameterValueException",
                               "Lambda was unable to configure your environment variables because the environment "
                               f"variables you have provided exceeded the 4KB limit. String measured: {measured}")

    def create_function(self, spec):
        refuse_blocked_runtime(spec.get("Runtime"), 0)
        refuse_large_environment(spec)
        refuse_new_role(spec.get("Role"))
        fn = original_create(self, spec)
        changed[arn_of(fn)] = ("create", time.monotonic())
        return fn

    def updating(original):
        def update(self, function_name, qualifier, body):
            fn = self.get_function(function_name, qualifier)
            refuse_while_changing(fn)
            if not body.get("Runtime"):
                refuse_blocked_runtime(fn.run_time, 1)  # a move to a supported runtime is allowed
            refuse_blocked_runtime(body.get("Runtime"), 1)
            refuse_large_environment(body)
            refuse_new_role(body.get("Role"))
            config = original(self, function_name, qualifier, body)
            arn = arn_of(fn)
            changed[arn] = ("update", time.monotonic())
            return shown(config, arn)
        return update

    original_add_permission = backend.add_permission

    def add_permission(self, function_name, qualifier, raw):
        fn = self.get_function(function_name, qualifier)
        statement = holding(fn, lambda: original_add_permission(self, function_name, qualifier, raw))
        size = len(json.dumps(fn.policy.get_policy()["Policy"], separators=(",", ":")))
        if size > FUNCTION_POLICY_LIMIT:
            fn.policy.statements.remove(statement)
            raise lambda_error(400, "PolicyLengthExceededException",
                               f"The final policy size ({size}) is bigger than the limit ({FUNCTION_POLICY_LIMIT}).")
        return statement

    original_remove_permission = backend.remove_permission

    def remove_permission(self, function_name, sid, revision=""):
        fn = self.get_function(function_name)
        return holding(fn, lambda: original_remove_permission(self, function_name, sid, revision))

    original_tag_resource = backend.tag_resource

    def tag_resource(self, resource_arn, tags):
        resource = self._get_resource_by_arn(resource_arn)
        if isinstance(resource, models.LambdaFunction):
            refuse_while_changing(resource)
        problem = tag_problem(resource.tags, tags)
        if problem:
            raise lambda_error(400, "InvalidParameterValueException", problem)
        return original_tag_resource(self, resource_arn, tags)

    models.LambdaFunction.get_configuration = get_configuration
    backend.create_function = create_function
    backend.update_function_code = updating(backend.update_function_code)
    backend.update_function_configuration = updating(backend.update_function_configuration)
    backend.add_permission = add_permission
    backend.remove_permission = remove_permission
    backend.tag_resource = tag_resource


def request_line(environ):
    """The method and path, e.g. `POST /restapis/abc/deployments`: a REST protocol's operation."""
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


def request_body(environ):
    """The request's body, left in place for the app to read."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


THROTTLED = "authdemo.throttled"  # set in the WSGI environ of a request FaultInjector throttled


@dataclass(frozen=True)
class Limit:
    """A token bucket's size, and how many tokens it gets back per second."""

    capacity: int
    per_second: float


def every(seconds):
    """One call per `seconds`."""
    return Limit(1, 1 / seconds)


def per_second(calls):
    return Limit(calls, calls)


class TokenBuckets:
    """Token buckets by name, shared by every caller: the account's rate limits."""

    def __init__(self):
        self.lock = threading.Lock()
        self.levels = {}  # bucket name -> (tokens, time.monotonic() they were counted)

    def take(self, limits):
        """Takes a token from each bucket of `limits` (name -> Limit) if each has one, else none:
        whether the call is within its limits."""
        now = time.monotonic()
        with self.lock:
            levels = {name: self.level(name, limit, now) for name, limit in limits.items()}
            within = all(level >= 1 for level in levels.values())
            for name, level in levels.items():
                self.levels[name] = (level - 1 if within else level, now)
            return within

    def level(self, name, limit, now):
        tokens, counted = self.levels.get(name, (limit.capacity, now))
        return min(limit.capacity, tokens + (now - counted) * limit.per_second)


APIGATEWAY_OPERATIONS = [  # (request line, operation, its own limit besides the service's)
    (re.compile(r"POST /restapis/[^/]+/deployments"), "CreateDeployment", every(5)),
    (re.compile(r"PATCH /usageplans/[^/]+"), "UpdateUsagePlan", every(20)),
    (re.compile(r"POST /restapis"), "CreateRestApi", every(3)),
    (re.compile(r"DELETE /restapis/[^/]+"), "DeleteRestApi", every(30)),
    (re.compile(r"POST /restapis/[^/]+/resources/[^/]+"), "CreateResource", per_second(5)),
    (re.compile(r"DELETE /restapis/[^/]+/resources/[^/]+"), "DeleteResource", per_second(5)),
    (re.compile(r"POST /apikeys"), "CreateApiKey", per_second(5)),
    (re.compile(r"DELETE /apikeys/[^/]+"), "DeleteApiKey", per_second(5)),
    (re.compile(r"GET /restapis/[^/]+/resources"), "GetResources", Limit(5, 5 / 2)),
]
LAMBDA_OPERATIONS = [  # (request line, operation with a bucket of its own instead of the service's)
    (re.compile(r"GET /2015-03-31/functions/[^/]+"), "GetFunction", per_second(100)),
    (re.compile(r"GET /2015-03-31/functions/[^/]+/policy"), "GetPolicy", per_second(15)),
]


def apigateway_limits(environ):
    line = request_line(environ)
    limits = {"apigateway": Limit(40, 10)}
    for pattern, operation, limit in APIGATEWAY_OPERATIONS:
        if pattern.fullmatch(line):
            limits[f"apigateway {operation}"] = limit
    return limits


def lambda_limits(environ):
    line = request_line(environ)
    for pattern, operation, limit in LAMBDA_OPERATIONS:
        if pattern.fullmatch(line):
            return {f"lambda {operation}": limit}
    return {"lambda": per_second(15)}


# Cognito user pools' request-rate categories (developer guide, "Amazon Cognito user pools API
# operation categories and request rate quotas"): category -> (its operations, requests per second
# per account, whether it also has 5 per second per user pool). An operation not listed draws on a
# bucket of 15 per second of its own.
COGNITO_CATEGORIES = {
    "UserPoolRead": (("ListUserPools", "DescribeUserPool", "DescribeUserPoolDomain", "ListTagsForResource",
                      "GetUserPoolMfaConfig"), 15, False),
    "UserPoolUpdate": (("CreateUserPool", "UpdateUserPool", "DeleteUserPool", "CreateUserPoolDomain",
                        "UpdateUserPoolDomain", "DeleteUserPoolDomain", "TagResource", "UntagResource",
                        "AddCustomAttributes", "SetUserPoolMfaConfig"), 15, False),
    "UserPoolClientRead": (("DescribeUserPoolClient", "ListUserPoolClients"), 15, True),
    "UserPoolClientUpdate": (("CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient"), 15, True),
    "UserPoolResourceRead": (("ListGroups", "GetGroup", "ListResourceServers", "DescribeResourceServer",
                              "ListIdentityProviders", "DescribeIdentityProvider"), 20, True),
    "UserPoolResourceUpdate": (("CreateGroup", "UpdateGroup", "DeleteGroup", "CreateResourceServer",
                                "UpdateResourceServer", "DeleteResourceServer"), 15, True),
    "UserCreation": (("AdminCreateUser", "SignUp", "ConfirmSignUp", "AdminConfirmSignUp"), 50, False),
    "UserRead": (("AdminGetUser", "GetUser"), 120, False),
    "UserUpdate": (("AdminSetUserPassword", "AdminUpdateUserAttributes", "AdminDeleteUserAttributes",
                    "AdminDeleteUser", "AdminDisableUser", "AdminEnableUser"), 25, False),
    "UserResourceRead": (("AdminListGroupsForUser",), 50, False),
    "UserResourceUpdate": (("AdminAddUserToGroup", "AdminRemoveUserFromGroup"), 25, False),
    "UserList": (("ListUsers", "ListUsersInGroup"), 30, False),
    "UserAuthentication": (("InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge",
                            "AdminRespondToAuthChallenge"), 120, False),
}
COGNITO_CATEGORY_OF = {op: category for category, (ops, _, _) in COGNITO_CATEGORIES.items() for op in ops}


def cognito_idp_limits(environ):
    operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    category = COGNITO_CATEGORY_OF.get(operation)
    if category is None:
        return {f"cognito-idp {operation}": per_second(15)}
    _, rate, per_pool = COGNITO_CATEGORIES[category]
    limits = {f"cognito-idp {category}": per_second(rate)}
    pool = json.loads(request_body(environ) or b"{}").get("UserPoolId")
    if per_pool and pool:
        limits[f"cognito-idp {category} {pool}"] = per_second(5)
    return limits


def cognito_identity_limits(environ):
    operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    rate = {"GetId": 25, "TagResource": 5}.get(operation)
    return {f"cognito-identity {operation}": per_second(rate)} if rate else {}


def account_limits(service, environ):
    """The buckets (name -> Limit) a call to `service` draws on, after AWS's documented limits."""
    if service == "apigateway":
        return apigateway_limits(environ)
    if service == "lambda":
        return lambda_limits(environ)
    if service == "cognito-idp":
        return cognito_idp_limits(environ)
    if service == "cognito-identity":
        return cognito_identity_limits(environ)
    return {}


class RequestRecorder:
    """WSGI middleware recording each request's operation, and whether it was throttled, under the
    caller's SDK app id."""

    def __init__(self, app, latency_ms=0):
        self.app = app
        self.latency = latency_ms / 1000
        self.lock = threading.Lock()
        self.calls = defaultdict(list)
        self.throttles = defaultdict(int)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_authdemo/requests":
            return self.report(environ, start_response, self.calls, [])
        if environ.get("PATH_INFO") == "/_authdemo/throttled":
            return self.report(environ, start_response, self.throttles, 0)
        app_id = app_id_of(environ)
        if app_id:
            operation = self.operation(environ)
            with self.lock:
                self.calls[app_id].append(operation)
        if self.latency:
            time.sleep(self.latency)
        answer = self.app(environ, start_response)
        if app_id and environ.get(THROTTLED):
            with self.lock:
                self.throttles[app_id] += 1
        return answer

    def report(self, environ, start_response, records, default):
        """The JSON answer of an `/_authdemo/` endpoint: what `records` holds for the app id asked."""
        app_id = parse_qs(environ.get("QUERY_STRING", "")).get("app", [""])[0]
        with self.lock:
            body = json.dumps(records.get(app_id, default)).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    @staticmethod
    def operation(environ):
        """The operation name: from X-Amz-Target (JSON protocols), the form's Action (query
        protocols, e.g. STS and IAM), else the method and path (REST protocols)."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return target.rpartition(".")[2]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            action = parse_qs(request_body(environ).decode()).get("Action")
            if action:
                return action[0]
        return request_line(environ)


class FaultInjector:
    """WSGI middleware applying the fault profile of the caller's app id (see the module doc): it
    delays (`dN`), throttles (`r`, `tN`; marking the request THROTTLED), refuses overlapping
    changes to a REST API or a role name (`cN`) and fails creates after the fact (`eN`) itself,
    and leaves the profile in REQUEST for the patches of the other faults."""

    API_CHANGE = re.compile(r"/restapis/([^/]+)(/|$)")
    SCOPE_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
    COGNITO_TARGETS = {"AWSCognitoIdentityProviderService.": "cognito-idp",
                       "AWSCognitoIdentityService.": "cognito-identity"}

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.randoms = {}
        self.buckets = TokenBuckets()
        self.changes = Overlaps()

    def __call__(self, environ, start_response):
        app_id = app_id_of(environ)
        REQUEST.faults = profile = parse_faults(app_id)
        if not profile.delay_ms:
            return self.answer(environ, start_response, app_id, profile)
        arrived = time.monotonic()
        answer = self.answer(environ, start_response, app_id, profile)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        time.sleep(max(0.0, arrived + profile.delay_ms / 1000 - time.monotonic()))
        return [body]

    def answer(self, environ, start_response, app_id, profile):
        """The answer to a request under `profile`, without its delay."""
        service = self.service(environ)
        if service and (self.over_limit(service, environ, profile) or self.draw(app_id, profile.throttle_percent)):
            environ[THROTTLED] = True
            return self.throttled(service)(environ, start_response)
        changed = self.changed_thing(service, environ)
        if changed is None:
            return self.serve(environ, start_response, service, app_id, profile)
        if not self.changes.begin(changed, profile.conflict_window_ms):
            return self.conflict(service)(environ, start_response)
        answer = None
        try:
            answer = self.serve(environ, start_response, service, app_id, profile)
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()
            self.changes.end(changed)

    def serve(self, environ, start_response, service, app_id, profile):
        if profile.lost_create_percent and self.is_create(service, environ):
            return self.create_then_fail(environ, start_response, service, app_id, profile)
        return self.app(environ, start_response)

    def create_then_fail(self, environ, start_response, service, app_id, profile):
        """Serves a create; if it succeeded, answers (`eN`% of the time) a server error instead."""
        answered = {}

        def keep(status, headers, exc_info=None):
            answered.update(status=status, headers=headers)
            return lambda _data: None

        body = b"".join(self.app(environ, keep))
        if answered["status"].startswith("2") and self.draw(app_id, profile.lost_create_percent):
            return self.server_error(service)(environ, start_response)
        start_response(answered["status"], answered["headers"])
        return [body]

    CREATES = {
        "cognito-idp": ("CreateUserPool", "CreateUserPoolClient"),
        "cognito-identity": ("CreateIdentityPool",),
        "iam": ("CreateRole",),
    }
    REST_CREATES = {"apigateway": ("/restapis", "/usageplans", "/apikeys"), "lambda": ("/2015-03-31/functions",)}

    @classmethod
    def is_create(cls, service, environ):
        """Whether the request is one of the creates `eN` fails after the fact."""
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in cls.REST_CREATES.get(service, ()):
            return True
        return RequestRecorder.operation(environ) in cls.CREATES.get(service, ())

    @staticmethod
    def server_error(service):
        if service == "apigateway":
            return aws_error(503, "ServiceUnavailableException", {"message": "Service Unavailable"})
        if service == "lambda":
            return aws_error(500, "ServiceException", {"Type": "Service", "message": "Internal error"})
        if service in ("cognito-idp", "cognito-identity"):
            return aws_error(500, "InternalErrorException",
                             {"__type": "InternalErrorException", "message": "Internal error"},
                             "application/x-amz-json-1.1")
        return aws_error(
            500, "ServiceFailure",
            "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>Internal error"
            f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
            "text/xml",
        )

    def draw(self, app_id, percent):
        """True for `percent`% of the calls, from the app id's own random sequence."""
        if not percent:
            return False
        with self.lock:
            if app_id not in self.randoms:
                self.randoms[app_id] = random.Random(app_id)
            return self.randoms[app_id].randrange(100) < percent

    def over_limit(self, service, environ, profile):
        """Whether, with `r`, the call exceeds one of the account's rate limits."""
        return profile.rate_limits and not self.buckets.take(account_limits(service, environ))

    @classmethod
    def service(cls, environ):
        """The service a call is for, among those that throttle: a Cognito one by X-Amz-Target,
        else the SigV4 credential scope's; an unsigned form is STS's AssumeRoleWithWebIdentity."""
        if environ.get("PATH_INFO", "").startswith("/moto-api/"):
            return None
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        for prefix, cognito in cls.COGNITO_TARGETS.items():
            if target.startswith(prefix):
                return cognito
        scope = cls.SCOPE_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope:
            return scope.group(1) if scope.group(1) in ("apigateway", "lambda", "iam", "sts") else None
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return "sts"
        return None

    @staticmethod
    def throttled(service):
        if service == "apigateway":
            return aws_error(429, "TooManyRequestsException", {"message": "Too Many Requests"})
        if service == "lambda":
            return aws_error(429, "TooManyRequestsException",
                             {"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"})
        if service in ("cognito-idp", "cognito-identity"):
            return aws_error(400, "TooManyRequestsException",
                             {"__type": "TooManyRequestsException", "message": "Rate exceeded"},
                             "application/x-amz-json-1.1")
        return aws_error(
            400, "Throttling",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
            "text/xml",
        )

    @classmethod
    def changed_thing(cls, service, environ):
        """What a change overlaps on (`cN`): ("api", ID) for a change to REST API ID or a child of
        it, ("role", NAME) for a CreateRole or DeleteRole; None for anything else."""
        if service == "apigateway" and environ.get("REQUEST_METHOD") in ("PUT", "POST", "PATCH", "DELETE"):
            match = cls.API_CHANGE.match(environ.get("PATH_INFO", ""))
            return ("api", match.group(1)) if match else None
        if service == "iam" and RequestRecorder.operation(environ) in ("CreateRole", "DeleteRole"):
            name = parse_qs(request_body(environ).decode()).get("RoleName")
            return ("role", name[0]) if name else None
        return None

    @staticmethod
    def conflict(service):
        if service == "iam":
            return aws_error(
                409, "ConcurrentModification",
                "<ErrorResponse><Error><Type>Sender</Type><Code>ConcurrentModification</Code><Message>"
                "Rate exceeded for operation on the same entity</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
                "text/xml",
            )
        return aws_error(409, "ConflictException", {
            "message": "Unable to complete operation due to concurrent modification. Please try again later."
        })


class Overlaps:
    """The changes being served, and when the last one of each thing was answered (`cN`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.serving = {}  # thing -> how many changes to it are being served
        self.answered = {}  # thing -> time.monotonic() of the last answer to a change of it

    def begin(self, thing, window_ms):
        """Starts serving a change of `thing`, unless the caller's window (`window_ms`, 0: none)
        finds another one being served or answered less than that long ago: then False."""
        with self.lock:
            if window_ms:
                busy = self.serving.get(thing, 0) > 0
                recent = time.monotonic() - self.answered.get(thing, float("-inf")) < window_ms / 1000
                if busy or recent:
                    return False
            self.serving[thing] = self.serving.get(thing, 0) + 1
            return True

    def end(self, thing):
        with self.lock:
            self.serving[thing] -= 1
            self.answered[thing] = time.monotonic()


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

    route_each_host_once()
    patch_cognito_idp()
    groups.patch()
    patch_cognito_identity()
    patch_apigateway()
    patch_apigateway_cors()
    patch_iam()
    patch_awslambda()
    cognito_authorizer.patch()
    lag.patch(lambda: faults().listing_lag_ms)
    iam_details.patch(lambda: faults().listing_lag_ms)

    port = args.port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    moto_app = hosted_ui.HostedUi(DomainDispatcherApplication(create_backend_app),
                                  lambda: faults().oauth_code_ms or hosted_ui.CODE_LIFETIME_MS)
    control_plane = iam_enforce.Enforcer(FaultInjector(moto_app))
    app = RequestRecorder(DataPlane(control_plane), args.latency_ms)
    server = make_server("127.0.0.1", port, app, threaded=True)
    hosted_ui.accept_tls(server)
    if args.parent_pid:
        threading.Thread(target=exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
