"""RFC 8785 JSON Canonicalization Scheme (JCS), plus a ``canonicaljson`` compatibility profile.

:func:`canonicalize` turns a JSON value (``dict``/``list``/``tuple``/``str``/``int``/``float``/
``bool``/``None``) into its canonical UTF-8 bytes:

- object members sorted by the UTF-16 code units of their keys (not by code point);
- strings escaped as RFC 8785 (and ECMAScript ``JSON.stringify``) require, with no lone surrogates;
- numbers written as ECMAScript ``Number.prototype.toString`` writes them (``1e+21``, ``1e-7``,
  ``0.000001``, ``2`` for ``2.0``, ``0`` for ``-0.0``);
- integers outside +-(2**53 - 1) refused unless ``large_integers="javascript"`` asks for
  JavaScript's rounding through an IEEE 754 double.

Speed: the standard library's C JSON encoder already writes most values exactly as RFC 8785
does. One walk over the value marks the containers it can write, and the exact pure-Python
encoder hands those to it, so only the unusual parts cost Python work.
"""

from __future__ import annotations

import json
import json.encoder
import math
import operator
import re
from typing import Any, Literal, NoReturn

from authsig.errors import CanonicalizationError

__all__ = ["MAX_SAFE_INTEGER", "canonicalize", "format_number"]

#: The largest integer a JSON peer running ECMAScript represents exactly (2**53 - 1).
MAX_SAFE_INTEGER = 2**53 - 1


def _refuse_type(value: object) -> NoReturn:
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")


# The standard library's encoder, configured for RFC 8785 layout. ``check_circular`` is off:
# the shortcut walk has already been through the whole value (a cycle makes it fail with
# RecursionError).
_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    check_circular=False,
    separators=(",", ":"),
    sort_keys=True,
    default=_refuse_type,
)
# Compact, key-sorted, non-ASCII-preserving JSON text; for a str, its JSON string literal
# (escaped as RFC 8785 requires).
_dumps = _ENCODER.encode
# ``encode_basestring`` is the C function the encoder calls for a str when ``ensure_ascii`` is
# off; called directly, it spares a Python-level call per string of the exact encoder.
_encode_str = json.encoder.encode_basestring

_float_repr = float.__repr__


# --- numbers ------------------------------------------------------------------------------


# repr's exponent text -> the fixed-notation prefix ECMAScript writes before the digits.
_FIXED_SMALL = {"-05": "0.0000", "-06": "0.00000"}


def _format_float(x: float) -> str:
    """ECMAScript ``Number::toString`` of a finite float (NaN/Infinity are refused earlier).

    ``repr`` gives the shortest round-trip digits, which is what ECMAScript uses too; only the
    layout differs, so the digits are re-laid out when needed.
    """
    r = _float_repr(x)
    if "e" not in r:
        if r[-2:] == ".0":
            r = r[:-2]
            if r == "-0":
                return "0"
        return r
    mantissa, _, exp_text = r.partition("e")
    prefix = _FIXED_SMALL.get(exp_text)
    if prefix is not None:  # 1.5e-05 -> 0.000015: the common hostile case, kept short
        if mantissa[0] == "-":
            return "-" + prefix + mantissa[1:].replace(".", "")
        return prefix + mantissa.replace(".", "")
    exponent = int(exp_text)
    if exponent < -6 or exponent > 20:  # the same exponent form, without zero padding
        return r.replace("e-0", "e-")
    negative = mantissa[0] == "-"
    if negative:
        mantissa = mantissa[1:]
    digits = mantissa.replace(".", "")
    # ECMAScript's n: the value is 0.digits * 10**n.
    n = exponent + 1
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        sign = "+" if n - 1 >= 0 else "-"
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = head + "e" + sign + str(abs(n - 1))
    return "-" + text if negative else text


def format_number(
    value: int | float, *, large_integers: Literal["error", "javascript"] = "error"
) -> str:
    """Serialize one number as RFC 8785 (ECMAScript) does.

    Raises :class:`CanonicalizationError` for NaN, infinities and (by default) integers outside
    +-(2**53 - 1).
    """
    return _number(value, large_integers == "javascript", "")


def _number(value: int | float, big_js: bool, path: str) -> str:
    if isinstance(value, bool):
        raise CanonicalizationError("a bool is not a number", path=path)
    if isinstance(value, int):
        v = int.__int__(value)
        if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
            return int.__repr__(v)
        if not big_js:
            raise CanonicalizationError(
                "integer outside +-(2**53 - 1) cannot be represented exactly by an RFC 8785 "
                "peer (pass large_integers='javascript' to round it as JavaScript does)",
                path=path,
            )
        try:
            f = float(v)
        except OverflowError:
            raise CanonicalizationError(
                "integer too large for an IEEE 754 double", path=path
            ) from None
        return _format_float(f)
    f = float.__float__(value)
    if f != f or f in (_INF, -_INF):
        raise CanonicalizationError("NaN and Infinity are not valid JSON numbers", path=path)
    return _format_float(f)


_INF = float("inf")


# --- the shortcuts ------------------------------------------------------------------------


def _float_layout_ok(x: float) -> bool:
    """True when ``repr(x)`` is already the ECMAScript form of the finite float ``x``."""
    a = x if x >= 0.0 else -x
    if a >= 1e-4:
        # repr: fixed notation below 1e16 ('2.0' needs fixing), exponent from 1e16 on;
        # ECMAScript: fixed notation below 1e21, same exponent form from there on.
        return a < 1e16 and not a.is_integer() if a < 1e21 else a != _INF
    # repr: exponent below 1e-4 with at least two exponent digits ('1e-07');
    # ECMAScript: fixed down to 1e-6, then exponent without padding.
    return 0.0 < a < 1e-9


class _FloatTexts(dict[float, str]):
    """Float -> its ECMAScript text, made on first use and then looked up (in C, by
    ``map(texts.__getitem__, ...)`` or a subscript): a body that repeats a float pays for its
    formatting once. One per :func:`canonicalize` call. ``0.0`` and ``-0.0`` share an entry,
    as they share their text; a NaN or an infinity is refused, never stored."""

    __slots__ = ()

    def __missing__(self, x: float) -> str:
        if x != x or x in (_INF, -_INF):
            raise _Fail("NaN and Infinity are not valid JSON numbers", [])
        text = self[x] = _format_float(x)
        return text


# Exponents where the layout of ``repr`` and of ECMAScript differ (see _relayout_floats).
_FIX_EXPONENT = re.compile(r"e(-0[5-9]|\+(?:1[6-9]|20)(?![0-9]))")
# What to do per exponent: a replacement exponent text, or (fixed-notation prefix, integer width)
# for a rewrite of the mantissa.
_EXPONENT_ACTION: dict[str, str | tuple[str, int]] = {
    "-07": "e-7",
    "-08": "e-8",
    "-09": "e-9",
    "-05": ("0.0000", 0),
    "-06": ("0.00000", 0),
    "+16": ("", 17),
    "+17": ("", 18),
    "+18": ("", 19),
    "+19": ("", 20),
    "+20": ("", 21),
}


def _relayout_floats(text: str) -> str:
    """Turn the C encoder's text of a flat array of finite floats into the ECMAScript layout.

    ``repr`` and ECMAScript agree on the digits; they differ only for integral values
    (``2.0``/``-0.0``), exponents -5 and -6 (fixed notation in ECMAScript), -7 to -9 (no
    zero padding) and 16 to 20 (plain integers in ECMAScript). Bulk string operations fix
    the first kinds; one regex split finds the others, so only those elements cost Python work.
    """
    if ".0," in text:
        text = text.replace(".0,", ",")
        if "-0," in text:
            text = text.replace("[-0,", "[0,").replace(",-0,", ",0,").replace(",-0,", ",0,")
    if text.endswith(".0]"):
        text = text[:-3] + "]"
        if text.endswith("-0]") and text[-4] in ",[":
            text = text[:-3] + "0]"
    if "e" not in text:
        return text
    parts = _FIX_EXPONENT.split(text)
    if len(parts) == 1:
        return text
    actions = _EXPONENT_ACTION
    for i in range(1, len(parts), 2):
        action = actions[parts[i]]
        if isinstance(action, str):
            parts[i] = action
            continue
        # The mantissa is the last element of the preceding chunk.
        head, sep, mantissa = parts[i - 1].rpartition(",")
        if not sep:
            head, mantissa = mantissa[:1], mantissa[1:]  # the first element, after "["
        if mantissa[0] == "-":
            sep += "-"
            mantissa = mantissa[1:]
        mantissa = mantissa.replace(".", "")
        prefix, width = action
        parts[i - 1] = head + sep + (prefix + mantissa if prefix else mantissa.ljust(width, "0"))
        parts[i] = ""
    return "".join(parts)


_Shortcuts = dict[int, "str | None"]
"""id(container) -> None when the C encoder's text of it is RFC 8785 as is, or its RFC 8785
text already made (an array of floats whose layout differs)."""

_FLOAT_RUN = 4  # shorter float arrays are cheaper to write element by element


def _shortcuts(value: Any, texts: _FloatTexts | None = None) -> _Shortcuts:
    """The containers of ``value`` that the standard library's C encoder can write.

    One walk over the whole value. A container qualifies when everything in it is a plain
    ``str``/``int``/``float``/``bool``/``None``/``list``/``tuple``/``dict`` that the C encoder
    writes as RFC 8785 does: string keys that sort the same by code point (the C encoder) and
    by UTF-16 code unit (RFC 8785), which they do unless a key holds a character from U+E000 up
    (a supplementary character sorts before it in UTF-16); integers within +-(2**53 - 1);
    floats whose ``repr`` is their ECMAScript form. An array of at least :data:`_FLOAT_RUN`
    finite floats also qualifies: its text is made here, with the number layout fixed
    (:func:`_float_array`). The exact encoder writes everything else, and reports errors.
    """
    found: _Shortcuts = {}
    _walk(value, found, _FloatTexts() if texts is None else texts)
    return found


def _float_array(value: list[Any] | tuple[Any, ...], found: _Shortcuts, texts: _FloatTexts) -> bool:
    """Settle an array of floats: True when the C encoder writes it as is. Otherwise its text
    is re-laid out (:func:`_relayout_floats`), or, when few of its floats are distinct (a body
    built to repeat one float that needs another layout), joined from ``texts``, which formats
    each distinct float once."""
    if not all(map(math.isfinite, value)):
        return False  # the exact encoder reports where
    text = _dumps(value)
    if 4 * len(set(value)) <= len(value) and _FIX_EXPONENT.search(text) is not None:
        found[id(value)] = "[" + ",".join(map(texts.__getitem__, value)) + "]"
        return False
    found[id(value)] = fixed = _relayout_floats(text)
    return fixed == text


def _walk(value: Any, found: _Shortcuts, texts: _FloatTexts) -> bool:
    """Record the qualifying containers within ``value``; True when the C encoder's text of
    ``value`` itself is RFC 8785 as is."""
    t = type(value)
    if t is dict:
        ok = True
        for key in value:  # text that sorts the same by code point and by UTF-16 unit
            if type(key) is not str or not (key.isascii() or max(key) < "\ue000"):
                ok = False
                break
        items: Any = value.values()
    elif t is list or t is tuple:
        if len(value) >= _FLOAT_RUN and list(map(type, value)).count(float) == len(value):
            return _float_array(value, found, texts)
        ok = True
        items = value
    else:
        return False  # scalars are written by the exact encoder; other types are not JSON
    for v in items:
        t = type(v)
        if t is str or v is None or t is bool:
            continue
        if t is int:
            if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                ok = False
        elif t is float:
            if not _float_layout_ok(v):
                ok = False
        elif not _walk(v, found, texts):
            ok = False
    if ok:
        found[id(value)] = None
    return ok


# --- the exact encoder -------------------------------------------------------------------


class _Fail(Exception):
    """Internal: an error deep in the value; containers add their path tokens on the way out."""

    def __init__(self, message: str, tokens: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.tokens = tokens


def _token(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


_first = operator.itemgetter(0)


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


def _encode(
    value: Any, out: list[str], big_js: bool, found: _Shortcuts, texts: _FloatTexts
) -> None:
    """Append the RFC 8785 text of ``value`` to ``out``; the containers in ``found`` are
    written by the C encoder (see :func:`_shortcuts`), floats through ``texts``. The most
    common types are tested first, and containers write their strings and floats without a
    call per element: the exact encoder runs per value on hostile bodies."""
    t = type(value)
    if t is str:
        out.append(_encode_str(value))
    elif t is float:
        out.append(texts[value])
    elif t is dict or t is list or t is tuple:
        if id(value) in found:
            text = found[id(value)]
            out.append(_dumps(value) if text is None else text)
        elif t is dict:
            _encode_object(value, out, big_js, found, texts)
        else:
            _encode_array(value, out, big_js, found, texts)
    elif t is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        out.append(int.__repr__(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    else:
        _encode_other(value, out, big_js, found, texts)


def _encode_other(
    value: Any, out: list[str], big_js: bool, found: _Shortcuts, texts: _FloatTexts
) -> None:
    """Integers beyond +-(2**53 - 1), subclasses of the JSON types, and what is not JSON."""
    if isinstance(value, dict):
        _encode_object(value, out, big_js, found, texts)
    elif isinstance(value, list | tuple):
        _encode_array(value, out, big_js, found, texts)
    elif isinstance(value, str):
        out.append(_encode_str(str.__str__(value)))
    elif isinstance(value, int | float):
        try:
            out.append(_number(value, big_js, ""))
        except CanonicalizationError as exc:
            raise _Fail(str(exc.args[0]).removesuffix(" at (root)"), []) from None
    else:
        raise _Fail(f"a value of type {type(value).__name__} is not JSON", [])


def _encode_array(
    value: list[Any] | tuple[Any, ...],
    out: list[str],
    big_js: bool,
    found: _Shortcuts,
    texts: _FloatTexts,
) -> None:
    append = out.append
    append("[")
    i = 0
    try:
        for i, v in enumerate(value):
            if i:
                append(",")
            t = type(v)
            if t is str:
                append(_encode_str(v))
            elif t is float:
                append(texts[v])
            else:
                _encode(v, out, big_js, found, texts)
    except _Fail as fail:
        fail.tokens.append(str(i))
        raise
    append("]")


def _encode_object(
    value: dict[Any, Any], out: list[str], big_js: bool, found: _Shortcuts, texts: _FloatTexts
) -> None:
    items: list[tuple[str, Any]] = []
    plain = True
    for k, v in value.items():
        if type(k) is not str:
            if not isinstance(k, str):
                raise _Fail(f"object key {k!r} is a {type(k).__name__}, not a string", [_token(k)])
            k = str.__str__(k)
        if plain and not k.isascii() and max(k) >= "\ue000":
            plain = False
        items.append((k, v))
    items.sort(key=_first if plain else _utf16_key)
    append = out.append
    append("{")
    k, first = "", True
    try:
        for k, v in items:
            if first:
                first = False
            else:
                append(",")
            append(_encode_str(k))
            append(":")
            t = type(v)
            if t is str:
                append(_encode_str(v))
            elif t is float:
                append(texts[v])
            else:
                _encode(v, out, big_js, found, texts)
    except _Fail as fail:
        fail.tokens.append(_token(k))
        raise
    append("}")


def _find_lone_surrogate(value: Any, tokens: list[str]) -> list[str] | None:
    """Path tokens of the first string (or key) holding a lone surrogate."""
    if isinstance(value, str):
        return None if _utf8_ok(value) else tokens
    if isinstance(value, dict):
        for k, v in value.items():
            sub = [*tokens, _token(k)]
            if isinstance(k, str) and not _utf8_ok(k):
                return sub
            found = _find_lone_surrogate(v, sub)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _find_lone_surrogate(v, [*tokens, str(i)])
            if found is not None:
                return found
    return None


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pointer(tokens: list[str]) -> str:
    return "".join("/" + t for t in tokens)


def _to_bytes(text: str, value: Any) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        tokens = _find_lone_surrogate(value, []) or []
        raise CanonicalizationError(
            "string holds a lone surrogate (not valid Unicode)", path=_pointer(tokens)
        ) from None


# --- public entry point -------------------------------------------------------------------


def canonicalize(
    value: Any,
    *,
    profile: Literal["rfc8785", "canonicaljson"] = "rfc8785",
    large_integers: Literal["error", "javascript"] = "error",
) -> bytes:
    """Return the canonical UTF-8 bytes of a JSON value.

    ``profile="rfc8785"`` (default) is RFC 8785 exactly. ``profile="canonicaljson"`` reproduces
    the bytes of the ``canonicaljson`` package (what the official Privy Python SDK signs); use it
    only to talk to that SDK.

    ``large_integers`` decides integers outside +-(2**53 - 1): ``"error"`` (default) refuses them,
    ``"javascript"`` rounds them to the nearest double as an ECMAScript peer would.

    Raises :class:`~authsig.errors.CanonicalizationError` (``.path`` is a JSON Pointer) for NaN,
    Infinity, lone surrogates, non-string keys, unsupported types and refused integers, and
    :class:`ValueError` for an unknown ``profile`` or ``large_integers``.
    """
    if profile == "canonicaljson":
        return _canonicaljson(value)
    if profile != "rfc8785":
        raise ValueError(f"unknown canonicalization profile {profile!r}")
    if large_integers not in ("error", "javascript"):
        raise ValueError(f"unknown large_integers mode {large_integers!r}")
    return _rfc8785(value, large_integers == "javascript")


def _rfc8785(value: Any, big_js: bool, *, shortcuts: bool = True) -> bytes:
    """RFC 8785 bytes of ``value``. With ``shortcuts=False`` every byte comes from the exact
    encoder: the tests check that both give the same bytes, or the same error."""
    try:
        texts = _FloatTexts()
        found = _shortcuts(value, texts) if shortcuts else {}
        if id(value) in found:  # the whole value
            text = found[id(value)] or _dumps(value)
        else:
            out: list[str] = []
            _encode(value, out, big_js, found, texts)
            text = "".join(out)
    except _Fail as fail:
        fail.tokens.reverse()
        raise CanonicalizationError(fail.message, path=_pointer(fail.tokens)) from None
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply (or contains a cycle)") from None
    return _to_bytes(text, value)


def _canonicaljson(value: Any) -> bytes:
    import canonicaljson

    try:
        result: bytes = canonicaljson.encode_canonical_json(value)
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply (or contains a cycle)") from None
    except UnicodeEncodeError:
        tokens = _find_lone_surrogate(value, []) or []
        raise CanonicalizationError(
            "string holds a lone surrogate (not valid Unicode)", path=_pointer(tokens)
        ) from None
    except (TypeError, ValueError) as exc:
        raise CanonicalizationError(f"canonicaljson cannot encode the value: {exc}") from None
    return result
