"""Drives the official Privy Python SDK (``privy-client``) for authsig's interop tests.

Runs inside the SDK's own venv (it pins ``cryptography<47``), never imports authsig:

    .cache/venv-privy-python/bin/python privy_python.py < request.json > response.json

The request is ``{"cases": [CASE, ...]}``; the response is
``{"sdk_version": ..., "results": [...]}`` with one result per case, in order.

CASE ops:
- ``{"op": "format", "method", "url", "headers", "body_json": TEXT | null,
  "preserve_empty_body": bool}`` -> ``{"payload_b64"}`` from
  ``privy.lib.authorization.format_request_for_authorization_signature``; the body is
  ``json.loads(body_json)`` (what a Python app holds), or ``None``.
- ``{"op": "sign", "private_key": B64_PKCS8, "payload_b64"}`` -> ``{"signature"}`` from
  ``generate_authorization_signature`` (randomized ECDSA, DER, base64).
- ``{"op": "prepare", "app_id", "method", "url", "body_json", "private_keys": [...],
  "idempotency_key": str | null, "request_expiry": int | null}`` -> ``{"headers"}``
  from ``prepare_request`` (the SDK's whole recipe: payload, signatures, headers).
- ``{"op": "update_quorum", "base_url", "app_id", "quorum_id", "body": {...},
  "private_keys": [...], "request_expiry": int | null}`` -> ``{"status": 200, "body"}`` or
  ``{"status", "body"}`` of the API error: ``PrivyClient(base_url=...).key_quorums.update``
  with the keys in the request's ``AuthorizationContext`` (the SDK's documented way to sign),
  and the expiry when one is given (the client's default, now + 15 minutes, otherwise).
A case that raises yields ``{"error": message}``.
"""

from __future__ import annotations

import base64
import json
import sys
from importlib.metadata import version
from typing import Any

from privy import APIStatusError, PrivyClient
from privy.lib.authorization import (
    AuthorizationContext,
    WalletAPIRequestSignatureInput,
    format_request_for_authorization_signature,
    generate_authorization_signature,
    prepare_request,
)
from privy.lib.request_options import PrivyRequestOptions


def _body(case: dict[str, Any]) -> Any:
    text = case.get("body_json")
    return None if text is None else json.loads(text)


def _run(case: dict[str, Any]) -> dict[str, Any]:
    op = case["op"]
    if op == "format":
        payload = format_request_for_authorization_signature(
            WalletAPIRequestSignatureInput(
                method=case["method"],
                url=case["url"],
                body=_body(case),
                headers=case["headers"],
            ),
            preserve_empty_body=bool(case.get("preserve_empty_body", False)),
        )
        return {"payload_b64": base64.b64encode(payload).decode("ascii")}
    if op == "sign":
        payload = base64.b64decode(case["payload_b64"])
        return {"signature": generate_authorization_signature(case["private_key"], payload)}
    if op == "prepare":
        body = _body(case)
        prepared = prepare_request(
            app_id=case["app_id"],
            method=case["method"],
            url=case["url"],
            body=body,
            idempotency_key=case.get("idempotency_key"),
            request_expiry=case.get("request_expiry"),
            authorization_context=AuthorizationContext(
                authorization_private_keys=tuple(case["private_keys"])
            ),
        )
        return {"headers": dict(prepared.headers)}
    if op == "update_quorum":
        return _update_quorum(case)
    raise ValueError(f"unknown op {op!r}")


def _update_quorum(case: dict[str, Any]) -> dict[str, Any]:
    # The app secret only feeds Basic auth, which the stand-in does not check.
    client = PrivyClient(app_id=case["app_id"], app_secret="unused", base_url=case["base_url"])
    options = PrivyRequestOptions(
        authorization_context=AuthorizationContext(
            authorization_private_keys=tuple(case["private_keys"])
        ),
        request_expiry=case.get("request_expiry"),
    )
    try:
        quorum = client.key_quorums.update(
            case["quorum_id"], key_quorum_update_params=case["body"], request_options=options
        )
    except APIStatusError as exc:
        return {"status": exc.status_code, "body": exc.body}
    return {"status": 200, "body": quorum.model_dump(mode="json")}


def main() -> None:
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        try:
            results.append(_run(case))
        except Exception as exc:
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump({"sdk_version": version("privy-client"), "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
