"""authsig.cobo.explain: each near miss that happens in practice is named, and only then."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authsig.cobo import COBO_EVENT_PUBLIC_KEYS, load_api_secret, sign_event, sign_request
from authsig.cobo.explain import explain_event, explain_request

NOW = 1_795_519_976_869
SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
OTHER = "e331b6d69882b4cb4ea581d88e0b604039a3de5967688d3dcffdd2270c0fd109"
API_KEY = load_api_secret(SECRET).api_key


def _explain(signed: dict[str, Any], received: dict[str, Any], **options: Any) -> Any:
    parts: dict[str, Any] = {"method": "POST", "path": "/v2/x", "query": "", "body": ""}
    nonce = options.pop("nonce", NOW)
    headers = sign_request(SECRET, nonce_ms=nonce, **{**parts, **signed})
    options.setdefault("now_ms", NOW)
    return explain_request(headers, **{**parts, **received}, api_keys=[API_KEY], **options)


@pytest.mark.parametrize(
    ("signed", "received", "named"),
    [
        ({"query": "a=1&b=2"}, {"query": "b=2&a=1"}, "sorted"),
        ({"query": "q=a%20b"}, {"query": "q=a+b"}, "%20 instead of +"),
        ({"query": "q=a+b"}, {"query": "q=a%20b"}, "+ instead of %20"),
        ({"query": "q=a,b"}, {"query": "q=a%2Cb"}, "before percent-encoding"),
        ({"query": "limit=10"}, {"query": "limit=10&cursor="}, "cobo-waas2 re-encodes"),
        ({"body": ""}, {"body": "{}"}, "cobo-waas2 signs '' for {}"),
        ({"body": "{}"}, {"body": ""}, "a '{}' body"),
        ({"body": '{"a":1}'}, {"body": '{"a": 1}'}, "compact JSON"),
        ({"body": '{"a": "é"}'}, {"body": '{"a": "\\u00e9"}'}, "raw UTF-8"),
        ({"body": '{"a": 1}'}, {"body": '{"a": 1}\n'}, "without surrounding whitespace"),
        ({"path": "/v2/x/"}, {"path": "/v2/x"}, "trailing slash"),
    ],
)
def test_request_near_misses_are_named(
    signed: dict[str, Any], received: dict[str, Any], named: str
) -> None:
    report = _explain(signed, received, accept_sdk_empty_object=False)
    assert report.decision.reason == "invalid_signature"
    assert any(named in miss for miss in report.near_misses), report.near_misses
    assert named in str(report)
    assert report.to_dict()["near_misses"] == list(report.near_misses)


def test_nothing_named_for_a_match_or_a_forgery() -> None:
    ok = _explain({}, {})
    assert ok.decision.approved
    assert ok.near_misses == ()
    assert "the signature is valid" in ok.checks[0]
    headers = sign_request(SECRET, method="POST", path="/v2/x", nonce_ms=NOW)
    forged = {**headers, "Biz-Api-Signature": "ab" * 64}
    report = explain_request(
        forged, method="POST", path="/v2/x", query="", body="", api_keys=[API_KEY], now_ms=NOW
    )
    assert report.decision.reason == "invalid_signature"
    assert report.near_misses == ()
    assert "no common near miss matches" in str(report)
    missing = explain_request(
        {}, method="GET", path="/v2/x", query="", body=None, api_keys=[API_KEY], now_ms=NOW
    )
    assert missing.decision.reason == "missing_header"
    assert missing.signed_text is None


def test_nonce_units() -> None:
    seconds = _explain({}, {}, nonce=NOW // 1000)
    assert seconds.decision.reason == "malformed_nonce"
    assert any("is in seconds" in check for check in seconds.checks)
    assert any("the signature is valid" in check for check in seconds.checks)
    micros = _explain({}, {}, nonce=NOW * 1000)
    assert any("is in microseconds" in check for check in micros.checks)
    # Signed over the nonce in seconds, sent in milliseconds.
    headers = sign_request(SECRET, method="GET", path="/v2/x", nonce_ms=NOW // 1000)
    headers["Biz-Api-Nonce"] = str(NOW // 1000 * 1000)
    report = explain_request(
        headers, method="GET", path="/v2/x", query="", body="", api_keys=[API_KEY], now_ms=NOW
    )
    assert any("signed in s, sent in ms" in miss for miss in report.near_misses)


def test_unknown_api_key_with_a_valid_signature() -> None:
    headers = sign_request(OTHER, method="GET", path="/v2/x", nonce_ms=NOW)
    report = explain_request(
        headers, method="GET", path="/v2/x", query="", body="", api_keys=[API_KEY], now_ms=NOW
    )
    assert report.decision.reason == "unknown_api_key"
    assert any("not among the accepted keys" in check for check in report.checks)


def test_event_from_another_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cobo's private keys are Cobo's: stand test keys in for two environments' published keys.
    monkeypatch.setitem(COBO_EVENT_PUBLIC_KEYS, "prod", API_KEY)
    monkeypatch.setitem(COBO_EVENT_PUBLIC_KEYS, "dev", load_api_secret(OTHER).api_key)
    body = json.dumps({"event_id": "e-1"}).encode()
    headers = sign_event(body, OTHER, timestamp_ms=NOW)
    report = explain_event(body, headers, environment="prod", now_ms=NOW)
    assert report.decision.reason == "invalid_signature"
    assert any("--env dev" in miss for miss in report.near_misses)
    assert explain_event(body, headers, environment="dev", now_ms=NOW).decision.approved


def test_event_body_and_timestamp_near_misses() -> None:
    key = load_api_secret(SECRET)
    body = b'{"event_id":"e-1","data":{"amount":"1.5"}}'
    headers = sign_event(body, SECRET, timestamp_ms=NOW)
    common: dict[str, Any] = {"public_key": key.api_key, "now_ms": NOW}
    reparsed = json.dumps(json.loads(body)).encode()
    report = explain_event(reparsed, headers, **common)
    assert any("re-serialized" in miss for miss in report.near_misses)
    # Signed in milliseconds, the header rounded to seconds.
    whole = NOW // 1000 * 1000
    signed_ms = sign_event(body, SECRET, timestamp_ms=whole)
    in_seconds = {**signed_ms, "Biz-Timestamp": str(whole // 1000)}
    report = explain_event(body, in_seconds, **common)
    assert any("signed in ms, the header carries s" in m for m in report.near_misses)
    assert any("is in seconds" in check for check in report.checks)
    late = explain_event(body, headers, public_key=key.api_key, now_ms=NOW + 3_600_000)
    assert late.decision.reason == "stale_nonce"
    assert any("only the time is off" in check for check in late.checks)
    assert "checked text: " in str(late)
