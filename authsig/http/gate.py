"""The Gate: one request through a scheme's verifier and the replay step, for every scheme.

A *scheme* (Privy, Cobo, or any later one) plugs in through the :class:`Scheme` protocol: it
says whether a request needs checking (``resolve``) and checks it (``verify``), returning a
:class:`Checked` with its decision and, for an approved request, the replay claim. The Gate
owns everything around that: the body limit, the public URL, the replay store (called from
sync code with ``add_if_absent`` and from async code with ``add_if_absent_async``, so that no
scheme can block an event loop on a store), and the problem document of a refusal. Every
decision is logged, counted and passed to the ``on_decision`` hook by
:class:`~authsig.http.observe.Observer`, inside the Gate's own methods, so every caller of
``screen``/``check``/``check_async`` gets them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable
from urllib.parse import parse_qsl

from authsig._clock import now_ms
from authsig.errors import AuthSigError, ReplayQuotaExceededError, ReplayStoreUnavailableError
from authsig.http.metrics import MetricsSetting, resolve_metrics
from authsig.http.observe import DecisionHook, Observer
from authsig.http.problem import PROBLEM_TYPE_PREFIX, Problem
from authsig.http.proxy import ProxyHeaders
from authsig.http.request import RequestInfo, URLSettings
from authsig.reasons import Reason
from authsig.replay import MemoryReplayStore, ReplayStore, SQLiteReplayStore, claim, claim_async

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "METHOD_OVERRIDE_HEADERS",
    "METHOD_OVERRIDE_PARAMETER",
    "Checked",
    "Gate",
    "GateOptions",
    "Outcome",
    "Scheme",
    "Verdict",
]

logger = logging.getLogger("authsig.http")

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""Default limit on a signed request's body (256 KiB): signed API calls are small (a Privy RPC
or a key-quorum update is well under 10 KiB), and the verifier's work grows with the body."""

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

    Optional, for the operator (the Gate looks them up with ``getattr``): ``screen(info,
    target, now)`` refuses on the headers alone before the body is read;
    ``describe(target, decision) -> Facts`` names the target and counts approvals for the log
    and the hook; ``diagnose(info, body, target, decision) -> str | None`` says in one sentence
    why a refusal happened and what fixes it (run on refusals only, within a budget; in a
    worker thread under ASGI), limited to the reasons in ``diagnosed_reasons`` when the scheme
    has that attribute.
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
    detail: str = field(default="", compare=False, repr=False)
    """The refusal's full sentence for the log (the client gets ``problem.detail``)."""

    @property
    def passed(self) -> bool:
        """Whether the request goes on to the application."""
        return self.problem is None


class GateOptions(TypedDict, total=False):
    """The HTTP settings every middleware accepts besides its scheme's own."""

    public_base_url: str | None
    trusted_proxies: Iterable[str]
    proxy_headers: ProxyHeaders | None
    trust_host_header: bool
    max_body_bytes: int
    body_timeout: float | None
    replay_store: ReplayStore | Literal["default", "sqlite", "memory"] | None
    allow_method_override: bool
    problem_type_prefix: str
    detailed_problems: bool
    clock: Callable[[], int] | None
    on_decision: DecisionHook | None
    on_decision_required: bool
    metrics: MetricsSetting
    explain_refusals: bool | int


#: Headers and the query parameter with which frameworks and shims let a request pretend to be
#: another method. A signature covers the method sent, so a shim behind the middleware would run
#: a signed POST as, say, DELETE.
METHOD_OVERRIDE_HEADERS = ("x-http-method-override", "x-http-method", "x-method-override")
METHOD_OVERRIDE_PARAMETER = "_method"

DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds a checked request's body may take to arrive (ASGI): a slow upload is refused."""


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def _timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("body_timeout must be a number of seconds or None")
    if not value > 0:
        raise ValueError("body_timeout must be positive")
    return float(value)


def _check_url_pin(scheme: object, urls: URLSettings, trust_host_header: bool) -> None:
    """A scheme that signs the URL must know which host it was signed for."""
    if not getattr(scheme, "signs_url", True):
        return
    if urls.public_base_url is None and not urls.trusted and not trust_host_header:
        raise ValueError(
            "set public_base_url (the URL clients sign, e.g. https://api.example.com), or "
            "trusted_proxies with proxy_headers; trust_host_header=True lets the client's Host "
            "header decide, for development only"
        )


def _method_override(info: RequestInfo) -> str | None:
    for name in METHOD_OVERRIDE_HEADERS:
        if name in info.headers:
            return f"the {name} header"
    if info.query_string and any(
        name == METHOD_OVERRIDE_PARAMETER
        for name, _ in parse_qsl(info.query_string, keep_blank_values=True)
    ):
        return f"the {METHOD_OVERRIDE_PARAMETER} parameter"
    return None


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

    - ``public_base_url`` / ``trusted_proxies`` / ``proxy_headers``: how the signed URL is
      rebuilt (:class:`~authsig.http.request.URLSettings`). A scheme whose signatures cover the
      URL needs one of them, or ``trust_host_header=True`` (development only: the client's
      ``Host`` header then decides which host the signature is checked for).
    - ``max_body_bytes``: body limit of checked requests (413 beyond it).
    - ``body_timeout``: seconds the body of a checked request may take to arrive under ASGI
      (408 beyond it; None: no deadline). Under WSGI the server's own timeout applies.
    - ``allow_method_override``: refuse (the default) or let through requests that carry a
      method-override header or ``_method`` parameter.
    - ``replay_store``: approved requests are recorded until they could no longer be accepted,
      and copies refused (409). ``"default"`` (or ``"sqlite"``) is a
      :class:`~authsig.replay.SQLiteReplayStore` at its default location, shared by every
      process on the host; ``"memory"`` a store of this process only; ``None`` turns replay
      protection off, explicitly.
    - ``problem_type_prefix``: prefix of the problem ``type`` URI.
    - ``detailed_problems``: when False (the default), the problem ``detail`` is the reason's
      generic sentence, and the scheme's own message (which may name quorums, members or the
      server's clock) goes to the ``authsig.http`` log only; True sends it to the client.
    - ``clock``: milliseconds since the epoch (for tests); the scheme checks freshness with it.
    - ``on_decision``: ``hook(info, record)`` (sync or async) for every approval (called before
      the application runs) and refusal, with a :class:`~authsig.http.observe.DecisionRecord`.
      A hook that raises is logged (once per streak of failures) and the decision stands;
      ``on_decision_required=True`` refuses an approval the hook failed to record (500).
    - ``metrics``: ``"auto"`` (Prometheus collectors when ``prometheus_client`` is installed,
      else nothing), ``"prometheus"`` (required), None, or a
      :class:`~authsig.http.metrics.Metrics` object.
    - ``explain_refusals``: let the scheme diagnose refusals for the log, at most 60 a minute
      (True), N a minute (an integer), or never (False).
    """

    def __init__(
        self,
        scheme: Scheme,
        *,
        public_base_url: str | None = None,
        trusted_proxies: Iterable[str] = (),
        proxy_headers: ProxyHeaders | None = None,
        trust_host_header: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
        replay_store: ReplayStore | Literal["default", "sqlite", "memory"] | None = "default",
        allow_method_override: bool = False,
        problem_type_prefix: str = PROBLEM_TYPE_PREFIX,
        detailed_problems: bool = False,
        clock: Callable[[], int] | None = None,
        on_decision: DecisionHook | None = None,
        on_decision_required: bool = False,
        metrics: MetricsSetting = "auto",
        explain_refusals: bool | int = True,
    ) -> None:
        self.scheme = scheme
        self.urls = URLSettings(public_base_url, trusted_proxies, proxy_headers)
        _check_url_pin(scheme, self.urls, trust_host_header)
        self.max_body_bytes = _non_negative_int("max_body_bytes", max_body_bytes)
        self.body_timeout = _timeout(body_timeout)
        self.replay_store: ReplayStore | None = _store(replay_store)
        self.allow_method_override = bool(allow_method_override)
        self.type_prefix = problem_type_prefix
        self.detailed_problems = bool(detailed_problems)
        self.clock: Callable[[], int] = clock if clock is not None else now_ms
        self.observer = Observer(
            scheme,
            on_decision=on_decision,
            required=on_decision_required,
            metrics=resolve_metrics(metrics),
            explain=explain_refusals,
        )

    # -- problems

    def _build(self, reason: str, detail: str | None) -> Problem:
        if Reason.get(reason) is None:
            logger.error(
                "authsig: scheme %s refused with unregistered reason %r", self._name, reason
            )
        shown = detail if self.detailed_problems else None
        return Problem.build(reason, shown, type_prefix=self.type_prefix)

    def problem(
        self,
        reason: str,
        detail: str | None = None,
        info: RequestInfo | None = None,
        *,
        target: Any = None,
        decision: Any = None,
    ) -> Problem:
        """The problem document of ``reason``; ``detail`` reaches the client only with detailed
        problems, and the log always: the refusal of a request ``info`` (what it had to
        satisfy: ``target``; the scheme's ``decision``, if any) is logged, counted and passed
        to the ``on_decision`` hook."""
        built = self._build(reason, detail)
        self._settle(info, target, Outcome(decision, built, detail or ""), None, None)
        return built

    def screen(self, info: RequestInfo, target: Any) -> Problem | None:
        """The checks that need no body, before it is read: method override, then the scheme's
        own header checks (``screen``, when the scheme has one)."""
        if not self.allow_method_override:
            override = _method_override(info)
            if override:
                detail = f"the request carries {override}"
                return self.problem("method_override", detail, info, target=target)
        screen = getattr(self.scheme, "screen", None)
        if screen is None:
            return None
        decision = screen(info, target, self.clock())
        if decision is None or decision.approved:
            return None
        message = decision.message
        return self.problem(decision.reason, message, info, target=target, decision=decision)

    def too_large(self, info: RequestInfo | None = None, target: Any = None) -> Problem:
        """The 413 problem."""
        limit = self.max_body_bytes
        detail = f"the body exceeds the limit of {limit} bytes"
        return self.problem("body_too_large", detail, info, target=target)

    def too_slow(self, info: RequestInfo | None = None, target: Any = None) -> Problem:
        """The 408 problem."""
        detail = f"the body did not arrive within {self.body_timeout} s"
        return self.problem("body_timeout", detail, info, target=target)

    def internal_error(self) -> Problem:
        """The 500 problem (the cause goes to the log only)."""
        return Problem.build("internal_error", type_prefix=self.type_prefix)

    def unexpected(self, exc: BaseException) -> Problem:
        """The 500 problem for an exception nothing expected: logged with its traceback (never
        sent to the client) and counted."""
        logger.error(
            "authsig: unexpected %s while checking a request", type(exc).__name__, exc_info=exc
        )
        self.observer.count("internal_error")
        return self.internal_error()

    @property
    def _name(self) -> str:
        return self.observer.name

    def _error_problem(self, exc: AuthSigError) -> Outcome:
        if Reason.get(exc.code) is not None and exc.code != "approved":
            return Outcome(None, self._build(exc.code, exc.message), exc.message)
        logger.error(
            "authsig: %s check failed with %s (%s)", self._name, type(exc).__name__, exc.code
        )
        return Outcome(None, self.internal_error(), f"{type(exc).__name__} ({exc.code})")

    # -- the steps around the scheme and the store (shared by check and check_async)

    def _pending(self, checked: Checked) -> Outcome | tuple[ReplayStore, str]:
        """The outcome when there is no replay claim to make, else the store and the key."""
        decision = checked.decision
        if not decision.approved:
            message = decision.message
            return Outcome(decision, self._build(decision.reason, message), message)
        if self.replay_store is None or checked.replay_key is None:
            return Outcome(decision, None)
        return self.replay_store, checked.replay_key

    def _claimed(self, checked: Checked, fresh: bool) -> Outcome:
        self.observer.store_answered()
        if fresh:
            return Outcome(checked.decision, None)
        return Outcome(checked.decision, self._build("replayed", _REPLAYED), _REPLAYED)

    def _claim_failed(self, checked: Checked, exc: AuthSigError) -> Outcome:
        if isinstance(exc, ReplayQuotaExceededError):
            self.observer.store_answered()
            logger.warning("authsig: replay quota exceeded by %r", checked.tenant)
        elif isinstance(exc, ReplayStoreUnavailableError):
            self.observer.store_failed(self.replay_store, exc.message)
        else:
            failed = self._error_problem(exc)
            return Outcome(checked.decision, failed.problem, failed.detail)
        return Outcome(checked.decision, self._build(exc.code, exc.message), exc.message)

    def _settle(
        self,
        info: RequestInfo | None,
        target: Any,
        outcome: Outcome,
        seconds: float | None,
        verdict: str | None,
    ) -> Outcome:
        """Log, count and report ``outcome`` (sync); a required hook that fails on an
        approval turns it into a refusal."""
        observer = self.observer
        if outcome.passed and observer.quiet():
            observer.count("approved", seconds)
            return outcome
        record = observer.record(
            outcome.problem, outcome.decision, outcome.detail, target, seconds, verdict
        )
        return outcome if observer.settle(info, record) else self._unrecorded(info, outcome)

    async def _settle_async(
        self,
        info: RequestInfo,
        target: Any,
        outcome: Outcome,
        seconds: float | None,
        verdict: str | None,
    ) -> Outcome:
        """As :meth:`_settle`, awaiting an async hook."""
        observer = self.observer
        if outcome.passed and observer.quiet():
            observer.count("approved", seconds)
            return outcome
        record = observer.record(
            outcome.problem, outcome.decision, outcome.detail, target, seconds, verdict
        )
        ok = await observer.settle_async(info, record)
        return outcome if ok else self._unrecorded(info, outcome)

    def _diagnosable(self, outcome: Outcome) -> bool:
        problem = outcome.problem
        return problem is not None and self.observer.wants_diagnosis(
            outcome.decision, problem.reason
        )

    def _unrecorded(self, info: RequestInfo | None, outcome: Outcome) -> Outcome:
        """An approval the required hook failed to record: refused and logged (the hook, which
        just failed, is not called again)."""
        detail = "the on_decision hook failed to record this approval (on_decision_required)"
        refused = Outcome(outcome.decision, self.internal_error(), detail)
        self.observer.emit(info, self.observer.record(refused.problem, outcome.decision, detail))
        return refused

    # -- check and check_async differ only in awaiting the scheme, the store and the hook

    def check(self, info: RequestInfo, body: bytes, target: Any) -> Outcome:
        """Verify the request with the scheme and record it in the replay store (sync)."""
        started = perf_counter()
        try:
            checked = self.scheme.verify(info, body, target, self.clock())
        except AuthSigError as exc:
            return self._settle(info, target, self._error_problem(exc), None, None)
        seconds = perf_counter() - started
        outcome = self._pending(checked)
        if not isinstance(outcome, Outcome):
            store, key = outcome
            try:
                fresh = claim(store, key, checked.keep_until_ms + 1, checked.tenant)
            except AuthSigError as exc:
                outcome = self._claim_failed(checked, exc)
            else:
                outcome = self._claimed(checked, fresh)
        verdict = None
        if self._diagnosable(outcome):
            verdict = self.observer.diagnose(info, body, target, outcome.decision)
        return self._settle(info, target, outcome, seconds, verdict)

    async def check_async(self, info: RequestInfo, body: bytes, target: Any) -> Outcome:
        """Verify the request with the scheme and record it in the replay store (async; a
        diagnosis of a refusal runs in a worker thread)."""
        started = perf_counter()
        try:
            checked = await self.scheme.verify_async(info, body, target, self.clock())
        except AuthSigError as exc:
            return await self._settle_async(info, target, self._error_problem(exc), None, None)
        seconds = perf_counter() - started
        outcome = self._pending(checked)
        if not isinstance(outcome, Outcome):
            store, key = outcome
            try:
                fresh = await claim_async(store, key, checked.keep_until_ms + 1, checked.tenant)
            except AuthSigError as exc:
                outcome = self._claim_failed(checked, exc)
            else:
                outcome = self._claimed(checked, fresh)
        verdict = None
        if self._diagnosable(outcome):
            diagnose = self.observer.diagnose
            verdict = await asyncio.to_thread(diagnose, info, body, target, outcome.decision)
        return await self._settle_async(info, target, outcome, seconds, verdict)
