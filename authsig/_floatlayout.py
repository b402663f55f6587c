"""ECMAScript's layout for the numbers ``repr`` wrote, in bulk (for :mod:`authsig.jcs`).

``repr`` gives a float's shortest round-trip digits, which are ECMAScript's too; only the layout
differs for some (``2.0``, ``1e-05``, ``1e-07``, ``1e+16``). A body can hold as many floats as it
has room for, all different, so these functions fix every float of a kind at once with string
operations over the whole text: the work per float is C calls, never a Python statement.
``tests/test_jcstext.py`` checks them against :func:`authsig.jcs.format_number`.
"""

from __future__ import annotations

import operator
from itertools import repeat

__all__ = ["layout_numbers", "layout_reprs"]

_first = operator.itemgetter(0)


def layout_reprs(reprs: str) -> str:
    """The ECMAScript texts of finite floats from their ``repr`` texts, both joined by ``,``."""
    return layout_numbers(reprs + ",")[:-1]


def layout_numbers(text: str) -> str:
    """ECMAScript layout for every float ``repr`` wrote in ``text``: JSON text without strings
    (numbers, literals, and the separators ``[]{},:``), each number followed by a separator.

    ``repr`` and ECMAScript agree on the digits; they differ only for integral values
    (``2.0``/``-0.0``), exponents -5 and -6 (fixed notation in ECMAScript), -7 to -9 (no zero
    padding) and 16 to 20 (plain integers in ECMAScript). Each kind is fixed by string
    operations over all numbers of that kind at once, so the cost per number is C calls only:
    a body can hold as many floats as it has room for, all different.
    """
    if ".0" in text:  # integral: 2.0 -> 2, -0.0 -> 0 ("-0" then ends no other number)
        for end in ",]}":
            text = text.replace(".0" + end, end)
        if "-0" in text:
            for end in ",]}":
                text = text.replace("-0" + end, "0" + end)
    moves: list[tuple[str, str, int]] = []
    if "e-0" in text:
        text = text.replace("e-07", "e-7").replace("e-08", "e-8").replace("e-09", "e-9")
        moves += (move for move in _MOVES[:2] if move[0] in text)
    if "e+" in text:  # e+16 is in 1e+160 too: _move_digits tells them apart
        moves += (move for move in _MOVES[2:] if move[0] in text)
    if not moves:
        return text
    # Every number after a "," (one more at the start), so that the last "," of a piece
    # starts its mantissa ("[," and ":," occur nowhere else: JSON has no empty element).
    text = "," + text.replace("[", "[,").replace(":", ":,")
    for exponent, prefix, width in moves:
        text = _move_digits(text, exponent, prefix, width)
    return text[1:].replace("[,", "[").replace(":,", ":")


# Exponents whose numbers ECMAScript writes with other digits: (exponent, prefix, width).
_MOVES = (
    ("e-05", "0.0000", 0),
    ("e-06", "0.00000", 0),
    *((f"e+{exponent}", "", exponent + 1) for exponent in range(16, 21)),
)


def _move_digits(text: str, exponent: str, prefix: str, width: int) -> str:
    """Rewrite, in ``text`` (see :func:`layout_numbers`), every number that ends with
    ``exponent``: as ``prefix`` and its digits, or as its digits padded with zeros to
    ``width``. The text splits at the exponent: every piece but the last then ends with such
    a number's mantissa (digits, ".", "-") after its last ",", as every number follows one."""
    pieces = text.split(exponent)
    if len(pieces) == 1:
        return text
    if exponent[1] == "+" and any(map(str.startswith, pieces[1:], repeat(_DIGITS))):
        # A three-digit exponent (1e+160) begins with this one: keep such pieces together.
        merged = [pieces[0]]
        for piece in pieces[1:]:
            if piece[:1].isdigit():
                merged[-1] += exponent + piece
            else:
                merged.append(piece)
        if len(merged) == 1:
            return text
        pieces = merged
    ends = pieces[:-1]
    # A body that repeats a float repeats the pieces between its numbers too: rewrite each
    # distinct piece once.
    distinct = list(dict.fromkeys(ends))
    if 2 * len(distinct) <= len(ends):
        table = dict(zip(distinct, _moved(distinct, prefix, width), strict=True))
        return "".join(map(table.__getitem__, ends)) + pieces[-1]
    return "".join(_moved(ends, prefix, width)) + pieces[-1]


def _moved(ends: list[str], prefix: str, width: int) -> list[str]:
    """Each piece of ``ends`` (text whose last "," is followed by a mantissa: digits, ".",
    "-"), with the mantissa rewritten as ``prefix`` and its digits, or as its digits padded to
    ``width``."""
    parted = list(map(str.rpartition, ends, repeat(",")))
    # The mantissas, each after its "," again, joined by NUL.
    mantissas = "," + "\x00,".join(map(_THIRD, parted)).replace(".", "")
    if prefix:  # 1.5e-05 -> 0.000015
        mantissas = mantissas.replace(",", "," + prefix)
        if "-" in mantissas:
            mantissas = mantissas.replace(prefix + "-", "-" + prefix)
        digits = mantissas.split("\x00")
    else:  # 1.5e+16 -> 15000000000000000 (the "," and the sign take a place each)
        digits = mantissas.split("\x00")
        if "-" in mantissas:
            negative = map(str.startswith, digits, repeat(",-"))
            widths = map(operator.add, repeat(width + 1), negative)
            digits = list(map(str.ljust, digits, widths, repeat("0")))
        else:
            digits = list(map(str.ljust, digits, repeat(width + 1), repeat("0")))
    return list(map(operator.add, map(_first, parted), digits))


_THIRD = operator.itemgetter(2)
_DIGITS = tuple("0123456789")
