"""``httpsig.json``: RFC 9421 HTTP Message Signatures (``ecdsa-p256-sha256``, ``ed25519``),
``Content-Digest``, and labelled signatures counted against quorums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.conformance import NOW_MS
from authsig.httpsig import HttpMessage, parse_signatures, sign_request, signature_base
from authsig.httpsig.algorithms import SigningKey, algorithm_of

from .der import ed25519_seed, p256

DESCRIPTION = (
    "RFC 9421 HTTP Message Signatures: signature bases, ecdsa-p256-sha256 and ed25519 "
    "signatures, Content-Digest, and labelled signatures counted against quorums."
)

NOW = NOW_MS // 1000
URL = "https://api.example.com/v1/pay?currency=EUR&Pet=dog"
BODY = '{"amount":"12.50","to":"0xabc"}'
HEADERS = [["Content-Type", "application/json"], ["Accept", "application/json"]]


def _ed(label: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(ed25519_seed(f"httpsig/{label}"))


KEYS: dict[str, SigningKey] = {
    "alice": p256("httpsig/alice"),
    "bob": _ed("bob"),
    "carol": p256("httpsig/carol"),
}


def _pem(key: SigningKey) -> tuple[str, str]:
    crypto: Any = key if isinstance(key, ed25519.Ed25519PrivateKey) else key.crypto
    private = crypto.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = crypto.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode("ascii"), public.decode("ascii")


def _key_entry(key: SigningKey) -> dict[str, str]:
    private, public = _pem(key)
    return {"alg": algorithm_of(key), "private_key_pem": private, "public_key_pem": public}


def _signed(
    signers: Sequence[tuple[str, str]],
    *,
    method: str = "POST",
    body: str = BODY,
    components: Sequence[str] | None = None,
    expires: int = NOW + 290,
) -> tuple[list[list[str]], list[str]]:
    """Headers after each ``(keyid, key label)`` signs in turn (labels sig1, sig2, ...)."""
    lines = [(k, v) for k, v in HEADERS]
    for number, (keyid, label) in enumerate(signers, start=1):
        added = sign_request(
            method,
            URL,
            lines,
            body.encode("utf-8"),
            key=KEYS[label],
            keyid=keyid,
            label=f"sig{number}",
            components=components,
            created=NOW - 10,
            expires=expires,
            nonce="vectors-nonce",
            deterministic=True,
        )
        lines = [(k, v) for k, v in lines if k not in added] + list(added.items())
    return [[k, v] for k, v in lines], [f"sig{n}" for n in range(1, len(signers) + 1)]


def _case(
    name: str,
    signers: Sequence[tuple[str, str]],
    expected: tuple[bool, str],
    *,
    quorum: dict[str, Any] | None = None,
    received: dict[str, Any] | None = None,
    options: dict[str, bool] | None = None,
    **signing: Any,
) -> dict[str, Any]:
    headers, _labels = _signed(signers, **signing)
    request = {
        "method": signing.get("method", "POST"),
        "url": URL,
        "headers": headers,
        "body": signing.get("body", BODY),
    }
    request.update(received or {})
    message = HttpMessage.build(request["method"], request["url"], map(tuple, request["headers"]))
    entries = parse_signatures(
        message.field_lines("signature-input"), message.field_lines("signature")
    )
    bases = {
        e.label: signature_base(message, e.covered, e.params_text).decode("ascii") for e in entries
    }
    # The verifier's keys: the quorum's members, else the signers' keyids.
    keyids = set(_members(quorum)) if quorum else {keyid for keyid, _ in signers}
    return {
        "name": name,
        "keys": {keyid: _key_entry(KEYS[_owner(keyid, signers)]) for keyid in sorted(keyids)},
        "request": request,
        "signature_bases": bases,
        "quorum": quorum,
        "options": {"require_nonce": True, "require_content_digest": True, **(options or {})},
        "now_ms": NOW_MS,
        "expected": {"approved": expected[0], "reason": expected[1]},
    }


_OWNERS = {"alice-again": "alice"}


def _owner(keyid: str, signers: Sequence[tuple[str, str]]) -> str:
    for signer_keyid, label in signers:
        if signer_keyid == keyid:
            return label
    return _OWNERS.get(keyid, keyid)


def _members(quorum: dict[str, Any] | None) -> list[str]:
    if quorum is None:
        return []
    out: list[str] = []
    for member in quorum["members"]:
        out.extend(_members(member) if isinstance(member, dict) else [member])
    return out


def _q(threshold: int, *members: Any, name: str = "") -> dict[str, Any]:
    return {"threshold": threshold, "members": list(members), "name": name}


_DEFAULT = (True, "approved")
_FIELDS = ["@method", '"@query-param";name="Pet"', '"accept";bs', "content-digest"]


def cases() -> list[dict[str, Any]]:
    alice, bob, carol = ("alice", "alice"), ("bob", "bob"), ("carol", "carol")
    trio = _q(2, "alice", "bob", "carol", name="treasury")
    return [
        _case("ecdsa-p256/post-with-digest", [alice], _DEFAULT),
        _case("ed25519/get-without-body", [bob], _DEFAULT, method="GET", body=""),
        _case("components/query-param-and-bs", [carol], _DEFAULT, components=_FIELDS),
        _case("components/target-uri", [bob], _DEFAULT, components=["@target-uri"], body=""),
        _case(
            "refused/tampered-body",
            [alice],
            (False, "httpsig_digest_mismatch"),
            received={"body": BODY.replace("12.50", "99.50")},
        ),
        _case(
            "refused/other-path",
            [alice],
            (False, "invalid_signature"),
            received={"url": URL.replace("/v1/", "/v2/")},
        ),
        _case("refused/expired", [alice], (False, "expired"), expires=NOW - 65),
        _case(
            "refused/unknown-keyid",
            [("mallory", "carol")],
            (False, "httpsig_unknown_key"),
            quorum=_q(1, "alice"),
        ),
        _case(
            "refused/body-not-covered",
            [alice],
            (False, "httpsig_digest_not_covered"),
            components=["@method", "@path"],
        ),
        _case("quorum/2-of-3-met", [alice, bob], _DEFAULT, quorum=trio),
        _case("quorum/2-of-3-one-signature", [carol], (False, "threshold_not_met"), quorum=trio),
        _case(
            "quorum/one-key-two-keyids",
            [alice, ("alice-again", "alice")],
            (False, "threshold_not_met"),
            quorum=_q(2, "alice", "alice-again", "bob"),
        ),
        _case(
            "quorum/nested",
            [alice, carol],
            _DEFAULT,
            quorum=_q(2, "alice", _q(1, "bob", "carol", name="backup"), name="root"),
        ),
    ]
