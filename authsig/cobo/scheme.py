"""Cobo on the HTTP layer: the two schemes the Gate runs.

- :class:`CoboEventScheme`: Cobo's own signature on webhooks and callbacks it sends to you
  (``Biz-Timestamp`` + ``Biz-Resp-Signature``, Ed25519, Cobo's published key).
- :class:`CoboRequestScheme`: requests signed *to* you the way Cobo's API is signed
  (``Biz-Api-Key`` + ``Biz-Api-Nonce`` + ``Biz-Api-Signature``), e.g. by a gateway in front of
  your own service.

Both leave the replay step to the Gate: a copy is refused for as long as its timestamp or nonce
could still be accepted.
"""

from __future__ import annotations

from collections.abc import Iterable

from authsig.cobo.decision import CoboDecision
from authsig.cobo.errors import CoboRequestError
from authsig.cobo.events import (
    DEFAULT_EVENT_TOLERANCE_MS,
    Environment,
    check_event,
    event_public_key,
)
from authsig.cobo.keys import CoboPublicKey
from authsig.cobo.signing import (
    DEFAULT_NONCE_WINDOW_MS,
    CoboChecked,
    check_request,
    load_api_keys,
)
from authsig.http import Checked, Facts, RequestInfo

__all__ = ["CoboEventScheme", "CoboRequestScheme"]


def _paths(paths: Iterable[str] | None) -> frozenset[str] | None:
    if isinstance(paths, str):
        raise TypeError("paths must be an iterable of paths, not one string")
    return None if paths is None else frozenset(paths)


def _window(name: str, value: int | None, *, optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer (milliseconds)")
    if value < 0:
        raise CoboRequestError(f"{name} must not be negative")


def _as_gate(checked: CoboChecked, tenant: str) -> Checked:
    return Checked(checked.decision, checked.replay_key, checked.last_ms, tenant)


class _PathScoped:
    """Checks the requests whose path is in ``paths`` (every request when None)."""

    paths: frozenset[str] | None

    def resolve(self, info: RequestInfo) -> bool | None:
        """True when the request must be checked, None to pass it through."""
        return True if self.paths is None or info.path in self.paths else None

    async def resolve_async(self, info: RequestInfo) -> bool | None:
        """As :meth:`resolve` (no I/O)."""
        return self.resolve(info)

    def _check(self, info: RequestInfo, body: bytes, now: int) -> CoboChecked:
        raise NotImplementedError

    def _tenant(self, checked: CoboChecked) -> str:
        """Whom the replay store counts an approval against (the key that signed it)."""
        raise NotImplementedError

    def verify(self, info: RequestInfo, body: bytes, target: object, now: int) -> Checked:
        """Check the request (no I/O: the replay step is the Gate's)."""
        checked = self._check(info, body, now)
        return _as_gate(checked, self._tenant(checked))

    async def verify_async(
        self, info: RequestInfo, body: bytes, target: object, now: int
    ) -> Checked:
        """As :meth:`verify`."""
        return self.verify(info, body, target, now)

    def _signer(self, decision: CoboDecision) -> str | None:
        raise NotImplementedError

    def describe(self, target: object, decision: CoboDecision | None) -> Facts:
        """One signature is required; on approval, who made it (for the log and the hook)."""
        approved = decision is not None and decision.approved
        signer = self._signer(decision) if decision is not None and approved else None
        return Facts(None, int(approved), 1, (signer,) if signer else ())


class CoboEventScheme(_PathScoped):
    """Cobo webhook/callback signatures: ``public_key`` (else Cobo's key for ``environment``),
    ``tolerance_ms`` around ``Biz-Timestamp``, and the ``paths`` to protect."""

    name = "cobo-event"
    signs_url = False  # Cobo signs the body and a timestamp, not the URL

    def __init__(
        self,
        *,
        public_key: str | bytes | CoboPublicKey | None = None,
        environment: Environment = "prod",
        tolerance_ms: int | None = DEFAULT_EVENT_TOLERANCE_MS,
        paths: Iterable[str] | None = None,
    ) -> None:
        # Resolve the key now: a wrong configuration fails at start-up, not per request.
        self.public_key = event_public_key(public_key, environment)
        _window("tolerance_ms", tolerance_ms, optional=True)
        self.tolerance_ms = tolerance_ms
        self.paths = _paths(paths)

    def _tenant(self, checked: CoboChecked) -> str:
        return f"cobo-event:{self.public_key.hex}"

    def _signer(self, decision: CoboDecision) -> str | None:
        return self.public_key.hex

    def _check(self, info: RequestInfo, body: bytes, now: int) -> CoboChecked:
        return check_event(
            body, info.header_items, key=self.public_key, now_ms=now, tolerance_ms=self.tolerance_ms
        )


class CoboRequestScheme(_PathScoped):
    """Cobo-style request signatures by one of ``api_keys``, fresh within ``window_ms``."""

    name = "cobo-request"
    signs_url = False  # Cobo signs the path and query, which need no public host

    def __init__(
        self,
        *,
        api_keys: Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey,
        window_ms: int = DEFAULT_NONCE_WINDOW_MS,
        accept_sdk_empty_object: bool = True,
        paths: Iterable[str] | None = None,
    ) -> None:
        self.keys = load_api_keys(api_keys)
        _window("window_ms", window_ms, optional=False)
        self.window_ms = window_ms
        self.accept_sdk_empty_object = bool(accept_sdk_empty_object)
        self.paths = _paths(paths)

    #: A signature that does not verify may match a common signing mistake.
    diagnosed_reasons = frozenset({"invalid_signature"})

    def _tenant(self, checked: CoboChecked) -> str:
        api_key = checked.decision.api_key
        return f"cobo-request:{api_key}" if api_key else ""

    def _signer(self, decision: CoboDecision) -> str | None:
        return decision.api_key

    def diagnose(
        self, info: RequestInfo, body: bytes, target: object, decision: CoboDecision
    ) -> str | None:
        """The common signing mistake the signature matches (trailing slash, ``/v2`` prefix,
        query order or encoding, empty body), or None."""
        if decision.timestamp_ms is None:
            return None
        # At the request's own nonce time the freshness check passes, so only the signature
        # is looked at again, this time with its near misses.
        again = self._check_request(info, body, decision.timestamp_ms, explain=True)
        _, found, hint = again.decision.message.partition("; it would match with ")
        if not found:
            return None
        return f"the signature matches {hint}; sign the path, query and body exactly as sent"

    def _check(self, info: RequestInfo, body: bytes, now: int) -> CoboChecked:
        return self._check_request(info, body, now, explain=False)

    def _check_request(
        self, info: RequestInfo, body: bytes, now: int, *, explain: bool
    ) -> CoboChecked:
        return check_request(
            info.header_items,
            method=info.method,
            path=info.raw_path,
            params=info.query_string,
            body=body,
            keys=self.keys,
            now_ms=now,
            window_ms=self.window_ms,
            accept_sdk_empty_object=self.accept_sdk_empty_object,
            explain=explain,
        )
