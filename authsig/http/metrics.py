"""Metrics of the Gate: approvals and refusals by reason, and how long verification takes.

The Gate reports to any object with the two methods of :class:`Metrics`. By default
(``metrics="auto"``) that is :class:`PrometheusMetrics` on ``prometheus_client``'s default
registry when the package is installed (``pip install 'authsig[metrics]'``), and
:class:`NoMetrics` when it is not; ``metrics="prometheus"`` makes a missing package an error
when the Gate is built, not a silent no-op. Exposing the collectors (``make_asgi_app``,
``make_wsgi_app``, ``start_http_server``) is the application's choice: see
``docs/observability.md``.

Labels are bounded: ``scheme`` is the scheme's name and ``reason`` a registered reason code
(an unregistered one is counted as ``internal_error``), never anything a client sent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "DEFAULT_BUCKETS",
    "Metrics",
    "MetricsSetting",
    "NoMetrics",
    "PrometheusMetrics",
    "resolve_metrics",
]

logger = logging.getLogger("authsig.http")

#: Histogram buckets (seconds): a Privy verification takes well under a millisecond with one
#: key and a few milliseconds with large bodies or quorums, far below the client library's
#: default buckets (5 ms to 10 s), which would put every request into the first one.
DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

_INSTALL = "pip install 'authsig[metrics]'"


@runtime_checkable
class Metrics(Protocol):
    """What the Gate reports: every decision (``reason`` is ``"approved"`` for an approval),
    and the seconds each scheme verification took."""

    def decided(self, scheme: str, reason: str) -> None: ...

    def verified(self, scheme: str, seconds: float) -> None: ...


class NoMetrics:
    """Reports nothing (``metrics=None``, or ``"auto"`` without ``prometheus_client``)."""

    def decided(self, scheme: str, reason: str) -> None:
        """Do nothing."""

    def verified(self, scheme: str, seconds: float) -> None:
        """Do nothing."""


class PrometheusMetrics:
    """Prometheus collectors, registered in ``registry`` (default: the process-wide one).

    - ``authsig_approvals_total{scheme}``: requests passed to the application;
    - ``authsig_refusals_total{scheme, reason}``: refusals, by reason code;
    - ``authsig_verification_seconds{scheme}``: histogram of the scheme's verification time.

    A registry accepts each name once: build one instance per registry and share it between
    Gates (:meth:`default` does that for the default registry). ``namespace`` replaces the
    ``authsig`` prefix.
    """

    _default: PrometheusMetrics | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        registry: Any = None,
        *,
        namespace: str = "authsig",
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        from prometheus_client import REGISTRY, Counter, Histogram

        target = REGISTRY if registry is None else registry
        self.approvals = Counter(
            f"{namespace}_approvals",
            "Signed requests approved and passed to the application",
            ["scheme"],
            registry=target,
        )
        self.refusals = Counter(
            f"{namespace}_refusals",
            "Requests refused, by reason code",
            ["scheme", "reason"],
            registry=target,
        )
        self.seconds = Histogram(
            f"{namespace}_verification_seconds",
            "Seconds the scheme took to verify a request",
            ["scheme"],
            registry=target,
            buckets=buckets,
        )
        # The labelled children, looked up once: labels() takes a lock on every call.
        self._children: dict[tuple[str, str], Any] = {}

    @classmethod
    def default(cls) -> PrometheusMetrics:
        """The one instance on ``prometheus_client``'s default registry, for every Gate of
        this process (raises ``ModuleNotFoundError`` without ``prometheus_client``)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def decided(self, scheme: str, reason: str) -> None:
        """Count one decision."""
        counter = self._children.get((scheme, reason))
        if counter is None:
            if reason == "approved":
                counter = self.approvals.labels(scheme)
            else:
                counter = self.refusals.labels(scheme, reason)
            self._children[(scheme, reason)] = counter
        counter.inc()

    def verified(self, scheme: str, seconds: float) -> None:
        """Observe one verification time."""
        timer = self._children.get((scheme, ""))
        if timer is None:
            timer = self._children[(scheme, "")] = self.seconds.labels(scheme)
        timer.observe(seconds)


MetricsSetting: TypeAlias = Metrics | Literal["auto", "prometheus"] | None
"""The ``metrics=`` setting: a :class:`Metrics` object, ``"auto"``, ``"prometheus"`` or None."""


def resolve_metrics(value: object) -> Metrics:
    """The metrics object a Gate's ``metrics=`` setting stands for (checked at start-up)."""
    if value is None:
        return NoMetrics()
    if value in ("auto", "prometheus"):
        try:
            return PrometheusMetrics.default()
        except ImportError:
            if value == "prometheus":
                raise ModuleNotFoundError(
                    f"metrics='prometheus' needs the prometheus_client package: {_INSTALL}",
                    name="prometheus_client",
                ) from None
            logger.debug("authsig: prometheus_client is not installed; metrics are off")
            return NoMetrics()
    if isinstance(value, str) or not isinstance(value, Metrics):
        raise TypeError(
            'metrics must be "auto", "prometheus", None, or an object with '
            "decided(scheme, reason) and verified(scheme, seconds)"
        )
    return value
