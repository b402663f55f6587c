"""The server side of P4: one uvicorn process serving one endpoint in one of three modes.

``python -m benchmarks._p4_server MODE PORT PUBLIC_KEY_B64``

- ``unsigned``: the endpoint alone (reads the JSON body, answers a small JSON document).
- ``middleware``: the same endpoint behind ``authsig.asgi.AuthSigMiddleware`` (1-of-1
  quorum, ``MemoryReplayStore``, expiry required).
- ``inline``: the same endpoint verifying in the handler: ``verify_request`` + the same
  replay store, by hand.

Started by ``benchmarks/p4_asgi.py``; it prints nothing on success (access log off).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authsig.asgi import AuthSigMiddleware
from authsig.keys import load_public_key
from authsig.policy import Policy
from authsig.privy import KeyQuorum, verify_request
from authsig.replay import MemoryReplayStore

PATH = "/v1/wallets/{wallet_id}/rpc"


def build_app(mode: str, port: int, public_key: str) -> Any:
    """The ASGI app of one mode."""
    base = f"http://127.0.0.1:{port}"
    quorum = KeyQuorum(public_keys=(load_public_key(public_key),), authorization_threshold=1)
    store = MemoryReplayStore(max_entries=1_000_000)

    async def endpoint(request: Request) -> JSONResponse:
        value = json.loads(await request.body())
        return JSONResponse({"ok": True, "method": value.get("method")})

    async def inline(request: Request) -> JSONResponse:
        body = await request.body()
        decision = verify_request(
            method=request.method,
            url=base + request.url.path,
            body=body,
            headers=request.headers,
            quorum=quorum,
            policy=Policy(require_expiry=True),
        )
        if not decision.approved:
            return JSONResponse({"reason": decision.reason}, status_code=decision.http_status)
        expiry = int(request.headers["privy-request-expiry"])
        signatures = request.headers["privy-authorization-signature"]
        if not store.add_if_absent("authsig:" + signatures, expiry):
            return JSONResponse({"reason": "replayed"}, status_code=409)
        value = json.loads(body)
        return JSONResponse({"ok": True, "method": value.get("method")})

    handler = inline if mode == "inline" else endpoint
    app = Starlette(routes=[Route(PATH, handler, methods=["POST"])])
    if mode == "middleware":
        return AuthSigMiddleware(app, quorum=quorum, public_base_url=base, replay_store=store)
    if mode in ("unsigned", "inline"):
        return app
    raise SystemExit(f"unknown mode {mode!r}")


def main(argv: list[str]) -> int:
    """Serve until terminated."""
    mode, port, public_key = argv[0], int(argv[1]), argv[2]
    app = build_app(mode, port, public_key)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
