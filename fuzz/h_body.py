"""Harness ``body``: raw JSON request bodies through ``parse_body`` and the signing payload.

A fixed request is signed once with body ``BASE``. Each fuzz case is a raw body sent with
those signature headers. Invariants: only AuthSigError subclasses escape; a body that parses
appears unchanged as ``body`` in the signing payload (empty object/array as ``""``; numbers
compared as doubles, as a JavaScript reader of the canonical text sees them); the
verifier approves the fuzzed body exactly when its signing payload equals the signed one (a
body with a different meaning is never accepted: no forgery through JSON quirks).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from authsig.errors import AuthSigError
from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.payload import parse_body, signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import verify_request
from fuzz import InvariantBroken
from fuzz._data import Reader

NOW_MS = 1_760_000_000_000
URL = "https://api.privy.io/v1/wallets/w1/rpc"
BASE = b'{"method":"eth_signTransaction","params":{"transaction":{"to":"0xab","value":1}}}'


def _key() -> PrivateKey:
    """A fixed test key (scalar 7): this harness tests the verifier, not key secrecy."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return PrivateKey(ec.derive_private_key(7, ec.SECP256R1()))


KEY = _key()
# Five members (above the verifier's DIRECT_MATCH_LIMIT): matching goes through key recovery.
QUORUM = KeyQuorum(
    public_keys=(KEY.public_key, *(generate_private_key().public_key for _ in range(4))),
    authorization_threshold=1,
)
HEADERS = sign_request(
    method="POST",
    url=URL,
    body=BASE,
    app_id="app-fuzz",
    keys=KEY,
    expires_in=timedelta(minutes=10),
    now_ms=NOW_MS,
    deterministic=True,
)
SIGNED = signing_payload(method="POST", url=URL, body=BASE, headers=HEADERS)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    as_text = r.byte() & 1
    raw = r.rest()
    body: bytes | str = raw.decode("utf-8", "surrogatepass") if as_text and _utf8(raw) else raw
    try:
        value = parse_body(body)
    except AuthSigError:
        value = _REFUSED
    if value is not _REFUSED:
        try:
            payload = signing_payload(method="POST", url=URL, body=body, headers=HEADERS)
        except AuthSigError:
            payload = None
        if payload is not None:
            shown = json.loads(payload)["body"]
            expected = "" if value in ({}, []) else value
            _check(_as_doubles(shown) == _as_doubles(expected), "body changed")
    else:
        payload = None
    decision = verify_request(
        method="POST", url=URL, body=body, headers=HEADERS, quorum=QUORUM, now_ms=NOW_MS
    )
    if decision.approved:
        _check(payload == SIGNED, "approved a body whose payload differs from the signed one")
    elif payload == SIGNED:
        raise InvariantBroken(f"refused a body with the signed payload: {decision.reason}")


class _Refused:
    pass


_REFUSED = _Refused()


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def _as_doubles(value: Any) -> Any:
    """The value as a JavaScript reader sees it: every number a double."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    return {k: _as_doubles(v) for k, v in value.items()}


SEEDS = [b"\x00" + BASE, b"\x01" + BASE, b"\x00 {} ", b"\x00[]", b'\x00{"a":[1,2,{"b":null}]}']
"""Starting corpus: the signed body itself (approved), and a few other bodies."""
