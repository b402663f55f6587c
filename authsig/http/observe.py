"""What the Gate tells the operator: one log line per refusal, metrics, and the decision hook.

- **The log.** Every refusal is one line on the ``authsig.http`` logger: method, path, reason,
  status, scheme, what had to approve (a quorum id), the valid and required approvals, the
  scheme's diagnosis of the refusal (``verdict``) and the scheme's own sentence. Text that came
  from outside (the method, the path, the sentence, which may quote a header) is written with
  ``repr`` escaping and clipped, so a client cannot forge or break log lines; header values
  are never logged on their own, and no key material reaches a scheme's sentence. The line is
  INFO, or WARNING when the diagnosis names a fix (the deployment, or a client, is wrong).
  The same fields are on the record as ``record.authsig`` (a dict) for structured formatters.
- **The diagnosis.** A scheme may explain its refusals (``diagnose``): Privy finds the near
  miss a signature matches. It runs on refusals only, at most ``explain_refusals`` times a
  minute per Gate (a token bucket: forged requests cannot make the server work without end).
- **The hook.** ``on_decision(info, record)``, sync or async, sees every approval (before the
  application runs) and every refusal, with a :class:`DecisionRecord`.
- **Failures of dependencies** (the replay store, the hook) are logged at ERROR once per streak
  of failures, not once per request, and their recovery once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from authsig.http.metrics import Metrics
from authsig.http.problem import Problem
from authsig.http.request import RequestInfo

__all__ = [
    "DEFAULT_EXPLANATIONS_PER_MINUTE",
    "Budget",
    "DecisionHook",
    "DecisionRecord",
    "Facts",
    "Observer",
    "Streak",
]

logger = logging.getLogger("authsig.http")

DEFAULT_EXPLANATIONS_PER_MINUTE = 60
"""Diagnoses per minute and Gate with ``explain_refusals=True``: enough for every refusal of a
misconfigured deployment to be explained at first, bounded under a flood of forgeries."""

#: Characters of outside text (a path, a sentence) written into one log field; a verdict, a
#: sentence of ours quoting two URLs, gets twice as many.
_CLIP = 300


@dataclass(frozen=True)
class Facts:
    """What a scheme says about a decision (its optional ``describe(target, decision)``):
    ``target`` names what had to approve (a quorum id), ``approvals`` and ``required`` count
    valid and required approvals, ``signers`` are the key ids whose signatures counted."""

    target: str | None = None
    approvals: int | None = None
    required: int | None = None
    signers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionRecord:
    """One decision of the Gate, as the hook receives it.

    ``approved``: the request went on to the application. ``reason`` is ``"approved"`` or the
    refusal's reason code, ``status`` the HTTP status (200 for an approval). ``message`` is the
    scheme's (or the Gate's) full sentence, unescaped: escape it before writing it anywhere.
    ``verdict`` is the scheme's diagnosis of a refusal, when one was made. ``seconds`` is the
    verification time (None when the request was refused before the scheme verified it).
    ``decision`` is the scheme's own decision object (None when the scheme never decided).
    """

    scheme: str
    approved: bool
    reason: str
    status: int
    message: str
    target: str | None = None
    approvals: int | None = None
    required: int | None = None
    signers: tuple[str, ...] = ()
    verdict: str | None = None
    seconds: float | None = None
    decision: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (without ``decision``, the scheme's own object)."""
        return {
            "scheme": self.scheme,
            "approved": self.approved,
            "reason": self.reason,
            "status": self.status,
            "message": self.message,
            "target": self.target,
            "approvals": self.approvals,
            "required": self.required,
            "signers": list(self.signers),
            "verdict": self.verdict,
            "seconds": self.seconds,
        }


DecisionHook: TypeAlias = Callable[[RequestInfo, DecisionRecord], Awaitable[None] | None]
"""``on_decision(info, record)``: a function or a coroutine function."""


class Budget:
    """A token bucket: at most ``per_minute`` takes in any minute, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._tokens = float(per_minute)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Use one token if there is one."""
        with self._lock:
            now = self._clock()
            refill = (now - self._last) * self.per_minute / 60.0
            self._tokens = min(float(self.per_minute), self._tokens + refill)
            self._last = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class Streak:
    """Consecutive failures of one dependency: log the first, count the rest, log the end."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def fail(self) -> bool:
        """Count a failure; True when it starts a streak (the one to log)."""
        with self._lock:
            self._count += 1
            return self._count == 1

    def clear(self) -> int:
        """End the streak; the number of failures it had (0: there was none)."""
        if not self._count:  # the common case, without the lock
            return 0
        with self._lock:
            count, self._count = self._count, 0
            return count


def _q(text: object, limit: int = _CLIP) -> str:
    """Outside text as one escaped, bounded log field."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "..."
    return repr(value)


_TASKS: set[asyncio.Task[None]] = set()


async def _awaited(value: Awaitable[Any]) -> None:
    await value


def _run_awaitable(value: Awaitable[Any], *, wait: bool, failed: Callable[[Any], object]) -> None:
    """Run an async hook's awaitable from sync code: in a new event loop when none runs in this
    thread (WSGI); as a task of the running loop when the caller need not wait (a refusal
    decided by a sync method under ASGI); else in a worker thread, waited for."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_awaited(value))
        return
    if wait:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _awaited(value)).result()
        return
    task = loop.create_task(_awaited(value))
    _TASKS.add(task)  # the loop keeps only a weak reference to its tasks

    def done(finished: asyncio.Task[None]) -> None:
        _TASKS.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            failed(finished.exception())

    task.add_done_callback(done)


class Observer:
    """The log, the metrics, the diagnosis budget and the hook of one Gate."""

    def __init__(
        self,
        scheme: object,
        *,
        on_decision: DecisionHook | None,
        required: bool,
        metrics: Metrics,
        explain: bool | int,
    ) -> None:
        if on_decision is not None and not callable(on_decision):
            raise TypeError("on_decision must be a function (sync or async) or None")
        if not isinstance(explain, bool | int) or explain < 0:
            raise ValueError("explain_refusals must be True, False or a number per minute")
        self.scheme = scheme
        self.name = str(getattr(scheme, "name", type(scheme).__name__))
        self.hook = on_decision
        self.required = bool(required)
        self.metrics = metrics
        per_minute = DEFAULT_EXPLANATIONS_PER_MINUTE if explain is True else int(explain)
        self.budget = Budget(per_minute) if per_minute else None
        self.store = Streak()
        self.hook_failures = Streak()

    # -- the record

    def record(
        self,
        problem: Problem | None,
        decision: Any,
        detail: str,
        target: Any = None,
        seconds: float | None = None,
        verdict: str | None = None,
    ) -> DecisionRecord:
        """The record of one decision (``problem`` None: approved; ``detail``: the refusal's
        full sentence), with what the scheme says about it."""
        facts = self._facts(target, decision)
        if problem is None:
            reason, status, message = "approved", 200, str(getattr(decision, "message", ""))
        else:
            reason, status, message = problem.reason, problem.status, detail
        return DecisionRecord(
            self.name,
            problem is None,
            reason,
            status,
            message,
            facts.target,
            facts.approvals,
            facts.required,
            facts.signers,
            verdict,
            seconds,
            decision,
        )

    def _facts(self, target: Any, decision: Any) -> Facts:
        describe = getattr(self.scheme, "describe", None)
        if describe is None or target is None:
            return Facts()
        try:
            facts = describe(target, decision)
        except Exception as exc:  # a diagnostic aid must never change the outcome
            logger.error("authsig: %s describe() raised %s", self.name, type(exc).__name__)
            return Facts()
        return facts if isinstance(facts, Facts) else Facts()

    def quiet(self) -> bool:
        """True when an approval needs nothing but a count (no hook, no DEBUG line)."""
        return self.hook is None and not logger.isEnabledFor(logging.DEBUG)

    # -- the diagnosis

    def wants_diagnosis(self, decision: Any, reason: str) -> bool:
        """Whether a refusal with the scheme's ``decision`` gets a diagnosis attempt."""
        if self.budget is None or decision is None or getattr(decision, "approved", True):
            return False
        if getattr(decision, "reason", None) != reason:  # refused by the Gate, not the scheme
            return False
        if getattr(self.scheme, "diagnose", None) is None:
            return False
        reasons = getattr(self.scheme, "diagnosed_reasons", None)
        return reasons is None or reason in reasons

    def diagnose(self, info: RequestInfo, body: bytes, target: Any, decision: Any) -> str | None:
        """The scheme's diagnosis, within the budget (call after :meth:`wants_diagnosis`)."""
        assert self.budget is not None
        if not self.budget.take():
            return f"not diagnosed: over {self.budget.per_minute} diagnoses a minute"
        try:
            verdict = self.scheme.diagnose(info, body, target, decision)  # type: ignore[attr-defined]
        except Exception as exc:
            logger.error(
                "authsig: %s diagnose() raised %s", self.name, type(exc).__name__, exc_info=True
            )
            return None
        return verdict if isinstance(verdict, str) and verdict else None

    # -- the log and the metrics

    def count(self, reason: str, seconds: float | None = None) -> None:
        """Report one decision (and its verification time) to the metrics."""
        try:
            self.metrics.decided(self.name, reason)
            if seconds is not None:
                self.metrics.verified(self.name, seconds)
        except Exception as exc:  # metrics are an aid; they never change an outcome
            logger.error("authsig: metrics raised %s", type(exc).__name__)

    def emit(self, info: RequestInfo | None, record: DecisionRecord) -> None:
        """Count the decision and log it (refusals: INFO or WARNING; approvals: DEBUG)."""
        self.count(record.reason, record.seconds)
        if record.approved:
            if logger.isEnabledFor(logging.DEBUG):
                self._log(logging.DEBUG, "approved", info, record)
            return
        diagnosed = record.verdict is not None and not record.verdict.startswith("not diagnosed")
        self._log(logging.WARNING if diagnosed else logging.INFO, "refused", info, record)

    def _log(self, level: int, what: str, info: RequestInfo | None, record: DecisionRecord) -> None:
        method = info.method if info is not None else "-"
        path = info.path if info is not None else "-"
        approvals = (
            f"{record.approvals}/{record.required}"
            if record.approvals is not None and record.required is not None
            else "-"
        )
        fields = {
            "event": what,
            "scheme": record.scheme,
            "reason": record.reason,
            "status": record.status,
            "method": method[:_CLIP],
            "path": path[:_CLIP],
            "target": record.target,
            "approvals": record.approvals,
            "required": record.required,
            "verdict": record.verdict,
        }
        logger.log(
            level,
            "authsig: %s %s %s: %s %d scheme=%s target=%s approvals=%s verdict=%s detail=%s",
            what,
            _q(method),
            _q(path),
            record.reason,
            record.status,
            record.scheme,
            _q(record.target) if record.target is not None else "-",
            approvals,
            _q(record.verdict, 2 * _CLIP) if record.verdict is not None else "-",
            _q(record.message),
            extra={"authsig": fields},
        )

    # -- dependencies that fail

    def store_failed(self, store: object, message: str) -> None:
        """A replay store failed: ERROR with the fix at the start of a streak only."""
        if not self.store.fail():
            return
        fix = getattr(store, "failure_hint", None) or (
            "check the replay store; requests are refused (fail closed) until it answers"
        )
        logger.error(
            "authsig: replay store %s failed: %s; every request that needs it is refused "
            "(503) until it recovers; fix: %s",
            type(store).__name__,
            message,
            fix,
        )

    def store_answered(self) -> None:
        """A replay store answered: log the end of a failure streak."""
        count = self.store.clear()
        if count:
            logger.warning("authsig: replay store recovered after %d failed request(s)", count)

    # -- the hook

    def settle(self, info: RequestInfo | None, record: DecisionRecord) -> bool:
        """Log, count and report one decision from sync code. A refusal is logged before the
        hook runs; an approval after it, and only if it stands: False when a required hook
        failed to record it (the caller refuses the request and logs that instead)."""
        if not record.approved:
            self.emit(info, record)
            if info is not None:
                self.notify(info, record)
            return True
        if info is not None and not self.notify(info, record):
            return False
        self.emit(info, record)
        return True

    async def settle_async(self, info: RequestInfo, record: DecisionRecord) -> bool:
        """As :meth:`settle`, awaiting an async hook."""
        if not record.approved:
            self.emit(info, record)
            await self.notify_async(info, record)
            return True
        if not await self.notify_async(info, record):
            return False
        self.emit(info, record)
        return True

    def notify(self, info: RequestInfo, record: DecisionRecord) -> bool:
        """Call the hook from sync code. False when it failed on an approval and is required
        (the Gate then refuses the request)."""
        if self.hook is None:
            return True
        try:
            result = self.hook(info, record)
            if inspect.isawaitable(result):
                _run_awaitable(result, wait=record.approved, failed=self._hook_failed)
        except Exception as exc:
            return self._hook_failed(exc, record)
        return self._hook_ok()

    async def notify_async(self, info: RequestInfo, record: DecisionRecord) -> bool:
        """As :meth:`notify`, awaiting an async hook."""
        if self.hook is None:
            return True
        try:
            result = self.hook(info, record)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            return self._hook_failed(exc, record)
        return self._hook_ok()

    def _hook_ok(self) -> bool:
        count = self.hook_failures.clear()
        if count:
            logger.warning("authsig: the on_decision hook works again after %d failure(s)", count)
        return True

    def _hook_failed(self, exc: BaseException, record: DecisionRecord | None = None) -> bool:
        if self.hook_failures.fail():
            logger.error(
                "authsig: the on_decision hook raised %s; %s (logged once until it works again)",
                type(exc).__name__,
                "approvals are refused while it fails (on_decision_required=True)"
                if self.required
                else "decisions stand (set on_decision_required=True to refuse approvals "
                "the hook cannot record)",
                exc_info=exc,
            )
        return not (self.required and record is not None and record.approved)
