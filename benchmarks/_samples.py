"""Sample classes: request bodies of signed API calls, one kind of difficulty each.

Every class has a small body (a typical request, ~0.2-2 KB of compact JSON) and a large one
(~100 KB: a batch or a listing of the same records). Each body is built from a fixed seed, so
every run measures the same bytes. The classes isolate what makes canonicalization cost more
than ``json.dumps``:

- ``ascii``: ASCII strings and integers only (the wallet RPC body of the original benchmark);
- ``non-ascii``: memos, labels and names in many scripts (Latin, Greek, Cyrillic, Arabic,
  Hebrew, Devanagari, Thai, CJK, Hangul, emoji incl. ZWJ sequences and flags), some of them
  as object keys (an emoji key and a fullwidth one sort one way by code point, the other way
  by UTF-16 code units, which RFC 8785 uses);
- ``amounts``: money as floats, halves and 2-decimal values, plus the products and sums
  Python code computes from them (``4.35 * 3 == 13.049999999999999``, ``2.5 * 2 == 5.0``);
- ``wide-floats``: measurements over 1e-12 .. 1e25, both signs, plus subnormal and extreme
  doubles (``5e-324``, ``1e-310``, ``1.7976931348623157e308``) and ``-0.0``;
- ``deep``: a policy condition tree 32-64 containers deep (ASCII, integers);
- ``mix``: all of the above in one body.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks._data import small_body

__all__ = ["CLASSES", "LARGE_BYTES", "Sample", "compact_size", "sample", "samples"]

#: The size the large body of each class grows to (compact JSON bytes).
LARGE_BYTES = 100_000

# Fragments per script; memos are a few of them joined, so every memo mixes scripts.
_SCRIPTS: dict[str, tuple[str, ...]] = {
    "latin": ("Café crème", "naïve façade", "Ærøskøbing", "Straße", "señor Muñoz", "Łódź"),
    "greek": ("Καλημέρα", "κόσμε", "Αθήνα", "πληρωμή"),
    "cyrillic": ("Привет", "мир", "оплата счёта", "Москва"),
    "arabic": ("مرحبا", "بالعالم", "دفع الفاتورة"),
    "hebrew": ("שלום", "עולם", "תשלום"),
    "devanagari": ("नमस्ते", "दुनिया", "भुगतान"),
    "thai": ("สวัสดี", "ชำระเงิน"),
    "cjk": ("你好\uff0c世界", "東京都渋谷区", "支付账单", "こんにちは", "カタカナ", "請求書"),
    "hangul": ("안녕하세요", "세계", "결제"),
    "emoji": ("🚀", "🌕", "💸", "👩\u200d💻", "🇯🇵", "👍🏽", "🧾", "😀"),
}
_ALL_FRAGMENTS = [f for fragments in _SCRIPTS.values() for f in fragments]
# Label keys as users type them: BMP scripts (fullwidth forms sort after emoji in UTF-16
# order, before them in code point order), and emoji (beyond U+FFFF).
_LABEL_KEYS = ("東京", "café", "Привет", "결제", "नमस्ते", "الدفع", "ＵＳＤ残高")
_EMOJI_KEYS = ("🚀 launch", "🧾 invoice", "💸 payout")


def _text(rng: random.Random, fragments: int) -> str:
    """A memo mixing scripts; now and then a newline or a quote, as typed text has."""
    parts = [rng.choice(_ALL_FRAGMENTS) for _ in range(fragments)]
    text = " ".join(parts)
    if rng.random() < 0.2:
        text += '\n— "' + rng.choice(_ALL_FRAGMENTS) + '"'
    return text


def _address(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))


def _envelope(rng: random.Random, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": method,
        "caip2": rng.choice(["eip155:1", "eip155:8453", "eip155:137"]),
        "chain_type": "ethereum",
        "params": params,
    }


# --- one record per class -------------------------------------------------------------------


def _ascii_record(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": f"wallet_{index:06d}_{rng.randrange(16**8):08x}",
        "address": _address(rng),
        "chain_type": rng.choice(["ethereum", "solana", "tron", "bitcoin-segwit"]),
        "created_at": 1_700_000_000_000 + rng.randrange(10**9),
        "owner_id": None if rng.random() < 0.3 else f"kq_{rng.randrange(10**6)}",
        "nonce": rng.randrange(10**6),
        "exported": rng.random() < 0.1,
    }


def _non_ascii_record(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": f"contact_{index:06d}",
        "address": _address(rng),
        "display_name": _text(rng, 2),
        "memo": _text(rng, rng.randrange(2, 6)),
        "labels": [rng.choice(_ALL_FRAGMENTS) for _ in range(rng.randrange(1, 4))],
        "tags": _tags(rng, index),
    }


def _tags(rng: random.Random, index: int) -> dict[str, str]:
    """One or two labels; the first record of a body always has an emoji one."""
    tags = {rng.choice(_LABEL_KEYS): _text(rng, 1)}
    if index == 0 or rng.random() < 0.3:
        tags[rng.choice(_EMOJI_KEYS)] = rng.choice(_ALL_FRAGMENTS)
    return tags


def _amount(rng: random.Random) -> float:
    """A price, fee or balance: halves (some of them whole, ``5.0``) or two decimals."""
    if rng.random() < 0.4:
        return rng.randrange(1, 4000) / 2
    return rng.randrange(1, 10_000_000) / 100


def _amounts_record(rng: random.Random, index: int) -> dict[str, Any]:
    price = _amount(rng)
    quantity = rng.choice([1, 2, 3, 0.5, 1.5, 2.5])
    fee = rng.randrange(0, 500) / 100
    return {
        "line": index,
        "sku": f"SKU-{rng.randrange(10**6):06d}",
        "unit_price": price,
        "quantity": quantity,
        "subtotal": price * quantity,  # as Python computes it: 13.049999999999999, 5.0
        "fee": fee,
        "discount": rng.choice([0.0, 0.5, 1.0, 2.5, 10.0]),
        "total": price * quantity + fee,
    }


_EXTREMES = (5e-324, 1e-310, 2.2250738585072014e-308, -0.0, 1.7976931348623157e308, -1e-300)


def _wide(rng: random.Random) -> float:
    """A float between 1e-12 and 1e25 in magnitude, either sign; now and then an extreme."""
    if rng.random() < 0.03:
        return rng.choice(_EXTREMES)
    sign = rng.choice((-1.0, 1.0))
    return sign * rng.random() * 10.0 ** rng.randrange(-12, 26)


def _wide_floats_record(rng: random.Random, index: int) -> dict[str, Any]:
    values = [_wide(rng) for _ in range(rng.randrange(3, 8))]
    return {
        "sensor": f"oracle-{index:05d}",
        "value": _wide(rng),
        "scale": 10.0 ** rng.randrange(-12, 26),
        "samples": values,
        "stats": {"min": min(values), "max": max(values), "mean": sum(values) / len(values)},
    }


def _tree(rng: random.Random, depth: int) -> dict[str, Any]:
    """A condition tree ``depth`` containers deep: objects and their operand arrays alternate,
    built bottom-up (no recursion)."""
    node: dict[str, Any] = {
        "field": rng.choice(["to", "value", "chain_id"]),
        "op": rng.choice(["eq", "lte"]),
        "v": rng.randrange(10**9),
    }
    for level in range(depth - 1):
        if level % 2 == 0:
            node = [node, rng.randrange(10**6)]  # type: ignore[assignment]
        else:
            node = {rng.choice(["all_of", "any_of", "not"]): node, "id": level}
    return node


def _deep_record(rng: random.Random, index: int) -> dict[str, Any]:
    return {"rule_id": f"rule_{index:05d}", "condition": _tree(rng, rng.randrange(32, 65))}


def _mix_record(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": f"order_{index:06d}",
        "memo": _text(rng, rng.randrange(1, 4)),
        "tags": _tags(rng, index),
        "amount": _amount(rng),
        "fee": rng.randrange(0, 500) / 100,
        "rate": _wide(rng),
        # wei as a float, as JavaScript clients send it: repr says 5e+18, RFC 8785 the digits
        "max_wei": rng.randrange(1, 10) * 10.0 ** rng.randrange(16, 21),
        "condition": _tree(rng, rng.randrange(32, 41)),
    }


# --- small and large bodies -------------------------------------------------------------------

_Record = Callable[[random.Random, int], dict[str, Any]]


@dataclass(frozen=True)
class _Class:
    description: str
    method: str
    record: _Record
    small_records: int


CLASSES: dict[str, _Class] = {
    "ascii": _Class("ASCII strings, integers", "eth_sendTransaction", _ascii_record, 0),
    "non-ascii": _Class(
        "non-ASCII text in many scripts", "eth_sendTransaction", _non_ascii_record, 2
    ),
    "amounts": _Class("amounts: halves, 2-decimal floats", "create_payout", _amounts_record, 3),
    "wide-floats": _Class("floats 1e-12..1e25, extremes", "submit_report", _wide_floats_record, 2),
    "deep": _Class("nesting 32-64 deep", "update_policy", _deep_record, 1),
    "mix": _Class("mix of all", "create_order", _mix_record, 2),
}


def compact_size(value: Any) -> int:
    """Bytes of the compact UTF-8 JSON text of ``value``."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass(frozen=True)
class Sample:
    """One body: its class, its size name and the value."""

    cls: str
    size: str
    body: Any

    @property
    def label(self) -> str:
        """``"non-ascii, small (1,234 B)"``: how the tables name it."""
        return f"{self.cls}, {self.size} ({compact_size(self.body):,} B)"


def _seed(cls: str, size: str) -> int:
    # Stable across runs and Python versions (str hashes are salted per process).
    return zlib.crc32(f"{cls}/{size}".encode())


def sample(cls: str, size: str) -> Sample:
    """The ``size`` (``"small"`` or ``"large"``) body of class ``cls``."""
    spec = CLASSES[cls]
    rng = random.Random(_seed(cls, size))
    if size == "small":
        if spec.small_records == 0:
            return Sample(cls, size, small_body())
        items = [spec.record(rng, i) for i in range(spec.small_records)]
        return Sample(cls, size, _envelope(rng, spec.method, {"items": items}))
    if size != "large":
        raise ValueError(f"size must be 'small' or 'large', not {size!r}")
    records: list[dict[str, Any]] = []
    total = 0
    while total < LARGE_BYTES:
        record = spec.record(rng, len(records))
        records.append(record)
        total += compact_size(record) + 1
    return Sample(cls, size, {"cursor": f"c_{len(records)}", "data": records})


def samples(sizes: tuple[str, ...] = ("small", "large")) -> list[Sample]:
    """Every class in every size, in table order (class by class, small first)."""
    return [sample(cls, size) for cls in CLASSES for size in sizes]
