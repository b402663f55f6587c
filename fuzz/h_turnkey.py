"""Harness ``turnkey``: the Turnkey ``X-Stamp`` parser, stamp verification and the Gate scheme.

Invariants: only AuthSigError subclasses escape (the near-miss diagnosis included); a stamp
that parses re-encodes (compact JSON) to a stamp that parses to an equal value, with lower-case
hex and a key of its scheme; a stamp made over a fixed body verifies over exactly that body
(any other body is refused), and no near miss is named for it; the Gate scheme approves only
that body with that stamp, and its replay key names the body.
"""

from __future__ import annotations

import base64
import hashlib
import json

from authsig.errors import AuthSigError
from authsig.http.request import RequestInfo
from authsig.turnkey import (
    ED25519,
    P256,
    SECP256K1,
    TurnkeyPrivateKey,
    TurnkeyScheme,
    encode_stamp,
    parse_stamp,
    stamp,
    verify_stamp,
)
from authsig.turnkey.diagnosis import near_miss
from fuzz import InvariantBroken
from fuzz._data import Reader

NOW = 1_800_000_000_000
BODY = json.dumps({"organizationId": "o", "timestampMs": str(NOW)}).encode()
KEYS = [
    TurnkeyPrivateKey.from_hex("01" * 32, P256),
    TurnkeyPrivateKey.from_hex("02" * 32, SECP256K1),
    TurnkeyPrivateKey.from_hex("03" * 32, ED25519),
]
STAMPS = [stamp(BODY, key, deterministic=True) for key in KEYS]
SCHEME = TurnkeyScheme(keys=[key.public_key for key in KEYS])


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def _round_trip(header: str) -> None:
    parsed = parse_stamp(header)
    _check(parse_stamp(parsed.to_header()) == parsed, "stamp round trip differs")
    _check(parsed.key_hex == parsed.key_hex.lower(), "key hex not lower case")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _members(r: Reader) -> str:
    """A stamp whose members are a valid stamp's, some replaced by fuzzed text."""
    valid = json.loads(base64.urlsafe_b64decode(STAMPS[0] + "=" * (-len(STAMPS[0]) % 4)))
    for name in ("publicKey", "scheme", "signature"):
        if r.byte() % 3 == 0:
            valid[name] = r.text(200)
    return encode_stamp(valid["publicKey"], valid["scheme"], valid["signature"])


def _verify_body(r: Reader) -> None:
    index = r.byte() % len(KEYS)
    body = BODY if r.byte() % 4 == 0 else r.sized_bytes(512)
    hint = near_miss(body, STAMPS[index])
    try:
        verify_stamp(body, STAMPS[index])
    except AuthSigError:
        _check(body != BODY, "the signed body was refused")
        return
    _check(body == BODY, "a stamp verified over another body")
    _check(hint is None, "a near miss named for a body that verifies")


def _gate(r: Reader) -> None:
    body = BODY if r.byte() % 3 == 0 else r.sized_bytes(512)
    header = STAMPS[r.byte() % len(STAMPS)] if r.byte() % 2 else r.text(600)
    info = RequestInfo(
        "POST", "http://h/", "/", "", {"x-stamp": header}, None, {}, (("x-stamp", header),)
    )
    checked = SCHEME.check(info, body, NOW + r.int_in(-(10**7), 10**7))
    if checked.decision.approved:
        _check(body == BODY and header in STAMPS, "the scheme approved an unsigned request")
        digest = hashlib.sha256(body).hexdigest()
        _check(checked.replay_key is not None and digest in checked.replay_key, "replay key")


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    target = r.byte() % 5
    try:
        if target == 0:
            _round_trip(r.rest().decode("latin-1"))
        elif target == 1:
            _round_trip(_b64url(r.rest()))
        elif target == 2:
            _round_trip(_members(r))
        elif target == 3:
            _verify_body(r)
        else:
            _gate(r)
    except AuthSigError:
        return


SEEDS = [
    bytes([0]) + STAMPS[0].encode(),
    bytes([1]) + base64.urlsafe_b64decode(STAMPS[1] + "=" * (-len(STAMPS[1]) % 4)),
    bytes([2, 1, 1, 1]),
    bytes([3, 0, 0]),
    bytes([3, 2, 1]) + b"\x04{}",
    bytes([4, 0, 1, 1, 0]),
    bytes([4, 1, 0, 0]) + b"x",
]
