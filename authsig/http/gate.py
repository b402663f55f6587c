"""The Gate: one request through a scheme's verifier and the replay step, for every scheme.

A *scheme* (Privy, Cobo, or any later one) plugs in through the :class:`Scheme` protocol: it
says whether a request needs checking (``resolve``) and checks it (``verify``), returning a
:class:`Checked` with its decision and, for an approved request, the replay claim. The Gate
owns everything around that: the body limit, the public URL, the replay store (called from
sync code with ``add_if_absent`` and from async code with ``add_if_absent_async``, so that no
scheme can block an event loop on a store), and the problem document of a refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from authsig._clock import now_ms
from authsig.errors import AuthSigError, ReplayQuotaExceededError, ReplayStoreUnavailableError
from authsig.http.problem import PROBLEM_TYPE_PREFIX, Problem
from authsig.http.request import RequestInfo, URLSettings
from authsig.reasons import Reason
from authsig.replay import MemoryReplayStore, ReplayStore, SQLiteReplayStore, claim, claim_async

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "Checked",
    "Gate",
    "GateOptions",
    "Outcome",
    "Scheme",
    "Verdict",
]

logger = logging.getLogger("authsig.http")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Default limit on a signed request's body (1 MiB)."""

_REPLAYED = "this signed request was already accepted; send a new one"


@runtime_checkable
class Verdict(Protocol):
    """What the Gate reads of a scheme's decision."""

    @property
    def approved(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class Checked:
    """A scheme's answer: its ``decision`` and, when approved, the replay claim.

    ``replay_key`` names the signed content (two requests share it exactly when a signature on
    one also verifies on the other); ``keep_until_ms`` is the last millisecond at which the
    scheme could still accept a copy (inclusive), so the Gate asks the store to keep the key
    until the millisecond after it: no store can then call a copy fresh while the scheme would
    still accept it. ``replay_key`` None means the scheme has nothing to claim. ``tenant`` names
    who signed (a quorum, an API key): the store bounds each tenant's share, so that one signer
    cannot fill it for everyone; ``""`` names nobody.
    """

    decision: Any
    replay_key: str | None = None
    keep_until_ms: int = 0
    tenant: str = ""


class Scheme(Protocol):
    """A signature scheme, as the Gate runs it.

    ``resolve`` returns what the request must satisfy (a quorum, a key set, ...), or None to
    pass the request through unchecked. ``verify`` checks the request against it at ``now``
    (milliseconds since the epoch). The async twins differ only where they await.
    """

    name: str

    def resolve(self, info: RequestInfo) -> Any | None: ...

    async def resolve_async(self, info: RequestInfo) -> Any | None: ...

    def verify(self, info: RequestInfo, body: bytes, target: Any, now: int) -> Checked: ...

    async def verify_async(
        self, info: RequestInfo, body: bytes, target: Any, now: int
    ) -> Checked: ...


@dataclass(frozen=True)
class Outcome:
    """The Gate's result: pass the request on (``problem`` None) or refuse it."""

    decision: Any
    problem: Problem | None

    @property
    def passed(self) -> bool:
        """Whether the request goes on to the application."""
        return self.problem is None


class GateOptions(TypedDict, total=False):
    """The HTTP settings every middleware accepts besides its scheme's own."""

    public_base_url: str | None
    trusted_proxies: Iterable[str]
    max_body_bytes: int
    replay_store: ReplayStore | Literal["default", "sqlite", "memory"] | None
    problem_type_prefix: str
    detailed_problems: bool
    clock: Callable[[], int] | None


def _store(value: object) -> ReplayStore | None:
    if value in ("default", "sqlite"):
        return SQLiteReplayStore()
    if value == "memory":
        return MemoryReplayStore()
    if value is None:
        return None
    if isinstance(value, str) or not callable(getattr(value, "add_if_absent", None)):
        raise TypeError('replay_store must be a ReplayStore, "default", "sqlite", "memory" or None')
    return value  # type: ignore[return-value]


class Gate:
    """Decides on one request with ``scheme``; see :class:`GateOptions` for the settings.

    - ``public_base_url`` / ``trusted_proxies``: how the signed URL is rebuilt
      (:class:`~authsig.http.request.URLSettings`).
    - ``max_body_bytes``: body limit of checked requests (413 beyond it).
    - ``replay_store``: approved requests are recorded until they could no longer be accepted,
      and copies refused (409). ``"default"`` (or ``"sqlite"``) is a
      :class:`~authsig.replay.SQLiteReplayStore` at its default location, shared by every
      process on the host; ``"memory"`` a store of this process only; ``None`` turns replay
      protection off, explicitly.
    - ``problem_type_prefix``: prefix of the problem ``type`` URI.
    - ``detailed_problems``: when False, the problem ``detail`` is the reason's generic sentence
      instead of the scheme's own message.
    - ``clock``: milliseconds since the epoch (for tests); the scheme checks freshness with it.
    """

    def __init__(
        self,
        scheme: Scheme,
        *,
        public_base_url: str | None = None,
        trusted_proxies: Iterable[str] = (),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        replay_store: ReplayStore | Literal["default", "sqlite", "memory"] | None = "default",
        problem_type_prefix: str = PROBLEM_TYPE_PREFIX,
        detailed_problems: bool = True,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise TypeError("max_body_bytes must be an integer")
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.scheme = scheme
        self.urls = URLSettings(public_base_url, trusted_proxies)
        self.max_body_bytes = max_body_bytes
        self.replay_store: ReplayStore | None = _store(replay_store)
        self.type_prefix = problem_type_prefix
        self.detailed_problems = bool(detailed_problems)
        self.clock: Callable[[], int] = clock if clock is not None else now_ms

    # -- problems

    def problem(self, reason: str, detail: str | None = None) -> Problem:
        """The problem document of ``reason``; ``detail`` shown only with detailed problems."""
        if Reason.get(reason) is None:
            logger.error(
                "authsig: scheme %s refused with unregistered reason %r", self._name, reason
            )
        shown = detail if self.detailed_problems else None
        return Problem.build(reason, shown, type_prefix=self.type_prefix)

    def too_large(self) -> Problem:
        """The 413 problem."""
        return self.problem(
            "body_too_large", f"the request body exceeds the limit of {self.max_body_bytes} bytes"
        )

    def internal_error(self) -> Problem:
        """The 500 problem (the cause goes to the log only)."""
        return Problem.build("internal_error", type_prefix=self.type_prefix)

    @property
    def _name(self) -> str:
        return str(getattr(self.scheme, "name", type(self.scheme).__name__))

    def _error_problem(self, exc: AuthSigError) -> Problem:
        if Reason.get(exc.code) is not None and exc.code != "approved":
            return self.problem(exc.code, exc.message)
        logger.error(
            "authsig: %s check failed with %s (%s)", self._name, type(exc).__name__, exc.code
        )
        return self.internal_error()

    # -- the steps around the scheme and the store (shared by check and check_async)

    def _pending(self, checked: Checked) -> Outcome | tuple[ReplayStore, str]:
        """The outcome when there is no replay claim to make, else the store and the key."""
        decision = checked.decision
        if not decision.approved:
            return Outcome(decision, self.problem(decision.reason, decision.message))
        if self.replay_store is None or checked.replay_key is None:
            return Outcome(decision, None)
        return self.replay_store, checked.replay_key

    def _claimed(self, checked: Checked, fresh: bool) -> Outcome:
        return Outcome(checked.decision, None if fresh else self.problem("replayed", _REPLAYED))

    def _claim_failed(self, checked: Checked, exc: AuthSigError) -> Outcome:
        if isinstance(exc, ReplayQuotaExceededError):
            logger.warning("authsig: replay quota exceeded by %s", checked.tenant)
            return Outcome(checked.decision, self.problem(exc.code, exc.message))
        if isinstance(exc, ReplayStoreUnavailableError):
            logger.error("authsig: replay store unavailable: %s", exc.message)
            return Outcome(checked.decision, self.problem(exc.code, exc.message))
        return Outcome(checked.decision, self._error_problem(exc))

    # -- check and check_async differ only in awaiting the scheme and the store

    def check(self, info: RequestInfo, body: bytes, target: Any) -> Outcome:
        """Verify the request with the scheme and record it in the replay store (sync)."""
        try:
            checked = self.scheme.verify(info, body, target, self.clock())
        except AuthSigError as exc:
            return Outcome(None, self._error_problem(exc))
        pending = self._pending(checked)
        if isinstance(pending, Outcome):
            return pending
        store, key = pending
        try:
            fresh = claim(store, key, checked.keep_until_ms + 1, checked.tenant)
        except AuthSigError as exc:
            return self._claim_failed(checked, exc)
        return self._claimed(checked, fresh)

    async def check_async(self, info: RequestInfo, body: bytes, target: Any) -> Outcome:
        """Verify the request with the scheme and record it in the replay store (async)."""
        try:
            checked = await self.scheme.verify_async(info, body, target, self.clock())
        except AuthSigError as exc:
            return Outcome(None, self._error_problem(exc))
        pending = self._pending(checked)
        if isinstance(pending, Outcome):
            return pending
        store, key = pending
        try:
            fresh = await claim_async(store, key, checked.keep_until_ms + 1, checked.tenant)
        except AuthSigError as exc:
            return self._claim_failed(checked, exc)
        return self._claimed(checked, fresh)
