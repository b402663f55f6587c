"""P5: Cobo WaaS 2.0 (``authsig.cobo``) sign/verify vs raw Ed25519 on the same digest.

Two baselines for each operation, measured side by side:

- *raw*: one ``cryptography`` Ed25519 ``sign``/``verify`` of the already computed 32-byte
  digest with an already loaded key: the cryptographic floor.
- *hand-written*: what a careful person writes for the whole job: build
  ``METHOD|PATH|NONCE|PARAMS|BODY``, ``sha256(sha256(.))``, sign/verify, hex.

The subjects: ``sign_request`` (loaded ``CoboPrivateKey``), ``verify_request`` (one
accepted API key, nonce window checked, no replay store) and ``verify_event`` (webhook body
+ ``Biz-Timestamp``, tolerance checked). The issue sets no numeric target for P5.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ed25519

from benchmarks._data import small_body
from benchmarks._model import BenchConfig, Section, Unavailable, cost_row
from benchmarks._timing import compare

BENCH = "P5"
TITLE = "Cobo WaaS 2.0 sign/verify vs raw Ed25519"

_PATH = "/v2/transactions/transfer"
_NONCE_MS = 1_764_000_000_000


def run(config: BenchConfig) -> Section:
    """Measure and return the P5 section."""
    try:
        from authsig.cobo import (
            CoboPrivateKey,
            sign_event,
            sign_request,
            verify_event,
            verify_request,
        )
    except ImportError as exc:
        raise Unavailable(f"authsig.cobo is not importable: {exc}") from exc

    seed = hashlib.sha256(b"authsig benchmark P5").digest()  # a throwaway key
    key = CoboPrivateKey("ED25519", seed)
    raw_private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    raw_public = raw_private.public_key()
    public_hex = key.api_key
    body = json.dumps(small_body())
    nonce = str(_NONCE_MS)

    def digest_of(text: bytes) -> bytes:
        return hashlib.sha256(hashlib.sha256(text).digest()).digest()

    message = f"POST|{_PATH}|{nonce}||{body}".encode()
    digest = digest_of(message)
    headers = sign_request(key, method="POST", path=_PATH, body=body, nonce_ms=_NONCE_MS)
    signature_hex = headers["Biz-Api-Signature"]
    signature = bytes.fromhex(signature_hex)
    raw_public.verify(signature, digest)  # same digest, same bytes: we compare like with like
    if raw_private.sign(digest) != signature:
        raise AssertionError("P5: authsig.cobo signed something else than the expected digest")
    event_headers = sign_event(body, key, timestamp_ms=_NONCE_MS)
    event_digest = digest_of(f"{body}|{nonce}".encode())
    event_signature = bytes.fromhex(event_headers["Biz-Resp-Signature"])
    public_key = key.public_key

    def ours_sign() -> object:
        return sign_request(key, method="POST", path=_PATH, body=body, nonce_ms=_NONCE_MS)

    def raw_sign() -> object:
        return raw_private.sign(digest)

    def hand_sign() -> object:
        text = f"POST|{_PATH}|{nonce}||{body}".encode()
        sig = raw_private.sign(hashlib.sha256(hashlib.sha256(text).digest()).digest())
        return {"Biz-Api-Key": public_hex, "Biz-Api-Nonce": nonce, "Biz-Api-Signature": sig.hex()}

    def ours_verify() -> object:
        decision = verify_request(
            headers,
            method="POST",
            path=_PATH,
            query="",
            body=body,
            api_keys=public_key,
            now_ms=_NONCE_MS,
        )
        assert decision.approved
        return decision

    def raw_verify() -> object:
        raw_public.verify(signature, digest)
        return True

    def hand_verify() -> object:
        if headers["Biz-Api-Key"] != public_hex:
            return False
        if abs(int(headers["Biz-Api-Nonce"]) - _NONCE_MS) > 300_000:
            return False
        text = f"POST|{_PATH}|{headers['Biz-Api-Nonce']}||{body}".encode()
        d = hashlib.sha256(hashlib.sha256(text).digest()).digest()
        raw_public.verify(bytes.fromhex(headers["Biz-Api-Signature"]), d)
        return True

    def ours_event() -> object:
        decision = verify_event(body, event_headers, public_key=public_key, now_ms=_NONCE_MS)
        assert decision.approved
        return decision

    def raw_event() -> object:
        raw_public.verify(event_signature, event_digest)
        return True

    cases: dict[str, Callable[[], object]] = {
        "cobo.sign_request": ours_sign,
        "raw Ed25519 sign(digest)": raw_sign,
        "hand-written sign": hand_sign,
        "cobo.verify_request": ours_verify,
        "raw Ed25519 verify(digest)": raw_verify,
        "hand-written verify": hand_verify,
        "cobo.verify_event": ours_event,
        "raw Ed25519 verify(event digest)": raw_event,
    }
    t = compare(cases, config.timing)
    section = Section(BENCH, TITLE)
    request = f"request, {len(body)} B body"
    section.rows += [
        cost_row(BENCH, request, t, "cobo.sign_request", "raw Ed25519 sign(digest)"),
        cost_row(BENCH, request, t, "cobo.sign_request", "hand-written sign"),
        cost_row(BENCH, request, t, "cobo.verify_request", "raw Ed25519 verify(digest)"),
        cost_row(BENCH, request, t, "cobo.verify_request", "hand-written verify"),
        cost_row(
            BENCH,
            f"event, {len(body)} B body",
            t,
            "cobo.verify_event",
            "raw Ed25519 verify(event digest)",
        ),
    ]
    section.notes.append(
        "Before timing: the signature `authsig.cobo.sign_request` made equals a raw Ed25519 "
        "signature of the digest computed here (Ed25519 is deterministic), so both sides do the "
        "same work. No numeric target is set for P5 in the issue."
    )
    overhead_sign = t.us("cobo.sign_request") - t.us("hand-written sign")
    overhead_verify = t.us("cobo.verify_request") - t.us("hand-written verify")
    section.notes.append(
        f"Overhead over the hand-written code: {overhead_sign:+.1f} µs per signed request, "
        f"{overhead_verify:+.1f} µs per verified request (input validation, header lookup, "
        "nonce/freshness checks, key loading and the decision object)."
    )
    return section
