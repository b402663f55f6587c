"""Which member key made a signature: the one place where signatures meet keys.

:meth:`MemberKeys.signer` answers it. With few keys it verifies the signature with each key in
turn. With more keys, ECDSA public-key recovery (:mod:`authsig._recover`) computes the (at most
four) keys that could have made the signature and looks them up by point, so the cost does not
grow with the number of keys. Either way the answer rests on ``cryptography``'s own
verification of that signature with that key. For honest signatures both ways give the same
key (``tests/test_verifier_properties.py`` checks it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from authsig._recover import recover_points
from authsig.keys import PublicKey
from authsig.privy.quorum import KeyQuorum

__all__ = ["DIRECT_MATCH_LIMIT", "MemberKeys"]

DIRECT_MATCH_LIMIT = 3
"""Up to this many member keys, a signature is tried against each key; above it, public-key
recovery selects the key (recovery costs about three verifications)."""

_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))


class MemberKeys:
    """The keys a signature may come from: in member order, and by uncompressed point."""

    __slots__ = ("by_point", "keys")

    def __init__(self, keys: Sequence[PublicKey], by_point: Mapping[bytes, PublicKey]) -> None:
        self.keys = tuple(keys)
        self.by_point = by_point

    @classmethod
    def of(cls, quorum: KeyQuorum, users: Mapping[str, Sequence[PublicKey]]) -> MemberKeys:
        """The keys of ``quorum`` (its nested quorums included), then the users' keys."""
        by_point = quorum.key_index
        extra = {k.point: k for ks in users.values() for k in ks if k.point not in by_point}
        if not extra:
            return cls(quorum.all_keys, by_point)
        return cls(quorum.all_keys + tuple(extra.values()), {**by_point, **extra})

    def signer(
        self, payload: bytes, der: bytes, r: int, s: int, signed: Collection[PublicKey] = ()
    ) -> PublicKey | None:
        """The member key with which ``der`` (whose scalars are ``r``, ``s``) verifies over
        ``payload``, or None. ``signed`` holds keys that already made another signature of the
        request: they are tried last."""
        if len(self.keys) > DIRECT_MATCH_LIMIT:
            return self._by_recovery(payload, der, r, s, signed)
        return self._directly(payload, der, signed)

    def _directly(
        self, payload: bytes, der: bytes, signed: Collection[PublicKey]
    ) -> PublicKey | None:
        keys = self.keys
        if signed:
            keys = tuple(k for k in keys if k not in signed) + tuple(k for k in keys if k in signed)
        for key in keys:
            try:
                key.crypto.verify(der, payload, _ECDSA)
            except InvalidSignature:
                continue
            return key
        return None

    def _by_recovery(
        self, payload: bytes, der: bytes, r: int, s: int, signed: Collection[PublicKey]
    ) -> PublicKey | None:
        digest = hashlib.sha256(payload).digest()
        points = recover_points(int.from_bytes(digest, "big"), r, s)
        if points is None:  # a degenerate signature: recovery cannot tell
            return self._directly(payload, der, signed)
        for point in points:
            key = self.by_point.get(point)
            if key is None:
                continue
            try:  # the digest is already there: verify without hashing the payload again
                key.crypto.verify(der, digest, _ECDSA_PREHASHED)
            except InvalidSignature:
                continue
            return key
        return None
