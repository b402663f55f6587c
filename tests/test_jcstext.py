"""The bulk route (authsig._jcstext) against the exact route, on texts built to tell them apart.

The verifier canonicalizes a raw body by the bulk route; ``parse_body`` then ``canonicalize`` is
the exact route. For every text both must agree: the same bytes, or the same error (type, code,
message and JSON Pointer when the body is small enough to locate it). The bulk checks are also
tested on their own (``_bulk``), so that a false alarm, which the exact route would cover up,
still fails here.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig import _jcstext, jcs
from authsig._floatlayout import layout_reprs
from authsig.errors import AuthSigError, CanonicalizationError, InvalidBodyError
from authsig.jcs import MAX_SAFE_INTEGER, canonicalize
from authsig.privy.payload import (
    BULK_FROM_BYTES,
    parse_body,
    payload_object,
    signing_payload,
)

APP = {"privy-app-id": "app"}
URL = "https://api.example.com/v1/wallets/w1/rpc"

Outcome = bytes | tuple[type, str, str] | None


def _padded(body: bytes) -> bytes:
    """The body with trailing white space, long enough for ``signing_payload``'s bulk route."""
    return body + b" " * BULK_FROM_BYTES


def _exact(text: str | bytes) -> Outcome:
    try:
        return canonicalize(parse_body(text))
    except (InvalidBodyError, CanonicalizationError) as exc:
        return type(exc), exc.code, str(exc)


def _bulk(text: str | bytes) -> Outcome:
    """The bulk route alone: its bytes, or the error it found (the exact route not re-run)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    try:
        return _jcstext._bulk(raw, raw.decode("utf-8", "surrogatepass"))
    except _jcstext._Refused as refused:
        return type(refused.error), refused.error.code, ""


def _same(text: str | bytes) -> None:
    exact = _exact(text)
    bulk = _bulk(text)
    if isinstance(exact, bytes):
        assert bulk == exact, text
    else:
        assert isinstance(bulk, tuple), (text, bulk)
        assert exact is not None
        assert bulk[:2] == exact[:2], text  # same type and code
    # Through the public entry point: the exact route's error, word for word.
    try:
        got: Outcome = _jcstext.canonicalize_text(text, _raise_exact)
    except (InvalidBodyError, CanonicalizationError) as exc:
        got = type(exc), exc.code, str(exc)
    assert got == exact, text


def _raise_exact(text: str) -> object:
    return canonicalize(parse_body(text))


# --- texts built to tell the routes apart ----------------------------------------------------

_FLOATS = [
    0.0, -0.0, 2.0, -2.0, 1e-5, -1.5e-5, 1e-6, 2.5e-6, 1e-7, -1e-8, 1e-9, 1e-10, 1e-4, 9.99e-5,
    1e16, -1.5e16, 1.2345e20, 9e20, 1e21, 1e160, -1e161, 1e-160, 5e-324, 1.7976931348623157e308,
    0.1, 0.30000000000000004, 1234567890123456.8, 4503599627370495.5, 123.0, 1e15, 1e17,
]
_INTS = [
    0, -1, 7, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1,
    9999999999999999, 1000000000000000, 10**17, 10**30, -(10**20), 4503599627370496,
]
_STRINGS = [
    "", "a", ':', '"', "\\", '\\"', "a:b", "2.0,", "1e-05", "e+16]", "9007199254740993",
    "12345678901234567", "\x01", "\u0003", "\n", "é", "中", "😀", "\ue000", "\uffff",
    "\U0010ffff", "\U0010e000", "\ud800", "k\ud83d", "\u2028", "[1e-05,2.0]",
]


def _floats() -> st.SearchStrategy[float]:
    return st.sampled_from(_FLOATS) | st.floats(allow_nan=False, allow_infinity=False) | (
        st.tuples(st.integers(1, 99999), st.integers(-12, 22)).map(lambda t: t[0] * 10.0 ** t[1])
    )


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from(_INTS)
    | st.integers(-(2**60), 2**60)
    | _floats()
    | st.sampled_from(_STRINGS)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=5)
    | st.lists(st.tuples(st.sampled_from(_STRINGS) | st.text(max_size=3), children), max_size=5),
    max_leaves=30,
)


def _float_text(x: float, style: int) -> str:
    """A JSON number for ``x``: repr, 17 significant digits, exponent form, fixed, upper E."""
    if style == 0 or x != x:
        return repr(x)
    if style == 1:
        return f"{x:.17g}"
    if style == 2:
        return f"{x:.16e}"
    if style == 3 and abs(x) < 1e22:
        return f"{x:.30f}"
    return repr(x).upper()


def _string_text(s: str, ascii_only: bool) -> str:
    return json.dumps(s, ensure_ascii=ascii_only)


def _render(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any], ascii_only: bool) -> str:
    """JSON text of ``value``; a list of (key, value) tuples is an object (keys may repeat)."""
    space = draw(st.sampled_from(["", " ", "\n  "]))
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value, draw(st.integers(0, 4)))
    if isinstance(value, str):
        return _string_text(value, ascii_only)
    if value and isinstance(value[0], tuple):
        members = [
            f"{_string_text(k, ascii_only)}{space}:{space}{_render(v, draw, ascii_only)}"
            for k, v in value
        ]
        return "{" + space + ("," + space).join(members) + space + "}"
    return "[" + space + ("," + space).join(_render(v, draw, ascii_only) for v in value) + "]"


@settings(max_examples=1500, deadline=None)
@given(_values, st.booleans(), st.data())
def test_bulk_and_exact_routes_agree(value: Any, ascii_only: bool, data: st.DataObject) -> None:
    _same(_render(value, data.draw, ascii_only))


@settings(max_examples=300, deadline=None)
@given(st.lists(_floats(), min_size=1, max_size=40), st.integers(0, 4))
def test_float_arrays_agree(values: list[float], style: int) -> None:
    _same("[" + ",".join(_float_text(x, style) for x in values) + "]")


@pytest.mark.parametrize(
    "text",
    [
        # numbers next to strings, keys and every separator
        '{"a":1e-05,"b":[2.0,-0.0,1e+16],"c":{"d":-1.5e-06}}',
        '[1e-05,"1e-05",{"1e-05":1e-05},"x",2.0]',
        '{"a:b":1,"c":"d:e","f":[1e-7,1e+20,1e+160,1e16]}',
        '[1.0e-5, 1.5E-6, 1E16, -0.0e0, 0.000001, 100000000000000000000.0]',
        "2.0", "-0.0", "1e-5", "1e16", "123", '"2.0,"', "null", "true", "[]", "{}",
        # integers beyond 2**53, and digits that only look like them
        "[9007199254740993]", "[-9007199254740993]", "[9007199254740991, -9007199254740991]",
        '{"a":12345678901234567}', "[1e16, 10000000000000000]", "[99999999999999999999]",
        '["9007199254740993", "12345678901234567"]', "[1234567890123456.8]",
        "[" + ",".join(["1"] * 40) + ",9007199254740992]",
        "[" + ",".join(["9007199254740991"] * 40) + "]",
        "[" + ",".join(["9007199254740991"] * 40) + ",95]",
        "[" + ",".join(["9007199254740991"] * 40) + ",9007199254740992]",
        "[" + ",".join(["1.5"] * 40) + ",4503599627370495.5]",
        # duplicate keys, plain and escaped
        '{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '{"a":{"b":1,"b":2}}', '{"x:y":1,"x\\u003ay":2}',
        '{"\\u003a":1,":":2}', '{"k":"\\u003a\\u003a","j":1}', '[{"a":1},{"a":1}]',
        # escapes, quotes and backslashes around numbers
        '["\\\\",2.0,"\\"",1e-05,"\\\\\\"",-0.0]', '{"\\"":1e-05}', '["\\\\"]',
        '["\\u0022", 2.0]', '["\\ud83d\\ude00", 1e-05]',
        # key order by UTF-16 unit, raw and escaped; plane 16
        '{"\\ue000":1,"\\ud83d\\ude00":2}', '{"\ue000":1,"\U0001f600":2}',
        '{"a\ue000":1,"a\U0001f600":2,"a":3}', '{"\ue000":1,"\U0001f600":2,"\U0010ffff":3}',
        '{"\ue000":1,"\U0001f600":2,"\\uffff":4}', '[{"\uff21":1,"\U0001f600":[1e-05]}]',
        # escapes written out before the move: escaped backslashes, broken escapes, \\U
        '{"\\\\uE000":1,"\\ud83d\\ude00":2,"\\ue000":3}',
        '["\\uZZZZ", "\\ue000", "\\ud83d\\ude00"]',
        '["a\\u0022\\ue000", "\\ud83d\\ude00", "\\\\\\ue000"]',
        '{"\\u00e9\\ue000":1,"\\u00e9\\ud83d\\ude00":2,"\\u00e9":1e-05}',
        '{"\\ud83d":1,"\\ue000":2}',
        '{"\\ue000":1,"\\ud83d\\ude00":2,"\\ue000":3}',
        '["\\U0001F600", "\\ue000", "\\ud83d\\ude00"]',
        '["\x01\\ue000", "\\ud83d\\ude00"]',
        # what the exact route refuses
        "[NaN]", "[Infinity]", "[1e400]", "[-1e400]", '{"a":1,}', "[1,]", '"\\ud800"',
        '{"\\udc00":1}', "[1 2]", "\x01", '"\x01"', "[" * 2000 + "]" * 2000,
    ],
)
def test_hand_made_texts(text: str) -> None:
    _same(text)


def test_nesting_beyond_the_recursion_limit_is_refused_alike() -> None:
    deep = "[" * 100_000 + "1.0" + "]" * 100_000
    with pytest.raises(AuthSigError):
        signing_payload(method="POST", url=URL, body=deep.encode(), headers=APP)
    _same(deep)


# --- the verifier's payload ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(_values, st.booleans(), st.data())
def test_signing_payload_takes_the_bulk_route_to_the_same_bytes(
    value: Any, ascii_only: bool, data: st.DataObject
) -> None:
    body = _padded(_render(value, data.draw, ascii_only).encode("utf-8", "surrogatepass"))
    try:
        payload = payload_object(method="POST", url=URL, body=body, headers=APP)
        exact: Outcome = canonicalize(payload)
    except (InvalidBodyError, CanonicalizationError) as exc:
        exact = type(exc), exc.code, str(exc)
    try:
        got: Outcome = signing_payload(method="POST", url=URL, body=body, headers=APP)
    except (InvalidBodyError, CanonicalizationError) as exc:
        got = type(exc), exc.code, str(exc)
    assert got == exact


def test_signing_payload_does_not_walk_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """The raw body never reaches the exact route (a Python call per container): only the small
    object around it does."""
    body = json.dumps({"a": [[1e-5]] * 500, "b": {"c": 2.0, "d": "é"}}).encode()
    assert len(body) >= BULK_FROM_BYTES
    expected = signing_payload(method="POST", url=URL, body=body, headers=APP)
    seen: list[Any] = []
    walk = jcs._walk

    def recording_walk(value: Any, *args: Any) -> bool:
        seen.append(value)
        return walk(value, *args)

    monkeypatch.setattr(jcs, "_walk", recording_walk)
    assert signing_payload(method="POST", url=URL, body=body, headers=APP) == expected
    assert seen  # the object around the body
    assert not any(isinstance(value, list) or "a" in value for value in seen)


# --- errors in large bodies --------------------------------------------------------------------


def _large(inner: str) -> bytes:
    filler = ",".join(["[1e-05,2.0]"] * (_jcstext.EXACT_ERRORS_UP_TO // 10))
    return ("[" + filler + "," + inner + "]").encode()


@pytest.mark.parametrize(
    ("inner", "error", "code"),
    [
        ("9007199254740993", CanonicalizationError, "not_canonicalizable"),
        ('{"a":1,"a":2}', InvalidBodyError, "invalid_body"),
        ('"\\ud800"', CanonicalizationError, "not_canonicalizable"),
        ("1e400", InvalidBodyError, "invalid_body"),
    ],
)
def test_errors_in_large_bodies_keep_their_type_without_a_second_pass(
    inner: str, error: type[AuthSigError], code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _large(inner)
    assert len(body) > _jcstext.EXACT_ERRORS_UP_TO
    with pytest.raises(error) as exact:
        canonicalize(parse_body(body))

    def refuse(text: str) -> object:
        raise AssertionError("the exact route ran on a large body")

    with pytest.raises(error) as bulk:
        _jcstext.canonicalize_text(body, refuse)
    assert bulk.value.code == exact.value.code == code
    assert "\\ud800" not in str(bulk.value)
    assert "9007199254740993" not in str(bulk.value)


def test_errors_in_small_bodies_are_located() -> None:
    body = _padded(b'{"a":[0,9007199254740993]}')
    with pytest.raises(CanonicalizationError) as info:
        signing_payload(method="POST", url=URL, body=body, headers=APP)
    assert info.value.path == "/body/a/1"


def test_small_bodies_take_the_exact_route(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the bulk route ran")

    monkeypatch.setattr(_jcstext, "_bulk", refuse)
    body = json.dumps({"a": [1e-5, 2.0]}).encode()
    assert signing_payload(method="POST", url=URL, body=body, headers=APP) == canonicalize(
        payload_object(method="POST", url=URL, body=body, headers=APP)
    )


# --- the bulk float layout -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(_floats(), min_size=1, max_size=60))
def test_layout_of_reprs_is_ecmascript(values: list[float]) -> None:
    finite = [x for x in values if math.isfinite(x)]
    if not finite:
        return
    laid_out = layout_reprs(",".join(map(repr, finite))).split(",")
    assert laid_out == [jcs._format_float(x) for x in finite]


def test_layout_of_many_repeated_and_distinct_floats() -> None:
    rng = random.Random(5)
    values = [rng.choice(_FLOATS) for _ in range(3000)]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-9, 21) for _ in range(3000)]
    rng.shuffle(values)
    laid_out = layout_reprs(",".join(map(repr, values))).split(",")
    assert laid_out == [jcs._format_float(x) for x in values]
    text = json.dumps({"k": values, "n": [{"x": v} for v in values[:500]]}, separators=(",", ":"))
    expected = canonicalize(payload_object(method="POST", url=URL, body=text, headers=APP))
    assert signing_payload(method="POST", url=URL, body=text.encode(), headers=APP) == expected
