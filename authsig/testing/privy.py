"""A local stand-in for Privy's key-quorum endpoint, as a plain ASGI app.

It keeps quorums in memory and answers:

- ``POST /v1/key_quorums``: create (the body checked by
  :func:`~authsig.privy.lifecycle.body.validate_body`; no quorum signs a create);
- ``GET /v1/key_quorums/{id}``: the quorum in Privy's response shape;
- ``PATCH /v1/key_quorums/{id}``: update, accepted only when the quorum **as it is now**
  approves the signed request (authsig's :class:`~authsig.privy.verifier.Verifier`, with replay
  protection: the same signed request is accepted once);
- ``DELETE /v1/key_quorums/{id}``: delete, signed by the quorum likewise (refused while a
  wallet or another quorum still uses it);
- ``POST /v1/wallets`` (``{"chain_type": "ethereum", "owner_id": QUORUM_ID}``, unsigned) and
  ``GET /v1/wallets/{id}``: wallets owned by a stored quorum
  (:mod:`authsig.testing.privy_wallets`);
- ``POST /v1/wallets/{id}/rpc``: answered (with a fake, marked signature) only when the owner
  quorum as it is now approves the signed request, with the same expiry and replay rules.
  ``/api/v1/wallets/{id}/rpc`` is the same route: @privy-io/server-auth's path for it.

Errors are JSON objects ``{"error": sentence, "code": code}`` with the code Privy documents for
a refused authorization where one applies (``Decision.privy_code``, from
:mod:`authsig.privy.codes`) and authsig's own code otherwise. That the body is shaped this way is an
inference from Privy's error reference, which lists codes and not the envelope.

Routes live in a table (:meth:`PrivyStandIn.route`) so that more of Privy's API can be added
beside these without changing the dispatch.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from authsig._clock import now_ms
from authsig.errors import AuthSigError
from authsig.http.request import RequestInfo, URLSettings
from authsig.keys import PublicKey
from authsig.policy import Policy
from authsig.privy.decision import Decision
from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER
from authsig.privy.lifecycle.body import KEY_QUORUMS_PATH, validate_body
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Verifier
from authsig.replay import claim, replay_key
from authsig.replay.memory import MemoryReplayStore
from authsig.testing.privy_wallets import CHAIN_TYPES, Wallet, rpc_result, wallet_body

__all__ = ["PrivyError", "PrivyStandIn", "Response"]

_MAX_BODY = 1 << 20
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Response:
    """A JSON answer: ``status`` and the object sent as the body."""

    status: int
    body: Any


class PrivyError(Exception):
    """Raised by a route handler to answer with a Privy-shaped error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Call:
    """One request as a route handler sees it: ``info`` (method, public URL, headers),
    ``params`` (the route's named groups) and ``body`` (the raw bytes)."""

    info: RequestInfo
    params: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON, or a 400."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            raise PrivyError(400, "invalid_body", "the body is not valid JSON") from None


Handler = Callable[[Call], Response]


class PrivyStandIn:
    """The ASGI app. ``app_id`` (when given) must arrive in ``privy-app-id``;
    ``public_base_url`` is the URL clients sign (default: from the request's own Host);
    ``policy`` and ``user_keys`` are the verifier's. ``quorums`` holds the state by id."""

    def __init__(
        self,
        *,
        app_id: str | None = None,
        public_base_url: str | None = None,
        policy: Policy | None = None,
        user_keys: Mapping[str, Iterable[PublicKey | str]] | None = None,
    ) -> None:
        self.app_id = app_id
        self.urls = URLSettings(public_base_url=public_base_url)
        self.policy = policy
        self.user_keys = user_keys
        self.quorums: dict[str, KeyQuorum] = {}
        self.wallets: dict[str, Wallet] = {}
        self.replay = MemoryReplayStore()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        one = KEY_QUORUMS_PATH + r"/(?P<id>[A-Za-z0-9_-]+)"
        self.route("POST", KEY_QUORUMS_PATH, self._create)
        self.route("GET", one, self._get)
        self.route("PATCH", one, self._update)
        self.route("DELETE", one, self._delete)
        wallet = r"/v1/wallets/(?P<id>[A-Za-z0-9_-]+)"
        self.route("POST", "/v1/wallets", self._create_wallet)
        self.route("GET", wallet, self._get_wallet)
        self.route("POST", r"(?:/api)?" + wallet + "/rpc", self._rpc)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` on paths matching ``pattern`` (a regex, matched whole) with
        ``handler``."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def add_quorum(self, quorum: KeyQuorum) -> str:
        """Store ``quorum`` (given an id when it has none); returns its id."""
        qid = quorum.id or _new_id()
        if quorum.id is None:
            quorum = KeyQuorum.from_privy({**quorum.to_privy(), "id": qid}, quorums=self.quorums)
        self.quorums[qid] = quorum
        return qid

    def add_wallet(self, owner_id: str, *, chain_type: str = "ethereum") -> str:
        """Store a wallet owned by the stored quorum ``owner_id``; returns its id."""
        if owner_id not in self.quorums:
            raise ValueError(f"no key quorum {owner_id!r} to own the wallet")
        if chain_type not in CHAIN_TYPES:
            raise ValueError(f"chain_type must be one of {CHAIN_TYPES}")
        wid = _new_id()
        self.wallets[wid] = Wallet(id=wid, owner_id=owner_id, chain_type=chain_type)
        return wid

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > _MAX_BODY:
                await _send(send, Response(413, _error("body_too_large", "body too large")))
                return
            if not message.get("more_body", False):
                break
        await _send(send, self.handle(self.urls.from_asgi(scope), body))

    def handle(self, info: RequestInfo, body: bytes) -> Response:
        """Answer one request (the ASGI app's logic, callable without a server)."""
        try:
            if self.app_id is not None and info.headers.get(APP_ID_HEADER) != self.app_id:
                raise PrivyError(401, "invalid_app_id", "privy-app-id is missing or unknown")
            for method, pattern, handler in self._routes:
                found = pattern.fullmatch(info.path)
                if found and method == info.method:
                    return handler(Call(info, found.groupdict(), body))
            raise PrivyError(404, "not_found", f"no route for {info.method} {info.path}")
        except PrivyError as exc:
            return Response(exc.status, _error(exc.code, exc.message))
        except AuthSigError as exc:
            return Response(400, _error(exc.code, exc.message))

    # --- key quorums ----------------------------------------------------------------------

    def _quorum(self, call: Call) -> KeyQuorum:
        found = self.quorums.get(call.params["id"])
        if found is None:
            raise PrivyError(404, "not_found", f"key quorum {call.params['id']!r} not found")
        return found

    def _authorize(self, quorum: KeyQuorum, call: Call) -> Decision:
        verifier = Verifier(
            quorum, user_keys=self.user_keys, policy=self.policy, replay_protected=True
        )
        info = call.info
        decision = verifier.verify(
            method=info.method, url=info.url, body=call.body, headers=info.header_items
        )
        if not decision.approved:
            # Privy's code where it documents one (authsig.privy.codes), authsig's otherwise.
            raise PrivyError(401, decision.privy_code or decision.reason, decision.message)
        policy = verifier.policy
        sent = info.headers.get(EXPIRY_HEADER)  # absent only under require_expiry=False
        expiry = int(sent) if sent is not None else now_ms() + policy.max_lifetime_ms
        skew = policy.clock_skew_ms
        if decision.payload is None or not claim(
            self.replay, replay_key(decision.payload), expiry + skew + 1
        ):
            raise PrivyError(409, "replayed", "this signed request was already accepted")
        return decision

    def _create(self, call: Call) -> Response:
        quorum = validate_body(call.json(), kind="create", quorums=self.quorums)
        qid = _new_id()
        stored = KeyQuorum.from_privy({**quorum.to_privy(), "id": qid}, quorums=self.quorums)
        self.quorums[qid] = stored
        return Response(200, stored.to_privy())

    def _get(self, call: Call) -> Response:
        return Response(200, self._quorum(call).to_privy())

    def _update(self, call: Call) -> Response:
        current = self._quorum(call)
        self._authorize(current, call)
        after = validate_body(call.json(), kind="update", current=current, quorums=self.quorums)
        self.quorums[current.id or call.params["id"]] = after
        return Response(200, after.to_privy())

    def _delete(self, call: Call) -> Response:
        current = self._quorum(call)
        self._authorize(current, call)
        parents = [q.label for q in self.quorums.values() if current in q.key_quorums]
        parents += [
            f"wallet {w.id}" for w in self.wallets.values() if w.owner_id == call.params["id"]
        ]
        if parents:
            raise PrivyError(
                400, "quorum_in_use", f"the quorum is nested in {parents[0]}; remove it there first"
            )
        del self.quorums[call.params["id"]]
        return Response(200, {"id": call.params["id"], "deleted": True})

    # --- wallets --------------------------------------------------------------------------

    def _wallet(self, call: Call) -> Wallet:
        found = self.wallets.get(call.params["id"])
        if found is None:
            raise PrivyError(404, "not_found", f"wallet {call.params['id']!r} not found")
        return found

    def _create_wallet(self, call: Call) -> Response:
        body = call.json()
        if not isinstance(body, dict) or not isinstance(body.get("owner_id"), str):
            raise PrivyError(400, "invalid_body", "owner_id (a key quorum id) is required")
        if body["owner_id"] not in self.quorums:
            raise PrivyError(404, "not_found", f"key quorum {body['owner_id']!r} not found")
        chain_type = body.get("chain_type", "ethereum")
        if chain_type not in CHAIN_TYPES:
            raise PrivyError(400, "invalid_body", f"chain_type must be one of {CHAIN_TYPES}")
        wid = self.add_wallet(body["owner_id"], chain_type=chain_type)
        return Response(200, wallet_body(self.wallets[wid]))

    def _get_wallet(self, call: Call) -> Response:
        return Response(200, wallet_body(self._wallet(call)))

    def _rpc(self, call: Call) -> Response:
        wallet = self._wallet(call)
        owner = self.quorums.get(wallet.owner_id)
        if owner is None:  # the owner was replaced by hand in .quorums: nothing can approve
            raise PrivyError(404, "not_found", f"key quorum {wallet.owner_id!r} not found")
        self._authorize(owner, call)
        answer = rpc_result(wallet, call.json())
        if answer is None:
            raise PrivyError(400, "unsupported_method", "the stand-in answers signing methods only")
        return Response(200, answer)


def _new_id() -> str:
    # Shaped like a cuid2: 24 lower-case letters and digits, beginning with a letter.
    return secrets.choice(_ID_ALPHABET[:26]) + "".join(
        secrets.choice(_ID_ALPHABET) for _ in range(23)
    )


def _error(code: str, message: str) -> dict[str, str]:
    return {"error": message, "code": code}


async def _send(send: Send, response: Response) -> None:
    data = json.dumps(response.body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
