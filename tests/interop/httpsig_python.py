"""Runs inside the venv of ``http-message-signatures`` (PyPI): reads {"cases": [...]} as JSON
on stdin and writes {"package_version": ..., "results": [...]} on stdout. Signing and verifying
use the package's own HTTPMessageSigner/HTTPMessageVerifier over a ``requests`` message."""

from __future__ import annotations

import base64
import datetime
import json
import sys
from importlib.metadata import version


def _algorithm(name: str):  # type: ignore[no-untyped-def]
    from http_message_signatures import algorithms

    return {"ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256, "ed25519": algorithms.ED25519}[name]


def _resolver(keyid: str, pem: str):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
        load_pem_public_key,
    )
    from http_message_signatures import HTTPSignatureKeyResolver

    class Resolver(HTTPSignatureKeyResolver):
        def resolve_public_key(self, key_id: str):  # type: ignore[no-untyped-def]
            return load_pem_public_key(pem.encode()) if key_id == keyid else None

        def resolve_private_key(self, key_id: str):  # type: ignore[no-untyped-def]
            return load_pem_private_key(pem.encode(), password=None)

    return Resolver()


def _message(case: dict):  # type: ignore[no-untyped-def]
    import requests

    body = base64.b64decode(case["body"])
    request = requests.Request(case["method"], case["url"], data=body or None).prepare()
    for name, value in case["headers"]:
        request.headers[name] = value
    return request, body


def _when(seconds: int | None) -> datetime.datetime | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def op_sign(case: dict) -> dict:
    from http_message_signatures import HTTPMessageSigner

    request, body = _message(case)
    signer = HTTPMessageSigner(
        signature_algorithm=_algorithm(case["alg"]),
        key_resolver=_resolver(case["keyid"], case["private_pem"]),
    )
    signer.sign(
        request,
        key_id=case["keyid"],
        created=_when(case["created"]),
        expires=_when(case.get("expires")),
        nonce=case.get("nonce"),
        label=case["label"],
        covered_component_ids=tuple(case["components"]),
        body=body if body else None,
        # A second signer keeps the first one's signature and Content-Digest.
        append_if_signature_exists=bool(case.get("append")),
        use_existing_digest=bool(case.get("append")),
    )
    return {"headers": [[name, value] for name, value in request.headers.items()]}


def op_verify(case: dict) -> dict:
    from http_message_signatures import HTTPMessageVerifier, InvalidSignature

    request, body = _message(case)
    verifier = HTTPMessageVerifier(
        signature_algorithm=_algorithm(case["alg"]),
        key_resolver=_resolver(case["keyid"], case["public_pem"]),
    )
    try:
        results = verifier.verify(request, body=body)
    except InvalidSignature as exc:
        return {"verified": False, "why": str(exc)}
    return {
        "verified": True,
        "labels": [r.label for r in results],
        "covered": [[k, v] for r in results for k, v in r.covered_components.items()],
    }


def main() -> None:
    payload = json.load(sys.stdin)
    results = []
    for case in payload["cases"]:
        try:
            results.append({"sign": op_sign, "verify": op_verify}[case["op"]](case))
        except Exception as exc:  # reported per case; never the key material
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    out = {"package_version": version("http-message-signatures"), "results": results}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
