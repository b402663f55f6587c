"""``canonicalization.json``: RFC 8785 canonical JSON of an input text (and authsig's options)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from authsig.jcs import canonicalize

DESCRIPTION = "RFC 8785 canonical JSON: parse `input`, canonicalize, compare bytes."

_RFC8785_SAMPLE = (
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
    ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "literals": [null, true, false]}'
)

#: (name, input JSON text, description)
_CANON_OK: list[tuple[str, str, str]] = [
    ("rfc8785/sample", _RFC8785_SAMPLE, "the example of RFC 8785 section 3.2.2"),
    ("literals/top-level-null", "null", ""),
    ("literals/top-level-true", "true", ""),
    ("literals/array", "[true, false, null]", ""),
    ("strings/escapes", '"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\"', "short escapes"),
    ("strings/not-escaped", '"/ \\u007f \\u0080 \\u2028 \\u2029 \\ufeff"', "written raw"),
    ("strings/unicode", '"é 日本 €"', "raw UTF-8"),
    ("strings/non-bmp", '"\\ud83d\\ude00 𝄞"', "a surrogate pair is one character"),
    ("strings/empty", '""', ""),
    ("numbers/zero", "[0, -0, 0.0, -0.0]", "-0 is written 0"),
    ("numbers/integral-floats", "[1.0, 2.0, -3.0, 100.0]", "integral values lose .0"),
    ("numbers/plain", "[1.5, 0.1, -2.25, 123.456, 3.141592653589793]", ""),
    ("numbers/exponent-switch-high", "[1e20, 1e21, 1.2345678901234568e20, 1e23]", ">=1e21"),
    ("numbers/exponent-switch-low", "[0.000001, 0.0000001, 1e-7, 1.5e-10]", "<1e-6"),
    ("numbers/extremes", "[5e-324, 1.7976931348623157e308, 2.2250738585072014e-308]", ""),
    ("numbers/safe-integers", "[9007199254740991, -9007199254740991, 1, -1]", "+-(2^53-1)"),
    ("numbers/shortest-round-trip", "[0.30000000000000004, 1e-323, 9.999999999999999e22]", ""),
    ("numbers/rfc8785-examples", "[4.5, 0.002, 1e-27, 1e30, 333333333.3333333]", ""),
    ("keys/ascii-order", '{"b":1,"a":2,"B":3,"A":4,"1":5,"_":6,"":7}', "by UTF-16 code units"),
    ("keys/prefixes", '{"aa":1,"a":2,"a\\u0000":3,"ab":4}', "shorter prefix first"),
    ("keys/bmp", '{"é":1,"z":2,"ﬁ":3,"\\u0080":4,"日":5}', ""),
    (
        "keys/non-bmp-utf16-order",
        '{"\\ue000":1,"\\ud83d\\ude00":2,"\\uffff":3,"\\ud800\\udc00":4,"a":5}',
        "U+1F600 (D83D DE00) sorts before U+E000 in UTF-16 order, after it in code points",
    ),
    ("nesting/sorted-at-every-level", '{"b":{"d":1,"c":[{"f":1,"e":2}]},"a":[]}', ""),
    ("nesting/empty-containers", '{"o":{},"a":[],"s":"","n":null}', ""),
    ("nesting/deep", "[" * 32 + '{"z":1,"y":2}' + "]" * 32, "32 levels"),
    ("nesting/array-order-kept", '[3, 1, 2, ["b", "a"]]', ""),
    ("whitespace/removed", ' {\n "a" : [ 1 , 2 ] ,\t"b" : { } } ', ""),
]

#: (name, input JSON text, expected error path, description): refused by RFC 8785.
_CANON_ERRORS: list[tuple[str, str, str, str]] = [
    ("errors/lone-surrogate", '{"a":["\\ud800"]}', "/a/0", "a lone surrogate is not Unicode"),
    ("errors/integer-above-2^53", '{"n":9007199254740993}', "/n", "not exactly representable"),
    ("errors/number-overflows-double", "[1, 1e400]", "/1", "parses to Infinity"),
]

#: (name, input, options, description): the explicit options.
_CANON_OPTIONS: list[tuple[str, str, dict[str, str], str]] = [
    (
        "large-integers/javascript",
        "[9007199254740993, 12345678901234567890, -18446744073709551615]",
        {"large_integers": "javascript"},
        "rounded to the nearest double, as JSON.parse on Node would",
    ),
    (
        "canonicaljson/floats",
        "[2.0, 1e-7, 1e16, -0.0, 1.5]",
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: Python float repr",
    ),
    (
        "canonicaljson/key-order",
        '{"\\ud83d\\ude00":1,"ﬁ":2,"a":3}',
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: code point order",
    ),
    (
        "canonicaljson/big-integer",
        '{"n":123456789012345678901234567890}',
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: integers written exactly",
    ),
]


def _options(options: Mapping[str, str]) -> dict[str, Any]:
    return {
        "profile": options.get("profile", "rfc8785"),
        "large_integers": options.get("large_integers", "error"),
    }


def _case(
    name: str, description: str, text: str, options: dict[str, Any], expected: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "input": text,
        "options": options,
        "expected": expected,
    }


def _canonical(text: str, options: dict[str, Any]) -> dict[str, str]:
    out = canonicalize(json.loads(text), **options)
    return {"utf8": out.decode("utf-8"), "hex": out.hex()}


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, text, description in _CANON_OK:
        opts = _options({})
        out.append(_case(name, description, text, opts, _canonical(text, opts)))
    for name, text, options, description in _CANON_OPTIONS:
        opts = _options(options)
        out.append(_case(name, description, text, opts, _canonical(text, opts)))
    for name, text, path, description in _CANON_ERRORS:
        expected = {"error": "not_canonicalizable", "path": path}
        out.append(_case(name, description, text, _options({}), expected))
    return out
