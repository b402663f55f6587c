"""RFC 8785 canonicalization: conformance files, the 100k ECMAScript numbers, errors, properties."""

from __future__ import annotations

import gzip
import json
import math
import struct
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import vectors_path
from hypothesis import given, settings
from hypothesis import strategies as st

from authsig import jcs
from authsig.errors import AuthSigError, CanonicalizationError
from authsig.jcs import MAX_SAFE_INTEGER, canonicalize, format_number

JCS_FILES = ["arrays", "french", "structures", "unicode", "values", "weird"]


def _load_ijson(text: str) -> Any:
    """Parse JSON as an RFC 8785 (I-JSON) peer does: every number is an IEEE 754 double."""
    return json.loads(text, parse_int=float)


# --- conformance ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", JCS_FILES)
def test_rfc8785_files(name: str) -> None:
    base = vectors_path("jcs")
    value = _load_ijson((base / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = (base / "output" / f"{name}.json").read_bytes()
    assert canonicalize(value) == expected


@pytest.mark.parametrize("name", JCS_FILES)
def test_rfc8785_files_outhex(name: str) -> None:
    base = vectors_path("jcs")
    value = _load_ijson((base / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = bytes.fromhex("".join((base / "outhex" / f"{name}.txt").read_text().split()))
    assert canonicalize(value) == expected


@pytest.mark.parametrize("name", JCS_FILES)
def test_rfc8785_files_with_default_json_parser(name: str) -> None:
    # json.loads keeps integers as int; within 2**53 they must give the same bytes.
    base = vectors_path("jcs")
    value = json.loads((base / "input" / f"{name}.json").read_text(encoding="utf-8"))
    assert canonicalize(value) == (base / "output" / f"{name}.json").read_bytes()


def test_es6_numbers_100k() -> None:
    path: Path = vectors_path("jcs", "es6-numbers-100k.txt.gz")
    failures: list[str] = []
    count = 0
    finite: list[float] = []
    finite_expected: list[str] = []
    with gzip.open(path, "rt", encoding="ascii") as lines:
        for line in lines:
            bits, expected = line.rstrip("\n").split(",")
            value = struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0]
            count += 1
            if math.isnan(value) or math.isinf(value):
                with pytest.raises(CanonicalizationError):
                    canonicalize(value)
                continue
            finite.append(value)
            finite_expected.append(expected)
            got = canonicalize(value).decode("ascii")
            if got != expected:
                failures.append(f"{bits}: expected {expected}, got {got}")
            # Inside an array the fast (C encoder) and exact paths must agree as well.
            if canonicalize([value, 0.5]) != f"[{expected},0.5]".encode():
                failures.append(f"{bits} in an array")
    assert count == 100_000
    assert failures == []
    # All at once: the flat float array path re-lays out the C encoder's text in bulk.
    assert canonicalize(finite) == ("[" + ",".join(finite_expected) + "]").encode()


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-2.0, "-2"),
        (0.5, "0.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e16, "10000000000000000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e-5, "0.00001"),
        (0.0001, "0.0001"),
        (1.5e300, "1.5e+300"),
        (-1.5e-300, "-1.5e-300"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"),
        (2**53 - 1, "9007199254740991"),
        (-(2**53 - 1), "-9007199254740991"),
        (0, "0"),
    ],
)
def test_number_layout(value: float, expected: str) -> None:
    # Expected strings are what ECMAScript's Number.prototype.toString prints.
    assert canonicalize(value) == expected.encode()
    assert format_number(value) == expected
    assert canonicalize({"n": [value]}) == f'{{"n":[{expected}]}}'.encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_refused(value: float) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": [1, {"b": value}]})
    assert info.value.path == "/a/1/b"
    assert info.value.code == "not_canonicalizable"
    with pytest.raises(CanonicalizationError):
        canonicalize([value] * 3)


def test_large_integers_refused_by_default() -> None:
    for value in (2**53, -(2**53), 10**30):
        with pytest.raises(CanonicalizationError) as info:
            canonicalize({"x": {"y": [0, value]}})
        assert info.value.path == "/x/y/1"
        assert "2**53" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # What JSON.stringify(Number(...)) prints in JavaScript.
        (2**53, "9007199254740992"),
        (2**53 + 1, "9007199254740992"),
        (-(2**53 + 1), "-9007199254740992"),
        (10**21, "1e+21"),
        (123456789012345678901234567890, "1.2345678901234568e+29"),
        (2**53 - 1, "9007199254740991"),
    ],
)
def test_large_integers_javascript(value: int, expected: str) -> None:
    assert canonicalize(value, large_integers="javascript") == expected.encode()
    assert canonicalize([value], large_integers="javascript") == f"[{expected}]".encode()


def test_huge_integer_overflows_double() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize([10**400], large_integers="javascript")


def test_bool_is_not_a_number() -> None:
    assert canonicalize([True, False, None, 1]) == b"[true,false,null,1]"
    with pytest.raises(CanonicalizationError):
        format_number(True)


# --- strings and keys ------------------------------------------------------------------------


def test_string_escaping() -> None:
    value = '\u20ac$\u000f\nA\'B"\\\\"/\u007f\b\t\f\r\u0000\u001f\u2028'
    # RFC 8785 §3.2.2.2: short escapes, other controls as lower-case \u00xx, nothing else.
    expected = '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/\u007f\\b\\t\\f\\r\\u0000\\u001f\u2028"'
    assert canonicalize(value) == expected.encode("utf-8")


def test_non_bmp_strings_are_utf8() -> None:
    assert canonicalize("\U0001f600") == b'"\xf0\x9f\x98\x80"'


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 (code point order says after).
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3, "\uffff": 4, "\U00010000": 5}
    expected = '{"a":3,"\U00010000":5,"\U0001f600":2,"\ue000":1,"\uffff":4}'
    assert canonicalize(value) == expected.encode("utf-8")


def test_keys_sorted_by_utf16_nested() -> None:
    value = [{"x": {"\U0001f600": 0, "\ue000": 1}}]
    expected = '[{"x":{"\U0001f600":0,"\ue000":1}}]'
    assert canonicalize(value) == expected.encode("utf-8")


def test_key_order_is_not_locale() -> None:
    value = {"péché": 1, "peach": 2, "pêche": 3, "sin": 4, "B": 5, "a": 6, "": 7}
    assert (
        canonicalize(value) == '{"":7,"B":5,"a":6,"peach":2,"péché":1,"pêche":3,"sin":4}'.encode()
    )


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("\ud800", ""),
        ({"a": ["ok", "x\udfffy"]}, "/a/1"),
        ({"k\ud800": 1}, "/k\ud800"),
        ({"a/b": {"c~d": "\udc00"}}, "/a~1b/c~0d"),
    ],
)
def test_lone_surrogates_refused(value: Any, path: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.path == path
    assert "surrogate" in str(info.value)


@pytest.mark.parametrize("key", [1, 1.5, None, True, (1, 2)])
def test_non_string_keys_refused(key: Any) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"outer": [{key: 1}]})
    assert info.value.path.startswith("/outer/0/")
    assert "not a string" in str(info.value)


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ({"a": {1, 2}}, "set"),
        ({"a": b"bytes"}, "bytes"),
        ({"a": Decimal("1.5")}, "Decimal"),
        ({"a": object()}, "object"),
    ],
)
def test_unsupported_types_refused(value: Any, type_name: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.path == "/a"
    assert type_name in str(info.value)
    assert isinstance(info.value, AuthSigError)


def test_error_path_names_deep_member() -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": [{"b": math.nan}]})
    assert info.value.path == "/a/0/b"
    assert str(info.value).endswith("at /a/0/b")


def test_cycles_and_deep_nesting_refused() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(CanonicalizationError):
        canonicalize(cyclic)
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CanonicalizationError):
        canonicalize(deep)


def test_subclasses_and_tuples() -> None:
    class S(str):
        def __str__(self) -> str:
            return "spoofed"

    class I(int):  # noqa: E742
        def __repr__(self) -> str:
            return "spoofed"

    value = OrderedDict([("b", (1, 2.5)), (S("a"), S("x")), ("c", I(7))])
    assert canonicalize(value) == b'{"a":"x","b":[1,2.5],"c":7}'


def test_unknown_options_refused() -> None:
    with pytest.raises(ValueError):
        canonicalize(1, profile="other")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        canonicalize(1, large_integers="round")  # type: ignore[arg-type]


def test_float_arrays_mixed_layouts() -> None:
    values = [0.5, 2.0, -0.0, 1e-7, 1e21, 1e16, 123.25]
    assert canonicalize(values) == b"[0.5,2,0,1e-7,1e+21,10000000000000000,123.25]"
    assert canonicalize(tuple(values)) == canonicalize(values)


# --- properties ----------------------------------------------------------------------------

_keys = st.text(max_size=6) | st.sampled_from(
    ["\ue000", "\U0001f600", "\uffff", "\U00010000", "a\ue000", "a\U0001f600", ""]
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_fixed_point(value: Any) -> None:
    canonical = canonicalize(value)
    assert canonicalize(_load_ijson(canonical.decode("utf-8"))) == canonical
    # json.loads keeps integral numbers as int; beyond 2**53 they came from doubles, which is
    # exactly what JavaScript rounding gives back.
    assert canonicalize(json.loads(canonical), large_integers="javascript") == canonical


@settings(max_examples=400, deadline=None)
@given(_values)
def test_agrees_with_rfc8785_package(value: Any) -> None:
    rfc8785 = pytest.importorskip("rfc8785")
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=30))
def test_float_lists_agree_with_rfc8785_package(values: list[float]) -> None:
    rfc8785 = pytest.importorskip("rfc8785")
    assert canonicalize(values) == rfc8785.dumps(values)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip(value: float) -> None:
    text = canonicalize(value).decode()
    assert float(text) == value or (value == 0 and text == "0")


# --- canonicaljson profile ----------------------------------------------------------------

_cj_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_cj_values = st.recursive(
    _cj_scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_cj_values)
def test_canonicaljson_profile_equals_package(value: Any) -> None:
    canonicaljson = pytest.importorskip("canonicaljson")
    assert canonicalize(value, profile="canonicaljson") == canonicaljson.encode_canonical_json(
        value
    )


def test_canonicaljson_profile_differs_where_spec_says() -> None:
    value = {"\ue000": 2.0, "\U0001f600": [1e-7, -0.0, 2**60]}
    assert (
        canonicalize(value, profile="canonicaljson")
        == '{"\ue000":2.0,"\U0001f600":[1e-07,-0.0,1152921504606846976]}'.encode()
    )
    with pytest.raises(CanonicalizationError):
        canonicalize(value)
    value2 = {"\ue000": 2.0, "\U0001f600": [1e-7, -0.0]}
    assert canonicalize(value2) == '{"\U0001f600":[1e-7,0],"\ue000":2}'.encode()


def test_canonicaljson_profile_errors() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"a": math.nan}, profile="canonicaljson")
    with pytest.raises(CanonicalizationError):
        canonicalize({"a": object()}, profile="canonicaljson")
    with pytest.raises(CanonicalizationError) as info:
        canonicalize({"a": ["\ud800"]}, profile="canonicaljson")
    assert info.value.path == "/a/0"


# --- flat float arrays (bulk re-layout of the C encoder's text) ---------------------------

_SPECIAL_FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.0,
    0.5,
    1e-4,
    1e-5,
    1.5e-5,
    -1e-6,
    1.25e-6,
    1e-7,
    -2.5e-8,
    1e-9,
    9.99e-10,
    1e-10,
    1e15,
    1e16,
    -1.5e16,
    1.2345678901234567e17,
    1e18,
    9.5e19,
    1e20,
    -1e21,
    1.5e21,
    1e160,
    1.5e-160,
    5e-324,
    1.7976931348623157e308,
    123456.789,
    -0.1,
    1e200,
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(_SPECIAL_FLOATS) | st.floats(allow_nan=False, allow_infinity=False),
        min_size=4,
        max_size=40,
    )
)
def test_float_array_path_matches_elementwise(values: list[float]) -> None:
    expected = "[" + ",".join(canonicalize(v).decode() for v in values) + "]"
    assert canonicalize(values) == expected.encode()
    assert canonicalize({"k": values}) == b'{"k":' + expected.encode() + b"}"


def test_float_array_runs_of_negative_zero() -> None:
    assert canonicalize([-0.0] * 7) == b"[0,0,0,0,0,0,0]"
    assert canonicalize([-0.0, 1.0, -0.0, -0.0, 2.5, -0.0]) == b"[0,1,0,0,2.5,0]"


def test_float_array_with_nan_reports_index() -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize([1.5, 2.5, 3.5, math.nan, 4.5])
    assert info.value.path == "/3"


def test_mixed_clean_and_unclean_subtrees() -> None:
    # Clean subtrees go through the C encoder, the rest through the exact encoder.
    rfc8785 = pytest.importorskip("rfc8785")
    shared = {"b": [1, 2.5, "x"], "a": {"z": None, "y": True}}
    doc: dict[str, Any] = {
        "records": [dict(shared, n=i) for i in range(50)],
        "shared": [shared, shared],
        "odd": {"f": 2.0, "inner": shared, "\U0001f600": {"\ue000": 1e-7}},
        "tail": [shared, [1e16, {"k": -0.0}]],
    }
    assert canonicalize(doc) == rfc8785.dumps(doc)
    assert b'"f":2,' in canonicalize(doc)


# --- the C encoder shortcuts against the exact encoder ------------------------------------
#
# canonicalize hands the containers that the standard library's C encoder writes as RFC 8785
# to it (jcs._shortcuts). Without the shortcuts every byte comes from the exact encoder: both
# must give the same bytes, or the same error at the same path.

_magnitudes = st.builds(
    lambda mantissa, exponent, sign: sign * mantissa * 10.0**exponent,
    st.floats(1.0, 10.0, exclude_max=True),
    st.integers(-330, 308),
    st.sampled_from([1.0, -1.0]),
).filter(math.isfinite)
_any_float = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(_SPECIAL_FLOATS)
    | _magnitudes
    | st.integers(-(2**60), 2**60).map(float)
)
_shortcut_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.integers(-(2**70), 2**70)
    | _any_float
    | st.text()
    | st.sampled_from(["é", "\u2028", "\U0001f600", "\ue000", '\x00\x1f"\\/', "\ud800", "a\udfff"])
    # text that looks like a number laid out otherwise, inside an array of numbers
    | st.sampled_from(["2.0]", ",1e-05,", "[-0,", "9007199254740993", "1e+16]", "{}"])
    | st.sampled_from([math.nan, math.inf, -math.inf])
)
# Keys whose order by code point differs from their order by UTF-16 code unit.
_utf16_order_keys = st.sampled_from(["\ue000", "\U0001f600", "\uffff", "\U00010000", "a\ue000"])
_shortcut_keys = _keys | st.sampled_from(["\ud800", "é", "ÿ", "\u2028"]) | st.integers(0, 3)


def _nested(depth: int, leaf: Any, as_dict: bool) -> Any:
    for i in range(depth):
        leaf = {f"k{i % 3}": leaf, "z": i} if as_dict else [leaf, i]
    return leaf


_shortcut_values = st.recursive(
    _shortcut_scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.lists(children, max_size=6).map(tuple)
        | st.lists(_any_float, min_size=4, max_size=12)
        | st.dictionaries(_shortcut_keys, children, max_size=6)
        | st.dictionaries(_utf16_order_keys, children, min_size=2, max_size=4)
    ),
    max_leaves=60,
)
_deep_values = st.builds(_nested, st.integers(1, 300), _shortcut_values, st.booleans())


def _outcome(value: Any, big_js: bool, shortcuts: bool) -> bytes | tuple[str, str]:
    try:
        return jcs._rfc8785(value, big_js, shortcuts=shortcuts)
    except CanonicalizationError as exc:
        return exc.message, exc.path


@settings(max_examples=600, deadline=None)
@given(_shortcut_values | _deep_values, st.booleans())
def test_shortcuts_give_the_bytes_of_the_exact_encoder(value: Any, big_js: bool) -> None:
    fast = _outcome(value, big_js, shortcuts=True)
    assert fast == _outcome(value, big_js, shortcuts=False)
    mode: Any = "javascript" if big_js else "error"
    if isinstance(fast, bytes):
        assert canonicalize(value, large_integers=mode) == fast


def test_shortcuts_are_taken() -> None:
    """The documents the shortcuts exist for do reach the C encoder."""
    clean = {"a": [1, "é", None, True, 2.5], "b": {"c": "d"}}
    assert id(clean) in jcs._shortcuts(clean)
    floats = [1e-7, 2.0, 1e16, 0.5]
    assert jcs._shortcuts(floats)[id(floats)] == "[1e-7,2,10000000000000000,0.5]"
    mixed = {"x": 2.0, "inner": clean}  # 2.0 is written by the exact encoder
    found = jcs._shortcuts(mixed)
    assert id(mixed) not in found
    assert id(clean) in found
    assert jcs._shortcuts({"\U0001f600": 1, "\ue000": 2}) == {}  # UTF-16 order differs
