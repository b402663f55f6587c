"""Privy on the HTTP layer: the :class:`PrivyScheme` the Gate runs.

Per request a quorum source (a fixed :class:`~authsig.privy.quorum.KeyQuorum`, or a sync or
async resolver taking a :class:`~authsig.http.RequestInfo`) names the quorum that must approve
it, or None to pass it through. Verification is :class:`~authsig.privy.verifier.Verifier`'s;
the replay claim is keyed on the canonical payload the verifier checked, so that dropping or
reordering signatures does not make a copy look new, kept for as long as the verifier could
accept the request, and counted against the quorum's share of the store.

For the operator, a refusal is described (the quorum, the approvals counted) and diagnosed:
:mod:`authsig.privy.diagnosis` runs :func:`~authsig.privy.explain.explain` over the near misses
a deployment produces and names the fix in one sentence for the log.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

from authsig.errors import ExpiryError
from authsig.http import Checked, Facts, RequestInfo
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.privy.decision import refuse
from authsig.privy.diagnosis import diagnose_refusal
from authsig.privy.dialects import get_dialect
from authsig.privy.expiry import check_expiry
from authsig.privy.headers import APP_ID_HEADER, EXPIRY_HEADER, SIGNATURE_HEADER
from authsig.privy.quorum import AnyUserKeyResolver, KeyQuorum
from authsig.privy.verifier import Decision, Verifier
from authsig.replay import replay_key

__all__ = ["PrivyScheme", "QuorumSource"]

QuorumSource: TypeAlias = (
    "KeyQuorum | Callable[[RequestInfo], KeyQuorum | Awaitable[KeyQuorum | None] | None]"
)
"""A fixed quorum, or a resolver (sync or async) returning the request's quorum or None."""


def _quorum_or_none(value: object) -> KeyQuorum | None:
    if value is None or isinstance(value, KeyQuorum):
        return value
    raise TypeError(f"the quorum resolver returned {type(value).__name__}, not a KeyQuorum or None")


#: Bodies above this size are verified in a worker thread under ASGI, so that parsing and
#: canonicalizing them does not hold the event loop for everyone else's requests.
OFFLOAD_BODY_BYTES = 64 * 1024


def _app_ids(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    ids = frozenset([value] if isinstance(value, str) else value)
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("app_ids must be a non-empty app id or a non-empty set of them")
    return ids


class PrivyScheme:
    """Privy authorization signatures, checked against the quorum each request resolves to.

    ``app_ids``: the Privy app id (or ids) this endpoint serves; a request signed for another
    app is refused (``unexpected_app_id``) before its body is read.
    """

    name = "privy"
    signs_url = True
    #: The refusals a near miss can explain (signatures over another URL, body or dialect).
    diagnosed_reasons = frozenset({"invalid_signature", "threshold_not_met"})

    def __init__(
        self,
        quorum: QuorumSource,
        *,
        user_keys: AnyUserKeyResolver | None = None,
        policy: Policy | None = None,
        app_ids: str | Iterable[str] | None = None,
    ) -> None:
        if not isinstance(quorum, KeyQuorum) and not callable(quorum):
            raise TypeError("quorum must be a KeyQuorum or a callable resolver")
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
        self.quorum = quorum
        self.user_keys = user_keys
        self.policy = policy if policy is not None else DEFAULT_POLICY
        if self.policy.dialect is not None:
            get_dialect(self.policy.dialect)  # an unknown name fails at startup, not per request
        self.app_ids = _app_ids(app_ids)
        # An async user-key resolver must run on the event loop, so such a verifier stays there.
        self._offloadable = user_keys is None or not inspect.iscoroutinefunction(user_keys)

    def screen(self, info: RequestInfo, quorum: KeyQuorum, now: int) -> Decision | None:
        """The refusal the headers alone justify (no signature, another app, a bad or missing
        expiry), decided before the body is read; None when the verifier must look."""
        headers = info.headers
        if SIGNATURE_HEADER not in headers:
            return _refusal(
                quorum,
                "missing_signature",
                f"the request has no {SIGNATURE_HEADER} header; sign it with "
                f"{quorum.threshold} member key(s) of {quorum.label}",
            )
        app_id = headers.get(APP_ID_HEADER)
        if self.app_ids is not None and app_id is not None and app_id not in self.app_ids:
            return _refusal(
                quorum, "unexpected_app_id", f"the request is signed for app {app_id!r}"
            )
        expiry = headers.get(EXPIRY_HEADER)
        try:
            if expiry is not None:
                policy = self.policy
                check_expiry(
                    expiry,
                    now_ms=now,
                    max_lifetime=policy.max_lifetime,
                    clock_skew=policy.clock_skew,
                )
        except ExpiryError as exc:
            return _refusal(quorum, exc.code, exc.message)
        return None

    def _call(self, info: RequestInfo) -> Any:
        source = self.quorum
        return source if isinstance(source, KeyQuorum) else source(info)

    def resolve(self, info: RequestInfo) -> KeyQuorum | None:
        """The request's quorum (sync resolvers only: WSGI has no event loop)."""
        result = self._call(info)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError("the quorum resolver is async; use the ASGI middleware")
        return _quorum_or_none(result)

    async def resolve_async(self, info: RequestInfo) -> KeyQuorum | None:
        """The request's quorum (sync or async resolvers)."""
        result = self._call(info)
        if inspect.isawaitable(result):
            result = await result
        return _quorum_or_none(result)

    def _verifier(self, quorum: KeyQuorum) -> Verifier:
        return Verifier(quorum, user_keys=self.user_keys, policy=self.policy)

    def verify(self, info: RequestInfo, body: bytes, target: KeyQuorum, now: int) -> Checked:
        """Verify the request against ``target`` (sync)."""
        decision = self._verifier(target).verify(
            method=info.method, url=info.url, body=body, headers=info.header_items, now_ms=now
        )
        return self._checked(info, decision, now, target)

    async def verify_async(
        self, info: RequestInfo, body: bytes, target: KeyQuorum, now: int
    ) -> Checked:
        """Verify the request against ``target`` (async: an async user-key resolver is awaited;
        a large body is verified in a worker thread when no async resolver needs the loop)."""
        if len(body) > OFFLOAD_BODY_BYTES and self._offloadable:
            return await asyncio.to_thread(self.verify, info, body, target, now)
        decision = await self._verifier(target).verify_async(
            method=info.method, url=info.url, body=body, headers=info.header_items, now_ms=now
        )
        return self._checked(info, decision, now, target)

    def describe(self, target: KeyQuorum, decision: Decision | None) -> Facts:
        """The quorum, its valid and required top-level approvals, and the keys that signed
        (approvals unknown when the Gate refused the request before it was verified)."""
        name = target.id or target.display_name
        if not isinstance(decision, Decision):
            return Facts(name, None, target.threshold)
        approvals = sum(1 for m in decision.approved_members if m.quorum_id is None)
        signers = tuple(s.key_id for s in decision.signatures if s.status == "matched" and s.key_id)
        return Facts(name, approvals, decision.threshold or target.threshold, signers)

    def diagnose(
        self, info: RequestInfo, body: bytes, target: KeyQuorum, decision: Decision
    ) -> str | None:
        """One sentence naming what the signatures were made over instead, and the fix (None
        when no near miss explains the refusal). A user-key resolver is consulted only when
        it is synchronous."""
        user_keys = self.user_keys if self._offloadable else None
        return diagnose_refusal(info, body, target, user_keys, self.policy)  # type: ignore[arg-type]

    def _checked(
        self, info: RequestInfo, decision: Decision, now: int, quorum: KeyQuorum
    ) -> Checked:
        if not decision.approved:
            return Checked(decision)
        payload = decision.payload
        if payload is None:  # the verifier attaches it to every approval; fail closed if not
            raise RuntimeError("an approved Privy decision carries no payload")
        expiry = info.headers.get(EXPIRY_HEADER, "").strip()
        if expiry.isdigit() and expiry.isascii():
            # The verifier accepts until expiry + skew, inclusive.
            last = int(expiry) + self.policy.clock_skew_ms
        else:  # no expiry (explicitly allowed): remember it for the longest lifetime
            last = now + self.policy.max_lifetime_ms
        return Checked(decision, replay_key(payload), last, _tenant(quorum))


def _members(quorum: KeyQuorum) -> str:
    keys = ",".join(sorted(key.key_id for key in quorum.public_keys))
    users = ",".join(sorted(quorum.user_ids))
    nested = ",".join(sorted(_members(q) for q in quorum.key_quorums))
    return f"{quorum.authorization_threshold}|{keys}|{users}|({nested})"


@functools.lru_cache(maxsize=4096)
def _tenant(quorum: KeyQuorum) -> str:
    """Whom the replay store counts an approval against: the quorum (its id, else a digest of
    its members and threshold, the same in every process), so that the signers of one quorum
    fill only that quorum's share of the store."""
    if quorum.id:
        return f"privy:{quorum.id}"
    return "privy:~" + hashlib.sha256(_members(quorum).encode()).hexdigest()[:32]


def _refusal(quorum: KeyQuorum, reason: str, text: str) -> Decision:
    """The verifier's own refusal-before-matching, in the verifier's sentence style."""
    return refuse(reason, f"Refused: {text.rstrip('.')}.", quorum)
