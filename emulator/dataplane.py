"""API Gateway's data plane, which moto does not serve: calls to a deployed stage, answered the way
API Gateway answers them.

A stage is reached path-based on the emulator's own port (LocalStack's path-based scheme):

    http://127.0.0.1:<port>/restapis/<api_id>/<stage>/_user_request_/<resource path>

for `https://<api_id>.execute-api.<region>.amazonaws.com/<stage>/<resource path>` on AWS. Any
HTTP method, OPTIONS included. What is served is what the stage's deployment snapshotted (see
`snapshot`), not the live methods, as on AWS. In order:

1. the resource and method: `{param}` and `{proxy+}` templates match, literal segments before
   parameters before greedy ones; else 403 `{"message":"Missing Authentication Token"}` (an unknown
   API or stage: 403 `{"message":"Forbidden"}`);
2. AWS_IAM methods: a SigV4 signature (service `execute-api`, the API's region) made with
   credentials this emulator issued through cognito-identity GetCredentialsForIdentity (see
   `issue_credentials`), then the role's inline and attached policies must allow
   `execute-api:Invoke` on `arn:aws:execute-api:<region>:<account>:<api_id>/<stage>/<METHOD>/<path>`
   (see `evaluate`);
3. methods requiring an API key: `x-api-key` must be an enabled key of a usage plan that lists
   this API and stage; then the plan's throttle (token bucket per key: 429 Too Many Requests) and
   quota (per key and period: 429 Limit Exceeded);
4. the integration: MOCK answers with its integration response (status, `responseParameters` as
   headers, the `application/json` template as body); AWS_PROXY to Lambda needs a resource-policy
   statement letting apigateway.amazonaws.com invoke the function for this method (else 500),
   then runs the function's Node.js handler under the machine's `node` (lambda_runner.js) with an
   API Gateway REST proxy event, and answers its proxy result (a malformed one: 502).

The gateway's own error answers carry the headers (and status, and `application/json` template)
of the API's gateway responses, the specific type's or else DEFAULT_4XX / DEFAULT_5XX, as deployed.
"""

import base64
import datetime
import hashlib
import hmac
import http
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

import iam_enforce
from iam_enforce import as_list, wildcard

USER_REQUEST = re.compile(r"/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?")
DEFAULT_ACCOUNT = "123456789012"
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_runner.js")
CODE_CACHE = os.path.join(tempfile.gettempdir(), "authdemo-emulator-code")
INTEGRATION_TIMEOUT_S = 29  # API Gateway's limit on a REST integration
SIGNATURE_SKEW_S = 15 * 60  # how far X-Amz-Date may be from now
CREDENTIALS_LIFETIME_S = 3600  # as GetCredentialsForIdentity's
SESSION_NAME = "CognitoIdentityCredentials"  # the role session of identity pool credentials
INTERNAL_ERROR = '{"message": "Internal server error"}'
LAMBDA_URI = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
PROXY_FIELDS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


# --- Credentials issued by GetCredentialsForIdentity --------------------------------------------

@dataclass(frozen=True)
class Issued:
    """Credentials the emulator handed to a Cognito identity, and whose they are."""

    secret: str
    token: str
    role_arn: str
    identity_id: str
    pool_id: str
    authenticated: bool
    expires: float


# The session policy Cognito's enhanced flow puts on every guest's credentials
# (AmazonCognitoUnAuthedIdentitiesSessionPolicy, v3, from AWS's managed policy reference): a guest
# can do only what both it and the unauthenticated role allow. It has no execute-api action.
GUEST_SESSION_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "rum:PutRumEvents", "sagemaker:InvokeEndpoint", "polly:*", "comprehend:*", "translate:*", "transcribe:*",
    "rekognition:*", "mobiletargeting:*", "firehose:*", "personalize:*", "geo:GetMap*", "geo:SearchPlaceIndex*",
    "geo:GetPlace", "geo:CalculateRoute*", "geo:*Geofence", "geo:*Geofences", "geo:*DevicePosition*", "kms:Encrypt",
    "kms:Decrypt", "kms:ReEncryptTo", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext"]}]}

ISSUED = {}  # access key id -> Issued
ISSUED_LOCK = threading.Lock()


def issue_credentials(role_arn, identity_id, pool_id, authenticated):
    """Fresh credentials of `role_arn` for an identity, remembered so that a call signed with them
    can be checked: the `Credentials` of a GetCredentialsForIdentity answer."""
    access_key = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    issued = Issued(
        secret=secrets.token_urlsafe(30)[:40],
        token=base64.b64encode(secrets.token_bytes(96)).decode(),
        role_arn=role_arn,
        identity_id=identity_id,
        pool_id=pool_id,
        authenticated=authenticated,
        expires=time.time() + CREDENTIALS_LIFETIME_S,
    )
    with ISSUED_LOCK:
        ISSUED[access_key] = issued
    return {"AccessKeyId": access_key, "SecretKey": issued.secret, "SessionToken": issued.token,
            "Expiration": issued.expires}


# --- Deployment snapshots ---------------------------------------------------------------------

def snapshot(api):
    """What a deployment of `api` (a moto RestAPI) serves until the next one: every resource path
    with its methods as GetMethod describes them (authorization, API key, integration with its
    integration responses, method responses), and the API's gateway responses."""
    resources = {
        resource.get_path(): {name: method.to_json() for name, method in resource.resource_methods.items()}
        for resource in api.resources.values()
    }
    gateway_responses = {kind: response.to_json() for kind, response in api.gateway_responses.items()}
    authorizers = {authorizer_id: authorizer.to_json() for authorizer_id, authorizer in api.authorizers.items()}
    return json.loads(json.dumps({"resources": resources, "gatewayResponses": gateway_responses,
                                  "authorizers": authorizers}, default=str))


# --- Requests and answers ---------------------------------------------------------------------

@dataclass
class Request:
    """One call to a stage."""

    method: str
    raw_uri: str  # the path and query as sent: what a SigV4 signature covers
    path: str  # the resource path, after the stage
    query: str
    headers: dict  # lower-case name -> value
    names: dict  # lower-case name -> the name as the client wrote it (title case under WSGI)
    body: bytes
    source_ip: str
    claims: dict = None  # a COGNITO_USER_POOLS method's: the token's claims

    def header(self, name):
        """The value of header `name` (any case), or None."""
        return self.headers.get(name.lower())


def read_request(environ, path):
    """The call in a WSGI `environ`, for the resource `path`."""
    headers, names = {}, {}
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key[5:] if key.startswith("HTTP_") else key
            if value == "" and not key.startswith("HTTP_"):
                continue
            headers[name.lower().replace("_", "-")] = value
            names[name.lower().replace("_", "-")] = name.replace("_", "-").title()
    raw_uri = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    return Request(method=environ.get("REQUEST_METHOD", "GET"), raw_uri=raw_uri, path=path or "/",
                   query=raw_uri.partition("?")[2], headers=headers, names=names, body=body,
                   source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"))


@dataclass
class Answer:
    """An HTTP answer: status, headers as (name, value) pairs, body."""

    status: int
    headers: list = field(default_factory=list)
    body: bytes = b""

    def send(self, start_response):
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{self.status} {reason}", self.headers + [("Content-Length", str(len(self.body)))])
        return [self.body]


class GatewayError(Exception):
    """One of API Gateway's own error answers: its gateway response type, status, body and
    `x-amzn-ErrorType`."""

    def __init__(self, response_type, status, body, error_type):
        super().__init__(body)
        self.response_type = response_type
        self.status = status
        self.body = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        self.error_type = error_type

    def message(self):
        parsed = json.loads(self.body)
        return parsed.get("message", parsed.get("Message", ""))


def missing_token():
    return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, {"message": "Missing Authentication Token"},
                        "MissingAuthenticationTokenException")


def forbidden(response_type="DEFAULT_4XX"):
    return GatewayError(response_type, 403, {"message": "Forbidden"}, "ForbiddenException")


def internal_error(response_type="DEFAULT_5XX", status=500):
    return GatewayError(response_type, status, INTERNAL_ERROR, "InternalServerErrorException")


def mapped_headers(parameters, prefix, request):
    """The headers that mapping `parameters` (e.g. `method.response.header.X: "'v'"`) sets: static
    values in single quotes, or a request header (`method.request.header.Y`)."""
    headers = []
    for name, source in (parameters or {}).items():
        if not name.startswith(prefix):
            continue
        source = str(source)
        if len(source) >= 2 and source[0] == source[-1] == "'":
            value = source[1:-1]
        elif source.startswith("method.request.header."):
            value = request.header(source.removeprefix("method.request.header."))
        else:
            value = None
        if value is not None:
            headers.append((name.removeprefix(prefix), value))
    return headers


def gateway_answer(error, gateway_responses, request):
    """The answer for `error`, with what the API's gateway response for it (or the DEFAULT_4XX /
    DEFAULT_5XX one) sets: status, headers and `application/json` template."""
    fallback = "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
    configured = gateway_responses.get(error.response_type) or gateway_responses.get(fallback) or {}
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.error_type),
               ("x-amzn-RequestId", str(uuid.uuid4()))]
    headers += mapped_headers(configured.get("responseParameters"), "gatewayresponse.header.", request)
    body = error.body
    template = (configured.get("responseTemplates") or {}).get("application/json")
    if template:
        body = (template.replace("$context.error.messageString", json.dumps(error.message()))
                .replace("$context.error.message", error.message())
                .replace("$context.error.responseType", error.response_type))
    status = int(configured.get("statusCode") or error.status)
    return Answer(status, headers, body.encode())


# --- Stages and routes ------------------------------------------------------------------------

@dataclass
class Deployed:
    """The deployment a stage serves."""

    account: str
    region: str
    backend: object  # moto's APIGatewayBackend of the API's region
    api_id: str
    stage: str
    variables: dict
    resources: dict  # resource path -> method -> GetMethod's description
    gateway_responses: dict  # response type -> GetGatewayResponse's description
    authorizers: dict = field(default_factory=dict)  # authorizer id -> GetAuthorizer's description

    def arn(self, request):
        """The execute-api ARN of `request` on this stage: METHOD/path without its leading slash."""
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}/" \
               f"{request.method}/{request.path.lstrip('/')}"


def find_deployed(account, api_id, stage_name):
    """The deployment stage `stage_name` of API `api_id` serves, in whichever region the API is."""
    from moto.apigateway.models import apigateway_backends

    for region, backend in list(apigateway_backends[account].items()):
        api = backend.apis.get(api_id)
        if api is None:
            continue
        stage = api.stages.get(stage_name)
        deployment = api.deployments.get(stage.deployment_id) if stage else None
        served = getattr(deployment, "served", None)
        if served is None:
            raise forbidden()
        return Deployed(account, region, backend, api_id, stage_name, dict(stage.variables or {}),
                        served["resources"], served["gatewayResponses"], served.get("authorizers", {}))
    raise forbidden()


def segments(path):
    return [segment for segment in path.split("/") if segment]


def match_template(template, path):
    """The path parameters if resource `template` (e.g. `/items/{id}`, `/{proxy+}`) matches `path`,
    else None."""
    wanted, given = segments(template), segments(path)
    params = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(given):
                return None
            params[part[1:-2]] = "/".join(unquote(s) for s in given[index:])
            return params
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(given[index])
        elif part != unquote(given[index]):
            return None
    return params if len(wanted) == len(given) else None


def specificity(template):
    """Sorts templates as API Gateway prefers them: literal segments, then `{param}`, then greedy."""
    return [0 if part.endswith("+}") else 1 if part.startswith("{") else 2 for part in segments(template)]


def find_route(resources, path):
    """The resource template serving `path` and its path parameters, or None."""
    best = None
    for template in resources:
        params = match_template(template, path)
        if params is not None and (best is None or specificity(template) > specificity(best[0])):
            best = (template, params)
    return best


# --- SigV4 --------------------------------------------------------------------------------------

def signature_mismatch(canonical, string_to_sign):
    return GatewayError("INVALID_SIGNATURE", 403, {"message": (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String "
        f"for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )}, "InvalidSignatureException")


def invalid_token():
    return GatewayError("UNAUTHORIZED", 403, {"message": "The security token included in the request is invalid."},
                        "UnrecognizedClientException")


def incomplete_signature(message):
    return GatewayError("INVALID_SIGNATURE", 403, {"message": message}, "IncompleteSignatureException")


def parse_authorization(header):
    """Credential, SignedHeaders and Signature of a SigV4 Authorization header."""
    algorithm, _, rest = header.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise incomplete_signature(f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                                   f"header. Authorization={header}")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise incomplete_signature(" ".join(f"Authorization header requires '{name}' parameter." for name in missing)
                                   + f" Authorization={header}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise incomplete_signature(f"Credential should be scoped correctly: {fields['Credential']}")
    return scope, fields["SignedHeaders"], fields["Signature"]


def canonical_request(request, signed_headers):
    """The SigV4 canonical request: the path as sent, encoded once more (every service but S3)."""
    path = request.raw_uri.partition("?")[0]
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~"))
                   for k, v in parse_qsl(request.query, keep_blank_values=True))
    headers = "".join(f"{name}:{' '.join((request.header(name) or '').split())}\n"
                      for name in signed_headers.split(";"))
    return "\n".join([request.method, quote(path, safe="/-_.~"), "&".join(f"{k}={v}" for k, v in pairs),
                      headers, signed_headers, hashlib.sha256(request.body).hexdigest()])


def signing_key(secret, date, region, service):
    """SigV4's key for one day, region and service."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_scope(request, scope, region):
    """Refuses a credential scope or a request date API Gateway would refuse."""
    _, date, scope_region, service, _ = scope
    if service != "execute-api":
        raise incomplete_signature("Credential should be scoped to correct service: 'execute-api'. ")
    if scope_region != region:
        raise incomplete_signature("Credential should be scoped to a valid region. ")
    stamp = request.header("x-amz-date") or ""
    try:
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise incomplete_signature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                                   "header.")
    if stamp[:8] != date:
        raise incomplete_signature(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                                   f"date from HTTP: '{date}' != '{stamp[:8]}', from '{stamp}'.")
    if abs(time.time() - signed_at.timestamp()) > SIGNATURE_SKEW_S:
        raise GatewayError("INVALID_SIGNATURE", 403, {"message": f"Signature expired: {stamp} is now earlier or "
                           "later than 15 min from now."}, "InvalidSignatureException")


def authenticate(request, region):
    """The issued credentials that signed `request` (AWS SigV4), or the refusal API Gateway makes."""
    header = request.header("authorization")
    if not header:
        raise missing_token()
    scope, signed_headers, signature = parse_authorization(header)
    with ISSUED_LOCK:
        issued = ISSUED.get(scope[0])
    if issued is None or request.header("x-amz-security-token") != issued.token:
        raise invalid_token()
    check_scope(request, scope, region)
    if time.time() > issued.expires:
        raise GatewayError("EXPIRED_TOKEN", 403, {"message": "The security token included in the request is expired"},
                           "ExpiredTokenException")
    canonical = canonical_request(request, signed_headers)
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", request.header("x-amz-date"), "/".join(scope[1:]),
                                hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(signing_key(issued.secret, *scope[1:4]), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise signature_mismatch(canonical, string_to_sign)
    return scope[0], issued


# --- IAM policy evaluation ----------------------------------------------------------------------

def evaluate(documents, action, resource):
    """`allow` when a statement of the policy `documents` allows `action` on `resource` and none
    denies it, else `deny`: the control plane's evaluator (iam_enforce), with no condition key in
    the call's context."""
    return iam_enforce.evaluate(documents, action, resource, {})


def role_of(account, role_arn):
    """The moto IAM role at `role_arn`, or None if it is gone."""
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account]["global"].get_role_by_arn(role_arn)
    except Exception:
        return None


def role_documents(role):
    """The role's inline policies and the default versions of its attached managed policies."""
    if role is None:
        return []
    documents = [iam_enforce.parse_document(document) for document in role.policies.values()]
    for policy in role.managed_policies.values():
        documents += iam_enforce.default_version(policy)
    return documents


def caller_arn(role_arn):
    """The assumed-role ARN of identity pool credentials of `role_arn`."""
    partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
    return f"arn:{partition}:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{SESSION_NAME}"


def authorize(deployed, issued, request):
    """Refuses the call unless the caller's role may `execute-api:Invoke` it and, for a guest,
    Cognito's session policy on guest credentials does too."""
    arn = deployed.arn(request)
    allowed = evaluate(role_documents(role_of(deployed.account, issued.role_arn)), "execute-api:Invoke", arn)
    if not issued.authenticated and evaluate([GUEST_SESSION_POLICY], "execute-api:Invoke", arn) != "allow":
        allowed = "deny"
    if allowed != "allow":
        raise GatewayError("ACCESS_DENIED", 403, {"Message": f"User: {caller_arn(issued.role_arn)} is not authorized "
                           f"to perform: execute-api:Invoke on resource: {arn}"}, "AccessDeniedException")


# --- API keys and usage plans -------------------------------------------------------------------

def key_and_plan(deployed, value):
    """The enabled API key with `value` and the usage plan linking it to this stage, or 403."""
    backend = deployed.backend
    key = next((k for k in backend.keys.values() if value and k.value == value and k.enabled in (True, "true")), None)
    if key is None:
        raise forbidden("INVALID_API_KEY")
    for plan in backend.usage_plans.values():
        linked = key.id in backend.usage_plan_keys.get(plan.id, {})
        if linked and any(s.get("apiId") == deployed.api_id and s.get("stage") == deployed.stage
                          for s in plan.api_stages):
            return key, plan
    raise forbidden("INVALID_API_KEY")


def quota_period(period, now):
    """The quota period `now` falls in, as a key: its day, ISO week or month (UTC)."""
    day = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).date()
    if period == "WEEK":
        return tuple(day.isocalendar()[:2])
    if period == "MONTH":
        return (day.year, day.month)
    return day.isoformat()


class Meter:
    """Usage plans' throttles (a token bucket per plan and key) and quotas (a count per plan, key
    and period)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}  # (plan id, key id) -> (tokens, time they were counted)
        self.counts = {}  # (plan id, key id, period) -> requests

    def admit(self, plan, key):
        """Counts one request of `key` on `plan`, or refuses it with 429."""
        now = time.time()
        with self.lock:
            if plan.throttle and not self.take_token((plan.id, key.id), plan.throttle, now):
                raise GatewayError("THROTTLED", 429, {"message": "Too Many Requests"}, "TooManyRequestsException")
            if plan.quota and plan.quota.get("limit") is not None:
                counted = (plan.id, key.id, quota_period(plan.quota.get("period"), now))
                if self.counts.get(counted, 0) >= int(plan.quota["limit"]):
                    raise GatewayError("QUOTA_EXCEEDED", 429, {"message": "Limit Exceeded"},
                                       "LimitExceededException")
                self.counts[counted] = self.counts.get(counted, 0) + 1

    def take_token(self, bucket, throttle, now):
        rate = float(throttle.get("rateLimit") or 0)
        capacity = float(throttle.get("burstLimit") or 0) or max(rate, 1.0)
        tokens, counted = self.buckets.get(bucket, (capacity, now))
        tokens = min(capacity, tokens + (now - counted) * rate)
        if tokens < 1:
            self.buckets[bucket] = (tokens, now)
            return False
        self.buckets[bucket] = (tokens - 1, now)
        return True


# --- Integrations -----------------------------------------------------------------------------

def mock_answer(integration, request):
    """A MOCK integration's answer: the integration response selected by the status code its
    request template names (the default response otherwise)."""
    template = (integration.get("requestTemplates") or {}).get("application/json") or ""
    found = re.search(r'"statusCode"\s*:\s*(\d+)', template)
    status = found.group(1) if found else "200"
    responses = (integration.get("integrationResponses") or {}).values()
    chosen = next((r for r in responses if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], status)),
                  None) or next((r for r in responses if not r.get("selectionPattern")), None)
    if chosen is None:
        raise internal_error("API_CONFIGURATION_ERROR")
    headers = [("Content-Type", "application/json")]
    headers += mapped_headers(chosen.get("responseParameters"), "method.response.header.", request)
    body = (chosen.get("responseTemplates") or {}).get("application/json") or ""
    return Answer(int(chosen.get("statusCode") or 200), headers, body.encode())


def lambda_function(deployed, uri):
    """The moto Lambda function an AWS_PROXY integration `uri` names, or None."""
    from moto.awslambda.models import lambda_backends

    found = LAMBDA_URI.fullmatch(uri or "")
    if not found:
        return None
    arn = found.group("function")
    parts = arn.split(":")
    region, account = (parts[3], parts[4]) if len(parts) >= 7 else (deployed.region, deployed.account)
    try:
        return lambda_backends[account][region].get_function(arn)
    except Exception:
        return None


def lets_apigateway_invoke(fn, source_arn, account):
    """Whether the function's resource policy lets API Gateway invoke it for `source_arn`."""
    for statement in fn.policy.statements:
        principal = statement.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else as_list(principal)
        condition = statement.get("Condition") or {}
        source = [p for test in ("ArnLike", "ArnEquals", "StringLike", "StringEquals")
                  for p in as_list((condition.get(test) or {}).get("AWS:SourceArn"))]
        owner = [a for test in ("StringEquals", "StringLike") for a in as_list((condition.get(test) or {})
                                                                                 .get("AWS:SourceAccount"))]
        if (statement.get("Effect") == "Allow"
                and any(s in ("apigateway.amazonaws.com", "*") for s in services)
                and any(wildcard(a, "lambda:InvokeFunction", ignore_case=True) for a in as_list(statement.get("Action")))
                and (not source or any(wildcard(p, source_arn) for p in source))
                and (not owner or account in owner)):
            return True
    return False


def extracted_code(fn):
    """A directory holding the function's unzipped code, cached by its SHA-256."""
    digest = hashlib.sha256(fn.code_bytes).hexdigest()
    target = os.path.join(CODE_CACHE, digest)
    if not os.path.isdir(target):
        os.makedirs(CODE_CACHE, exist_ok=True)
        staging = tempfile.mkdtemp(dir=CODE_CACHE)
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another request extracted it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return target


def cannot_run(runtime, why):
    return GatewayError("DEFAULT_5XX", 502, {"message": f"The emulator cannot run the function's runtime "
                        f"{runtime}: {why}"}, "InternalServerErrorException")


def function_environment(fn, code_dir):
    """The environment Lambda gives a function: its own variables over the runtime's."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "LAMBDA_TASK_ROOT": code_dir,
        "_HANDLER": fn.handler or "",
        **{str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
    }


def invoke(fn, event):
    """Runs the function's Node.js handler on `event` under the machine's `node`: its result."""
    runtime = fn.run_time or "(none)"
    node = shutil.which("node")
    if not runtime.startswith("nodejs"):
        raise cannot_run(runtime, "only nodejs* runtimes run here, under the machine's node")
    if node is None:
        raise cannot_run(runtime, "node is not installed on this machine")
    code_dir = extracted_code(fn)
    timeout = min(float(fn.timeout or 3), INTEGRATION_TIMEOUT_S)
    with tempfile.TemporaryDirectory() as scratch:
        result_file = os.path.join(scratch, "result.json")
        try:
            done = subprocess.run([node, RUNNER, code_dir, fn.handler or "", result_file], cwd=code_dir,
                                  input=json.dumps(event).encode(), env=function_environment(fn, code_dir),
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            if timeout >= INTEGRATION_TIMEOUT_S:
                raise GatewayError("INTEGRATION_TIMEOUT", 504, {"message": "Endpoint request timed out"},
                                   "InternalServerErrorException")
            raise internal_error(status=502)
        log = (done.stdout + done.stderr).decode(errors="replace").strip()
        if log:
            print(f"[lambda {fn.function_name}] {log}", file=sys.stderr, flush=True)
        if done.returncode != 0 or not os.path.exists(result_file):
            raise internal_error(status=502)
        with open(result_file, encoding="utf-8") as result:
            return json.load(result)


def proxy_event(deployed, request, route, params, identity):
    """The API Gateway REST (v1) proxy event for `request` on resource `route`."""
    pairs = parse_qsl(request.query, keep_blank_values=True)
    multi_query = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    headers = {request.names[name]: value for name, value in request.headers.items()}
    try:
        body, encoded = (request.body.decode("utf-8"), False) if request.body else (None, False)
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode(), True
    now = time.time()
    return {
        "resource": route,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": deployed.variables or None,
        "requestContext": {
            "resourcePath": route,
            "httpMethod": request.method,
            "path": f"/{deployed.stage}{request.path}",
            "stage": deployed.stage,
            "apiId": deployed.api_id,
            "accountId": deployed.account,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "domainName": f"{deployed.api_id}.execute-api.{deployed.region}.amazonaws.com",
            "identity": identity,
            # API Gateway hands a Cognito authorizer's claims to the function, as strings.
            **({"authorizer": {"claims": {k: v if isinstance(v, str) else json.dumps(v)
                                          for k, v in request.claims.items()}}} if request.claims else {}),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def caller_identity(deployed, request, signer, api_key):
    """`requestContext.identity`: who signed the call (identity pool credentials) and its API key."""
    access_key, issued = signer or (None, None)
    role = role_of(deployed.account, issued.role_arn) if issued else None
    user = f"{role.id}:{SESSION_NAME}" if role else None
    return {
        "cognitoIdentityPoolId": issued.pool_id if issued else None,
        "cognitoIdentityId": issued.identity_id if issued else None,
        "cognitoAuthenticationType": ("authenticated" if issued.authenticated else "unauthenticated")
        if issued else None,
        "cognitoAuthenticationProvider": None,
        "accountId": deployed.account if issued else None,
        "caller": user,
        "user": user,
        "userArn": caller_arn(issued.role_arn) if issued else None,
        "accessKey": access_key,
        "apiKey": api_key.value if api_key else None,
        "apiKeyId": api_key.id if api_key else None,
        "sourceIp": request.source_ip,
        "userAgent": request.header("user-agent"),
        "principalOrgId": None,
    }


def proxy_answer(result):
    """The answer a Lambda proxy result asks for; 502 if it is not one."""
    malformed = internal_error(status=502)
    if not isinstance(result, dict) or set(result) - PROXY_FIELDS:
        raise malformed
    status = result.get("statusCode")
    headers, multi, body = result.get("headers") or {}, result.get("multiValueHeaders") or {}, result.get("body")
    if (not isinstance(status, int) or isinstance(status, bool) or not isinstance(headers, dict)
            or not isinstance(multi, dict) or not all(isinstance(v, list) for v in multi.values())
            or not (body is None or isinstance(body, str))):
        raise malformed
    pairs = [(str(k), str(v)) for k, v in headers.items() if k not in multi]
    pairs += [(str(k), str(v)) for k, values in multi.items() for v in values]
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "application/json"))
    pairs.append(("x-amzn-RequestId", str(uuid.uuid4())))
    try:
        data = base64.b64decode(body or "") if result.get("isBase64Encoded") else (body or "").encode()
    except ValueError:
        raise malformed
    return Answer(status, pairs, data)


# --- The middleware -----------------------------------------------------------------------------

class DataPlane:
    """WSGI middleware serving calls to deployed stages (see the module doc); every other request
    goes on to `app`."""

    def __init__(self, app):
        self.app = app
        self.meter = Meter()

    def __call__(self, environ, start_response):
        found = USER_REQUEST.fullmatch(environ.get("PATH_INFO", ""))
        if not found:
            return self.app(environ, start_response)
        request = read_request(environ, found.group("path"))
        account = request.header("x-moto-account-id") or DEFAULT_ACCOUNT
        try:
            deployed = find_deployed(account, found.group("api"), found.group("stage"))
        except GatewayError as error:
            return gateway_answer(error, {}, request).send(start_response)
        try:
            answer = self.serve(deployed, request)
        except GatewayError as error:
            answer = gateway_answer(error, deployed.gateway_responses, request)
        return answer.send(start_response)

    def serve(self, deployed, request):
        """Authenticates, authorizes and meters `request`, then answers it from its integration."""
        route = find_route(deployed.resources, request.path)
        methods = deployed.resources[route[0]] if route else {}
        method = methods.get(request.method) or methods.get("ANY")
        if method is None:
            raise missing_token()
        authorization = method.get("authorizationType") or "NONE"
        signer = None
        if authorization == "AWS_IAM":
            signer = authenticate(request, deployed.region)
            authorize(deployed, signer[1], request)
        elif authorization == "COGNITO_USER_POOLS":
            request.claims = __import__("cognito_authorizer").authorize(deployed, method, request)
        elif authorization != "NONE":
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, {"message": "The emulator serves NONE, AWS_IAM "
                               f"and COGNITO_USER_POOLS authorization, not {authorization}"},
                               "InternalServerErrorException")
        api_key = None
        if method.get("apiKeyRequired"):
            api_key, plan = key_and_plan(deployed, request.header("x-api-key"))
            self.meter.admit(plan, api_key)
        integration = method.get("methodIntegration") or {}
        if integration.get("type") == "MOCK":
            return mock_answer(integration, request)
        if integration.get("type") == "AWS_PROXY":
            return self.proxy(deployed, request, route, signer, api_key, integration)
        raise GatewayError("API_CONFIGURATION_ERROR", 500, {"message": "The emulator serves MOCK and AWS_PROXY "
                           f"integrations, not {integration.get('type')}"}, "InternalServerErrorException")

    @staticmethod
    def proxy(deployed, request, route, signer, api_key, integration):
        """An AWS_PROXY integration: the Lambda function's answer, if API Gateway may invoke it."""
        fn = lambda_function(deployed, integration.get("uri"))
        template, params = route
        source_arn = f"arn:aws:execute-api:{deployed.region}:{deployed.account}:{deployed.api_id}/" \
                     f"{deployed.stage}/{request.method}/{template.lstrip('/')}"
        if fn is None or not lets_apigateway_invoke(fn, source_arn, deployed.account):
            raise internal_error("API_CONFIGURATION_ERROR")
        identity = caller_identity(deployed, request, signer, api_key)
        return proxy_answer(invoke(fn, proxy_event(deployed, request, template, params, identity)))
