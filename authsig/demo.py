"""The ``authsig demo``: the whole flow, end to end, on one machine.

It generates four P-256 keys, builds a 2-of-3 key quorum one of whose members is a nested
2-of-2 quorum, serves a small sample app behind :mod:`authsig.asgi` under uvicorn on
``127.0.0.1`` (a free port), and sends signed requests with httpx and
:mod:`authsig.privy.client`:

1. ``one_signature`` - one member signs: valid, but below the threshold (403);
2. ``quorum_met`` - a key plus the nested quorum sign: approved (200);
3. ``replay`` - the very same request again: refused as a replay (409);
4. ``expired`` - enough signatures, but the expiry lies in the past (401);
5. ``tampered`` - enough signatures, but the body was changed after signing (401); the
   verifier's explanation is printed.

No network except 127.0.0.1; the server is shut down and its port freed before returning.
uvicorn and httpx are optional extras (``authsig[asgi,servers,client]``), imported lazily.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from authsig.errors import AuthSigError

__all__ = ["DemoError", "DemoResult", "DemoStep", "MissingExtraError", "run_demo", "serve"]

APP_ID = "demo-app"
PATH = "/v1/wallets/demo-wallet/rpc"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class DemoError(AuthSigError):
    """The demo could not run (the local server did not start, a request failed)."""

    code = "demo_failed"


class MissingExtraError(DemoError):
    """The demo needs an optional dependency that is not installed."""

    code = "missing_extra"


@dataclass(frozen=True)
class DemoStep:
    """One request of the demo and what came back."""

    name: str
    description: str
    expected: int
    status: int
    reason: str = ""
    detail: str = ""
    approved_by: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the server answered with the expected status."""
        return self.status == self.expected

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "expected": self.expected,
            "reason": self.reason,
            "approved_by": list(self.approved_by),
            "ok": self.ok,
        }


@dataclass
class DemoResult:
    """Everything the demo did."""

    url: str = ""
    quorum: dict[str, Any] = field(default_factory=dict)
    steps: list[DemoStep] = field(default_factory=list)
    explanation: str = ""

    @property
    def ok(self) -> bool:
        """True when every step got its expected status."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (what ``authsig demo --json`` prints)."""
        return {
            "ok": self.ok,
            "url": self.url,
            "quorum": self.quorum,
            "steps": [step.to_dict() for step in self.steps],
            "explanation": self.explanation,
        }


def _require_extras() -> tuple[Any, Any]:
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError(
            "the demo needs uvicorn: pip install 'authsig[asgi,servers,client]'"
        ) from None
    try:
        import httpx
    except ImportError:
        raise MissingExtraError(
            "the demo needs httpx: pip install 'authsig[asgi,servers,client]'"
        ) from None
    return uvicorn, httpx


async def _sample_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A tiny ASGI app: echoes the JSON body it received (only reached when approved)."""
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        received = json.loads(body) if body else None
    except ValueError:
        received = None
    decision = scope.get("state", {}).get("authsig")
    members = [m.to_dict() for m in getattr(decision, "approved_members", ())]
    answer = json.dumps(
        {"ok": True, "method": scope["method"], "received": received, "approved_members": members}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})


@contextlib.contextmanager
def serve(app: Any, uvicorn: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (free port) in a thread; yields the base URL.

    On exit the server is told to stop, its thread joined and the socket closed.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="error", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="authsig-demo", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DemoError("the demo server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _problem(response: Any) -> tuple[str, str]:
    try:
        obj = response.json()
    except ValueError:
        return "", ""
    if not isinstance(obj, dict):
        return "", ""
    reason = obj.get("reason") or obj.get("code") or ""
    detail = obj.get("detail") or obj.get("title") or ""
    return str(reason), str(detail)


def _approved_by(response: Any, names: dict[str, str]) -> tuple[str, ...]:
    """Names of the members that approved, from the sample app's answer."""
    if response.status_code != 200:
        return ()
    try:
        members = response.json().get("approved_members") or []
    except (ValueError, AttributeError):
        return ()
    found: list[str] = []
    for member in members:
        member_id = member.get("id") if isinstance(member, dict) else None
        if isinstance(member_id, str):
            found.append(names.get(member_id, member_id))
    return tuple(found)


@dataclass
class _Team:
    """The demo's four keys, the two quorums they form, and the key ids' names."""

    keys: dict[str, Any]
    quorum: Any
    privy: dict[str, Any]
    names: dict[str, str]


def _team() -> _Team:
    from authsig.keys import generate_private_key
    from authsig.privy.quorum import KeyQuorum

    keys = {name: generate_private_key() for name in ("alice", "bob", "carol", "dave")}
    b64 = {name: key.public_key.to_base64() for name, key in keys.items()}
    nested = {
        "id": "ops-team",
        "display_name": "Ops team (2 of 2)",
        "authorization_threshold": 2,
        "public_keys": [b64["carol"], b64["dave"]],
    }
    top = {
        "id": "treasury",
        "display_name": "Treasury (2 of 3)",
        "authorization_threshold": 2,
        "public_keys": [b64["alice"], b64["bob"]],
        "key_quorum_ids": ["ops-team"],
    }
    quorum = KeyQuorum.from_privy(top, quorums={"ops-team": KeyQuorum.from_privy(nested)})
    names = {key.public_key.key_id: name for name, key in keys.items()}
    return _Team(keys, quorum, {"quorum": top, "nested": nested}, names)


class _Narrator:
    """Prints the demo's lines (unless JSON was asked for) and records each step."""

    def __init__(self, out: TextIO | None, as_json: bool, result: DemoResult, names: Any) -> None:
        self.out = None if as_json else out
        self.result = result
        self.names = names

    def say(self, text: str = "") -> None:
        if self.out is not None:
            print(text, file=self.out, flush=True)

    def record(self, name: str, description: str, expected: int, response: Any) -> DemoStep:
        reason, detail = _problem(response) if response.status_code >= 400 else ("", "")
        approved_by = _approved_by(response, self.names)
        step = DemoStep(
            name, description, expected, response.status_code, reason, detail, approved_by
        )
        self.result.steps.append(step)
        mark = "ok" if step.ok else f"UNEXPECTED (wanted {expected})"
        extra = f"  {reason}" if reason else ""
        self.say(f"  {len(self.result.steps)}. {description:<46} -> {step.status}{extra}  [{mark}]")
        if detail:
            self.say(f"       {detail}")
        if approved_by:
            self.say(f"       approved by: {', '.join(approved_by)}")
        return step


def _send_steps(client: Any, url: str, team: _Team, narrator: _Narrator) -> None:
    """The five requests of the demo, each recorded with the status it should get."""
    from authsig.privy.client import PrivyAuth
    from authsig.privy.explain import explain
    from authsig.privy.signing import sign_request

    alice, bob, carol, dave = (team.keys[n] for n in ("alice", "bob", "carol", "dave"))
    body = {"method": "eth_sendTransaction", "params": {"to": "0xdemo", "value": "1"}}
    # 1. one signature: valid but below the threshold
    response = client.post(url, json=body, auth=PrivyAuth(app_id=APP_ID, keys=[alice]))
    narrator.record("one_signature", "alice alone signs", 403, response)
    # 2. alice + the nested quorum (carol and dave): approved
    response = client.post(url, json=body, auth=PrivyAuth(app_id=APP_ID, keys=[alice, carol, dave]))
    narrator.record("quorum_met", "alice + ops-team (carol, dave) sign", 200, response)
    # 3. the very same request again
    sent = response.request
    again = {k: v for k, v in sent.headers.items() if k.lower() != "content-length"}
    response = client.post(url, content=sent.content, headers=again)
    narrator.record("replay", "the same signed request, sent again", 409, response)
    # 4. expired: signed an hour ago with a 15-minute lifetime
    raw = json.dumps(body, separators=(",", ":")).encode()
    old = int(time.time() * 1000) - 3_600_000
    headers = sign_request(
        method="POST", url=url, body=raw, app_id=APP_ID, keys=[alice, bob], now_ms=old
    )
    headers["content-type"] = "application/json"
    response = client.post(url, content=raw, headers=headers)
    narrator.record("expired", "alice + bob sign, but the expiry has passed", 401, response)
    # 5. tampered: the body changed after signing
    headers = sign_request(method="POST", url=url, body=raw, app_id=APP_ID, keys=[alice, bob])
    headers["content-type"] = "application/json"
    tampered = raw.replace(b'"value":"1"', b'"value":"1000"')
    response = client.post(url, content=tampered, headers=headers)
    narrator.record("tampered", "alice + bob sign, then the body is changed", 401, response)
    report = explain(method="POST", url=url, body=tampered, headers=headers, quorum=team.quorum)
    narrator.result.explanation = str(report)


def run_demo(*, out: TextIO | None = None, as_json: bool = False) -> DemoResult:
    """Run the demo; print a readable summary (or one JSON object) to ``out``."""
    uvicorn, httpx = _require_extras()
    from authsig.asgi import AuthSigMiddleware
    from authsig.replay import MemoryReplayStore

    team = _team()
    result = DemoResult(quorum=team.privy)
    narrator = _Narrator(out, as_json, result, team.names)
    say = narrator.say
    say("authsig demo")
    say("  keys:   alice, bob, carol, dave (new P-256 keys)")
    say("  quorum: 'treasury' = 2 of {alice, bob, ops-team}")
    say("          'ops-team' = 2 of {carol, dave} (a nested quorum counts as one member)")
    # The demo serves on a free local port it learns only once listening, and its audience is
    # the operator: it trusts the Host header and shows the verifier's sentences (both are off
    # by default; see SECURITY.md).
    app = AuthSigMiddleware(
        _sample_app,
        quorum=lambda request: team.quorum,
        replay_store=MemoryReplayStore(),
        trust_host_header=True,
        detailed_problems=True,
    )
    try:
        with serve(app, uvicorn) as base_url, httpx.Client(timeout=10) as client:
            result.url = base_url + PATH
            say(f"  server: {result.url} (sample app behind authsig.asgi middleware)")
            say()
            _send_steps(client, result.url, team, narrator)
    except httpx.HTTPError as exc:
        raise DemoError(f"a demo request failed: {exc}") from None
    say()
    say("  why was the tampered request refused? authsig explain says:")
    for line in result.explanation.splitlines():
        say(f"    {line}")
    say()
    say(
        "  all steps behaved as expected; the server is stopped."
        if result.ok
        else "  SOME STEPS DID NOT BEHAVE AS EXPECTED."
    )
    if as_json and out is not None:
        print(json.dumps(result.to_dict(), indent=2), file=out, flush=True)
    return result
