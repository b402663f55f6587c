"""RFC 9421 on the HTTP layer: :class:`HttpSigScheme`, the scheme the Gate runs.

The request must satisfy a :class:`~authsig.httpsig.quorum.Quorum` (or, without one, carry one
signature by any key the resolver knows). The Gate owns the replay step: this scheme names the
request by its ``nonce`` and says until when a copy could be accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from authsig.http import Checked, Facts, RequestInfo
from authsig.httpsig.components import HttpMessage
from authsig.httpsig.decision import HttpSigDecision
from authsig.httpsig.explain import diagnose_refusal
from authsig.httpsig.quorum import Quorum
from authsig.httpsig.verify import KeyResolver, KeySource, verify_request
from authsig.policy import DEFAULT_POLICY, Policy

__all__ = ["ANY_KEY", "HttpSigScheme", "QuorumSource", "message_of"]

QuorumSource = Quorum | Callable[[RequestInfo], Quorum | None] | None


class _AnyKey:
    """The target when no quorum is configured: one signature by any known key."""

    def __repr__(self) -> str:
        return "ANY_KEY"


ANY_KEY = _AnyKey()


def message_of(info: RequestInfo) -> HttpMessage:
    """The message a signature covers: the method, the public URL and the header lines."""
    return HttpMessage(info.method, info.url, info.header_items)


class HttpSigScheme:
    """RFC 9421 signatures by ``keys`` (a mapping of keyid to key, or a callable), against
    ``quorum`` (a :class:`Quorum`, a sync callable of the request returning one or None to pass
    the request through, or None: one signature by any known key).

    ``require_nonce``: every signature carries the same ``nonce`` (the replay store's name for
    the request); ``require_content_digest``: signatures cover the body; ``tag``: only
    signatures with this tag count; ``paths``: the paths to protect (None: all).
    """

    name = "httpsig"
    signs_url = True  # @authority and @target-uri cover the host
    #: The refusals a near miss can explain (a component or the body that differed).
    diagnosed_reasons = frozenset({"invalid_signature", "httpsig_digest_mismatch"})

    def __init__(
        self,
        *,
        keys: KeySource | KeyResolver,
        quorum: QuorumSource = None,
        policy: Policy | None = None,
        require_nonce: bool = True,
        require_content_digest: bool = True,
        tag: str | None = None,
        paths: Iterable[str] | None = None,
    ) -> None:
        if quorum is not None and not isinstance(quorum, Quorum) and not callable(quorum):
            raise TypeError("quorum must be a Quorum, a callable resolver or None")
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
        if isinstance(paths, str):
            raise TypeError("paths must be an iterable of paths, not one string")
        self.keys = keys if isinstance(keys, KeyResolver) else KeyResolver(keys)
        self.quorum = quorum
        self.policy = policy if policy is not None else DEFAULT_POLICY
        self.require_nonce = bool(require_nonce)
        self.require_content_digest = bool(require_content_digest)
        self.tag = tag
        self.paths = None if paths is None else frozenset(paths)

    def resolve(self, info: RequestInfo) -> Quorum | _AnyKey | None:
        """What the request must satisfy, or None to pass it through."""
        if self.paths is not None and info.path not in self.paths:
            return None
        source = self.quorum
        if source is None:
            return ANY_KEY
        if isinstance(source, Quorum):
            return source
        found = source(info)
        if inspect.isawaitable(found):
            raise TypeError("the quorum resolver must be synchronous")
        if found is not None and not isinstance(found, Quorum):
            raise TypeError("the quorum resolver must return a Quorum or None")
        return found

    async def resolve_async(self, info: RequestInfo) -> Quorum | _AnyKey | None:
        """As :meth:`resolve` (no I/O)."""
        return self.resolve(info)

    def screen(self, info: RequestInfo, target: Any, now: int) -> HttpSigDecision | None:
        """Refuse an unsigned request before its body is read."""
        if "signature-input" in info.headers or "signature" in info.headers:
            return None
        return HttpSigDecision.refuse(
            "missing_signature", "the request has no Signature-Input and Signature fields"
        )

    def verify(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked:
        """Check the request (no I/O: the replay step is the Gate's)."""
        quorum = target if isinstance(target, Quorum) else None
        checked = verify_request(
            message_of(info),
            body,
            keys=self.keys,
            quorum=quorum,
            policy=self.policy,
            now_ms=now,
            require_nonce=self.require_nonce,
            require_content_digest=self.require_content_digest,
            tag=self.tag,
        )
        tenant = f"httpsig:{quorum.name}" if quorum is not None and quorum.name else "httpsig"
        return Checked(checked.decision, checked.replay_key, checked.last_ms, tenant)

    async def verify_async(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked:
        """As :meth:`verify`."""
        return self.verify(info, body, target, now)

    def describe(self, target: Any, decision: HttpSigDecision | None) -> Facts:
        """The quorum's name, valid and required approvals, and the keyids that counted."""
        name = target.name or None if isinstance(target, Quorum) else None
        required = target.threshold if isinstance(target, Quorum) else 1
        if decision is None:
            return Facts(name, None, required)
        return Facts(name, decision.valid_approvals, required, decision.keyids)

    def diagnose(
        self, info: RequestInfo, body: bytes, target: Any, decision: HttpSigDecision
    ) -> str | None:
        """Which component (or the body) differed from what was signed, when it can tell."""
        return diagnose_refusal(message_of(info), body, self.keys, decision)
