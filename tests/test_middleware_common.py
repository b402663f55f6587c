"""Framework-free middleware logic (public URL, proxies, problems, replay entries) and the ASGI
middleware driven directly, without a server, for the cases a real server rarely produces."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import pytest

from authsig.asgi import AuthSigMiddleware
from authsig.errors import ForwardedHeaderError
from authsig.http import Gate, Problem, RequestInfo
from authsig.http.body import BodyError, TooLarge, declared_length
from authsig.http.proxy import forwarded_origin, parse_forwarded, parse_trusted_proxies, public_url
from authsig.keys import generate_private_key
from authsig.policy import Policy
from authsig.privy.expiry import current_time_ms
from authsig.privy.middleware import privy_gate
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.reasons import Reason
from authsig.replay import SQLiteReplayStore

TRUSTED = parse_trusted_proxies(["10.0.0.0/8", "::1"])


def origin(
    headers: dict[str, str], peer: str | None, family: str = "x-forwarded"
) -> tuple[str, str, str]:
    return forwarded_origin(
        scheme="http",
        host="internal:8000",
        headers=headers,
        peer=peer,
        trusted=TRUSTED,
        family=family,  # type: ignore[arg-type]
    )


# --- Forwarded / X-Forwarded-* ------------------------------------------------------------


def test_parse_forwarded() -> None:
    value = 'for="[2001:db8::1]:4711";Proto=HTTPS;host="a.example", for=10.0.0.2;host="b,c";by=x'
    assert parse_forwarded(value) == [
        {"for": "[2001:db8::1]:4711", "proto": "HTTPS", "host": "a.example"},
        {"for": "10.0.0.2", "host": "b,c", "by": "x"},
    ]
    assert parse_forwarded('host="q\\"x"') == [{"host": 'q"x'}]
    assert parse_forwarded("for=a;;by=b, ,for=c") == [{"for": "a", "by": "b"}, {"for": "c"}]


@pytest.mark.parametrize(
    "value",
    [
        "garbage",  # not token=value
        'host=staging.example.com;proto=https;for="',  # a quote left open (the attack)
        'host=staging;for=", for=10.0.0.9;host=api.example.com',  # ... and what it swallows
        "for=a;for=b",  # a parameter twice in one element: which one is meant?
        "for=a b",  # stray characters
        "host=",  # an empty value
        'for="a"x',  # characters after a quoted string
        "=x",
    ],
)
def test_malformed_forwarded_is_refused(value: str) -> None:
    with pytest.raises(ForwardedHeaderError):
        parse_forwarded(value)


def test_untrusted_peer_headers_are_ignored() -> None:
    headers = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example"}
    assert origin(headers, "192.0.2.1") == ("http", "internal:8000", "")
    assert origin(headers, None) == ("http", "internal:8000", "")
    headers = {"forwarded": "proto=https;host=evil.example"}
    assert origin(headers, "192.0.2.1", "forwarded") == ("http", "internal:8000", "")


def test_trusted_peer_x_forwarded() -> None:
    headers = {
        "x-forwarded-proto": "https",
        "x-forwarded-host": "api.example.com",
        "x-forwarded-prefix": "/edge/",
    }
    assert origin(headers, "10.1.2.3") == ("https", "api.example.com", "/edge")
    assert origin(headers, "::1") == ("https", "api.example.com", "/edge")
    assert origin(headers, "[::1]:5555") == ("https", "api.example.com", "/edge")
    assert origin(headers, "::ffff:10.0.0.1") == ("https", "api.example.com", "/edge")


def test_x_forwarded_chain_walk() -> None:
    # client 198.51.100.1 -> proxy A 10.0.0.5 -> proxy B 10.0.0.6 (our peer)
    headers = {
        "x-forwarded-for": "198.51.100.1, 10.0.0.5",
        "x-forwarded-proto": "https, http",
        "x-forwarded-host": "public.example, inner.example",
    }
    # B (trusted) reports what A sent it; A (trusted) reports what the client sent.
    assert origin(headers, "10.0.0.6") == ("https", "public.example", "")
    # If A is not trusted, only B's entry counts.
    headers["x-forwarded-for"] = "198.51.100.1, 192.0.2.50"
    assert origin(headers, "10.0.0.6") == ("http", "inner.example", "")


def test_only_the_configured_family_is_read() -> None:
    headers = {
        "forwarded": "for=198.51.100.1;proto=https;host=public.example, "
        "for=10.0.0.5;proto=http;host=inner.example",
        "x-forwarded-host": "client-chosen.example",
    }
    assert origin(headers, "10.0.0.6", "forwarded") == ("https", "public.example", "")
    # A proxy that writes X-Forwarded-* passes a client's Forwarded through: it is not read.
    assert origin(headers, "10.0.0.6", "x-forwarded") == ("http", "client-chosen.example", "")
    headers["forwarded"] = (
        "for=198.51.100.1;host=spoofed.example, for=192.0.2.9;proto=https;host=edge.example"
    )
    assert origin(headers, "10.0.0.6", "forwarded") == ("https", "edge.example", "")


@pytest.mark.parametrize(
    "headers",
    [
        {"x-forwarded-proto": "gopher"},
        {"x-forwarded-host": "bad host/with/slash"},
        {"x-forwarded-prefix": "no-leading-slash"},
    ],
)
def test_invalid_values_from_a_trusted_hop_are_refused(headers: dict[str, str]) -> None:
    # Ignoring them would fall back to the client-controlled Host header.
    with pytest.raises(ForwardedHeaderError):
        origin(headers, "10.0.0.1")


def test_public_url() -> None:
    common: dict[str, Any] = {
        "scheme": "http",
        "host": "127.0.0.1:9000",
        "raw_path": "/v1/a%20b",
        "headers": {"x-forwarded-host": "evil.example"},
        "peer": "10.0.0.1",
        "trusted": TRUSTED,
        "family": "x-forwarded",
    }
    assert (
        public_url(query_string="x=1", public_base_url="https://api.example.com/base/", **common)
        == "https://api.example.com/base/v1/a%20b?x=1"
    )
    assert (
        public_url(query_string="", public_base_url=None, **common)
        == "http://evil.example/v1/a%20b"
    )


def test_trusted_proxies_parsing() -> None:
    assert len(parse_trusted_proxies("127.0.0.1")) == 1
    with pytest.raises(ValueError, match="not-an-ip"):
        parse_trusted_proxies(["not-an-ip"])


def test_content_length_checks() -> None:
    assert declared_length(None, 10) is None
    assert declared_length(" ", 10) is None
    assert declared_length("10", 10) == 10
    with pytest.raises(TooLarge):
        declared_length("11", 10)
    for bad in ("-1", "1e3", "\u0661"):  # sign, exponent, a non-ASCII digit
        with pytest.raises(BodyError):
            declared_length(bad, 10)


def test_problem_document() -> None:
    doc = Problem.build("threshold_not_met", "1 of 2 approvals")
    assert doc.status == 403
    assert json.loads(doc.body()) == {
        "type": "urn:authsig:problem:threshold_not_met",
        "title": "Not enough approvals",
        "status": 403,
        "detail": "1 of 2 approvals",
        "reason": "threshold_not_met",
    }
    assert ("content-type", "application/problem+json") in doc.headers()
    assert Problem.build("replayed", "x").status == 409
    assert Problem.build("replay_store_unavailable", "x").status == 503
    # Without a detail, the reason's generic sentence; an unregistered code fails closed.
    assert Problem.build("expired").detail == Reason.of("expired").client_detail
    unknown = Problem.build("no_such_reason", "x")
    assert (unknown.status, unknown.reason) == (500, "internal_error")


def make_gate(quorum: KeyQuorum, **options: Any) -> Gate:
    """The Privy gate for requests signed for https://api.example.com."""
    options.setdefault("public_base_url", "https://api.example.com")
    return privy_gate(quorum, **options)


def test_gate_rejects_bad_settings() -> None:
    quorum = KeyQuorum(public_keys=(generate_private_key().public_key,))
    with pytest.raises(ValueError, match="max_body_bytes"):
        make_gate(quorum, max_body_bytes=-1)
    with pytest.raises(TypeError, match="max_body_bytes"):
        make_gate(quorum, max_body_bytes="10")  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="public_base_url"):
        privy_gate(quorum, public_base_url="api.example.com")
    with pytest.raises(TypeError, match="policy"):
        make_gate(quorum, policy={"allow_foreign_signatures": True})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="public_base_url"):
        privy_gate(quorum)  # which host was signed for? the operator must say
    with pytest.raises(ValueError, match="proxy_headers"):
        privy_gate(quorum, trusted_proxies=["10.0.0.0/8"])  # which family does it write?
    with pytest.raises(ValueError, match="trusted_proxies"):
        privy_gate(quorum, public_base_url="https://a.example", proxy_headers="forwarded")
    with pytest.raises(ValueError, match="body_timeout"):
        make_gate(quorum, body_timeout=0)


# --- Gate: verification + replay entries --------------------------------------------------


class RecordingStore:
    def __init__(self) -> None:
        self.entries: dict[str, int] = {}

    def add_if_absent(self, key: str, expires_at_ms: int) -> bool:
        if key in self.entries:
            return False
        self.entries[key] = expires_at_ms
        return True

    async def add_if_absent_async(self, key: str, expires_at_ms: int) -> bool:
        return self.add_if_absent(key, expires_at_ms)


def _info(url: str, headers: dict[str, str]) -> RequestInfo:
    return RequestInfo(
        method="POST",
        url=url,
        path="/x",
        query_string="",
        headers=headers,
        peer="127.0.0.1",
        raw={},
        header_items=tuple(headers.items()),
    )


def test_gate_replay_entry_lives_until_expiry_plus_skew() -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    store = RecordingStore()
    gate = make_gate(quorum, replay_store=store, policy=Policy(clock_skew=timedelta(seconds=30)))
    url = "https://api.example.com/x"
    headers = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=key)
    outcome = gate.check(_info(url, headers), b"{}", quorum)
    assert outcome.problem is None
    assert outcome.decision.approved
    # Kept until just after the last moment the verifier accepts it (expiry + skew, inclusive).
    assert list(store.entries.values()) == [int(headers["privy-request-expiry"]) + 30_000 + 1]
    again = gate.check(_info(url, headers), b"{}", quorum)
    assert again.problem is not None
    assert (again.problem.status, again.problem.reason) == (409, "replayed")


def test_gate_requires_expiry_with_a_store_unless_told_otherwise() -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    url = "https://api.example.com/x"
    headers = sign_request(
        method="POST", url=url, body=b"{}", app_id="a", keys=key, expires_in=None
    )
    strict = make_gate(quorum, replay_store=RecordingStore())
    refused = strict.check(_info(url, headers), b"{}", quorum).problem
    assert refused is not None
    assert refused.reason == "expiry_required"
    # The default store (SQLite, shared by the processes of the host) is strict too.
    default = make_gate(quorum)
    assert isinstance(default.replay_store, SQLiteReplayStore)
    refused = default.check(_info(url, headers), b"{}", quorum).problem
    assert refused is not None
    assert refused.reason == "expiry_required"
    # Without a store (replay protection explicitly off), no expiry is needed.
    no_store = make_gate(quorum, replay_store=None)
    assert no_store.check(_info(url, headers), b"{}", quorum).problem is None
    # Explicitly allowed: remembered for max_lifetime.
    store = RecordingStore()
    lenient = make_gate(
        quorum,
        replay_store=store,
        policy=Policy(require_expiry=False, max_lifetime=timedelta(minutes=5)),
    )
    before = current_time_ms()
    assert lenient.check(_info(url, headers), b"{}", quorum).problem is None
    (expires_at,) = store.entries.values()
    assert before + 300_000 + 1 <= expires_at <= current_time_ms() + 300_000 + 1
    assert lenient.check(_info(url, headers), b"{}", quorum).problem is not None


def test_gate_generic_details() -> None:
    key, other = generate_private_key(), generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,), id="secret-quorum-name")
    url = "https://api.example.com/x"
    headers = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=other)
    detailed = make_gate(quorum).check(_info(url, headers), b"{}", quorum).problem
    generic = (
        make_gate(quorum, detailed_problems=False).check(_info(url, headers), b"{}", quorum).problem
    )
    assert detailed is not None
    assert generic is not None
    assert detailed.reason == generic.reason == "invalid_signature"
    assert generic.detail == Reason.of("invalid_signature").client_detail
    assert "secret-quorum-name" not in generic.detail


# --- ASGI middleware driven directly ------------------------------------------------------


def _scope(headers: list[tuple[bytes, bytes]], path: str = "/v1/x") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


class Recorder:
    def __init__(self) -> None:
        self.messages: list[MutableMapping[str, Any]] = []

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int | None:
        for message in self.messages:
            if message["type"] == "http.response.start":
                return int(message["status"])
        return None

    def json(self) -> Any:
        body = b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )
        return json.loads(body)


def _receiver(messages: list[dict[str, Any]]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive


def test_asgi_body_chunks_reach_the_app_intact_and_state_is_set() -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    raw = json.dumps({"data": list(range(50))}).encode()
    signed = sign_request(
        method="POST", url="http://testserver/v1/x", body=raw, app_id="a", keys=key
    )
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message["body"])
            if not message["more_body"]:
                break
        seen["body"] = b"".join(chunks)
        seen["after"] = await receive()  # later receives go to the server (disconnect)
        seen["decision"] = scope["state"]["authsig"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = AuthSigMiddleware(app, quorum=quorum, trust_host_header=True)
    scope = _scope([(k.encode(), v.encode()) for k, v in signed.items()])
    assert "state" not in scope
    parts = [raw[i : i + 37] for i in range(0, len(raw), 37)]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    send = Recorder()
    asyncio.run(middleware(scope, _receiver(messages), send))
    assert send.status == 204
    assert seen["body"] == raw
    assert seen["after"] == {"type": "http.disconnect"}
    assert seen["decision"].approved is True


def test_asgi_client_disconnect_while_reading_sends_nothing() -> None:
    quorum = KeyQuorum(public_keys=(generate_private_key().public_key,))
    called: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    send = Recorder()
    messages = [{"type": "http.request", "body": b"{", "more_body": True}]
    signed = sign_request(
        method="POST",
        url="http://testserver/v1/x",
        body=b"{}",
        app_id="a",
        keys=generate_private_key(),
    )
    headers = [(k.encode(), v.encode()) for k, v in signed.items()]
    asyncio.run(
        AuthSigMiddleware(app, quorum=quorum, trust_host_header=True)(
            _scope(headers), _receiver(messages), send
        )
    )
    assert send.messages == []
    assert called == []


def test_asgi_non_http_scopes_pass_through_and_protected_websockets_are_refused() -> None:
    quorum = KeyQuorum(public_keys=(generate_private_key().public_key,))
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = AuthSigMiddleware(app, quorum=quorum, trust_host_header=True)
    asyncio.run(middleware({"type": "lifespan"}, _receiver([]), Recorder()))
    # A signature covers one request, not a message stream: the handshake is refused.
    send = Recorder()
    asyncio.run(middleware({"type": "websocket", "path": "/"}, _receiver([]), send))
    assert send.messages == [{"type": "websocket.close", "code": 1008}]
    assert seen == ["lifespan"]
    # Paths the resolver leaves unprotected pass through.
    open_paths = AuthSigMiddleware(app, quorum=lambda info: None, trust_host_header=True)
    asyncio.run(open_paths({"type": "websocket", "path": "/"}, _receiver([]), Recorder()))
    assert seen == ["lifespan", "websocket"]


def test_asgi_repeated_signature_header_is_refused() -> None:
    keys = [generate_private_key(), generate_private_key()]
    quorum = KeyQuorum(public_keys=tuple(k.public_key for k in keys), authorization_threshold=2)
    url = "http://testserver/v1/x"
    now = current_time_ms()  # both signatures over the same payload (same expiry)
    a = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=keys[0], now_ms=now)
    b = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=keys[1], now_ms=now)
    headers = [(k.encode(), v.encode()) for k, v in a.items()]
    headers.append((b"privy-authorization-signature", b["privy-authorization-signature"].encode()))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    send = Recorder()
    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
    middleware = AuthSigMiddleware(app, quorum=quorum, trust_host_header=True)
    asyncio.run(middleware(_scope(headers), _receiver(messages), send))
    assert send.status == 401
    assert send.json()["reason"] == "malformed_signature_header"


def test_asgi_resolver_returning_garbage_is_a_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    send = Recorder()
    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
    middleware = AuthSigMiddleware(app, quorum=lambda info: "not a quorum", trust_host_header=True)  # type: ignore[arg-type,return-value]
    asyncio.run(middleware(_scope([]), _receiver(messages), send))
    assert send.status == 500
    assert send.json()["reason"] == "internal_error"


def test_asgi_user_keys_pass_through_and_failure_is_503() -> None:
    user_key = generate_private_key()
    quorum = KeyQuorum(user_ids=("user-1",))
    url = "http://testserver/v1/x"
    signed = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=user_key)
    headers = [(k.encode(), v.encode()) for k, v in signed.items()]
    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def user_keys(user_id: str) -> list[Any]:
        await asyncio.sleep(0)
        return [user_key.public_key] if user_id == "user-1" else []

    async def broken(user_id: str) -> list[Any]:
        raise ConnectionError("identity service down")

    send = Recorder()
    ok = AuthSigMiddleware(app, quorum=quorum, user_keys=user_keys, trust_host_header=True)
    asyncio.run(ok(_scope(headers), _receiver(messages), send))
    assert send.status == 200

    send = Recorder()
    failing = AuthSigMiddleware(app, quorum=quorum, user_keys=broken, trust_host_header=True)
    asyncio.run(failing(_scope(headers), _receiver(messages), send))
    assert send.status == 503
    assert send.json()["reason"] == "user_resolution_failed"


def test_default_replay_store_refuses_a_replay_and_none_turns_it_off() -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    url = "https://api.example.com/x"
    headers = sign_request(method="POST", url=url, body=b"{}", app_id="a", keys=key)
    default = make_gate(quorum)
    assert default.check(_info(url, headers), b"{}", quorum).problem is None
    again = default.check(_info(url, headers), b"{}", quorum).problem
    assert again is not None
    assert (again.status, again.reason) == (409, "replayed")
    off = make_gate(quorum, replay_store=None)
    assert off.check(_info(url, headers), b"{}", quorum).problem is None
    assert off.check(_info(url, headers), b"{}", quorum).problem is None


def test_replay_store_must_be_a_store_memory_or_none() -> None:
    key = generate_private_key()
    with pytest.raises(TypeError, match="replay_store"):
        make_gate(KeyQuorum(public_keys=(key.public_key,)), replay_store="redis")  # type: ignore[typeddict-item]


def test_replay_key_is_the_payload_the_verifier_checked() -> None:
    # The gate keys the replay store on the payload the verifier already built (not a second
    # canonicalization), and that is the same payload a client signs.
    from authsig.privy.payload import signing_payload
    from authsig.replay import replay_key

    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    url = "https://api.example.com/x"
    headers = sign_request(method="POST", url=url, body=b'{"a": 1}', app_id="a", keys=key)
    store = RecordingStore()
    outcome = make_gate(quorum, replay_store=store).check(_info(url, headers), b'{"a": 1}', quorum)
    assert outcome.decision is not None
    assert outcome.decision.approved
    expected = signing_payload(method="POST", url=url, body=b'{"a": 1}', headers=headers)
    assert outcome.decision.payload == expected
    assert list(store.entries) == [replay_key(expected)]
