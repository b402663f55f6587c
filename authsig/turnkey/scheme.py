"""Turnkey stamps on the HTTP layer: :class:`TurnkeyScheme` for the shared Gate.

A stamp covers the body and nothing else: no method, no URL, no time, no nonce. A stamped body
can be sent again by anyone who saw it, to this endpoint or any other that trusts the key.
What makes it fresh is the body's own ``timestampMs`` (every Turnkey request body carries one,
and Turnkey itself treats two bodies with one fingerprint as one request). So the scheme:

- requires a ``timestampMs`` within ``policy.max_lifetime`` in the past and
  ``policy.clock_skew`` in the future;
- claims ``turnkey:<key>:<sha256 of the body>`` in the replay store until the timestamp can no
  longer be accepted. The key is part of the claim because two users stamping the same body
  (an approval with the same fingerprint and time) are two approvals, not a replay; the
  signature is not, because ECDSA stamps are randomised: re-stamping a body must not make it new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from authsig.errors import AuthSigError
from authsig.http import Checked, Facts, RequestInfo
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.reasons import Reason
from authsig.turnkey.activity import body_object, body_timestamp_ms
from authsig.turnkey.approvals import Quorum
from authsig.turnkey.diagnosis import near_miss
from authsig.turnkey.errors import (
    TurnkeyApprovalError,
    TurnkeyStampError,
    TurnkeyTimestampError,
)
from authsig.turnkey.keys import P256, TurnkeyPublicKey
from authsig.turnkey.stamp import verify_stamp

__all__ = ["TurnkeyDecision", "TurnkeyScheme", "load_keys"]

_HEADER = "x-stamp"


@dataclass(frozen=True)
class TurnkeyDecision:
    """Whether a stamped request is accepted: ``reason`` a stable code, ``message`` one
    sentence, ``public_key`` (hex) of the stamp and ``user`` holding it, when known."""

    approved: bool
    reason: str
    message: str
    http_status: int
    public_key: str | None = None
    user: str | None = None
    timestamp_ms: int | None = None

    @classmethod
    def refuse(cls, reason: str, message: str, public_key: str | None = None) -> TurnkeyDecision:
        """A refusal with the status that belongs to ``reason``."""
        return cls(False, reason, message, Reason.of(reason).status, public_key)


def load_keys(
    keys: Quorum | Iterable[str | TurnkeyPublicKey],
) -> dict[TurnkeyPublicKey, str | None]:
    """The accepted keys (hex is read as P-256) and the user holding each (None when the keys
    were given without users)."""
    if isinstance(keys, Quorum):
        return dict(keys.owners)
    if isinstance(keys, str | TurnkeyPublicKey):
        raise TypeError("keys must be an iterable of keys, not one key")
    out: dict[TurnkeyPublicKey, str | None] = {}
    for key in keys:
        if isinstance(key, str):
            key = TurnkeyPublicKey.from_hex(key, P256)
        if not isinstance(key, TurnkeyPublicKey):
            raise TypeError("keys must be TurnkeyPublicKey values or P-256 hex")
        out[key] = None
    if not out:
        raise ValueError("keys must not be empty")
    return out


class TurnkeyScheme:
    """Checks ``X-Stamp`` on the requests whose path is in ``paths`` (all when None), by one of
    ``keys`` (or any user of a :class:`~authsig.turnkey.approvals.Quorum`)."""

    name = "turnkey"
    signs_url = False  # a stamp covers the body only

    def __init__(
        self,
        *,
        keys: Quorum | Iterable[str | TurnkeyPublicKey],
        policy: Policy | None = None,
        require_low_s: bool = False,
        paths: Iterable[str] | None = None,
    ) -> None:
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
        if isinstance(paths, str):
            raise TypeError("paths must be an iterable of paths, not one string")
        self.keys = load_keys(keys)
        self.policy = policy if policy is not None else DEFAULT_POLICY
        self.require_low_s = bool(require_low_s)
        self.paths = None if paths is None else frozenset(paths)

    def resolve(self, info: RequestInfo) -> bool | None:
        """True when the request must be checked, None to pass it through."""
        return True if self.paths is None or info.path in self.paths else None

    async def resolve_async(self, info: RequestInfo) -> bool | None:
        """As :meth:`resolve` (no I/O)."""
        return self.resolve(info)

    def _window(self) -> tuple[int, int]:
        """The policy's lifetime and skew in milliseconds."""
        policy = self.policy
        return (
            int(policy.max_lifetime.total_seconds() * 1000),
            int(policy.clock_skew.total_seconds() * 1000),
        )

    def _fresh(self, body: bytes, now: int) -> int:
        try:
            value = body_object(body)
        except TurnkeyApprovalError:
            raise TurnkeyTimestampError("the stamped body is not a JSON object") from None
        timestamp = body_timestamp_ms(value)
        lifetime, skew = self._window()
        if timestamp > now + skew:
            raise TurnkeyTimestampError("the body's timestampMs lies in the future")
        if timestamp < now - lifetime - skew:
            raise TurnkeyTimestampError("the body's timestampMs is older than the lifetime")
        return timestamp

    def check(self, info: RequestInfo, body: bytes, now: int) -> Checked:
        """Check the stamp, the key and the body's time (no I/O: the replay step is the
        Gate's)."""
        values = [value for name, value in info.header_items if name.lower() == _HEADER]
        if not values and _HEADER in info.headers:
            values = [info.headers[_HEADER]]
        if not values:
            return Checked(TurnkeyDecision.refuse("missing_signature", "no X-Stamp header"))
        key_hex: str | None = None
        try:
            if len(values) > 1:
                raise TurnkeyStampError("the request carries X-Stamp more than once")
            stamp = verify_stamp(body, values[0], require_low_s=self.require_low_s)
            key_hex = stamp.key_hex
            if stamp.public_key not in self.keys:
                return Checked(
                    TurnkeyDecision.refuse("unknown_api_key", "the stamp's key is not accepted")
                )
            timestamp = self._fresh(body, now)
        except AuthSigError as exc:
            return Checked(TurnkeyDecision.refuse(exc.code, exc.message, key_hex))
        user = self.keys[stamp.public_key]
        lifetime, skew = self._window()
        decision = TurnkeyDecision(
            True, "approved", "the stamp verifies", 200, stamp.key_hex, user, timestamp
        )
        digest = hashlib.sha256(body).hexdigest()
        return Checked(
            decision,
            f"turnkey:{stamp.key_hex}:{digest}",
            timestamp + lifetime + skew,
            f"turnkey:{stamp.key_hex}",
        )

    def verify(self, info: RequestInfo, body: bytes, target: object, now: int) -> Checked:
        """The Gate's sync check."""
        return self.check(info, body, now)

    async def verify_async(
        self, info: RequestInfo, body: bytes, target: object, now: int
    ) -> Checked:
        """As :meth:`verify` (no I/O)."""
        return self.check(info, body, now)

    #: A stamp that does not verify may be over a re-spelling of the body sent.
    diagnosed_reasons = frozenset({"turnkey_invalid_signature"})

    def diagnose(
        self, info: RequestInfo, body: bytes, target: object, decision: TurnkeyDecision
    ) -> str | None:
        """The re-spelling of the body the stamp verifies over (trailing newline, JSON
        serialisation), or None."""
        header = info.headers.get(_HEADER)
        hint = near_miss(body, header) if header else None
        if hint is None:
            return None
        return f"the stamp verifies over the body {hint}; stamp the exact bytes you send"

    def describe(self, target: object, decision: TurnkeyDecision | None) -> Facts:
        """One stamp is required; on approval, whose key made it (for the log and the hook)."""
        approved = decision is not None and decision.approved
        signer = decision.public_key if decision is not None and approved else None
        return Facts(None, int(approved), 1, (signer,) if signer else ())
