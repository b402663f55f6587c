"""Metrics: counters of approvals and refusals by reason and a histogram of verification time,
scraped from a running server the way Prometheus does; the no-op without prometheus_client."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import Keys, Sign
from prometheus_client import CollectorRegistry, make_asgi_app, make_wsgi_app
from prometheus_client.parser import text_string_to_metric_families
from servers import uvicorn_thread, waitress_thread

from authsig.asgi import AuthSigMiddleware
from authsig.http import Metrics, NoMetrics, PrometheusMetrics
from authsig.http.metrics import resolve_metrics
from authsig.privy.middleware import privy_gate
from authsig.wsgi import AuthSigWSGIMiddleware

PUBLIC = "https://api.example.com"
PATH = "/v1/wallets/w1/rpc"
BODY = b'{"method":"eth_signTransaction","params":{"value":1}}'


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def ok_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"done"]


def asgi_server(keys: Keys, registry: CollectorRegistry) -> Any:
    """The Privy middleware, with /metrics served next to it (outside the middleware)."""
    protected = AuthSigMiddleware(
        ok_app,
        quorum=keys.quorum,
        public_base_url=PUBLIC,
        replay_store="memory",
        metrics=PrometheusMetrics(registry),
    )
    exposition = make_asgi_app(registry=registry)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/metrics":
            await exposition(scope, receive, send)
        else:
            await protected(scope, receive, send)

    return uvicorn_thread(app)


def wsgi_server(keys: Keys, registry: CollectorRegistry) -> Any:
    protected = AuthSigWSGIMiddleware(
        ok_wsgi,
        quorum=keys.quorum,
        public_base_url=PUBLIC,
        replay_store="memory",
        metrics=PrometheusMetrics(registry),
    )
    exposition = make_wsgi_app(registry=registry)

    def app(environ: Any, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/metrics":
            return exposition(environ, start_response)
        return protected(environ, start_response)

    return waitress_thread(app)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``url`` (Prometheus text format): (name, sorted labels) -> value."""
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


SERVERS: dict[str, Callable[[Keys, CollectorRegistry], Any]] = {
    "asgi": asgi_server,
    "wsgi": wsgi_server,
}


@pytest.mark.parametrize("interface", sorted(SERVERS))
def test_prometheus_scrapes_decisions_from_a_running_server(
    interface: str, keys: Keys, sign: Sign
) -> None:
    registry = CollectorRegistry()
    with SERVERS[interface](keys, registry) as url:
        statuses = []
        for n in range(3):
            body = BODY.replace(b"1}", f"{n}}}".encode())
            headers = sign(PUBLIC + PATH, body)
            statuses.append(httpx.post(url + PATH, content=body, headers=headers).status_code)
            if n == 0:  # the same request again: a replay
                statuses.append(httpx.post(url + PATH, content=body, headers=headers).status_code)
        forged = sign(PUBLIC + PATH, BODY, signers=[keys.alice, keys.mallory])
        statuses.append(httpx.post(url + PATH, content=BODY, headers=forged).status_code)
        statuses.append(httpx.post(url + PATH, content=BODY).status_code)  # no signature
        samples = scrape(url + "/metrics")
    assert statuses == [200, 409, 200, 200, 401, 401]
    privy = (("scheme", "privy"),)
    assert samples[("authsig_approvals_total", privy)] == 3
    for reason in ("replayed", "invalid_signature", "missing_signature"):
        assert samples[("authsig_refusals_total", (("reason", reason), *privy))] == 1
    # Verified: 3 approvals, the replay, the forgery (the unsigned request is refused on its
    # headers alone, before any verification).
    assert samples[("authsig_verification_seconds_count", privy)] == 5
    assert 0 < samples[("authsig_verification_seconds_sum", privy)] < 5
    assert samples[("authsig_verification_seconds_bucket", (("le", "+Inf"), *privy))] == 5


def test_the_default_reports_to_the_process_registry(keys: Keys) -> None:
    from prometheus_client import REGISTRY

    labels = {"scheme": "privy", "reason": "missing_signature"}
    before = REGISTRY.get_sample_value("authsig_refusals_total", labels) or 0.0
    gate = privy_gate(keys.quorum, public_base_url=PUBLIC, replay_store=None)
    assert isinstance(gate.observer.metrics, PrometheusMetrics)
    again = privy_gate(keys.quorum, public_base_url=PUBLIC, replay_store=None)
    assert again.observer.metrics is gate.observer.metrics  # one set of collectors per process
    info = gate.urls.from_wsgi(
        {"REQUEST_METHOD": "POST", "PATH_INFO": PATH, "wsgi.url_scheme": "https"}
    )
    assert gate.screen(info, keys.quorum) is not None
    assert REGISTRY.get_sample_value("authsig_refusals_total", labels) == before + 1


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def decided(self, scheme: str, reason: str) -> None:
        self.calls.append(("decided", scheme, reason))

    def verified(self, scheme: str, seconds: float) -> None:
        assert seconds > 0
        self.calls.append(("verified", scheme))


def test_any_object_with_the_two_methods_receives_the_metrics(keys: Keys, sign: Sign) -> None:
    recorder = Recorder()
    assert isinstance(recorder, Metrics)
    app = AuthSigWSGIMiddleware(
        ok_wsgi, quorum=keys.quorum, public_base_url=PUBLIC, replay_store=None, metrics=recorder
    )
    with httpx.Client(transport=httpx.WSGITransport(app=app)) as client:
        client.post(PUBLIC + PATH, content=BODY, headers=sign(PUBLIC + PATH, BODY))
        client.post(PUBLIC + PATH, content=BODY)
    assert recorder.calls == [
        ("decided", "privy", "approved"),
        ("verified", "privy"),
        ("decided", "privy", "missing_signature"),
    ]


def test_without_prometheus_client_the_metrics_are_a_no_op(
    keys: Keys, sign: Sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PrometheusMetrics, "_default", None)
    for name in [m for m in sys.modules if m.split(".")[0] == "prometheus_client"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert isinstance(resolve_metrics("auto"), NoMetrics)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'authsig\[metrics\]'"):
        resolve_metrics("prometheus")
    app = AuthSigWSGIMiddleware(ok_wsgi, quorum=keys.quorum, public_base_url=PUBLIC)
    with httpx.Client(transport=httpx.WSGITransport(app=app)) as client:
        response = client.post(PUBLIC + PATH, content=BODY, headers=sign(PUBLIC + PATH, BODY))
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["statsd", 42, object()])
def test_a_wrong_metrics_setting_fails_at_start_up(keys: Keys, value: Any) -> None:
    with pytest.raises(TypeError, match="metrics must be"):
        privy_gate(keys.quorum, public_base_url=PUBLIC, metrics=value)
