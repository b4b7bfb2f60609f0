"""authdemo's test emulator: moto's server, patched in-process to behave like AWS where it matters.

Stock moto is more lenient than AWS (see ../shared/AWS-NOTES.md, "Gaps"). A tool tested against a
lenient emulator ships bugs that only AWS catches, so this launcher adds the refusals AWS makes and
the operations moto lacks, for the moto version pinned in requirements.txt, then serves on loopback.

It also records every request it serves, keyed by the SDK user agent's app id
(`AWS_SDK_UA_APP_ID`), so a test can ask which operations one run of the tool called:
`GET /_authdemo/requests?app=ID` answers a JSON list of operation names.

Usage: python launcher.py [--port N] [--parent-pid PID]
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
        return original_create_domain(self, user_pool_id, domain, custom_domain_config)

    def update_user_pool(self, user_pool_id, extended_config):
        # AWS resets omitted settings to defaults but keeps what cannot change after creation.
        pool = self.describe_user_pool(user_pool_id)
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
    backend.update_user_pool = update_user_pool
    backend.update_user_pool_client = update_user_pool_client


class RequestRecorder:
    """WSGI middleware recording each request's operation under the caller's SDK app id."""

    APP_ID = re.compile(r"\bapp/([^\s]+)")

    def __init__(self, app):
        self.app = app
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
    args = parser.parse_args()

    if moto.__version__ != PINNED_MOTO:
        sys.exit(f"launcher.py patches moto {PINNED_MOTO}, found {moto.__version__}")
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    patch_cognito_idp()

    port = args.port or free_port()
    os.environ["MOTO_PORT"] = str(port)
    app = RequestRecorder(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True)
    if args.parent_pid:
        threading.Thread(target=exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
