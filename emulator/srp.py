"""Cognito's USER_SRP_AUTH, verified as AWS verifies it. Stock moto 5.2.5 answers InitiateAuth with
random SALT / SRP_B values and accepts any PASSWORD_CLAIM_SIGNATURE, so a client whose SRP math
is wrong (or whose password is) would pass here and fail on AWS.

The server side of Cognito's SRP-6a variant (the 3072-bit group of RFC 5054 with g = 2; numbers
hashed as "padded hex": big-endian bytes, with a 0x00 first when the top bit is set):

    x = H(salt | H(pool_name | user_id | ":" | password))     v = g^x
    k = H(N | g)   B = k·v + g^b   u = H(A | B)   S = (A · v^u)^b
    key = HKDF-SHA256(ikm=S, salt=u, info="Caldera Derived Key")[:16]
    signature = base64(HMAC-SHA256(key, pool_name | user_id | base64decode(SECRET_BLOCK) | TIMESTAMP))

where pool_name is the user pool id after its `_` and user_id the challenge's USER_ID_FOR_SRP (the
user's username, as on AWS). A wrong signature is NotAuthorizedException "Incorrect username or
password.", as on AWS. Each challenge can be answered once.
"""

import base64
import hashlib
import hmac
import secrets
import threading

N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
INFO = b"Caldera Derived Key\x01"


def padded(number):
    """The big-endian bytes of `number`, with a 0x00 first when its top bit is set."""
    data = number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")
    return b"\x00" + data if data[0] >= 0x80 else data


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def as_int(data):
    return int.from_bytes(data, "big")


K = as_int(sha256(padded(N), padded(G)))


def verifier(pool_name, user_id, password, salt):
    """v = g^x for the user's password and `salt` (an int)."""
    identity = sha256(f"{pool_name}{user_id}:{password}".encode())
    return pow(G, as_int(sha256(padded(salt), identity)), N)


def signing_key(shared, u):
    prk = hmac.new(padded(u), padded(shared), hashlib.sha256).digest()
    return hmac.new(prk, INFO, hashlib.sha256).digest()[:16]


class Challenge:
    """One PASSWORD_VERIFIER challenge: the server's secret and what the answer must prove."""

    def __init__(self, pool_name, user_id, password, srp_a):
        self.pool_name, self.user_id = pool_name, user_id
        self.a = int(srp_a, 16)
        if self.a % N == 0:
            raise ValueError("SRP_A must not be 0 mod N")
        # A salt and B without leading zero bytes, so every client's hex decoding agrees.
        self.salt = secrets.randbits(127) | (1 << 120)
        self.v = verifier(pool_name, user_id, password, self.salt)
        self.b = secrets.randbits(1024)
        self.srp_b = (K * self.v + pow(G, self.b, N)) % N
        self.secret_block = base64.b64encode(secrets.token_bytes(48)).decode()

    def parameters(self):
        return {"SALT": format(self.salt, "x"), "SRP_B": format(self.srp_b, "x"), "SECRET_BLOCK": self.secret_block,
                "USER_ID_FOR_SRP": self.user_id}

    def accepts(self, signature, timestamp):
        u = as_int(sha256(padded(self.a), padded(self.srp_b)))
        shared = pow(self.a * pow(self.v, u, N), self.b, N)
        message = self.pool_name.encode() + self.user_id.encode() + base64.b64decode(self.secret_block)
        expected = hmac.new(signing_key(shared, u), message + timestamp.encode(), hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(expected).decode(), signature or "")


def patch(backend, errors):
    """Makes `backend` (moto's CognitoIdpBackend) issue real SRP challenges and check their answers;
    `errors` is moto's cognitoidp exceptions module."""
    pending = {}
    lock = threading.Lock()
    original_initiate = backend.initiate_auth
    original_respond = backend.respond_to_auth_challenge

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        started = original_initiate(self, client_id, auth_flow, auth_parameters)
        if auth_flow != "USER_SRP_AUTH" or started.get("ChallengeName") != "PASSWORD_VERIFIER":
            return started
        username, pool = self.sessions.pop(started["Session"])
        user = self.admin_get_user(pool.id, username)
        try:
            challenge = Challenge(pool.id.split("_", 1)[1], user.username, user.password or "", auth_parameters["SRP_A"])
        except ValueError as refused:
            raise errors.InvalidParameterException(str(refused))
        with lock:
            pending[challenge.secret_block] = challenge
        # moto looks its session up by PASSWORD_CLAIM_SECRET_BLOCK when the answer comes.
        self.sessions[challenge.secret_block] = (user.username, pool)
        return {**started, "Session": challenge.secret_block, "ChallengeParameters": challenge.parameters()}

    def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
        if challenge_name == "PASSWORD_VERIFIER":
            block = challenge_responses.get("PASSWORD_CLAIM_SECRET_BLOCK", "")
            with lock:
                challenge = pending.pop(block, None)
            answered = challenge_responses.get("USERNAME") == getattr(challenge, "user_id", None)
            if challenge is None or not answered or not challenge.accepts(
                challenge_responses.get("PASSWORD_CLAIM_SIGNATURE"), challenge_responses.get("TIMESTAMP", "")
            ):
                self.sessions.pop(block, None)
                raise errors.NotAuthorizedError("Incorrect username or password.")
        return original_respond(self, session, client_id, challenge_name, challenge_responses)

    backend.initiate_auth = initiate_auth
    backend.respond_to_auth_challenge = respond_to_auth_challenge


# The ExplicitAuthFlows value that lets a client use each InitiateAuth flow.
CLIENT_FLOWS = {"USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH", "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
                "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH", "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
                "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH"}


def enforce_client_flows(backend, errors):
    """InitiateAuth with a flow the app client does not list in its ExplicitAuthFlows is refused, as on
    AWS ("<FLOW> flow not enabled for this client"). A client that lists none is not checked."""
    original_initiate = backend.initiate_auth

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        for pool in self.user_pools.values():
            client = pool.clients.get(client_id)
            allowed = (client.extended_config.get("ExplicitAuthFlows") or []) if client else []
            if allowed and CLIENT_FLOWS.get(auth_flow, auth_flow) not in allowed:
                raise errors.InvalidParameterException(f"{auth_flow} flow not enabled for this client")
        return original_initiate(self, client_id, auth_flow, auth_parameters)

    backend.initiate_auth = initiate_auth
