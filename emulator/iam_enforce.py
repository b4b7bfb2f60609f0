"""IAM on the emulator's control plane: a request signed with the access key of an IAM user made
in the emulator (CreateUser + CreateAccessKey), or with credentials AssumeRole issued here, is
allowed or denied by that principal's policies, as AWS does; every other request (the tests'
default `test` keys, unsigned Cognito calls) is served unchecked.

The user's inline policies, attached managed policies and its groups' policies (a role's inline
and attached ones) are evaluated together: an explicit Deny wins, then an Allow, else the request
is denied; an assumed role's session policy and its permissions boundary must allow it too. A statement covers a
request by Action/NotAction (wildcards, any case), Resource/NotResource (wildcards) and its
Condition: the operators String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals,
Arn(Not)Like, Bool and Null, each with `IfExists`, and the `ForAllValues:` / `ForAnyValue:` set
prefixes; a missing key fails a positive operator and passes a negated one (as on AWS). An unknown
operator fails an Allow and holds for a Deny.

Each request becomes one or more (action, resource ARN, context) checks (see `checks`), the context
holding the condition keys AWS fills for it: `aws:ResourceTag/K` (the tags of the resource acted
on; an API Gateway child resource or stage has its REST API's, a usage plan key its plan's, as AWS's
tag inheritance for access control does), `aws:RequestTag/K` and `aws:TagKeys` (the tags a create
or tag call sends, the keys an untag call names), `iam:PermissionsBoundary` (CreateRole's and
PutRolePermissionsBoundary's, else the role's own) and `iam:PassedToService` on the `iam:PassRole`
check that CreateFunction and UpdateFunctionConfiguration (a `Role`) and SetIdentityPoolRoles make;
CreateFunction with tags also checks `lambda:TagResource`, CreateApiKey `apigateway:PUT`. A role
or function that does not exist yet is named by its path-less ARN. GetFunction answers the
function's tags only when the user may also `lambda:ListTags` it. Cognito's public operations
(signing in and up, GetId, GetCredentialsForIdentity) are never checked, signed or not.

A denied request gets its service's answer: IAM and STS 403 `AccessDenied` (XML), Lambda and
API Gateway 403 `AccessDeniedException`, Cognito 400 `AccessDeniedException`.
"""

import io
import json
import re
import uuid
from urllib.parse import parse_qs, unquote

CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
JSON_TARGETS = {"AWSCognitoIdentityProviderService.": "cognito-idp", "AWSCognitoIdentityService.": "cognito-identity"}
LAMBDA_FUNCTION = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)(?P<rest>/.*)?")
LAMBDA_TAGS = re.compile(r"/2017-03-31/tags/(?P<arn>.+)")
LAMBDA_OPERATIONS = {  # (method, the path after the function's name) -> action
    ("GET", ""): "GetFunction", ("DELETE", ""): "DeleteFunction",
    ("GET", "/configuration"): "GetFunctionConfiguration", ("PUT", "/configuration"): "UpdateFunctionConfiguration",
    ("PUT", "/code"): "UpdateFunctionCode", ("GET", "/policy"): "GetPolicy", ("POST", "/policy"): "AddPermission",
}
API_PARENT = re.compile(r"/(restapis|usageplans|apikeys)/([^/]+)")


# --- policy evaluation ------------------------------------------------------------------------

def wildcard(pattern, value, ignore_case=False):
    """Whether `value` matches an IAM pattern: `*` any run of characters, `?` one character."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(expression, value, flags) is not None


def as_list(value):
    return value if isinstance(value, list) else [value] if value is not None else []


def covers(statement, action, resource):
    """Whether a statement's Action/NotAction and Resource/NotResource cover `action` on `resource`."""
    if "Action" in statement:
        acts = any(wildcard(p, action, ignore_case=True) for p in as_list(statement["Action"]))
    else:
        acts = not any(wildcard(p, action, ignore_case=True) for p in as_list(statement.get("NotAction")))
    if "Resource" in statement:
        on = any(wildcard(p, resource) for p in as_list(statement["Resource"]))
    else:
        on = not any(wildcard(p, resource) for p in as_list(statement.get("NotResource")))
    return acts and on


MATCHERS = {  # operator -> (matches one value against one policy value, negated)
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), True),
    "StringLike": (lambda v, p: wildcard(p, v), False),
    "StringNotLike": (lambda v, p: wildcard(p, v), True),
    "ArnEquals": (lambda v, p: v == p, False),
    "ArnNotEquals": (lambda v, p: v == p, True),
    "ArnLike": (lambda v, p: wildcard(p, v), False),
    "ArnNotLike": (lambda v, p: wildcard(p, v), True),
    "Bool": (lambda v, p: str(v).lower() == str(p).lower(), False),
}


def condition_holds(operator, key, expected, context):
    """Whether one operator's test of one key holds for the request `context` (keys lower-cased;
    a value is a string or, for a multivalued key, a list)."""
    prefix, _, operator = operator.rpartition(":")
    present = key.lower() in context
    values = as_list(context.get(key.lower()))
    expected = [str(e) for e in as_list(expected)]
    if operator == "Null":
        return any((not present) == (str(e).lower() == "true") for e in expected)
    if_exists = operator.endswith("IfExists")
    matcher = MATCHERS.get(operator.removesuffix("IfExists"))
    if matcher is None:
        return None
    match, negated = matcher

    def one(value):
        hit = any(match(value, p) for p in expected)
        return not hit if negated else hit

    if prefix == "ForAllValues":
        return all(one(v) for v in values)
    if prefix == "ForAnyValue":
        return any(one(v) for v in values)
    if not present:
        return if_exists or negated
    return all(one(v) for v in values)


def conditions_hold(statement, context):
    """True, False, or None when the statement uses an operator this evaluator does not know."""
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in tests.items():
            held = condition_holds(operator, key, expected, context)
            if not held:
                return held
    return True


def evaluate(documents, action, resource, context):
    """`allow` when a statement of the policy `documents` allows `action` on `resource` in
    `context` and none denies it, else `deny`."""
    allowed = False
    for document in documents:
        for statement in as_list(document.get("Statement")):
            if not covers(statement, action, resource):
                continue
            held = conditions_hold(statement, context)
            if statement.get("Effect") == "Deny" and held is not False:
                return "deny"
            if statement.get("Effect") == "Allow" and held:
                allowed = True
    return "allow" if allowed else "deny"


# --- who signed -------------------------------------------------------------------------------

def parse_document(document):
    """A policy document as IAM stores it: JSON text (perhaps URL-encoded) or already parsed."""
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except ValueError:
        return json.loads(unquote(document))


def default_version(policy):
    """The default version of a managed policy, parsed (in a list: none if it has none)."""
    return [parse_document(v.document) for v in policy.versions if v.version_id == policy.default_version_id]


class Principal:
    """Who signed: its ARN, its identity policies, and the policies that must allow a request as
    well (a role's permissions boundary, an assumed role's session policy)."""

    def __init__(self, account, backend, arn, documents, limits=()):
        self.account, self.backend, self.arn = account, backend, arn
        self.documents, self.limits = documents, list(limits)

    def allows(self, check):
        if evaluate(self.documents, check.action, check.resource, check.context) != "allow":
            return False
        return all(evaluate(limit, check.action, check.resource, check.context) == "allow" for limit in self.limits)


def signer(access_key_id):
    """The Principal whose access key this is (an IAM user's, or an assumed role's), or None."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account, partitions in list(iam_backends.items()):
        for backend in list(partitions.values()):
            for user in list(backend.users.values()):
                if any(key.access_key_id == access_key_id for key in user.access_keys):
                    return Principal(account, backend, user.arn, holder_documents(backend, user))
    for account, partitions in list(sts_backends.items()):
        for partition, sts in list(partitions.items()):
            assumed = sts.get_assumed_role_from_access_key(access_key_id)
            if assumed is not None:
                return assumed_principal(account, iam_backends[account][partition], assumed)
    return None


def assumed_principal(account, backend, assumed):
    role = next((r for r in backend.roles.values() if r.arn == assumed.role_arn), None)
    limits = [[parse_document(assumed.policy)]] if assumed.policy else []
    documents = holder_documents(backend, role) if role else []
    if role is not None and role.permissions_boundary_arn:
        policy = backend.managed_policies.get(role.permissions_boundary_arn)
        limits.append(default_version(policy) if policy else [])
    arn = f"arn:aws:sts::{account}:assumed-role/{assumed.role_arn.rsplit('/', 1)[-1]}/{assumed.session_name}"
    return Principal(account, backend, arn, documents, limits)


def holder_documents(backend, holder):
    """A user's or role's inline and attached policies, and a user's groups'."""
    holders = [holder] + [g for g in backend.groups.values() if holder in g.users]
    documents = []
    for each in holders:
        documents += [parse_document(d) for d in each.policies.values()]
        for policy in each.managed_policies.values():
            documents += default_version(policy)
    return documents


# --- what a request asks --------------------------------------------------------------------

class Check:
    """One authorization a request needs: an action on a resource, with the condition keys."""

    def __init__(self, action, resource="*", context=None):
        self.action, self.resource, self.context = action, resource, {k.lower(): v for k, v in (context or {}).items()}


def tag_context(resource_tags=None, request_tags=None, tag_keys=None):
    context = {f"aws:ResourceTag/{k}": v for k, v in (resource_tags or {}).items()}
    context.update({f"aws:RequestTag/{k}": v for k, v in (request_tags or {}).items()})
    keys = list(request_tags or {}) if tag_keys is None else tag_keys
    if keys:
        context["aws:TagKeys"] = keys
    return context


class Request:
    """What the enforcer reads of a request: method, path, query, body, the signer's region."""

    def __init__(self, environ, account, region):
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "")
        self.query = parse_qs(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(self.body)
        self.account, self.region = account, region
        self.content_type = environ.get("CONTENT_TYPE", "")
        self.target = environ.get("HTTP_X_AMZ_TARGET", "")

    def json(self):
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.body.decode(errors="replace")).items()}


def iam_role(backend, account, name):
    """The role named `name` and its ARN (path-less when it does not exist)."""
    role = next((r for r in backend.roles.values() if r.name == name), None)
    return role, role.arn if role else f"arn:aws:iam::{account}:role/{name}"


def form_tags(form):
    tags, n = {}, 1
    while f"Tags.member.{n}.Key" in form:
        tags[form[f"Tags.member.{n}.Key"]] = form.get(f"Tags.member.{n}.Value", "")
        n += 1
    return tags


def iam_checks(request, backend, service):
    form = request.form()
    action = form.get("Action", "")
    name = form.get("RoleName")
    if action == "GetCallerIdentity":
        return []
    if service == "sts":
        return [Check(f"sts:{action}")]
    if action in ("GetPolicy", "GetPolicyVersion", "DeletePolicy", "CreatePolicyVersion"):
        return [Check(f"iam:{action}", form.get("PolicyArn", "*"))]
    if not name:
        return [Check(f"iam:{action}")]
    role, arn = iam_role(backend, request.account, name)
    request_tags = form_tags(form)
    context = tag_context({t["Key"]: t["Value"] for t in role.tags} if role else {}, request_tags)
    if action == "CreateRole":
        path = form.get("Path", "/")
        arn = f"arn:aws:iam::{request.account}:role{path}{name}"
    if action in ("CreateRole", "PutRolePermissionsBoundary"):
        boundary = form.get("PermissionsBoundary")
    else:
        boundary = role.permissions_boundary_arn if role else None
    if boundary:
        context["iam:PermissionsBoundary"] = boundary
    if action == "UntagRole":
        keys = [v for k, v in form.items() if k.startswith("TagKeys.member.")]
        context.update(tag_context(tag_keys=keys))
    return [Check(f"iam:{action}", arn, context)]


def pass_role(backend, account, role_arn, service):
    role = next((r for r in backend.roles.values() if r.arn == role_arn), None)
    arn = role.arn if role else role_arn
    return Check("iam:PassRole", arn, {"iam:PassedToService": service})


def function_of(request, name):
    """The function named `name` (a name or an ARN, perhaps qualified) and its unqualified ARN."""
    from moto.awslambda.models import lambda_backends

    name = unquote(name)
    short = name.split(":function:", 1)[-1].split(":", 1)[0]
    arn = f"arn:aws:lambda:{request.region}:{request.account}:function:{short}"
    try:
        fn = lambda_backends[request.account][request.region].get_function(short)
    except Exception:
        fn = None
    return fn, arn


def lambda_checks(request, iam):
    if request.path.rstrip("/") == "/2015-03-31/functions":
        if request.method == "GET":
            return [Check("lambda:ListFunctions")]
        body = request.json()
        _, arn = function_of(request, body.get("FunctionName", ""))
        context = tag_context(request_tags=body.get("Tags"))
        checks = [Check("lambda:CreateFunction", arn, context)]
        if body.get("Tags"):
            # Tagging on create also needs lambda:TagResource (Lambda developer guide).
            checks.append(Check("lambda:TagResource", arn, context))
        if body.get("Role"):
            checks.append(pass_role(iam, request.account, body["Role"], "lambda.amazonaws.com"))
        return checks
    tags = LAMBDA_TAGS.fullmatch(request.path)
    if tags:
        fn, arn = function_of(request, tags.group("arn"))
        resource_tags = fn.tags if fn else {}
        if request.method == "GET":
            return [Check("lambda:ListTags", arn, tag_context(resource_tags))]
        if request.method == "DELETE":
            keys = request.query.get("tagKeys")
            return [Check("lambda:UntagResource", arn, tag_context(resource_tags, tag_keys=keys))]
        return [Check("lambda:TagResource", arn, tag_context(resource_tags, request.json().get("Tags")))]
    found = LAMBDA_FUNCTION.fullmatch(request.path)
    if not found:
        return [Check("lambda:Unknown")]
    fn, arn = function_of(request, found.group("name"))
    rest = found.group("rest") or ""
    operation = "RemovePermission" if rest.startswith("/policy/") else LAMBDA_OPERATIONS.get((request.method, rest))
    checks = [Check(f"lambda:{operation or 'Unknown'}", arn, tag_context(fn.tags if fn else {}))]
    role = request.json().get("Role") if operation == "UpdateFunctionConfiguration" else None
    if role:
        checks.append(pass_role(iam, request.account, role, "lambda.amazonaws.com"))
    return checks


def user_pool_tags(request, pool_id):
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends[request.account][request.region].user_pools.get(pool_id)
    return (pool.extended_config.get("UserPoolTags") or {}) if pool else {}


def identity_pool_tags(request, pool_id):
    from moto.cognitoidentity.models import cognitoidentity_backends

    pool = cognitoidentity_backends[request.account][request.region].identity_pools.get(pool_id)
    return (getattr(pool, "tags", None) or {}) if pool else {}


# Cognito's public operations: AWS authorizes them by their tokens and client ids, never by IAM,
# whoever signs them.
PUBLIC_COGNITO = {"InitiateAuth", "RespondToAuthChallenge", "SignUp", "ConfirmSignUp", "GetUser", "GlobalSignOut",
                  "RevokeToken", "GetId", "GetCredentialsForIdentity", "GetOpenIdToken"}


def cognito_checks(request, service, iam):
    operation = request.target.rpartition(".")[2]
    if operation in PUBLIC_COGNITO:
        return []
    body = request.json()
    action = f"{service}:{operation}"
    kind, tags_of, created_tags = (
        ("userpool", user_pool_tags, "UserPoolTags") if service == "cognito-idp"
        else ("identitypool", identity_pool_tags, "IdentityPoolTags"))
    pool_id = body.get("UserPoolId" if service == "cognito-idp" else "IdentityPoolId")
    if body.get("ResourceArn"):
        pool_id = body["ResourceArn"].rsplit(f"{kind}/", 1)[-1]
    if not pool_id:
        return [Check(action, "*", tag_context(request_tags=body.get(created_tags)))]
    arn = f"arn:aws:{service}:{request.region}:{request.account}:{kind}/{pool_id}"
    keys = body.get("TagKeys") if operation == "UntagResource" else None
    checks = [Check(action, arn, tag_context(tags_of(request, pool_id), body.get("Tags"), keys))]
    if operation == "SetIdentityPoolRoles":
        for role in (body.get("Roles") or {}).values():
            checks.append(pass_role(iam, request.account, role, "cognito-identity.amazonaws.com"))
    return checks


def api_tags(request, kind, resource_id):
    from moto.apigateway.models import apigateway_backends

    backend = apigateway_backends[request.account][request.region]
    collection = {"restapis": backend.apis, "usageplans": backend.usage_plans, "apikeys": backend.keys}[kind]
    resource = collection.get(resource_id)
    return (getattr(resource, "tags", None) or {}) if resource else {}


def apigateway_checks(request):
    path = request.path
    resource = f"arn:aws:apigateway:{request.region}::{path}"
    tagged_path = path
    request_tags = None
    keys = None
    if path.startswith("/tags/"):
        tagged_path = "/" + unquote(path[len("/tags/"):]).split("::/", 1)[-1]
        if request.method == "PUT":
            request_tags = request.json().get("tags") or {}
        if request.method == "DELETE":
            keys = request.query.get("tagKeys") or []
    elif request.method == "POST" and path in ("/restapis", "/usageplans", "/apikeys"):
        request_tags = request.json().get("tags") or {}
    parent = API_PARENT.match(tagged_path)
    resource_tags = api_tags(request, parent.group(1), parent.group(2)) if parent else {}
    context = tag_context(resource_tags, request_tags, keys)
    checks = [Check(f"apigateway:{request.method}", resource, context)]
    if request.method == "POST" and path == "/apikeys":
        # CreateApiKey authorizes apigateway:PUT besides POST (Service Authorization Reference).
        checks.append(Check("apigateway:PUT", resource, context))
    return checks


def checks(environ, account, region, service, backend):
    """The request's checks (see the module doc), its Request, and the service it is for."""
    request = Request(environ, account, region)
    for prefix, cognito in JSON_TARGETS.items():
        if request.target.startswith(prefix):
            return cognito_checks(request, cognito, backend), request, cognito
    if service == "lambda":
        return lambda_checks(request, backend), request, service
    if service == "apigateway":
        return apigateway_checks(request), request, service
    if service in ("iam", "sts"):
        return iam_checks(request, backend, service), request, service
    return [Check(f"{service}:Unknown")], request, service


# --- answers --------------------------------------------------------------------------------

def denied(service, user_arn, check):
    """The WSGI app answering `check` denied, in `service`'s shape."""
    message = f"User: {user_arn} is not authorized to perform: {check.action} on resource: {check.resource}"
    if check.resource == "*":
        message = f"User: {user_arn} is not authorized to perform: {check.action} because no identity-based " \
                  "policy allows the action"
    if service in ("iam", "sts"):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message>"
                f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
        status, headers = "403 Forbidden", [("Content-Type", "text/xml")]
    elif service in ("cognito-idp", "cognito-identity"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        status, headers = "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")]
    else:
        key = "Message" if service == "lambda" else "message"
        body = json.dumps({key: message, **({"Type": "User"} if service == "lambda" else {})}).encode()
        status = "403 Forbidden"
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")]

    def app(_environ, start_response):
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    return app


class Enforcer:
    """WSGI middleware enforcing the signer's IAM policies (see the module doc)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        found = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        principal = signer(found.group(1)) if found else None
        if principal is None:
            return self.app(environ, start_response)
        asked, _, service = checks(environ, principal.account, found.group(2), found.group(3), principal.backend)
        for check in asked:
            if not principal.allows(check):
                return denied(service, principal.arn, check)(environ, start_response)
        if service == "lambda" and asked and asked[0].action == "lambda:GetFunction":
            if not principal.allows(Check("lambda:ListTags", asked[0].resource, asked[0].context)):
                return self.without_tags(environ, start_response)
        return self.app(environ, start_response)

    def without_tags(self, environ, start_response):
        """GetFunction's answer without the function's tags (the caller may not lambda:ListTags)."""
        answered = {}

        def keep(status, headers, exc_info=None):
            answered.update(status=status, headers=headers)
            return lambda _data: None

        body = b"".join(self.app(environ, keep))
        if answered["status"].startswith("200"):
            document = json.loads(body)
            document.pop("Tags", None)
            body = json.dumps(document).encode()
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], headers + [("Content-Length", str(len(body)))])
        return [body]
