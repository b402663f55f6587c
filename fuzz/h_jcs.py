"""Harness ``jcs``: RFC 8785 canonicalization against the ``rfc8785`` package.

Two input shapes: JSON text parsed by the standard library, and values built directly from
the fuzz bytes (doubles from raw bits, big integers, strings with lone surrogates, nesting).
Invariants: only AuthSigError subclasses escape; when both succeed, our bytes equal the
``rfc8785`` package's; our output is a fixed point (canonicalizing its parse gives it back);
we refuse exactly the values outside I-JSON (|int| >= 2**53, non-finite, lone surrogates).
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import rfc8785

from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from fuzz import InvariantBroken
from fuzz._data import Reader

_SAFE = 2**53


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def _value(r: Reader, depth: int = 0) -> Any:
    kind = r.byte() % (9 if depth < 6 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return bool(r.byte() & 1)
    if kind == 2:
        return int.from_bytes(r.take(r.int_in(0, 10)), "big", signed=True)
    if kind == 3:
        (x,) = struct.unpack(">d", r.take(8).ljust(8, b"\0"))
        return x
    if kind in (4, 5):
        return r.text(64)
    if kind == 6:
        return [_value(r, depth + 1) for _ in range(r.int_in(0, 5))]
    obj: dict[Any, Any] = {}
    for _ in range(r.int_in(0, 5)):
        obj[r.text(16)] = _value(r, depth + 1)
    return obj


def _ijson(value: Any) -> bool:
    """True when every number is a finite double or a safe integer and every string is UTF-8."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) < _SAFE  # RFC 7493: integers within +-(2**53 - 1)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return all(_ijson(v) for v in value)
    if isinstance(value, dict):
        return all(_ijson(k) and _ijson(v) for k, v in value.items())
    return False


def _compare(value: Any) -> None:
    try:
        ours: bytes | None = canonicalize(value)
    except AuthSigError:
        ours = None
    try:
        theirs: bytes | None = rfc8785.dumps(value)
    except Exception:  # the reference refuses: any of its own error types
        theirs = None
    if ours is None:
        _check(not _ijson(value), "refused an I-JSON value")
        return
    _check(_ijson(value), "canonicalized a value outside I-JSON")
    if theirs is not None:
        _check(ours == theirs, "differs from the rfc8785 package")
    again = canonicalize(json.loads(ours), large_integers="javascript")
    _check(again == ours, "output is not a fixed point")


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    if r.byte() & 1:
        _compare(_value(r))
        return
    text = r.rest().decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return
    _compare(value)


SEEDS = [
    b"\x00" + b'{"b":[1,2.5,-0.0,1e21,1e-7,"\\u00e9\\ud83d\\ude00"],"a":{"\\u20ac":null,"":true}}',
    b"\x00" + b"[9007199254740991, -9007199254740991, 5e-324, 1.7976931348623157e308]",
    b"\x01\x08\x02\x07\x05\x03abc\x03\x7f\xf0\x00\x00\x00\x00\x00\x00",
]
"""Starting corpus: JSON text (mode 0) and one built value (mode 1)."""
