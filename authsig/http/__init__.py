"""The scheme-neutral HTTP layer: problem documents, the public URL behind proxies, bounded body
reading, the replay step, and the :class:`Gate` that runs any :class:`Scheme` under ASGI or
WSGI, with its log, metrics and decision hook (``docs/observability.md``). It imports no
scheme: a scheme plugs in from its own package."""

from __future__ import annotations

from authsig.http.asgi import STATE_KEY, GateASGIMiddleware
from authsig.http.gate import (
    DEFAULT_MAX_BODY_BYTES,
    Checked,
    Gate,
    GateOptions,
    Outcome,
    Scheme,
    Verdict,
)
from authsig.http.metrics import Metrics, NoMetrics, PrometheusMetrics
from authsig.http.observe import DecisionHook, DecisionRecord, Facts
from authsig.http.problem import PROBLEM_TYPE_PREFIX, Problem
from authsig.http.request import RequestInfo, URLSettings
from authsig.http.wsgi import ENVIRON_KEY, GateWSGIMiddleware
from authsig.reasons import Reason

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ENVIRON_KEY",
    "PROBLEM_TYPE_PREFIX",
    "STATE_KEY",
    "Checked",
    "DecisionHook",
    "DecisionRecord",
    "Facts",
    "Gate",
    "GateASGIMiddleware",
    "GateOptions",
    "GateWSGIMiddleware",
    "Metrics",
    "NoMetrics",
    "Outcome",
    "Problem",
    "PrometheusMetrics",
    "Reason",
    "RequestInfo",
    "Scheme",
    "URLSettings",
    "Verdict",
]
