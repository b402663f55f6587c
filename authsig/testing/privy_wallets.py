"""Wallets for :class:`~authsig.testing.privy.PrivyStandIn`: only what authorization needs.

A wallet here is an id, a chain type, a made-up address and an ``owner_id``, the id of a key
quorum the stand-in holds. Its RPC endpoint answers only when that quorum, as it is now,
approves the signed request (the same check, expiry and replay protection as a quorum update).
The answers are minimal and **fake**: no key exists behind a wallet, so a "signature" is the
ASCII marker :data:`FAKE_SIGNATURE_MARKER` followed by a hash of the request, never a valid
ECDSA signature. Tests can tell the stand-in approved a request; nothing it returns can be
broadcast or verified on a chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["FAKE_SIGNATURE_MARKER", "RPC_METHODS", "Wallet", "rpc_result", "wallet_body"]

FAKE_SIGNATURE_MARKER = b"authsig-stand-in:not-a-signature"
"""The first 32 bytes of every "signature" the stand-in returns (hex-encoded in the answer)."""

RPC_METHODS = ("personal_sign", "eth_signTypedData_v4", "eth_signTransaction")
"""The RPC methods the stand-in answers (the signing ones; nothing is ever sent)."""

CHAIN_TYPES = ("ethereum",)


@dataclass(frozen=True)
class Wallet:
    """A wallet the stand-in holds."""

    id: str
    owner_id: str
    chain_type: str = "ethereum"

    @property
    def address(self) -> str:
        """A made-up 20-byte address derived from the id (no key stands behind it)."""
        return "0x" + hashlib.sha256(b"address:" + self.id.encode()).hexdigest()[:40]


def wallet_body(wallet: Wallet) -> dict[str, Any]:
    """The wallet in the shape of Privy's wallet object (the fields the stand-in knows)."""
    return {
        "id": wallet.id,
        "address": wallet.address,
        "chain_type": wallet.chain_type,
        "owner_id": wallet.owner_id,
        "policy_ids": [],
        "additional_signers": [],
    }


def rpc_result(wallet: Wallet, body: Any) -> dict[str, Any] | None:
    """The answer to an approved RPC ``body``, or None when its method is not one of
    :data:`RPC_METHODS`. Deterministic: the same request gets the same fake signature."""
    method = body.get("method") if isinstance(body, dict) else None
    if method not in RPC_METHODS:
        return None
    digest = hashlib.sha256(
        json.dumps([wallet.id, body], sort_keys=True, separators=(",", ":")).encode()
    ).digest()
    fake = "0x" + (FAKE_SIGNATURE_MARKER + digest + b"\x1b").hex()
    if method == "eth_signTransaction":
        return {"method": method, "data": {"signed_transaction": fake, "encoding": "rlp"}}
    return {"method": method, "data": {"signature": fake, "encoding": "hex"}}
