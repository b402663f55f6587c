"""Harness ``headers``: the signature header, the expiry header and Cobo header values.

Invariants: only AuthSigError subclasses escape; a parsed signature header round-trips
through :func:`format_signature_header` and respects the limits; an accepted expiry is the
decimal text it came from and lies inside the allowed window; a Cobo request with fuzzed
headers and no key of the signer is never approved.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from authsig.cobo.keys import generate_api_key_pair
from authsig.cobo.signing import verify_request as cobo_verify_request
from authsig.errors import AuthSigError
from authsig.privy.expiry import check_expiry
from authsig.privy.headers import format_signature_header, parse_signature_header
from fuzz import InvariantBroken
from fuzz._data import Reader

NOW_MS = 1_760_000_000_000
COBO_KEY = generate_api_key_pair()[1]  # the secret is discarded: nobody can sign for it


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def _signature_header(r: Reader) -> None:
    max_signatures = r.int_in(1, 70)
    max_length = r.int_in(1, 9000)
    value = r.text(9000)
    try:
        entries = parse_signature_header(
            value, max_signatures=max_signatures, max_length=max_length
        )
    except AuthSigError:
        return
    _check(0 < len(entries) <= max_signatures, "entry count outside limits")
    _check(len(value) <= max_length, "header longer than max_length accepted")
    _check(len(set(entries)) == len(entries), "duplicate entries accepted")
    for entry in entries:
        _check(entry != "" and "," not in entry, "empty or comma entry")
        _check(base64.b64encode(base64.b64decode(entry)).decode() == entry, "non-canonical b64")
    again = parse_signature_header(format_signature_header(entries))
    _check(again == entries, "format/parse round trip differs")


def _expiry(r: Reader) -> None:
    now = NOW_MS + r.int_in(-(10**12), 10**12)
    lifetime = timedelta(milliseconds=r.int_in(0, 10**8))
    skew = timedelta(milliseconds=r.int_in(0, 10**6))
    value = r.text(64)
    try:
        ms = check_expiry(value, now_ms=now, max_lifetime=lifetime, clock_skew=skew)
    except AuthSigError:
        return
    _check(isinstance(ms, int) and str(ms) == value, "accepted expiry is not its decimal text")
    low = now - skew // timedelta(milliseconds=1)
    high = now + (lifetime + skew) // timedelta(milliseconds=1)
    _check(low <= ms <= high, "accepted expiry outside the window")


_COBO_NAMES = ("biz-api-key", "biz-api-nonce", "biz-api-signature", "biz-timestamp", "x-other")


def _cobo(r: Reader) -> None:
    headers: list[tuple[str, str]] = []
    for _ in range(r.int_in(0, 6)):
        pick = r.byte()
        name = _COBO_NAMES[pick % len(_COBO_NAMES)] if pick < 250 else r.text(32)
        if pick & 0x40:
            name = name.upper()
        headers.append((name, r.text(300)))
    method = ("GET", "POST", "PUT", "DELETE", "")[r.int_in(0, 4)]
    path = "/" + r.text(100)
    query = r.text(100)
    body = r.sized_bytes(500)
    try:
        decision = cobo_verify_request(
            headers,
            method=method,
            path=path,
            query=query,
            body=body,
            api_keys=[COBO_KEY],
            now_ms=NOW_MS,
            explain=bool(r.byte() & 1),
        )
    except AuthSigError:
        return
    _check(not decision.approved, "Cobo request approved without the signer's secret")


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    mode = r.byte() % 3
    if mode == 0:
        _signature_header(r)
    elif mode == 1:
        _expiry(r)
    else:
        _cobo(r)


SEEDS = [
    b"\x00\x00\x01\x00\x10" + b"MEUCIQDx,MEQCIBB=",
    b"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0d1760000000000",
    b"\x02\x04\x00\x20" + b"a" * 32,
]
"""Starting corpus: a signature header, an expiry value and a Cobo header set."""
