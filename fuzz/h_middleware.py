"""Harness ``middleware``: the ASGI middleware request path, called directly (no sockets).

The app is :class:`~authsig.asgi.AuthSigMiddleware` (a 1-of-5 quorum, so key recovery
selects the candidate keys; a fresh ``MemoryReplayStore`` per case; ``public_base_url`` set)
around a recorder app. A case is
either a fully fuzzed request (method, raw path, query, header list, body split into chunks,
maybe a disconnect) or one of a few validly signed requests with fuzzed mutations applied to
its method, path, query, headers or body.

Invariants: the middleware never answers 500 (no unexpected exception on the request path)
and answers only statuses of its reason-code table; a request reaches the app only when the
signing payload derived independently from what was sent (method, ``PUBLIC`` + raw path +
``?query``, body, participating headers) equals the payload of one of the signed templates;
the app receives the body byte for byte; sending an approved request again is refused with
409 ``replayed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from authsig.asgi import AuthSigMiddleware
from authsig.errors import AuthSigError
from authsig.keys import PrivateKey, generate_private_key
from authsig.policy import Policy
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.replay import MemoryReplayStore
from fuzz import InvariantBroken
from fuzz._data import Reader

PUBLIC = "https://api.example.com"
ALLOWED_STATUSES = {200, 400, 401, 403, 409, 413}

_SIGNER = PrivateKey(ec.derive_private_key(11, ec.SECP256R1()))  # fixed: reproducible cases
_OTHERS = [generate_private_key() for _ in range(4)]  # nobody signs with these
# Five members: more than the verifier's DIRECT_MATCH_LIMIT, so signatures are matched through
# public-key recovery (which must only select candidates, never decide).
QUORUM = KeyQuorum(
    public_keys=(_SIGNER.public_key, *(k.public_key for k in _OTHERS)),
    authorization_threshold=1,
    id="q",
)

# Long-lived signatures: a fuzz campaign runs for many minutes against the real clock.
_LIFETIME = timedelta(hours=20)
_TEMPLATE_PARTS: list[tuple[str, str, bytes, str | None]] = [
    ("POST", "/v1/wallets/w1/rpc", b'{"method":"personal_sign","params":{"message":"hi"}}', None),
    ("PATCH", "/v1/wallets/w1", b'{"policy_ids":[],"owner":{"public_key":"x"}}', "idem-1"),
    ("DELETE", "/v1/policies/p1?force=true&a=%20b", b"", None),
    ("POST", "/v1/k%C3%A9ys/%2F/x", b' [1, 2.50, -0, 1e2, "\\u00e9"] ', None),
]


class _Template:
    def __init__(self, method: str, target: str, body: bytes, idem: str | None) -> None:
        self.method = method
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.body = body
        self.headers = sign_request(
            method=method,
            url=PUBLIC + target,
            body=body,
            app_id="app-fuzz",
            keys=_SIGNER,
            idempotency_key=idem,
            expires_in=_LIFETIME,
        )
        self.headers["content-type"] = "application/json"
        self.payload = signing_payload(
            method=method, url=PUBLIC + target, body=body, headers=self.headers
        )


TEMPLATES = [_Template(*parts) for parts in _TEMPLATE_PARTS]
SIGNED_PAYLOADS = {t.payload for t in TEMPLATES}

_HEADER_NAMES = (
    "privy-authorization-signature",
    "privy-app-id",
    "privy-request-expiry",
    "privy-idempotency-key",
    "content-length",
    "host",
    "forwarded",
    "x-forwarded-host",
    "x-forwarded-proto",
    "PRIVY-APP-ID",
    "Privy-Authorization-Signature",
)
_METHODS = ("POST", "post", "PATCH", "DELETE", "GET", "PUT", "", "P\x00ST", "POST ")


class _Case:
    def __init__(self) -> None:
        self.method = "POST"
        self.raw_path = b"/"
        self.use_raw_path = True
        self.query = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.disconnect = False

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def _text(r: Reader, limit: int) -> bytes:
    return r.sized_bytes(limit)


def _fuzzed_case(r: Reader) -> _Case:
    case = _Case()
    case.method = _METHODS[r.byte() % len(_METHODS)] if r.byte() & 1 else r.text(12)
    case.raw_path = _text(r, 200)
    case.use_raw_path = bool(r.byte() & 1)
    case.query = _text(r, 100)
    for _ in range(r.int_in(0, 8)):
        pick = r.byte()
        name = _HEADER_NAMES[pick % len(_HEADER_NAMES)].encode() if pick < 240 else _text(r, 40)
        case.headers.append((name, _text(r, 400)))
    case.chunks = [_text(r, 2000) for _ in range(r.int_in(0, 3))]
    case.disconnect = r.byte() == 0xFF
    return case


def _mutated_case(r: Reader) -> _Case:
    template = TEMPLATES[r.byte() % len(TEMPLATES)]
    case = _Case()
    case.method = template.method
    case.raw_path = template.path.encode()
    case.query = template.query.encode()
    case.headers = [(k.encode(), v.encode()) for k, v in template.headers.items()]
    case.chunks = [template.body]
    for _ in range(r.int_in(0, 3)):
        _mutate(r, case)
    return case


def _flip(r: Reader, data: bytes) -> bytes:
    if not data:
        return r.take(r.int_in(0, 3))
    op = r.byte() % 4
    pos = r.int_in(0, len(data) - 1)
    if op == 0:  # replace one byte
        return data[:pos] + bytes([r.byte()]) + data[pos + 1 :]
    if op == 1:  # insert bytes
        return data[:pos] + r.take(r.int_in(1, 4)) + data[pos:]
    if op == 2:  # delete a run
        return data[:pos] + data[pos + r.int_in(1, 8) :]
    return data.swapcase() if r.byte() & 1 else data.upper()


def _mutate(r: Reader, case: _Case) -> None:
    what = r.byte() % 9
    if what == 0:
        case.method = _METHODS[r.byte() % len(_METHODS)]
    elif what == 1:
        case.raw_path = _flip(r, case.raw_path)
    elif what == 2:
        case.query = _flip(r, case.query)
    elif what == 3:
        case.chunks = [_flip(r, case.body)]
    elif what == 4 and case.headers:  # change a header value
        i = r.int_in(0, len(case.headers) - 1)
        name, value = case.headers[i]
        case.headers[i] = (name, _flip(r, value))
    elif what == 5 and case.headers:  # drop a header
        del case.headers[r.int_in(0, len(case.headers) - 1)]
    elif what == 6:  # add a header (maybe a duplicate of a participating one)
        name = _HEADER_NAMES[r.byte() % len(_HEADER_NAMES)].encode()
        case.headers.append((name, _text(r, 200)))
    elif what == 7:  # split the body into chunks (must not change anything)
        body = case.body
        cut = r.int_in(0, len(body))
        case.chunks = [body[:cut], body[cut:]]
    else:  # stop using raw_path: the middleware falls back to the decoded path
        case.use_raw_path = False


async def _recorder(scope: Any, receive: Any, send: Any) -> None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    scope["fuzz.received"] = b"".join(chunks)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _scope(case: _Case) -> MutableMapping[str, Any]:
    path = case.raw_path.decode("latin-1").split("?", 1)[0]
    scope: MutableMapping[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": case.method,
        "scheme": "http",
        "path": _unquote(path),
        "query_string": case.query,
        "root_path": "",
        "headers": list(case.headers),
        "client": ("10.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
    }
    if case.use_raw_path:
        scope["raw_path"] = case.raw_path
    return scope


def _unquote(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path, encoding="latin-1")


async def _send(app: AuthSigMiddleware, case: _Case) -> tuple[int, MutableMapping[str, Any]]:
    scope = _scope(case)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": i < len(case.chunks) - 1}
        for i, c in enumerate(case.chunks or [b""])
    ]
    if case.disconnect:
        messages.insert(len(messages) // 2, {"type": "http.disconnect"})
    messages.append({"type": "http.disconnect"})
    queue = iter(messages)
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return next(queue, {"type": "http.disconnect"})

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))

    await app(scope, receive, send)
    return (status[0] if status else 0), scope


def _expected_payload(case: _Case) -> bytes | None:
    """The signing payload of what was sent, derived without the middleware's helpers."""
    if case.use_raw_path:
        path = case.raw_path.decode("latin-1").split("?", 1)[0]
    else:
        return None  # the decoded-path fallback re-quotes; only the middleware knows how
    query = case.query.decode("latin-1")
    url = PUBLIC + path + (f"?{query}" if query else "")
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in case.headers]
    try:
        return signing_payload(method=case.method.upper(), url=url, body=case.body, headers=headers)
    except AuthSigError:
        return None


_LOOP = asyncio.new_event_loop()


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    case = _mutated_case(r) if r.byte() & 1 else _fuzzed_case(r)
    app = AuthSigMiddleware(
        _recorder,
        quorum=QUORUM,
        public_base_url=PUBLIC,
        replay_store=MemoryReplayStore(max_entries=16),
        max_body_bytes=4096,
        policy=Policy(max_lifetime=timedelta(hours=24)),
    )
    status, scope = _LOOP.run_until_complete(_send(app, case))
    if case.disconnect and status == 0:
        return  # the client went away while the body was read: nothing was sent, correctly
    _check(status in ALLOWED_STATUSES, f"unexpected status {status}")
    if status != 200:
        _check("fuzz.received" not in scope, "a refused request reached the app")
        return
    _check(scope.get("fuzz.received") == case.body, "the app did not get the body as sent")
    decision = scope["state"]["authsig"]
    _check(decision is not None and decision.approved, "200 without an approved decision")
    expected = _expected_payload(case)
    if expected is not None:
        _check(expected in SIGNED_PAYLOADS, "approved a request that nobody signed")
    again, _ = _LOOP.run_until_complete(_send(app, case))
    _check(again == 409, f"a replay was answered {again}, not 409")


SEEDS = [bytes([1, i, 0]) for i in range(len(TEMPLATES))] + [bytes([1, 0, 1, 7, 10])]
"""Starting corpus: each signed template unchanged (approved once, then 409), one split body."""
