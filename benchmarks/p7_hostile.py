"""P7: bounded worst case per body byte: canonicalizing hostile bodies.

A client that is not authenticated chooses the body, and the verifier turns it into canonical
bytes before it checks any signature. Each hostile class below is built to make that step as
slow as possible per byte for one of the two routes: floats whose layout ``repr`` and ECMAScript
disagree on, one per few bytes, repeated or all different, nested or mixed with strings and
colons; deep nesting; long non-ASCII strings; many keys; keys that sort differently by UTF-16
unit (raw and escaped); integers near 2**53, repeated or all different.

Per class, side by side (CPU time, interleaved rounds):

- the verifier's work: ``signing_payload`` on the raw body bytes, which parses strictly
  (duplicate keys, numbers beyond a double and integers beyond 2**53 refused) and canonicalizes
  by the bulk route of ``authsig._jcstext``, from the body bytes to the payload bytes;
- the exact route: ``parse_body`` then ``canonicalize`` (what ``canonicalize`` costs on a value
  it did not parse itself);
- the baseline: ``json.loads`` then ``json.dumps`` (key-sorted, compact, non-ASCII kept, as P2)
  of the same body.

Target (issue 13): the verifier's work costs at most 2x the baseline on every class, so the
cost of a request body is bounded per byte. Before timing, both routes are checked byte for
byte against the ``rfc8785`` package on each body.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from typing import Any

from benchmarks._model import BenchConfig, Section, Table, Unavailable, cost_row, fmt_us
from benchmarks._timing import compare

BENCH = "P7"
TITLE = "Bounded worst case per body byte: hostile bodies"

TARGET = 2.0
METRIC = f"P7 parse + canonicalize / json.loads + json.dumps (<= {TARGET:g}x)"
OURS = "signing_payload (raw body)"
CANON = "parse_body + canonicalize"
BASE = "json.loads + json.dumps"
MAX_ROUNDS = 7  # each call takes up to a few hundred ms at 1 MiB


def _size(config: BenchConfig) -> int:
    if config.timing.fixed_number is not None:
        return 16 << 10
    return (256 << 10) if config.label == "quick" else (1 << 20)


def _array(size: int, unit: str) -> bytes:
    """A JSON array of ``unit`` repeated to about ``size`` bytes."""
    count = max(1, (size - 2) // (len(unit) + 1))
    return ("[" + ",".join([unit] * count) + "]").encode()


def _distinct_floats(size: int) -> bytes:
    """Floats in the exponent ranges that need another layout, all different (no reuse)."""
    out, total, i = [], 2, 0
    while total < size:
        text = f"{1 + (i % 9000) / 1000:g}e-{5 + (i // 9000) % 5}"
        out.append(text)
        total += len(text) + 1
        i += 1
    return ("[" + ",".join(out) + "]").encode()


def _deep(size: int, depth: int = 500) -> bytes:
    return _array(size, "[" * depth + "1.5" + "]" * depth)


def _object(size: int, member: Callable[[int], str]) -> bytes:
    out, total, i = [], 2, 0
    while total < size:
        text = member(i)
        out.append(text)
        total += len(text.encode()) + 1
        i += 1
    return ("{" + ",".join(out) + "}").encode()


def _distinct_integers(size: int) -> bytes:
    """16-digit integers up to 2**53 - 1, all different: each one's range is settled."""
    count = max(1, (size - 2) // 17)
    return ("[" + ",".join(str(9007199254740991 - 7919 * i) for i in range(count)) + "]").encode()


def _escaped_members(size: int) -> bytes:
    """Objects whose keys and strings hold colons, quotes and backslashes, and a float that
    needs another layout: the text passes that skip strings have the most to skip."""
    unit = '{"k:%d":"a\\"b:\\\\","x":%s}'
    out, total, i = [], 2, 0
    while total < size:
        text = unit % (i, f"{1 + i % 997}e-6")
        out.append(text)
        total += len(text) + 1
        i += 1
    return ("[" + ",".join(out) + "]").encode()


def _all_distinct(size: int, scale: float) -> bytes:
    """Floats of 16-17 significant digits, all different, as ``repr`` writes them."""
    rng = random.Random(13)
    out, total = [], 2
    while total < size:
        text = repr(rng.random() * scale)
        out.append(text)
        total += len(text) + 1
    return ("[" + ",".join(out) + "]").encode()


def _utf16_objects(size: int, escaped: bool) -> bytes:
    """Small objects whose keys sort differently by code point and by UTF-16 unit."""
    out, total, i = [], 2, 0
    while total < size:
        text = json.dumps({"\U0001f600": i, "\ue000": 1}, ensure_ascii=escaped)
        out.append(text.replace(" ", ""))
        total += len(out[-1].encode()) + 1
        i += 1
    return ("[" + ",".join(out) + "]").encode()


def bodies(size: int) -> dict[str, bytes]:
    """The hostile classes, each about ``size`` bytes of compact JSON."""
    chars = "é中😀"
    return {
        "nested [[1e-5],...]": _array(size, "[1e-5]"),
        "flat [1e-5,...]": _array(size, "1e-5"),
        "distinct floats x.yyye-5 to e-9": _distinct_floats(size),
        'floats and strings [1e-5,"a",...]': _array(size, '1e-5,"a"'),
        "integral floats [[2.0],...]": _array(size, "[2.0]"),
        'small objects [{"a":1e-5},...]': _array(size, '{"a":1e-5}'),
        "nesting 500 deep": _deep(size),
        "one long non-ASCII string": json.dumps(chars * (size // 9), ensure_ascii=False).encode(),
        "many small keys": _object(size, lambda i: f'"k{i}":{i}'),
        "keys beyond U+E000": _object(size, lambda i: f'"\U0001f600{i}\ue000":1'),
        "integers near 2**53": _array(size, "9007199254740991"),
        "distinct integers near 2**53": _distinct_integers(size),
        "escaped strings, colons, floats": _escaped_members(size),
        "all distinct floats, repr as is": _all_distinct(size, 1.0),
        "all distinct floats below 1e-5": _all_distinct(size, 1e-5),
        "small objects, UTF-16 order keys": _utf16_objects(size, escaped=False),
        "the same, keys escaped": _utf16_objects(size, escaped=True),
    }


_URL = "https://api.privy.io/v1/wallets/w1/rpc"
_HEADERS = {"privy-app-id": "app"}


def _payload(signing_payload: Callable[..., bytes], body: bytes) -> bytes:
    return signing_payload(method="POST", url=_URL, body=body, headers=_HEADERS)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def run(config: BenchConfig) -> Section:
    """Measure and return the P7 section."""
    try:
        import rfc8785

        from authsig.jcs import canonicalize
        from authsig.privy.payload import parse_body, payload_object, signing_payload
    except ImportError as exc:
        raise Unavailable(f"cannot import the subject or the peer: {exc}") from exc
    timing = dataclasses.replace(config.timing, rounds=min(config.timing.rounds, MAX_ROUNDS))
    section = Section(BENCH, TITLE)
    table: list[list[str]] = []
    for label, body in bodies(_size(config)).items():
        value = parse_body(body)
        if canonicalize(value) != rfc8785.dumps(value):
            raise AssertionError(f"P7 {label}: canonicalize output differs from rfc8785")
        payload = payload_object(method="POST", url=_URL, body=None, headers=_HEADERS)
        payload["body"] = value
        if _payload(signing_payload, body) != rfc8785.dumps(payload):
            raise AssertionError(f"P7 {label}: the verifier's payload differs from rfc8785")
        t = compare(
            {
                OURS: lambda b=body: _payload(signing_payload, b),
                CANON: lambda b=body: canonicalize(parse_body(b)),
                BASE: lambda b=body: _dumps(json.loads(b)),
            },
            timing,
        )
        row = cost_row(BENCH, label, t, OURS, BASE, target=TARGET, metric=METRIC, sample=label)
        section.rows.append(row)
        section.rows.append(cost_row(BENCH, label, t, CANON, BASE, sample=label))
        per_kib = 1024 / len(body)
        table.append(
            [
                label,
                f"{len(body):,}",
                fmt_us(t.us(OURS) * per_kib),
                fmt_us(t.us(CANON) * per_kib),
                fmt_us(t.us(BASE) * per_kib),
                f"{t.ratio(OURS, BASE):.2f}x",
            ]
        )
    section.tables.append(
        Table(
            "Cost per KiB of body, per hostile class (medians)",
            ["class", "bytes", OURS, CANON, BASE, "ratio"],
            table,
        )
    )
    section.notes.append(
        "Before timing, both routes were checked byte-for-byte equal to `rfc8785.dumps` on "
        "every body. The verifier's route lets the C parser and encoder do the per-value work "
        "(`authsig._jcstext`); Python runs once per distinct float text, so the `distinct "
        "floats` class is the one that pays for formatting every float. The exact route "
        "(second row of each class) is what `canonicalize` costs on a value it did not parse: "
        "a Python pass per container it cannot hand to the C encoder whole."
    )
    return section
