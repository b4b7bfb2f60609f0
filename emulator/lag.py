"""The listing lag (fault `sN`): AWS's lists and IAM's reads are eventually consistent, moto's are not.

For a request whose profile has `sN` (see launcher.py):
- ListUserPools, ListIdentityPools, GetRestApis, GetUsagePlans, GetApiKeys and ListRoles leave out
  what was created less than N ms ago (ListUserPools et al. are not read-after-write consistent);
- GetRole answers what the role was N ms ago: NoSuchEntity for a role created since, the role for
  one deleted since, and the tags and Description it had then (IAM's reads may return the old
  value); ListRoles shows each role it lists with its Description of then.
Writes are never affected: CreateRole of a name in use is EntityAlreadyExists at once, as on AWS.

`patch(lag_ms)` installs it; `lag_ms()` answers the current request's N.
"""

import copy
import threading
import time

BORN = "_authdemo_born"
ROLE_HISTORY = {}  # role name -> [(monotonic time, role object or None, its tags then)]
HISTORY_LOCK = threading.Lock()


def young(resource, lag_s):
    """Whether `resource` was created less than `lag_s` ago."""
    return time.monotonic() - getattr(resource, BORN, 0) < lag_s


def stamp_births(cls):
    """Makes every new instance of `cls` remember when it was created."""
    original = cls.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        setattr(self, BORN, time.monotonic())

    cls.__init__ = init


def hide_young(cls, method, lag_ms, unpack=None):
    """Wraps the list `method` of backend `cls` so that it leaves out young items when lagging."""
    original = getattr(cls, method)

    def listed(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        lag_s = lag_ms() / 1000
        if not lag_s:
            return result
        if unpack:
            return unpack(self, result, lag_s)
        if isinstance(result, tuple):
            items, rest = result[0], result[1:]
            return ([item for item in items if not young(item, lag_s)], *rest)
        return [item for item in result if not young(item, lag_s)]

    setattr(cls, method, listed)


def record_role(name, role):
    # Snapshots in one step each (list() of a dict runs under the GIL): other threads serve
    # other requests, and iterating a dict another thread grows fails.
    tags = copy.deepcopy(copy.copy(role.tags)) if role is not None else None
    description = role.description if role is not None else None
    with HISTORY_LOCK:
        ROLE_HISTORY.setdefault(name, []).append((time.monotonic(), role, tags, description))


def role_then(name, lag_s):
    """(changed since, role or None, tags, Description) of role `name` as it was `lag_s` ago."""
    with HISTORY_LOCK:
        history = list(ROLE_HISTORY.get(name, []))
    cutoff = time.monotonic() - lag_s
    if not history or history[-1][0] <= cutoff:
        return False, None, None, None
    before = [entry for entry in history if entry[0] <= cutoff]
    if not before:
        return True, None, None, None
    return True, *before[-1][1:]


def patch_iam(lag_ms):
    from moto.iam import models, responses
    from moto.iam.exceptions import NotFoundException

    stamp_births(models.Role)
    hide_young(models.IAMBackend, "list_roles", lag_ms)
    for method in ("create_role", "tag_role", "untag_role", "update_role", "update_role_description", "delete_role"):
        wrap_role_change(models.IAMBackend, method)
    original_get_role = responses.IamResponse.get_role
    original_list_roles = models.IAMBackend.list_roles

    def get_role(self):
        changed, role, tags, description = role_then(self._get_param("RoleName"), lag_ms() / 1000)
        if not changed:
            return original_get_role(self)
        if role is None:
            raise NotFoundException(f"Role {self._get_param('RoleName')} not found")
        then = copy.copy(role)
        then.tags, then.description = tags, description
        return responses.ActionResult({"Role": then})

    def list_roles(self, *args, **kwargs):
        roles, *rest = original_list_roles(self, *args, **kwargs)
        lag_s = lag_ms() / 1000
        if not lag_s:
            return (roles, *rest)
        return ([described_then(role, lag_s) for role in roles], *rest)

    responses.IamResponse.get_role = get_role
    models.IAMBackend.list_roles = list_roles


def described_then(role, lag_s):
    """`role` as ListRoles shows it `lag_s` after: with the Description it had then (its first
    one when it was created about then: listed, as its birth is stamped before its record)."""
    changed, then, _, description = role_then(role.name, lag_s)
    if not changed:
        return role
    if then is None:
        with HISTORY_LOCK:
            description = ROLE_HISTORY[role.name][0][3]
    listed = copy.copy(role)
    listed.description = description
    return listed


def wrap_role_change(cls, method):
    """Records the role's state after each change, for GetRole's lag."""
    original = getattr(cls, method)

    def changed(self, *args, **kwargs):
        name = kwargs.get("role_name", args[0] if args else None)
        result = original(self, *args, **kwargs)
        record_role(name, result if method == "create_role" else find_role(self, name))
        return result

    setattr(cls, method, changed)


def find_role(backend, name):
    return next((role for role in list(backend.roles.values()) if role.name == name), None)


def patch(lag_ms):
    """Installs the listing lag; `lag_ms()` is the current request's lag in ms (0: none)."""
    from moto.apigateway import models as apigateway
    from moto.cognitoidentity import models as cognitoidentity
    from moto.cognitoidp import models as cognitoidp

    for cls in (cognitoidp.CognitoIdpUserPool, cognitoidentity.CognitoIdentityPool, apigateway.RestAPI,
                apigateway.UsagePlan, apigateway.ApiKey):
        stamp_births(cls)
    hide_young(cognitoidp.CognitoIdpBackend, "list_user_pools", lag_ms)
    hide_young(apigateway.APIGatewayBackend, "list_apis", lag_ms)
    hide_young(apigateway.APIGatewayBackend, "get_usage_plans", lag_ms)
    hide_young(apigateway.APIGatewayBackend, "get_api_keys", lag_ms)
    hide_young(cognitoidentity.CognitoIdentityBackend, "list_identity_pools", lag_ms, unpack=identity_pools_listed)
    patch_iam(lag_ms)


def identity_pools_listed(backend, listed, lag_s):
    """ListIdentityPools' JSON without the pools created less than `lag_s` ago."""
    import json

    hidden = {pool.identity_pool_id for pool in backend.identity_pools.values() if young(pool, lag_s)}
    body = json.loads(listed)
    body["IdentityPools"] = [p for p in body["IdentityPools"] if p["IdentityPoolId"] not in hidden]
    return json.dumps(body)
