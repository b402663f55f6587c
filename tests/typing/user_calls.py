"""Calls as a user writes them, after the README and docs/: plain lists, dicts and generators.

Never run, only type-checked: ``mypy --strict tests/typing`` (``make lint``;
tests/test_typing.py runs it too). A documented call that fails here fails for users' type
checkers as well.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from fastapi import FastAPI
from flask import Flask

from authsig import (
    KeyQuorum,
    Policy,
    PublicKey,
    Verifier,
    canonicalize,
    explain,
    generate_private_key,
    load_public_key,
    sign_request,
    verify_request,
)
from authsig.asgi import AuthSigMiddleware
from authsig.cobo import generate_api_key_pair
from authsig.cobo import sign_request as cobo_sign_request
from authsig.cobo import verify_request as cobo_verify_request
from authsig.integrations.fastapi import AuthSig as FastAPIAuthSig
from authsig.integrations.flask import AuthSig as FlaskAuthSig
from authsig.privy.client import PrivyAuth, PrivyRequestsAuth
from authsig.turnkey import (
    Approval,
    Quorum,
    TurnkeyASGIMiddleware,
    TurnkeyPrivateKey,
    TurnkeyWSGIMiddleware,
    User,
    activity_fingerprint,
    stamp,
    verify_approvals,
    verify_stamp,
)
from authsig.wsgi import AuthSigWSGIMiddleware

alice, bob, carol = (generate_private_key() for _ in range(3))
k1, k2, k3 = alice.public_key, bob.public_key, carol.public_key
BASE64_KEY: str = k1.to_base64()


def keys_of(user_id: str) -> list[PublicKey]:
    return [k3] if user_id == "did:privy:carol" else []


def key_texts() -> Iterator[str]:
    yield BASE64_KEY


# KeyQuorum from lists (docs/verifier.md), from loaded and from text keys, from a generator.
ops = KeyQuorum(public_keys=[k1, k2, k3], authorization_threshold=2, id="ops")
root = KeyQuorum(
    public_keys=[k1],
    user_ids=["did:privy:carol"],
    key_quorums=[ops],
    authorization_threshold=2,
)
texts = KeyQuorum(
    public_keys=[BASE64_KEY, load_public_key(BASE64_KEY)], key_display_names=["a", None]
)
from_generator = KeyQuorum(public_keys=key_texts())
named = KeyQuorum.from_privy(root.to_privy(), quorums={"ops": ops})

# Signing with a list of keys; headers as a dict (README).
body = canonicalize({"amount": 10})
headers = sign_request(
    method="POST", url="https://api.example.com/v1/x", body=body, app_id="app", keys=[alice, bob]
)

# Verifying with a dict of user keys and a resolver returning a list.
verifier = Verifier(root, user_keys={"did:privy:carol": [k3]}, policy=Policy(require_expiry=True))
decision = verifier.verify(
    method="POST", url="https://api.example.com/v1/x", body=body, headers=headers
)
approved: bool = decision.approved
again = verify_request(
    method="POST",
    url="https://api.example.com/v1/x",
    body=body,
    headers=headers,
    quorum=root,
    user_keys=keys_of,
)
report = str(
    explain(
        method="POST",
        url="https://api.example.com/v1/x",
        body=body,
        headers=headers,
        quorum=ops,
        alternative_urls=["http://api.example.com/v1/x"],
        extra_headers={"privy-idempotency-key": "k"},
    )
)

# Clients: a list of keys.
auth = PrivyAuth("app", [alice, bob])
requests_auth = PrivyRequestsAuth("app", [alice])
client = httpx.Client(auth=auth)


# Servers: a fixed quorum or a function of the request.
async def asgi_app(scope: object, receive: object, send: object) -> None: ...


def wsgi_app(environ: object, start_response: object) -> list[bytes]:
    return []


asgi = AuthSigMiddleware(asgi_app, quorum=ops, public_base_url="https://api.example.com")
wsgi = AuthSigWSGIMiddleware(wsgi_app, quorum=ops, public_base_url="https://api.example.com")

# Proxies and replay stores as the middleware docs write them.
behind_proxy = AuthSigMiddleware(
    asgi_app,
    quorum=ops,
    public_base_url="https://api.example.com",
    trusted_proxies=["10.0.0.0/8", "127.0.0.1"],
)

# Cobo: api_keys as a list (README).
cobo_secret, cobo_api_key = generate_api_key_pair()
cobo_headers = cobo_sign_request(cobo_secret, method="POST", path="/v2/wallets", body="{}")
cobo_decision = cobo_verify_request(
    cobo_headers, method="POST", path="/v2/wallets", query="", body="{}", api_keys=[cobo_api_key]
)

# The framework integrations: app_ids as a list (README, docs/fastapi.md, docs/flask.md).
fastapi_app = FastAPI()
FastAPIAuthSig(fastapi_app, public_base_url="https://api.example.com", app_ids=["my-app"])
flask_app = Flask(__name__)
FlaskAuthSig(flask_app, public_base_url="https://api.example.com", app_ids=("my-app",))

# Turnkey: stamps, approvals and the middleware as docs/turnkey.md writes them.
tk_key = TurnkeyPrivateKey.generate()
tk_body = b'{"organizationId":"org-1","timestampMs":"1795519976869"}'
tk_header: str = stamp(tk_body, tk_key)
tk_parsed = verify_stamp(tk_body, tk_header, keys=[tk_key.public_key])
tk_second = TurnkeyPrivateKey.generate()
tk_root = Quorum(1, (User("alice", [tk_key.public_key, tk_second.public_key.hex]),), name="root")
tk_decision = verify_approvals(
    [Approval(tk_body, tk_header)], tk_root, fingerprint=activity_fingerprint(tk_body)
)
tk_app = TurnkeyASGIMiddleware(asgi_app, keys=tk_root, paths=["/submit"])
tk_wsgi = TurnkeyWSGIMiddleware(wsgi_app, keys=[tk_key.public_key.hex])
