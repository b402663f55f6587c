"""What the operator sees: the refusal log line, the diagnosis of deployment mistakes, the
``on_decision`` hook, and dependency failures logged once.

The deployment mistakes run over real sockets (uvicorn, waitress): a proxy that ends TLS in
front of a server that trusts the Host header, a trailing slash, and the official Python SDK's
canonicaljson dialect. Each must produce one log line that names the fix, while the client
still gets the generic problem document.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import APP_ID, Keys, Sign
from servers import free_port, uvicorn_thread, waitress_thread

from authsig.asgi import AuthSigMiddleware
from authsig.cobo import load_api_secret
from authsig.cobo.scheme import CoboRequestScheme
from authsig.cobo.signing import sign_request as cobo_sign_request
from authsig.errors import ReplayStoreUnavailableError
from authsig.http import DecisionRecord, Gate, GateASGIMiddleware, RequestInfo
from authsig.http.observe import Budget
from authsig.privy.middleware import privy_gate
from authsig.privy.scheme import PrivyScheme
from authsig.reasons import Reason
from authsig.replay import MemoryReplayStore, RedisReplayStore
from authsig.wsgi import AuthSigWSGIMiddleware

PUBLIC = "https://api.example.com"
PATH = "/v1/wallets/w1/rpc"
BODY = b'{"method":"eth_signTransaction","params":{"value":1}}'
COBO_SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def ok_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"done"]


def post(app: Any, url: str, headers: dict[str, str], body: bytes = BODY) -> httpx.Response:
    """POST through an ASGI app in this process (no server)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(url, content=body, headers=headers)
        await asyncio.sleep(0.05)  # let hook tasks scheduled by a refusal finish
        return response

    return asyncio.run(go())


def lines(caplog: pytest.LogCaptureFixture, event: str = "refused") -> list[logging.LogRecord]:
    """The Gate's decision lines (``record.authsig["event"]``) captured so far."""
    return [
        r
        for r in caplog.records
        if r.name == "authsig.http" and getattr(r, "authsig", {}).get("event") == event
    ]


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="authsig.http"):
        yield caplog


def middleware(keys: Keys, **options: Any) -> AuthSigMiddleware:
    options.setdefault("public_base_url", PUBLIC)
    options.setdefault("replay_store", "memory")
    options.setdefault("metrics", None)
    return AuthSigMiddleware(ok_app, quorum=keys.quorum, **options)


# --- the refusal line ------------------------------------------------------------------------


def test_a_refusal_is_one_line_with_reason_quorum_approvals_and_request(
    keys: Keys, sign: Sign, log: pytest.LogCaptureFixture
) -> None:
    app = middleware(keys)
    headers = sign(PUBLIC + PATH, BODY, signers=[keys.alice])  # 1 of the 2 required
    response = post(app, PUBLIC + PATH, headers)
    assert response.status_code == 403
    [line] = lines(log)
    assert line.levelno == logging.INFO  # nothing to diagnose: the signatures are as sent
    text = line.getMessage()
    assert text.startswith(f"authsig: refused 'POST' '{PATH}': threshold_not_met 403 ")
    assert "scheme=privy target='treasury' approvals=1/2 verdict=- " in text
    assert "1 of the 2 required member approval(s)" in text
    fields = line.authsig  # type: ignore[attr-defined]
    assert fields == {
        "event": "refused",
        "scheme": "privy",
        "reason": "threshold_not_met",
        "status": 403,
        "method": "POST",
        "path": PATH,
        "target": "treasury",
        "approvals": 1,
        "required": 2,
        "verdict": None,
    }


def test_every_kind_of_refusal_is_logged_exactly_once(
    keys: Keys, sign: Sign, log: pytest.LogCaptureFixture
) -> None:
    app = middleware(keys, max_body_bytes=len(BODY))
    good = sign(PUBLIC + PATH, BODY)
    answers = {
        "missing_signature": post(app, PUBLIC + PATH, {}),
        "method_override": post(app, PUBLIC + PATH + "?_method=DELETE", good),
        "body_too_large": post(app, PUBLIC + PATH, good, BODY + b" "),
        "invalid_signature": post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY[:-3] + b"2}}")),
    }
    assert post(app, PUBLIC + PATH, good).status_code == 200
    answers["replayed"] = post(app, PUBLIC + PATH, good)
    assert {reason: r.json()["reason"] for reason, r in answers.items()} == {
        reason: reason for reason in answers
    }
    assert [r.authsig["reason"] for r in lines(log)] == list(answers)  # type: ignore[attr-defined]
    assert all(r.authsig["target"] == "treasury" for r in lines(log))  # type: ignore[attr-defined]
    assert lines(log, "approved") == []  # approvals are DEBUG


def test_hostile_input_is_escaped_and_header_values_never_logged(
    keys: Keys, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    app = middleware(keys, app_ids=APP_ID)
    hostile_path = "/v1/x\n2030-01-01 INFO authsig: approved 'POST'\x1b[2J\u2028\u202e"
    signed = sign(PUBLIC + PATH, BODY)
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": hostile_path,
        "query_string": b"",
        "client": ("198.51.100.7", 4000),
        "headers": [
            (b"host", b"api.example.com"),
            (b"authorization", b"Bearer s3cret-token"),
            (b"privy-app-id", b"other\x1b]0;pwned\x07app"),
            *[(k.encode(), v.encode()) for k, v in signed.items() if k != "privy-app-id"],
        ],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.DEBUG, logger="authsig.http"):
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401
    [line] = lines(caplog)
    text = line.getMessage()
    assert line.authsig["reason"] == "unexpected_app_id"  # type: ignore[attr-defined]
    for raw in ("\n", "\r", "\x1b", "\x07", "\u2028", "\u202e"):
        assert raw not in text
    for escaped in ("\\n2030-01-01", "\\x1b[2J", "\\u2028", "\\u202e", "x1b]0;pwned"):
        assert escaped in text
    assert "s3cret-token" not in caplog.text
    assert signed["privy-authorization-signature"] not in caplog.text


def test_long_outside_text_is_clipped(keys: Keys, log: pytest.LogCaptureFixture) -> None:
    app = middleware(keys)
    post(app, PUBLIC + "/v1/" + "a" * 5000, {})
    [line] = lines(log)
    assert len(line.getMessage()) < 1500


# --- the diagnosis of deployment mistakes, over real sockets ----------------------------------


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_tls_ended_at_a_proxy_names_public_base_url(
    interface: str, keys: Keys, sign: Sign, log: pytest.LogCaptureFixture
) -> None:
    """The proxy ends TLS and forwards plain HTTP; the server trusts the Host header, so it
    rebuilds http://... while the client signed https://..."""
    if interface == "asgi":
        app: Any = AuthSigMiddleware(
            ok_app, quorum=keys.quorum, trust_host_header=True, replay_store=None, metrics=None
        )
        serving = uvicorn_thread(app)
    else:
        app = AuthSigWSGIMiddleware(
            ok_wsgi, quorum=keys.quorum, trust_host_header=True, replay_store=None, metrics=None
        )
        serving = waitress_thread(app)
    with serving as url:
        public = url.replace("http://", "https://")
        response = httpx.post(url + PATH, content=BODY, headers=sign(public + PATH, BODY))
    assert response.status_code == 401
    assert response.json()["detail"] == Reason.of("invalid_signature").client_detail
    [line] = lines(log)
    assert line.levelno == logging.WARNING
    verdict = line.authsig["verdict"]  # type: ignore[attr-defined]
    assert f"signed for {public}{PATH} but received as {url}{PATH}" in verdict
    assert f"set public_base_url='{public}'" in verdict
    assert "signature #1 of 2" in verdict
    assert f"set public_base_url='{public}'" in line.getMessage()


def test_a_trailing_slash_is_named(keys: Keys, sign: Sign, log: pytest.LogCaptureFixture) -> None:
    app = middleware(keys, replay_store=None)
    with uvicorn_thread(app) as url:
        headers = sign(PUBLIC + PATH + "/", BODY, check_url=False)  # the mistake, on purpose
        response = httpx.post(url + PATH, content=BODY, headers=headers)
    assert response.status_code == 401
    [line] = lines(log)
    verdict = line.authsig["verdict"]  # type: ignore[attr-defined]
    assert verdict.startswith("signature #1 of 2 (member key ")
    assert f"a trailing slash differs: signed for {PUBLIC}{PATH}/ but received as" in verdict
    assert "sign and send the same URL" in line.getMessage()


@pytest.mark.interop
def test_the_python_sdk_canonicaljson_dialect_is_named(
    keys: Keys, log: pytest.LogCaptureFixture
) -> None:
    from _interop import python_driver

    body = '{"amount":2.0,"memo":"x"}'  # 2.0: canonicaljson keeps it, RFC 8785 writes 2
    [prepared] = python_driver().run_ok(
        [
            {
                "op": "prepare",
                "app_id": APP_ID,
                "method": "POST",
                "url": PUBLIC + PATH,
                "body_json": body,
                "private_keys": [keys.alice.to_base64(), keys.bob.to_base64()],
                "idempotency_key": None,
                "request_expiry": int(time.time() * 1000) + 600_000,
            }
        ]
    )
    # The SDK's client sends the app id next to the headers prepare_request() returns.
    headers = {**prepared["headers"], "privy-app-id": APP_ID}
    app = middleware(keys, replay_store=None)
    with uvicorn_thread(app) as url:
        response = httpx.post(url + PATH, content=body.encode(), headers=headers)
    assert response.status_code == 401
    [line] = lines(log)
    assert "the dialect of privy-client (Python) (canonicaljson" in line.getMessage()
    assert "verify with Policy(dialect=\\'privy-client\\')" in line.getMessage()
    # ... and the fix it names works.
    fixed = AuthSigMiddleware(
        ok_app,
        quorum=keys.quorum,
        public_base_url=PUBLIC,
        replay_store=None,
        metrics=None,
        policy=PrivyScheme(keys.quorum).policy.replace(dialect="privy-client"),
    )
    assert post(fixed, PUBLIC + PATH, headers, body.encode()).status_code == 200


def test_a_cobo_request_signed_with_a_trailing_slash_is_named(
    log: pytest.LogCaptureFixture,
) -> None:
    secret = COBO_SECRET
    scheme = CoboRequestScheme(api_keys=[load_api_secret(secret).api_key])
    app = GateASGIMiddleware(ok_app, Gate(scheme, replay_store=None, metrics=None))
    headers = cobo_sign_request(secret, method="POST", path="/hook/", body=BODY)
    assert post(app, "http://svc/hook", headers).status_code == 401
    [line] = lines(log)
    assert "the signature matches path '/hook/' (trailing slash)" in line.getMessage()


# --- the diagnosis budget --------------------------------------------------------------------


def test_diagnoses_are_rate_limited(keys: Keys, sign: Sign, log: pytest.LogCaptureFixture) -> None:
    app = middleware(keys, explain_refusals=3, replay_store=None)
    headers = sign("http://api.example.com" + PATH, BODY)  # the wrong scheme: a near miss
    for _ in range(5):
        assert post(app, PUBLIC + PATH, headers).status_code == 401
    verdicts = [r.authsig["verdict"] for r in lines(log)]  # type: ignore[attr-defined]
    assert all("set public_base_url='http://api.example.com'" in v for v in verdicts[:3])
    assert verdicts[3:] == ["not diagnosed: over 3 diagnoses a minute"] * 2
    assert [r.levelno for r in lines(log)] == [logging.WARNING] * 3 + [logging.INFO] * 2


def test_the_budget_refills_over_the_minute() -> None:
    now = [0.0]
    budget = Budget(3, clock=lambda: now[0])
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 19.0  # 19 s: not yet a third of a minute
    assert not budget.take()
    now[0] = 20.0
    assert budget.take()
    now[0] = 3600.0  # never more than the bucket holds
    assert [budget.take() for _ in range(4)] == [True, True, True, False]


def test_diagnosis_can_be_turned_off(
    keys: Keys, sign: Sign, log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any) -> str:
        raise AssertionError("diagnose ran")

    monkeypatch.setattr(PrivyScheme, "diagnose", never)
    app = middleware(keys, explain_refusals=False)
    post(app, PUBLIC + PATH, sign("http://api.example.com" + PATH, BODY))
    [line] = lines(log)
    assert line.authsig["verdict"] is None  # type: ignore[attr-defined]


def test_a_failing_diagnosis_does_not_change_the_refusal(
    keys: Keys, sign: Sign, log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(PrivyScheme, "diagnose", broken)
    app = middleware(keys)
    response = post(app, PUBLIC + PATH, sign("http://api.example.com" + PATH, BODY))
    assert response.json()["reason"] == "invalid_signature"
    assert "diagnose() raised RuntimeError" in log.text


def test_client_sentences_never_ask_for_server_side_code() -> None:
    for row in Reason.all():
        assert "explain" not in row.client_detail
        assert "authsig" not in row.client_detail
        assert "public_base_url" not in row.client_detail


# --- the decision hook -----------------------------------------------------------------------


def test_the_hook_sees_approvals_before_the_app_and_refusals(keys: Keys, sign: Sign) -> None:
    events: list[Any] = []

    async def app_(scope: Any, receive: Any, send: Any) -> None:
        events.append("app")
        await ok_app(scope, receive, send)

    def hook(info: RequestInfo, record: DecisionRecord) -> None:
        events.append((info.method, info.path, record))

    app = AuthSigMiddleware(
        app_, quorum=keys.quorum, public_base_url=PUBLIC, on_decision=hook, metrics=None
    )
    headers = sign(PUBLIC + PATH, BODY)
    assert post(app, PUBLIC + PATH, headers).status_code == 200
    assert post(app, PUBLIC + PATH, headers).status_code == 409
    approval, app_ran, replay = events
    assert app_ran == "app"
    method, path, record = approval
    assert (method, path) == ("POST", PATH)
    assert (record.approved, record.reason, record.status) == (True, "approved", 200)
    assert (record.target, record.approvals, record.required) == ("treasury", 2, 2)
    assert set(record.signers) == {keys.alice.public_key.key_id, keys.bob.public_key.key_id}
    assert record.seconds is not None
    assert record.seconds > 0
    assert record.decision.approved_members  # the scheme's own Decision
    assert replay[2].to_dict()["reason"] == "replayed"
    assert replay[2].to_dict()["approved"] is False


def test_an_async_hook_is_awaited_under_asgi_and_run_under_wsgi(keys: Keys, sign: Sign) -> None:
    seen: list[str] = []

    async def hook(info: RequestInfo, record: DecisionRecord) -> None:
        await asyncio.sleep(0)
        seen.append(record.reason)

    asgi = middleware(keys, on_decision=hook)
    assert post(asgi, PUBLIC + PATH, sign(PUBLIC + PATH, BODY)).status_code == 200
    assert post(asgi, PUBLIC + PATH, {}).status_code == 401  # screened: a task of the loop
    assert seen == ["approved", "missing_signature"]

    wsgi = AuthSigWSGIMiddleware(
        ok_wsgi,
        quorum=keys.quorum,
        public_base_url=PUBLIC,
        on_decision=hook,
        replay_store=None,
        metrics=None,
    )
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi)) as client:
        assert client.post(PUBLIC + PATH, content=BODY, headers=sign(PUBLIC + PATH, BODY))
        assert client.post(PUBLIC + PATH, content=BODY).status_code == 401
    assert seen[2:] == ["approved", "missing_signature"]


def test_a_failing_hook_is_logged_once_and_the_decision_stands(
    keys: Keys, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    healthy = [False]

    def hook(info: RequestInfo, record: DecisionRecord) -> None:
        if not healthy[0]:
            raise ConnectionError("audit database down")

    app = middleware(keys, on_decision=hook)
    with caplog.at_level(logging.WARNING, logger="authsig.http"):
        for _ in range(3):
            assert post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY)).status_code == 200
        assert post(app, PUBLIC + PATH, {}).status_code == 401
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "on_decision hook raised ConnectionError" in errors[0].getMessage()
        assert "decisions stand" in errors[0].getMessage()
        healthy[0] = True
        assert post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY)).status_code == 200
    assert "works again after 4 failure(s)" in caplog.text


def test_a_required_hook_that_fails_refuses_the_approval(
    keys: Keys, sign: Sign, log: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def app_(scope: Any, receive: Any, send: Any) -> None:
        ran.append("app")
        await ok_app(scope, receive, send)

    async def hook(info: RequestInfo, record: DecisionRecord) -> None:
        raise ConnectionError("audit database down")

    app = AuthSigMiddleware(
        app_,
        quorum=keys.quorum,
        public_base_url=PUBLIC,
        on_decision=hook,
        on_decision_required=True,
        metrics=None,
    )
    response = post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY))
    assert (response.status_code, response.json()["reason"]) == (500, "internal_error")
    assert ran == []
    assert post(app, PUBLIC + PATH, {}).json()["reason"] == "missing_signature"  # unchanged
    assert [r.authsig["reason"] for r in lines(log)] == [  # type: ignore[attr-defined]
        "internal_error",
        "missing_signature",
    ]
    assert "approvals are refused while it fails" in log.text


def test_the_hook_must_be_callable(keys: Keys) -> None:
    with pytest.raises(TypeError, match="on_decision"):
        privy_gate(keys.quorum, public_base_url=PUBLIC, on_decision="audit")  # type: ignore[typeddict-item, arg-type]
    with pytest.raises(ValueError, match="explain_refusals"):
        privy_gate(keys.quorum, public_base_url=PUBLIC, explain_refusals=-1)


def test_cobo_decisions_name_the_api_key(log: pytest.LogCaptureFixture) -> None:
    secret = COBO_SECRET
    api_key = load_api_secret(secret).api_key
    records: list[DecisionRecord] = []
    gate = Gate(
        CoboRequestScheme(api_keys=[api_key]),
        replay_store=None,
        metrics=None,
        on_decision=lambda info, record: records.append(record),
    )
    app = GateASGIMiddleware(ok_app, gate)
    headers = cobo_sign_request(secret, method="POST", path="/hook", body=BODY)
    assert post(app, "http://svc/hook", headers).status_code == 200
    [record] = records
    assert (record.scheme, record.approvals, record.required) == ("cobo-request", 1, 1)
    assert record.signers == (api_key,)


# --- dependencies that fail ------------------------------------------------------------------


class FlakyStore(MemoryReplayStore):
    failure_hint = "restart the flaky store"

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def add_if_absent(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        if self.down:
            raise ReplayStoreUnavailableError("replay store unreachable (ConnectionError)")
        return super().add_if_absent(key, expires_at_ms, tenant=tenant)

    async def add_if_absent_async(self, key: str, expires_at_ms: int, *, tenant: str = "") -> bool:
        return self.add_if_absent(key, expires_at_ms, tenant=tenant)


def test_a_store_failure_is_logged_once_per_streak_with_the_fix(
    keys: Keys, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    app = middleware(keys, replay_store=store)
    with caplog.at_level(logging.WARNING, logger="authsig.http"):
        for _ in range(4):
            response = post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY))
            assert response.json()["reason"] == "replay_store_unavailable"
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        message = errors[0].getMessage()
        assert "replay store FlakyStore failed: replay store unreachable" in message
        assert "fix: restart the flaky store" in message
        store.down = False
        assert post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY)).status_code == 200
        assert "replay store recovered after 4 failed request(s)" in caplog.text
        store.down = True
        post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY))
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2  # a new streak


def test_an_unreachable_redis_is_one_error_naming_the_fix(
    keys: Keys, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
        app = AuthSigWSGIMiddleware(
            ok_wsgi, quorum=keys.quorum, public_base_url=PUBLIC, replay_store=store, metrics=None
        )
        with httpx.Client(transport=httpx.WSGITransport(app=app)) as client:
            for _ in range(3):
                response = client.post(
                    PUBLIC + PATH, content=BODY, headers=sign(PUBLIC + PATH, BODY)
                )
                assert response.status_code == 503
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "replay store RedisReplayStore failed" in errors[0]
    assert "check that Redis is running and reachable" in errors[0]


def test_redis_store_without_the_redis_package_fails_when_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "redis" or m.startswith("redis.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'authsig\[redis\]'") as caught:
        RedisReplayStore("redis://127.0.0.1:6379/0")
    assert caught.value.name == "redis"


# --- the documented audit-log recipe ---------------------------------------------------------


def test_the_audit_log_recipe_records_who_approved(
    keys: Keys, sign: Sign, caplog: pytest.LogCaptureFixture
) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "observability.md").read_text()
    recipe = doc.split("### Recipe: an audit log", 1)[1]
    hook_block, wiring_block = re.findall(r"```python\n(.*?)```", recipe, re.S)[:2]
    namespace: dict[str, Any] = {}
    exec(compile(hook_block, "docs/observability.md", "exec"), namespace)  # our own docs
    namespace.update(app=ok_app, quorum_for=keys.quorum, AuthSigMiddleware=AuthSigMiddleware)
    exec(compile(wiring_block, "docs/observability.md", "exec"), namespace)  # our own docs
    app = namespace["app"]
    with caplog.at_level(logging.INFO, logger="myapp.audit"):
        assert post(app, PUBLIC + PATH, sign(PUBLIC + PATH, BODY)).status_code == 200
        assert post(app, PUBLIC + PATH, {"privy-authorization-signature": "x\ny"}).status_code
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "myapp.audit"]
    approval, refusal = entries
    assert (approval["approved"], approval["target"], approval["url"]) == (
        True,
        "treasury",
        PUBLIC + PATH,
    )
    assert set(approval["signers"]) == {keys.alice.public_key.key_id, keys.bob.public_key.key_id}
    assert {m["id"] for m in approval["members"]} == set(approval["signers"])
    assert (refusal["approved"], refusal["members"]) == (False, [])
