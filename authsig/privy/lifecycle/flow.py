"""Signing a quorum change, checking it, and rotating a key.

A change to a quorum is approved by the quorum **as it is now**: :func:`verify_update` checks
a signed request against ``request.before`` with authsig's own :class:`Verifier` before it is
sent, and raises :class:`~authsig.privy.lifecycle.errors.UpdateNotApprovedError` otherwise.

The multi-party flow is the one of the CLI: :func:`update_payload` gives the exact bytes each
member signs (``authsig sign --payload``); ``authsig combine --quorum CURRENT`` assembles them.

Intents: Privy's intents expire 72 hours after they are made. ``intent=True`` asks for that
lifetime; without it, an expiry further ahead than the verifier's default one hour is refused
here, so a request that the other side would refuse is never signed by accident. Verifying an
intent needs :meth:`Policy.for_intents <authsig.policy.Policy.for_intents>` just as explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from authsig.keys import PrivateKey, PublicKey, load_public_key
from authsig.policy import DEFAULT_MAX_LIFETIME, DEFAULT_POLICY, INTENT_LIFETIME, Policy
from authsig.privy.decision import Decision
from authsig.privy.expiry import DEFAULT_EXPIRES_IN, make_expiry
from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, IDEMPOTENCY_HEADER, Headers
from authsig.privy.lifecycle.body import DEFAULT_BASE_URL, QuorumRequest, update_request
from authsig.privy.lifecycle.errors import QuorumBodyError, UpdateNotApprovedError
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import Verifier
from authsig.signatures import Signer

__all__ = [
    "expires_in_for",
    "rotate_key",
    "sign_change",
    "update_payload",
    "verify_update",
]


def expires_in_for(expires_in: timedelta | None, *, intent: bool) -> timedelta:
    """The lifetime to sign with: ``expires_in`` (default 15 minutes, or 72 hours for an
    intent), refused when longer than a default verifier accepts and ``intent`` is False, or
    longer than an intent's 72 hours."""
    if expires_in is None:
        return INTENT_LIFETIME if intent else DEFAULT_EXPIRES_IN
    if not isinstance(expires_in, timedelta):
        raise TypeError("expires_in must be a datetime.timedelta or None")
    if expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive")
    limit = INTENT_LIFETIME if intent else DEFAULT_MAX_LIFETIME
    if expires_in > limit:
        hint = "" if intent else "; an intent (72 hours) needs intent=True"
        raise ValueError(f"expires_in {expires_in} is longer than {limit}{hint}")
    return expires_in


def _check_request(request: object) -> QuorumRequest:
    if not isinstance(request, QuorumRequest):
        raise TypeError(f"request must be a QuorumRequest, not {type(request).__name__}")
    return request


def update_payload(
    request: QuorumRequest,
    *,
    app_id: str,
    expires_in: timedelta | None = None,
    intent: bool = False,
    idempotency_key: str | None = None,
    now_ms: int | None = None,
) -> bytes:
    """The canonical payload of ``request`` that each member signs, its expiry fixed now."""
    request = _check_request(request)
    if not isinstance(app_id, str) or not app_id:
        raise ValueError("app_id must be a non-empty str")
    headers = {APP_ID_HEADER: app_id}
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    headers[EXPIRY_HEADER] = make_expiry(expires_in_for(expires_in, intent=intent), now_ms=now_ms)
    return signing_payload(
        method=request.method, url=request.url, body=request.body, headers=headers
    )


def sign_change(
    request: QuorumRequest,
    *,
    app_id: str,
    keys: PrivateKey | Signer | Sequence[PrivateKey | Signer],
    expires_in: timedelta | None = None,
    intent: bool = False,
    idempotency_key: str | None = None,
    now_ms: int | None = None,
) -> dict[str, str]:
    """Sign ``request`` with ``keys`` held in one place; the headers to send."""
    request = _check_request(request)
    return sign_request(
        method=request.method,
        url=request.url,
        body=request.body,
        app_id=app_id,
        keys=keys,
        idempotency_key=idempotency_key,
        expires_in=expires_in_for(expires_in, intent=intent),
        now_ms=now_ms,
    )


def verify_update(
    request: QuorumRequest,
    headers: Headers,
    *,
    user_keys: Mapping[str, Iterable[PublicKey | str]] | None = None,
    policy: Policy | None = None,
    intent: bool = False,
    now_ms: int | None = None,
) -> Decision:
    """Check that the current quorum (``request.before``) approves the signed ``request``;
    returns the approving decision or raises
    :class:`~authsig.privy.lifecycle.errors.UpdateNotApprovedError` carrying the refusal.
    ``intent=True`` accepts a 72-hour expiry (``policy.for_intents()``)."""
    request = _check_request(request)
    if request.before is None:
        raise ValueError("a create request is signed by no quorum; nothing to verify")
    chosen = policy if policy is not None else DEFAULT_POLICY
    if intent:
        chosen = chosen.for_intents()
    verifier = Verifier(request.before, user_keys=user_keys, policy=chosen)
    decision = verifier.verify(
        method=request.method, url=request.url, body=request.body, headers=headers, now_ms=now_ms
    )
    if not decision.approved:
        error = UpdateNotApprovedError(
            f"the current {request.before.label} does not approve this change: {decision.message}"
        )
        error.decision = decision
        raise error
    return decision


def rotate_key(
    current: KeyQuorum,
    old: PublicKey | str,
    new: PublicKey | str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    quorums: Mapping[str, KeyQuorum] | None = None,
) -> QuorumRequest:
    """The update that replaces the direct key ``old`` (a key or its key id) with ``new`` in
    one PATCH, at the same position, everything else unchanged; to be signed by ``current``."""
    if not isinstance(current, KeyQuorum):
        raise TypeError("current must be a KeyQuorum")
    old_id = old.key_id if isinstance(old, PublicKey) else old
    new_key = load_public_key(new)
    ids = [k.key_id for k in current.public_keys]
    if old_id not in ids:
        where = [
            q.label for q in current.key_quorums if old_id in {k.key_id for k in q.public_keys}
        ]
        hint = f"; it is a key of nested {where[0]}: rotate it there" if where else ""
        raise QuorumBodyError(
            f"key {old_id} is not a direct key of {current.label}{hint}", path="/public_keys"
        )
    if new_key.key_id in ids:
        raise QuorumBodyError(
            f"key {new_key.key_id} is already a key of {current.label}", path="/public_keys"
        )
    keys: list[Any] = [k.to_base64() for k in current.public_keys]
    keys[ids.index(old_id)] = new_key.to_base64()
    return update_request(current, {"public_keys": keys}, base_url=base_url, quorums=quorums)
