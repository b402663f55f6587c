"""Times the official Privy Python SDK inside its own venv (it pins cryptography<47).

Run by benchmarks/p1_sign.py with the SDK venv's Python; does NOT import authsig. Protocol:
JSON lines on stdin, one JSON line answer on stdout for each:

- ``{"op": "setup", ...inputs...}`` -> ``{"versions": ..., "numbers": ..., "headers": ...}``
  (calibrates batch sizes; ``headers`` is one prepare_request result, for cross-checking)
- ``{"op": "round"}`` -> ``{case name: seconds per call}`` (one batch of each case)
- ``{"op": "quit"}``

The private key arrives on stdin (a throwaway benchmark key) and is never printed.
"""

from __future__ import annotations

import base64
import gc
import json
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

SDK_CASE = "privy-client prepare_request"
HAND_CASE = "hand-written minimum (SDK venv)"
LOAD_CASE = "cryptography load_der_private_key (SDK venv)"


def _time_batch(fn: Callable[[], object], number: int) -> float:
    gc.disable()
    try:
        start = time.thread_time()  # CPU time, like benchmarks/_timing.py
        for _ in range(number):
            fn()
        return (time.thread_time() - start) / number
    finally:
        gc.enable()


def _calibrate(fn: Callable[[], object], batch_seconds: float) -> int:
    fn()
    number = 1
    while True:
        per_call = _time_batch(fn, number)
        if per_call * number >= batch_seconds / 4 or number >= 1 << 22:
            break
        number *= 2
    return max(1, round(batch_seconds / max(per_call, 1e-9)))


def _cases(setup: dict[str, Any]) -> dict[str, Callable[[], object]]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from privy.lib.authorization import (  # type: ignore[import-not-found]
        AuthorizationContext,
        prepare_request,
    )

    key_b64: str = setup["private_key"]
    app_id: str = setup["app_id"]
    url: str = setup["url"]
    body: Any = setup["body"]
    idempotency_key: str = setup["idempotency_key"]
    context = AuthorizationContext(authorization_private_keys=[key_b64])
    loaded = serialization.load_der_private_key(base64.b64decode(key_b64), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    key: ec.EllipticCurvePrivateKey = loaded

    def sdk() -> object:
        return prepare_request(
            app_id=app_id,
            method="POST",
            url=url,
            body=body,
            idempotency_key=idempotency_key,
            authorization_context=context,
            request_expiry=int(time.time() * 1000) + 900_000,
        ).headers

    def hand() -> object:
        headers = {
            "privy-app-id": app_id,
            "privy-idempotency-key": idempotency_key,
            "privy-request-expiry": str(int(time.time() * 1000) + 900_000),
        }
        payload = {"version": 1, "method": "POST", "url": url, "body": body, "headers": headers}
        data = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        signature = base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()
        return {**headers, "privy-authorization-signature": signature}

    def load() -> object:
        return serialization.load_der_private_key(base64.b64decode(key_b64), password=None)

    return {SDK_CASE: sdk, HAND_CASE: hand, LOAD_CASE: load}


def main() -> int:
    """Serve the protocol above until ``quit`` or end of input."""
    cases: dict[str, Callable[[], object]] = {}
    numbers: dict[str, int] = {}
    for line in sys.stdin:
        request = json.loads(line)
        op = request.get("op")
        if op == "setup":
            cases = _cases(request)
            fixed = request.get("fixed_number")
            for name, fn in cases.items():
                numbers[name] = (
                    int(fixed) if fixed else _calibrate(fn, float(request["batch_seconds"]))
                )
            answer: dict[str, Any] = {
                "versions": {
                    "privy-client (SDK venv)": version("privy-client"),
                    "cryptography (SDK venv)": version("cryptography"),
                    "canonicaljson (SDK venv)": version("canonicaljson"),
                    "python (SDK venv)": sys.version.split()[0],
                },
                "numbers": numbers,
                "headers": dict(cases[SDK_CASE]()),  # type: ignore[call-overload]
            }
        elif op == "round":
            answer = {name: _time_batch(fn, numbers[name]) for name, fn in cases.items()}
            gc.collect()
        elif op == "quit":
            return 0
        else:
            answer = {"error": f"unknown op {op!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
