"""Cognito's hosted UI, which moto does not serve: the OAuth 2.0 endpoints of each user pool domain,
answered the way Cognito answers them (developer guide: the authorize, login, token, logout and
userInfo endpoints).

A prefix domain is reached path-based on the emulator's own port, the AWS host name as a segment:

    http(s)://127.0.0.1:<port>/_hosted_ui_/<prefix>.auth.<region>.amazoncognito.com/<endpoint>

for `https://<prefix>.auth.<region>.amazoncognito.com/<endpoint>` on AWS (`authdemo output` hands
web clients this base when an endpoint override applies to cognito-idp). The port also speaks TLS
(a self-signed certificate, see `accept_tls`): Amplify always calls `https://<its oauth domain>`.
A domain still CREATING (or DELETING, or unknown) answers 404, as its DNS name would not resolve.

- GET `/oauth2/authorize` (and `/login`, the sign-in form it redirects to with the same query):
  an unknown `client_id` or a `redirect_uri` that is not one of the client's callback URLs goes
  to the error page (302 `/error?error=redirect_mismatch&client_id=…`), never to the URI; then,
  redirected to the URI with `error` (and `state`): a missing `response_type` or a malformed
  PKCE pair is `invalid_request`, a type other than `code`/`token` `unsupported_response_type`, a
  flow the client does not allow (or a client without OAuth, or without the COGNITO provider)
  `unauthorized_client`, a scope the client does not allow (or `email`/`phone`/`profile`
  without `openid`) `invalid_scope`. No scope asks for all of the client's.
- POST `/login`: the user's password is checked against the user pool (moto's users); wrong:
  the form again with "Incorrect username or password."; right: 302 to the URI with `code` (and
  `state`), or the tokens in the fragment for `response_type=token`. A code is single-use and
  lasts 5 minutes (the fault token `oN` of the emulator shortens that to N ms for one run).
- POST `/oauth2/token` (form-encoded; the client by HTTP Basic or `client_id`, its secret if it
  has one): `authorization_code` with `redirect_uri` and the PKCE `code_verifier` (S256), or
  `refresh_token`. Errors are 400 `{"error": …}`: `invalid_request` (a missing parameter),
  `invalid_client` (unknown client, bad secret), `unauthorized_client` (a grant the client does
  not allow), `unsupported_grant_type`, `invalid_grant` (a code unknown, used, expired, of another
  client or redirect URI, or whose verifier does not match; an unknown or revoked refresh token).
  Tokens are moto's own (the same RS256 key, issuer and stores), so GetUser, the identity pool's
  GetId and GetCredentialsForIdentity accept them; the access token carries the granted scopes,
  the ID token comes only with `openid` (with the authorize request's `nonce`, if any).
- GET `/logout`: `logout_uri` must be one of the client's sign-out URLs (else the error page),
  then 302 to it; with `redirect_uri` and `response_type` instead, back to the sign-in form.
- GET/POST `/oauth2/userInfo`: the user's claims for an access token with `openid` (401
  `invalid_token` for an unknown one).
- GET `/.well-known/openid-configuration` and `/.well-known/jwks.json`.
"""

import base64
import datetime
import hashlib
import html
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

HOSTED = re.compile(r"/_hosted_ui_/(?P<host>[^/]+)(?P<path>/.*)?")
DOMAIN_HOST = re.compile(r"(?P<prefix>[a-z0-9-]+)\.auth(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazoncognito\.com(?:\.cn)?")
CODE_LIFETIME_MS = 5 * 60 * 1000  # Cognito's authorization codes last 5 minutes
FLOW_OF_RESPONSE_TYPE = {"code": "code", "token": "implicit"}
NEEDS_OPENID = ("email", "phone", "profile")
PEEK_TIMEOUT_S = 30


class Refusal(Exception):
    """An answer that ends the request early (an error page, an error redirect, an OAuth error)."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def redirect(location):
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def with_query(uri, params, fragment=False):
    separator = "#" if fragment else ("&" if "?" in uri else "?")
    return uri + separator + urlencode({k: v for k, v in params.items() if v is not None})


def oauth_error(error, status=400, description=None):
    body = {"error": error, **({"error_description": description} if description else {})}
    return Refusal(Response(json.dumps(body), status, content_type="application/json"))


class Site:
    """One domain's hosted UI as this request reaches it: the pool, and the base URL."""

    def __init__(self, pool, base, region):
        self.pool = pool
        self.base = base
        self.region = region

    @staticmethod
    def of(host, request):
        """The site of AWS host name `host`, or None when no ACTIVE domain has it."""
        from moto.cognitoidp import models

        found = DOMAIN_HOST.fullmatch(host)
        if not found:
            return None
        for account_backends in models.cognitoidp_backends.values():
            regional = account_backends.get(found.group("region"))
            domain = regional.user_pool_domains.get(found.group("prefix")) if regional else None
            if domain is None:
                continue
            if getattr(domain, "deleting", False) or time.time() < getattr(domain, "settles_at", 0):
                return None
            scheme = "https" if isinstance(request.environ.get("werkzeug.socket"), ssl.SSLSocket) else "http"
            base = f"{scheme}://{request.host}/_hosted_ui_/{host}"
            return Site(regional.user_pools[domain.user_pool_id], base, found.group("region"))
        return None

    def error_page(self, error, client_id):
        return Refusal(redirect(with_query(f"{self.base}/error", {"error": error, "client_id": client_id})))


def client_config(client):
    return client.extended_config


class Authorization:
    """A checked authorization request: the client, where to go back, what was asked."""

    def __init__(self, site, params):
        self.params = params
        client_id = params.get("client_id")
        self.client = site.pool.clients.get(client_id or "")
        if self.client is None:
            raise site.error_page("invalid_request", client_id)
        config = client_config(self.client)
        self.redirect_uri = params.get("redirect_uri")
        if self.redirect_uri not in (config.get("CallbackURLs") or []):
            raise site.error_page("redirect_mismatch", client_id)
        self.state = params.get("state")
        self.response_type = params.get("response_type")
        if not self.response_type:
            raise self.refuse("invalid_request", "Missing required parameter response_type")
        if self.response_type not in FLOW_OF_RESPONSE_TYPE:
            raise self.refuse("unsupported_response_type")
        if (not config.get("AllowedOAuthFlowsUserPoolClient")
                or FLOW_OF_RESPONSE_TYPE[self.response_type] not in (config.get("AllowedOAuthFlows") or [])
                or "COGNITO" not in (config.get("SupportedIdentityProviders") or [])):
            raise self.refuse("unauthorized_client")
        self.scopes = self.checked_scopes(config.get("AllowedOAuthScopes") or [])
        self.challenge = self.checked_challenge()

    def refuse(self, error, description=None):
        return Refusal(redirect(with_query(self.redirect_uri, {
            "error": error, "error_description": description, "state": self.state})))

    def checked_scopes(self, allowed):
        asked = (self.params.get("scope") or "").split()
        scopes = asked or list(allowed)
        if any(scope not in allowed for scope in scopes):
            raise self.refuse("invalid_scope")
        if "openid" not in scopes and any(scope in NEEDS_OPENID for scope in scopes):
            raise self.refuse("invalid_scope")
        return scopes

    def checked_challenge(self):
        challenge = self.params.get("code_challenge")
        method = self.params.get("code_challenge_method")
        if challenge and not method:
            raise self.refuse("invalid_request", "Missing required parameter code_challenge_method")
        if method and not challenge:
            raise self.refuse("invalid_request", "Missing required parameter code_challenge")
        if method and method != "S256":
            raise self.refuse("invalid_request", "Invalid code_challenge_method")
        return challenge


def access_token(pool, client_id, username, origin_jti, scopes):
    """An access token as moto's create_access_token makes it, with the granted scopes."""
    extra = {"origin_jti": origin_jti, "scope": " ".join(scopes)}
    user = pool._get_user(username)
    if user.groups:
        extra["cognito:groups"] = [group.group_name for group in user.groups]
    token, expires_in = pool.create_jwt(client_id, username, "access", extra_data=extra)
    pool.access_tokens[token] = (client_id, username)
    return token, expires_in


def id_token(pool, client_id, username, origin_jti, nonce=None):
    """An ID token as moto's create_id_token makes it, carrying the authorize request's nonce."""
    if not nonce:
        return pool.create_id_token(client_id, username, origin_jti)[0]
    user = pool._get_user(username)
    extra = {**pool.get_user_extra_data_by_client_id(client_id, username), "origin_jti": origin_jti, "nonce": nonce}
    extra.update({a["Name"]: a["Value"] for a in user.attributes if a["Name"].startswith("custom:")})
    if user.groups:
        extra["cognito:groups"] = [group.group_name for group in user.groups]
    token, _ = pool.create_jwt(client_id, username, "id", extra_data=extra)
    pool.id_tokens[token] = (client_id, username)
    return token


def issue_tokens(pool, client_id, username, scopes, refresh_token=None, nonce=None):
    """Tokens for `username`: a new refresh token unless one is being used."""
    result = {"token_type": "Bearer"}
    if refresh_token is None:
        refresh_token, origin_jti = pool.create_refresh_token(client_id, username)
        result["refresh_token"] = refresh_token
    else:
        origin_jti = pool.refresh_tokens[refresh_token][2]
    result["access_token"], result["expires_in"] = access_token(pool, client_id, username, origin_jti, scopes)
    if "openid" in scopes:
        result["id_token"] = id_token(pool, client_id, username, origin_jti, nonce)
    return result


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def sign_in_page(site, params, message=""):
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in params.items() if k not in ("username", "password"))
    error = f'<p id="loginErrorMessage" class="error">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signin</title></head>
<body><h1>Sign in with your username and password</h1>{error}
<form method="post" action="{html.escape(site.base)}/login" name="cognitoSignInForm">{hidden}
<label>Username <input id="signInFormUsername" name="username" type="text" autocomplete="username"></label>
<label>Password <input id="signInFormPassword" name="password" type="password" autocomplete="current-password"></label>
<button type="submit" name="signInSubmitButton">Sign in</button>
</form></body></html>"""
    return Response(body, 200, content_type="text/html; charset=utf-8")


class HostedUi:
    """WSGI middleware serving every domain's hosted UI (see the module doc); every other request
    goes on to `app`. `code_lifetime_ms()` is how long a code issued now lasts."""

    def __init__(self, app, code_lifetime_ms=lambda: CODE_LIFETIME_MS):
        self.app = app
        self.code_lifetime_ms = code_lifetime_ms
        self.codes = {}
        self.refresh_scopes = {}
        self.lock = threading.Lock()
        self.routes = {
            ("GET", "/oauth2/authorize"): self.authorize,
            ("GET", "/login"): self.login_form,
            ("POST", "/login"): self.login,
            ("POST", "/oauth2/token"): self.token,
            ("OPTIONS", "/oauth2/token"): self.preflight,
            ("GET", "/logout"): self.logout,
            ("GET", "/oauth2/userInfo"): self.user_info,
            ("POST", "/oauth2/userInfo"): self.user_info,
            ("GET", "/.well-known/openid-configuration"): self.openid_configuration,
            ("GET", "/.well-known/jwks.json"): self.jwks,
            ("GET", "/error"): self.error,
        }

    def __call__(self, environ, start_response):
        found = HOSTED.fullmatch(environ.get("PATH_INFO", ""))
        if not found:
            return self.app(environ, start_response)
        request = Request(environ)
        site = Site.of(found.group("host"), request)
        handler = self.routes.get((request.method, found.group("path") or "/"))
        if site is None or handler is None:
            return Response("Not Found", 404)(environ, start_response)
        try:
            response = handler(site, request)
        except Refusal as refusal:
            response = refusal.response
        if request.path.endswith(("/oauth2/token", "/oauth2/userInfo")):
            response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
            response.headers["Vary"] = "Origin"
        return response(environ, start_response)

    def authorize(self, site, request):
        Authorization(site, request.args.to_dict())
        return redirect(f"{site.base}/login?{request.query_string.decode()}")

    def login_form(self, site, request):
        params = request.args.to_dict()
        Authorization(site, params)
        return sign_in_page(site, params)

    def login(self, site, request):
        params = request.form.to_dict()
        asked = Authorization(site, params)
        user, problem = self.signed_in(site.pool, params.get("username") or "", params.get("password") or "")
        if problem:
            return sign_in_page(site, params, problem)
        client_id = asked.client.id
        if asked.response_type == "token":
            tokens = issue_tokens(site.pool, client_id, user.username, asked.scopes, nonce=params.get("nonce"))
            tokens.pop("refresh_token")
            return redirect(with_query(asked.redirect_uri, {**tokens, "state": asked.state}, fragment=True))
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "pool": site.pool, "client_id": client_id, "username": user.username,
                "redirect_uri": asked.redirect_uri, "scopes": asked.scopes, "challenge": asked.challenge,
                "nonce": params.get("nonce"),
                "expires_at": time.time() + self.code_lifetime_ms() / 1000,
            }
        return redirect(with_query(asked.redirect_uri, {"code": code, "state": asked.state}))

    @staticmethod
    def signed_in(pool, username, password):
        """The user whose password this is, or what the page says instead."""
        wrong = (None, "Incorrect username or password.")
        try:
            user = pool._get_user(username)
        except Exception:  # moto raises its own not-found errors
            return wrong
        if user is None or user.password != password:
            return wrong
        if not user.enabled:
            return None, "User is disabled."
        if user.status != "CONFIRMED":
            # Cognito would ask for a new password here; the emulator serves no such form.
            return None, f"The user's status is {user.status}: set a permanent password (AdminSetUserPassword)."
        return user, None

    def token(self, site, request):
        if not request.content_type.startswith("application/x-www-form-urlencoded"):
            raise oauth_error("invalid_request")
        form = request.form.to_dict()
        client = self.authenticated_client(site, request, form)
        grant = form.get("grant_type")
        if not grant:
            raise oauth_error("invalid_request")
        config = client_config(client)
        flows = (config.get("AllowedOAuthFlows") or []) if config.get("AllowedOAuthFlowsUserPoolClient") else []
        if grant == "authorization_code":
            if "code" not in flows:
                raise oauth_error("unauthorized_client")
            tokens = self.exchange_code(client, form)
        elif grant == "refresh_token":
            tokens = self.refresh(site.pool, client, form)
        else:
            raise oauth_error("unsupported_grant_type")
        return Response(json.dumps(tokens), 200, content_type="application/json",
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @staticmethod
    def authenticated_client(site, request, form):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                raise oauth_error("invalid_client")
        client = site.pool.clients.get(client_id or "")
        if client is None:
            raise oauth_error("invalid_client")
        if client.generate_secret and secret != client.secret:
            raise oauth_error("invalid_client")
        return client

    def exchange_code(self, client, form):
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise oauth_error("invalid_request")
        with self.lock:
            issued = self.codes.pop(code, None)  # single-use: gone at its first exchange
        if issued is None or time.time() > issued["expires_at"]:
            raise oauth_error("invalid_grant")
        if issued["client_id"] != client.id or issued["redirect_uri"] != redirect_uri:
            raise oauth_error("invalid_grant")
        if issued["challenge"]:
            verifier = form.get("code_verifier")
            if not verifier:
                raise oauth_error("invalid_request")
            if not secrets.compare_digest(s256(verifier), issued["challenge"]):
                raise oauth_error("invalid_grant")
        tokens = issue_tokens(issued["pool"], client.id, issued["username"], issued["scopes"], nonce=issued["nonce"])
        with self.lock:
            self.refresh_scopes[tokens["refresh_token"]] = issued["scopes"]
        return tokens

    def refresh(self, pool, client, form):
        token = form.get("refresh_token")
        if not token:
            raise oauth_error("invalid_request")
        held = pool.refresh_tokens.get(token)
        if not held or held[0] != client.id:
            raise oauth_error("invalid_grant")
        scopes = self.refresh_scopes.get(token, ["aws.cognito.signin.user.admin", "openid"])
        return issue_tokens(pool, client.id, held[1], scopes, refresh_token=token)

    @staticmethod
    def preflight(site, request):
        return Response(status=204, headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*"),
            "Access-Control-Max-Age": "600",
        })

    def logout(self, site, request):
        params = request.args.to_dict()
        client = site.pool.clients.get(params.get("client_id") or "")
        if client is None:
            raise site.error_page("invalid_request", params.get("client_id"))
        if params.get("logout_uri") is None and params.get("redirect_uri") and params.get("response_type"):
            Authorization(site, params)
            return redirect(f"{site.base}/login?{request.query_string.decode()}")
        if params.get("logout_uri") not in (client_config(client).get("LogoutURLs") or []):
            raise site.error_page("redirect_mismatch", client.id)
        return redirect(params["logout_uri"])

    @staticmethod
    def user_info(site, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        held = site.pool.access_tokens.get(token)
        if held is None:
            raise invalid_token()
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        scopes = claims.get("scope", "").split()
        if "openid" not in scopes and "aws.cognito.signin.user.admin" not in scopes:
            raise invalid_token()
        user = site.pool._get_user(held[1])
        info = {"sub": claims["sub"], "username": user.username}
        for attribute in user.attributes:
            name = attribute["Name"]
            if name.startswith("dev:") or name == "sub":
                continue
            info[name] = attribute["Value"]
        return Response(json.dumps(info), 200, content_type="application/json")

    @staticmethod
    def openid_configuration(site, request):
        issuer = f"https://cognito-idp.{site.region}.amazonaws.com/{site.pool.id}"
        return Response(json.dumps({
            "issuer": issuer,
            "authorization_endpoint": f"{site.base}/oauth2/authorize",
            "token_endpoint": f"{site.base}/oauth2/token",
            "userinfo_endpoint": f"{site.base}/oauth2/userInfo",
            "end_session_endpoint": f"{site.base}/logout",
            "jwks_uri": f"{site.base}/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }), 200, content_type="application/json")

    @staticmethod
    def jwks(site, request):
        import moto.cognitoidp

        path = os.path.join(os.path.dirname(moto.cognitoidp.__file__), "resources", "jwks-public.json")
        with open(path, encoding="utf-8") as file:
            return Response(file.read(), 200, content_type="application/json")

    @staticmethod
    def error(site, request):
        error = html.escape(request.args.get("error", ""))
        body = f"<!doctype html><title>Error</title><p>An error was encountered with the requested page.</p>" \
               f'<p id="errorCode">{error}</p>'
        return Response(body, 400, content_type="text/html; charset=utf-8")


def invalid_token():
    response = Response(json.dumps({"error": "invalid_token", "error_description": "Access token is expired, "
                                    "disabled, or deleted, or the user has globally signed out."}), 401,
                        content_type="application/json")
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return Refusal(response)


def self_signed_context():
    """A TLS server context with a fresh self-signed certificate for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authdemo emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .sign(key, hashes.SHA256()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        with open(cert_file, "wb") as file:
            file.write(certificate.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as file:
            file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
        context.load_cert_chain(cert_file, key_file)
    return context


def accept_tls(server):
    """Lets werkzeug's threaded `server` answer TLS on its port too: each connection whose first
    byte is a TLS handshake is wrapped (in its own thread) before werkzeug reads it."""
    context = self_signed_context()
    plain = server.finish_request

    def finish_request(request, client_address):
        try:
            request.settimeout(PEEK_TIMEOUT_S)
            if request.recv(1, socket.MSG_PEEK) != b"\x16":
                request.settimeout(None)
                return plain(request, client_address)
            tls = context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError):
            return None
        try:
            return plain(tls, client_address)
        finally:
            tls.close()

    server.finish_request = finish_request
