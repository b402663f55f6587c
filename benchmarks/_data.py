"""Deterministic inputs shared by the benchmarks (no randomness between runs)."""

from __future__ import annotations

import random
from typing import Any

__all__ = [
    "APP_ID",
    "IDEMPOTENCY_KEY",
    "amounts",
    "RPC_URL",
    "many_floats",
    "small_body",
]

APP_ID = "cm4x1q2w30000abcdefghijkl"
IDEMPOTENCY_KEY = "5f0c7c8e-2f1b-4c8e-9d55-0b1e7c7d9a11"
RPC_URL = "https://api.privy.io/v1/wallets/ud5ojlb7n2zx0r6kzd1u1pml/rpc"


def small_body() -> dict[str, Any]:
    """A typical wallet RPC request body, about 450 bytes of compact JSON."""
    return {
        "method": "eth_sendTransaction",
        "caip2": "eip155:8453",
        "chain_type": "ethereum",
        "sponsor": False,
        "params": {
            "transaction": {
                "to": "0x742d35Cc6634C0532925a3b844Bc454e4438f44e",
                "value": "0x2386f26fc10000",
                "chain_id": 8453,
                "nonce": 17,
                "gas_limit": "0x5208",
                "max_fee_per_gas": "0x59682f00",
                "max_priority_fee_per_gas": "0x3b9aca00",
                "data": "0xa9059cbb000000000000000000000000742d35cc6634c0532925a3b844bc454e"
                "4438f44e00000000000000000000000000000000000000000000000000000000000f4240",
            },
        },
    }


def amounts(count: int = 10_000) -> list[float]:
    """``count`` amounts with two decimals (0.01 .. 100000), fixed seed: the floats of
    typical API payloads (prices, fees, balances)."""
    rng = random.Random(4217)
    return [rng.randrange(1, 10_000_000) / 100 for _ in range(count)]


def many_floats(count: int = 10_000) -> list[float]:
    """``count`` floats across magnitudes (1e-12 .. 1e25), both signs, fixed seed: the
    shortest round-trip digits and the exponent layout both matter here."""
    rng = random.Random(754)
    return [
        rng.choice((-1.0, 1.0)) * rng.random() * 10.0 ** rng.randrange(-12, 26)
        for _ in range(count)
    ]
