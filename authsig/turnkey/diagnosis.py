"""Why a Turnkey stamp does not verify over the body received: the near misses of a client that
stamped other bytes than it sent.

A stamp covers the raw bytes, so a client that stamps ``JSON.stringify(body)`` and sends its
framework's own serialisation, or adds a newline, is refused although the request "is the
same". :func:`near_miss` tries those few re-spellings of the received body and names the one
the stamp verifies over (for the server log; the Gate runs it on refusals only, within its
diagnosis budget).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from authsig.errors import AuthSigError
from authsig.turnkey.stamp import Stamp, parse_stamp, verify_stamp

__all__ = ["near_miss"]


def _json(body: bytes, *, compact: bool = True, sort_keys: bool = False) -> bytes | None:
    """``body`` parsed and written again, or None when it is not JSON."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if compact:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    else:
        text = json.dumps(value)
    return text.encode("utf-8")


_VARIANTS: tuple[tuple[str, Callable[[bytes], bytes | None]], ...] = (
    ("without its trailing newline", lambda b: b.rstrip(b"\r\n")),
    ("with a trailing newline", lambda b: b + b"\n"),
    ("re-serialised compactly (as JSON.stringify writes it)", _json),
    ("re-serialised with Python's json.dumps spacing", lambda b: _json(b, compact=False)),
    ("re-serialised with sorted keys", lambda b: _json(b, sort_keys=True)),
    ("empty", lambda b: b""),
)


def near_miss(body: bytes, header: str) -> str | None:
    """How the body the stamp verifies over differs from ``body`` (e.g. "without its trailing
    newline"), or None when the stamp is malformed, verifies as is, or matches none of them."""
    try:
        stamp: Stamp = parse_stamp(header)
    except AuthSigError:
        return None
    for description, variant in _VARIANTS:
        candidate = variant(body)
        if candidate is None or candidate == body:
            continue
        try:
            verify_stamp(candidate, stamp)
        except AuthSigError:
            continue
        return description
    return None
