"""Strict JSON text to RFC 8785 bytes, in bulk: the fast route for request bodies.

A verifier canonicalizes a body that an unauthenticated client chose, so its cost per byte must
stay near the standard library's own ``json.loads`` + ``json.dumps`` (issue 13, item 10). The
exact route (:func:`authsig.privy.payload.parse_body`, then :func:`authsig.jcs.canonicalize`)
spends Python work on every container it cannot hand to the C encoder whole, which a body of
small containers multiplies. This route lets the C parser and the C encoder do all the
per-value work, then corrects their text with passes over all of it:

- floats: the encoder writes them with ``repr``, whose digits are ECMAScript's; only the
  layout of some differs (``2.0``, ``1e-05``, ``1e-07``, ``1e+16``). The text outside strings
  (found by splitting at the quotes) goes through
  :func:`authsig._floatlayout.layout_numbers`, which fixes every float of each kind at once
  with string operations;
- duplicate keys: every ``:`` outside a string is one member. With no ``\\u003a`` escape in the
  body, its text and the canonical text count the same ``:`` characters exactly when no member
  was dropped (a duplicate drops one, and nothing adds one);
- integers beyond +-(2**53 - 1): a byte translation finds any integer of 16 digits or more;
  only then are the integers outside strings compared;
- key order: code point order (the encoder's) and UTF-16 order (RFC 8785's) differ only when a
  body holds both a character from U+E000 to U+FFFF and one beyond U+FFFF. Such a body is
  parsed with U+E000..U+FFFF moved above every other character (a byte substitution in UTF-8),
  which makes the two orders agree, and moved back after; if they are escaped, a parser hook
  orders each object instead.

Anything this route refuses is refused by the exact route too; for a body up to
:data:`EXACT_ERRORS_UP_TO` characters the caller's exact route is re-run to report the same error
(with its JSON Pointer). ``tests/test_jcstext.py`` checks that both routes give the same bytes or
the same errors.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from typing import Any, Literal, NoReturn

from authsig._floatlayout import layout_numbers
from authsig.errors import CanonicalizationError, InvalidBodyError
from authsig.jcs import MAX_SAFE_INTEGER, _utf16_key

__all__ = ["EXACT_ERRORS_UP_TO", "canonicalize_text"]

#: Up to this many characters, an error found in bulk is reported by re-running the exact route,
#: which names where it is; beyond, the error says what is wrong but not where (bounded cost).
EXACT_ERRORS_UP_TO = 64 * 1024

_Order = Literal["as is", "shift", "unescape", "hook"]


def _refuse_constant(name: str) -> NoReturn:
    raise InvalidBodyError(f"request body uses the non-JSON literal {name}")


class _Refused(Exception):
    """Internal: the bulk checks found an error; the exact route words it."""

    def __init__(self, error: InvalidBodyError | CanonicalizationError) -> None:
        super().__init__(str(error))
        self.error = error


def _utf16_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object in RFC 8785 member order (UTF-16 code units). Called for every object of a
    body that needs it, so the common sizes take the shortest path; duplicates are left to
    :func:`_check_members`."""
    if len(pairs) == 2:
        (first, _), (second, _) = pairs
        if first.encode("utf-16-be", "surrogatepass") > second.encode("utf-16-be", "surrogatepass"):
            pairs.reverse()
    elif len(pairs) > 2:
        pairs.sort(key=_utf16_key)
    return dict(pairs)


# Keyed by whether each object goes through _utf16_object.
_DECODERS = {
    hook: json.JSONDecoder(
        parse_constant=_refuse_constant, object_pairs_hook=_utf16_object if hook else None
    ).decode
    for hook in (False, True)
}
_ENCODERS = {
    sort_keys: json.JSONEncoder(
        ensure_ascii=False,
        allow_nan=False,
        check_circular=False,
        separators=(",", ":"),
        sort_keys=sort_keys,
    ).encode
    for sort_keys in (True, False)
}


def _layout_floats(out: str, probe: bytes) -> str:
    """The encoder's text with the ECMAScript layout for every float (strings left alone);
    ``probe`` is its text, or that text without strings, where floats that need it show."""
    if b".0" not in probe and b"e-0" not in probe and b"e+" not in probe:
        return out
    escaped = "\\" in out
    text = out.replace("\\\\", "\x01\x01").replace('\\"', "\x02\x02") if escaped else out
    parts = text.split('"')  # an escaped quote does not end a string: kept out of the split
    # Between the pieces, NUL stands where a string was (a number never touches a string);
    # the trailing "," ends a number that ends the text.
    outside = "\x00".join(parts[0::2]) + ","
    fixed = layout_numbers(outside)
    if fixed == outside:
        return out
    parts[0::2] = fixed[:-1].split("\x00")
    text = '"'.join(parts)
    return text.replace("\x01\x01", "\\\\").replace("\x02\x02", '\\"') if escaped else text


# --- checks ---------------------------------------------------------------------------------


def _outside_strings(data: bytes) -> bytes:
    """JSON text without its string literals (escapes first, so a quote ends a string)."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(data.split(b'"')[0::2])


def _check_members(raw: bytes, out: str, escapes: bool) -> None:
    """Refuse a body whose canonical text ``out`` has fewer members than its own text: a
    duplicate key dropped one. Every ``:`` outside a string is one member, and a ``:`` inside
    a string is written as itself in both texts, unless the body escapes it (then only those
    outside strings are counted, at the cost of a split per string)."""
    if b":" not in raw:
        return  # no member at all
    if escapes and (b"\\u003a" in raw or b"\\u003A" in raw):
        data = out.encode("utf-8", "surrogatepass")
        same = _outside_strings(raw).count(b":") == _outside_strings(data).count(b":")
    else:
        same = raw.count(b":") == out.count(":")
    if not same:
        raise _Refused(InvalidBodyError("request body has a duplicate object key"))


# A digit -> "0", what may come before an integer ("[", ",", ":", "-") -> " ", the rest -> "x":
# an integer of 16 digits or more is " " then 16 "0". A float's digits after its first follow
# "." or "e"; a string's digits mostly follow a letter, and when not, the look outside strings
# settles it.
_TOKEN_RUNS = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x20 if b in b"[,:-" else 0x78 for b in range(256)
)
_START_16 = b" " + b"0" * 16
_START_17 = _START_16 + b"0"
_FLOAT_GOES_ON = (b".", b"e", b"E")
# Up to this many 16-digit numbers are looked at one by one; more, all integers in one pass.
_FEW = 32
# Outside strings: separators, signs and literals -> " ", so split() gives the numbers (an
# integer's digits without the sign: the bound is symmetric).
_TOKENS = bytes(0x20 if b in b",[]{}:-truefalsn" else b for b in range(256))
# Zero-padded to 16 digits, integer texts of up to 16 digits compare as their values.
_ZFILL_16 = operator.methodcaller("zfill", 16)
_MAX_SAFE_TEXT = str(MAX_SAFE_INTEGER).encode()


def _check_integers(data: bytes, outside: bytes | None) -> None:
    """Refuse an integer beyond +-(2**53 - 1) in the encoder's text ``data`` (floats still as
    ``repr`` wrote them), or in ``outside``, that text without its strings, when it is at hand.
    JSON forbids leading zeros, so such an integer is a run of 16 digits or more at the start
    of a number; only a text with such a run pays for more than a translation."""
    if outside is None:
        if _START_16 not in (b"," + data).translate(_TOKEN_RUNS):
            return
        outside = _outside_strings(data)
    runs = (b"," + outside).translate(_TOKEN_RUNS)  # numbers, literals and separators
    if _START_16 not in runs:
        return
    # From 1e16 on, repr writes an exponent: a float's integer part has at most 16 digits, so
    # 17 digits at the start of a number are an integer's.
    if _START_17 not in runs:
        if runs.count(_START_16) <= _FEW:
            at = runs.find(_START_16)
            while at >= 0:  # 16 digits from outside[at]: a float's if "." or "e" follows
                if outside[at + 16 : at + 17] not in _FLOAT_GOES_ON and (
                    outside[at : at + 16] > _MAX_SAFE_TEXT
                ):
                    break
                at = runs.find(_START_16, at + 17)
            else:
                return
        else:
            # Integers of at most 16 digits: the greatest text (zero-padded, when shorter
            # texts are greater) is the greatest value. Floats' pieces are not digits only.
            integers = list(filter(bytes.isdigit, outside.translate(_TOKENS).split()))
            if not integers or max(integers) <= _MAX_SAFE_TEXT:
                return
            if max(map(_ZFILL_16, integers)) <= _MAX_SAFE_TEXT:
                return
    raise _Refused(
        CanonicalizationError(
            "integer outside +-(2**53 - 1) cannot be represented exactly by an RFC 8785 "
            "peer, somewhere in a body too large to locate it in"
        )
    )


# --- key order --------------------------------------------------------------------------------

# An escape naming U+E000..U+FFFF, or a high surrogate (half of a character beyond U+FFFF).
_HIGH_BMP_ESCAPE = re.compile(r"\\u[eEfF]")
_ASTRAL_ESCAPE = re.compile(r"\\u[dD][89abAB]")


def _key_order(raw: bytes, text: str, escapes: bool) -> _Order:
    """How to put object members in UTF-16 order: ``"as is"`` when code point order is the
    same for this body; ``"shift"`` when moving U+E000..U+FFFF above every other character
    makes it so; ``"unescape"`` when some of those are escaped (an escape cannot be moved, so
    the text is written out without escapes first); ``"hook"`` when the body already holds
    characters from U+10E000 (a parser hook sorts each object)."""
    if not escapes and text.isascii():
        return "as is"
    high_bmp = b"\xee" in raw or b"\xef" in raw
    high_escape = escapes and bool(_HIGH_BMP_ESCAPE.search(text))
    if not (high_bmp or high_escape):
        return "as is"
    astral = any(lead in raw for lead in (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4"))
    if not (astral or (escapes and _ASTRAL_ESCAPE.search(text))):
        return "as is"
    if b"\xf4\x8e" in raw or b"\xf4\x8f" in raw:
        return "hook"  # U+10E000.. is taken: nowhere to move U+E000..U+FFFF
    return "unescape" if high_escape else "shift"


def _shift_up(raw: bytes) -> bytes:
    """U+E000..U+FFFF -> U+10E000..U+10FFFF in UTF-8: the lead byte EE or EF becomes F4 8E or
    F4 8F, the continuation bytes stay. In code point order they then follow every other
    character, as U+E000..U+FFFF follow the surrogates in UTF-16 order."""
    return raw.replace(b"\xee", b"\xf4\x8e").replace(b"\xef", b"\xf4\x8f")


def _shift_down(data: bytes) -> bytes:
    return data.replace(b"\xf4\x8e", b"\xee").replace(b"\xf4\x8f", b"\xef")


# --- the route ----------------------------------------------------------------------------------


def _parse(text: str, hook: bool) -> Any:
    try:
        return _DECODERS[hook](text)
    except RecursionError:
        raise _Refused(InvalidBodyError("request body is nested too deeply")) from None
    except ValueError as exc:
        raise _Refused(InvalidBodyError(f"request body is not valid JSON: {exc}")) from None
    except InvalidBodyError as exc:  # a NaN or Infinity literal
        raise _Refused(exc) from None


def _write(value: Any, sort_keys: bool) -> str:
    try:
        return _ENCODERS[sort_keys](value)
    except RecursionError:
        raise _Refused(
            CanonicalizationError("value is nested too deeply (or contains a cycle)")
        ) from None
    except ValueError:  # the parser turned a number beyond a double into an infinity
        raise _Refused(
            InvalidBodyError("request body holds a number too large for a double")
        ) from None


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(
            CanonicalizationError(
                "string holds a lone surrogate (not valid Unicode), somewhere in a body too "
                "large to locate it in"
            )
        ) from None


def _written_out(text: str) -> tuple[str, bytes] | None:
    """``text`` with its escapes of characters from U+0100 written as the characters (a pair of
    escaped surrogates as one character), JSON's own escapes of quotes, backslashes and control
    characters kept: by C decoders, for an ASCII text. None when that cannot be done so (a
    character that is not ASCII, a ``\\U``, which JSON lacks, a raw control character, a
    broken escape or a lone surrogate: the caller parses and writes instead)."""
    if not text.isascii() or "\\U" in text or "\x01" in text:
        return None
    # raw_unicode_escape decodes \uXXXX (respecting escaped backslashes) and nothing else; the
    # escapes below U+0100 (quote, backslash, control characters) stay escaped under "\x01".
    try:
        decoded = text.replace("\\u00", "\x01").encode("ascii").decode("raw_unicode_escape")
    except UnicodeDecodeError:
        return None
    written = decoded.replace("\x01", "\\u00")
    paired = written.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    try:
        return paired, paired.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _bulk(raw: bytes, text: str) -> bytes:
    """The canonical bytes of a body that is not empty, by the bulk route. Every refusal is a
    :class:`_Refused`: the exact route, which finds the first error in the order it reads,
    words it when the body is small."""
    escapes = b"\\" in raw and "\\u" in text
    order = _key_order(raw, text, escapes)
    source = raw
    if order == "unescape":
        written = _written_out(text)
        if written is None:  # one more parse and write: still cheaper than a hook per object
            text = _write(_parse(text, hook=False), sort_keys=False)
            _check_members(raw, text, escapes)  # before a lone surrogate, as the exact route
            written = text, _utf8(text)
        text, source = written
        order = _key_order(source, text, escapes=False)
    if order == "shift":
        text = _shift_up(source).decode("utf-8", "surrogatepass")
    out = _write(_parse(text, hook=order == "hook"), sort_keys=order != "hook")
    _check_members(raw, out, escapes)
    data = _utf8(out)
    # With few strings, one look at the text without them serves the checks below.
    quotes = data.count(b'"')
    outside = (_outside_strings(data) if quotes else data) if 64 * quotes <= len(data) else None
    _check_integers(data, outside)  # before the layout, which writes 1e16 with 17 digits
    laid_out = _layout_floats(out, data if outside is None else outside)
    if laid_out is not out:
        data = laid_out.encode("utf-8")
    return _shift_down(data) if order == "shift" else data


def canonicalize_text(
    body: bytes | bytearray | memoryview | str, exact: Callable[[str], object]
) -> bytes | None:
    """The RFC 8785 bytes of the JSON text ``body``, parsed as strictly as
    :func:`~authsig.privy.payload.parse_body` parses it; ``None`` when the body is empty or
    whitespace.

    ``exact`` is the caller's exact route for the body text. When the bulk checks find an error
    in a body of up to :data:`EXACT_ERRORS_UP_TO` characters, it runs, so that the error raised
    is the one it raises, with the same message and JSON Pointer (the caller knows where the
    body sits in what it signs).

    Raises :class:`~authsig.errors.InvalidBodyError` and
    :class:`~authsig.errors.CanonicalizationError`.
    """
    if isinstance(body, str):
        text, raw = body, body.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidBodyError("request body is not valid UTF-8") from None
    if not text.strip(" \t\n\r"):
        return None
    try:
        return _bulk(raw, text)
    except _Refused as refused:
        if len(text) <= EXACT_ERRORS_UP_TO:
            # Raises the same error, located. Should it not (the routes disagree), None sends
            # the caller to the exact route, whose answer stands.
            exact(text)
            return None
        raise refused.error from None
