"""RFC 8785 JSON Canonicalization Scheme (JCS), plus a ``canonicaljson`` compatibility profile.

:func:`canonicalize` turns a JSON value (``dict``/``list``/``tuple``/``str``/``int``/``float``/
``bool``/``None``) into its canonical UTF-8 bytes:

- object members sorted by the UTF-16 code units of their keys (not by code point);
- strings escaped as RFC 8785 (and ECMAScript ``JSON.stringify``) require, with no lone surrogates;
- numbers written as ECMAScript ``Number.prototype.toString`` writes them (``1e+21``, ``1e-7``,
  ``0.000001``, ``2`` for ``2.0``, ``0`` for ``-0.0``);
- integers outside +-(2**53 - 1) refused unless ``large_integers="javascript"`` asks for
  JavaScript's rounding through an IEEE 754 double.

Speed: a single pre-scan decides whether the C JSON encoder of the standard library already
produces the RFC 8785 bytes (the usual case for request bodies); only documents that need it
take the exact pure-Python encoder.
"""

from __future__ import annotations

import json
import json.encoder
import re
from json.encoder import encode_basestring as _c_encode_str
from typing import Any, Literal, NoReturn

from authsig.errors import CanonicalizationError

__all__ = ["MAX_SAFE_INTEGER", "canonicalize", "format_number"]

#: The largest integer a JSON peer running ECMAScript represents exactly (2**53 - 1).
MAX_SAFE_INTEGER = 2**53 - 1

_encode_str: Any = _c_encode_str


def _refuse_type(value: object) -> NoReturn:
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")


# The standard library's encoder, configured for RFC 8785 layout. ``check_circular`` is off:
# the pre-scan has already walked the whole value (a cycle makes it fail with RecursionError).
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    check_circular=False,
    separators=(",", ":"),
    sort_keys=True,
    default=_refuse_type,
)

_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# The C encoder object itself, built once (JSONEncoder.encode rebuilds it on every call).
_c_encoder: Any = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(None, _refuse_type, _c_encode_str, None, ":", ",", True, False, False)
)


def _dumps(value: Any) -> str:
    """The standard library's compact, key-sorted, non-ASCII-preserving JSON text."""
    if _c_encoder is None:  # pragma: no cover - CPython always has the C accelerator
        return _FAST_ENCODER.encode(value)
    return "".join(_c_encoder(value, 0))


_float_repr = float.__repr__


# --- numbers ------------------------------------------------------------------------------


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
    exponent = int(exp_text)
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


# --- the pre-scan ------------------------------------------------------------------------


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


def _fast_ok(value: Any) -> bool:
    """True when the standard library's encoder already writes ``value`` as RFC 8785.

    False for anything unusual (including errors): the exact encoder then decides.
    """
    t = type(value)
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                return False
            if not k.isascii() and max(k) >= "\ue000":
                # Code point order and UTF-16 order may differ (supplementary planes).
                return False
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is int:
                if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                    return False
            elif t is float:
                if not _float_layout_ok(v):
                    return False
            elif not _fast_ok(v):
                return False
        return True
    if t is list or t is tuple:
        for v in value:
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is int:
                if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                    return False
            elif t is float:
                if not _float_layout_ok(v):
                    return False
            elif not _fast_ok(v):
                return False
        return True
    if t is str or value is None or t is bool:
        return True
    if t is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if t is float:
        return _float_layout_ok(value)
    return False


def _collect_clean(value: Any, clean: set[int]) -> bool:
    """Like :func:`_fast_ok`, but walks everything and records the ids of the containers whose
    whole subtree the standard library's encoder already writes as RFC 8785.

    Used only when the whole value is not clean: the exact encoder then hands those subtrees to
    the C encoder and does only the rest itself.
    """
    t = type(value)
    ok = True
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or (not k.isascii() and max(k) >= "\ue000"):
                ok = False
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is int:
                if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                    ok = False
            elif t is float:
                if not _float_layout_ok(v):
                    ok = False
            elif not _collect_clean(v, clean):
                ok = False
    elif t is list or t is tuple:
        for v in value:
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is int:
                if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                    ok = False
            elif t is float:
                if not _float_layout_ok(v):
                    ok = False
            elif not _collect_clean(v, clean):
                ok = False
    else:
        return False  # scalars are handled by the caller; other types are not clean
    if ok:
        clean.add(id(value))
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


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


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


def _encode_floats(values: list[Any] | tuple[Any, ...], out: list[str]) -> bool:
    """Fast path for a flat array of plain floats; False when some element is not one."""
    if (
        len(values) < 4
        or type(values[0]) is not float
        or list(map(type, values)).count(float) != len(values)
    ):
        return False
    try:
        text = _dumps(values)
    except ValueError:
        return False  # NaN/Infinity: the element-wise path reports where
    out.append(_relayout_floats(text))
    return True


def _encode(value: Any, out: list[str], big_js: bool, clean: set[int]) -> None:
    t = type(value)
    if (t is dict or t is list or t is tuple) and id(value) in clean:
        out.append(_dumps(value))
        return
    if t is str:
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is float:
        if value != value or value in (_INF, -_INF):
            raise _Fail("NaN and Infinity are not valid JSON numbers", [])
        out.append(_format_float(value))
    elif t is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            out.append(int.__repr__(value))
        else:
            try:
                out.append(_number(value, big_js, ""))
            except CanonicalizationError as exc:
                raise _Fail(str(exc.args[0]).removesuffix(" at (root)"), []) from None
    elif isinstance(value, dict):
        items: list[tuple[str, Any]] = []
        plain = True
        for k, v in value.items():
            if type(k) is not str:
                if not isinstance(k, str):
                    raise _Fail(
                        f"object key {k!r} is a {type(k).__name__}, not a string", [_token(k)]
                    )
                k = str.__str__(k)
            if plain and not k.isascii() and max(k) >= "\ue000":
                plain = False
            items.append((k, v))
        items.sort(key=_first if plain else _utf16_key)
        out.append("{")
        first = True
        for k, v in items:
            if first:
                first = False
            else:
                out.append(",")
            out.append(_encode_str(k))
            out.append(":")
            try:
                _encode(v, out, big_js, clean)
            except _Fail as fail:
                fail.tokens.append(_token(k))
                raise
        out.append("}")
    elif isinstance(value, list | tuple):
        if _encode_floats(value, out):
            return
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            try:
                _encode(v, out, big_js, clean)
            except _Fail as fail:
                fail.tokens.append(str(i))
                raise
        out.append("]")
    elif isinstance(value, str):
        out.append(_encode_str(str.__str__(value)))
    elif isinstance(value, int | float):
        try:
            out.append(_number(value, big_js, ""))
        except CanonicalizationError as exc:
            raise _Fail(str(exc.args[0]).removesuffix(" at (root)"), []) from None
    else:
        raise _Fail(f"a value of type {type(value).__name__} is not JSON", [])


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
    Infinity, lone surrogates, non-string keys, unsupported types and refused integers.
    """
    if profile == "canonicaljson":
        return _canonicaljson(value)
    if profile != "rfc8785":
        raise CanonicalizationError(f"unknown canonicalization profile {profile!r}")
    if large_integers not in ("error", "javascript"):
        raise CanonicalizationError(f"unknown large_integers mode {large_integers!r}")
    out: list[str] = []
    try:
        if (type(value) is list or type(value) is tuple) and _encode_floats(value, out):
            return out[0].encode("ascii")
        if _fast_ok(value):
            try:
                text = _dumps(value)
            except (TypeError, ValueError):  # pragma: no cover - the scan rules these out
                pass
            else:
                return _to_bytes(text, value)
        clean: set[int] = set()
        _collect_clean(value, clean)
        _encode(value, out, large_integers == "javascript", clean)
    except _Fail as fail:
        fail.tokens.reverse()
        raise CanonicalizationError(fail.message, path=_pointer(fail.tokens)) from None
    except RecursionError:
        raise CanonicalizationError("value is nested too deeply (or contains a cycle)") from None
    return _to_bytes("".join(out), value)


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
