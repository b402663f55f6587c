"""explain(): each near miss is produced for real by signing the wrong variant."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from authsig.jcs import canonicalize
from authsig.keys import PrivateKey, generate_private_key
from authsig.policy import POLICY_FIELDS, Policy
from authsig.privy.explain import Explanation, explain, explain_async
from authsig.privy.payload import payload_object
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import Verifier
from authsig.signatures import sign

NOW = 1_800_000_000_000
EXPIRY = str(NOW + 600_000)
URL = "https://api.privy.io/v1/wallets/w1/rpc"
BODY = {"method": "personal_sign", "params": {"message": "hi"}}
SIG = "privy-authorization-signature"


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def quorum(key: PrivateKey) -> KeyQuorum:
    # Five keys so that explain uses key recovery; the signer is one of them.
    others = [generate_private_key().public_key for _ in range(4)]
    return KeyQuorum(public_keys=(*others, key.public_key), authorization_threshold=1, id="q1")


def signed_variant(
    key: PrivateKey,
    *,
    method: str = "POST",
    url: str = URL,
    body: Any = BODY,
    headers: dict[str, str] | None = None,
    empty_body: str = "string",
    profile: str = "rfc8785",
    tweaks: dict[str, Any] | None = None,
) -> str:
    """Build a (possibly wrong) payload the way a buggy client would, and sign it."""
    hs = headers if headers is not None else {"privy-app-id": "app-1"}
    obj = payload_object(method=method, url=url, body=body, headers=hs, empty_body=empty_body)  # type: ignore[arg-type]
    obj.update(tweaks or {})
    return sign(canonicalize(obj, profile=profile), key)  # type: ignore[arg-type]


def run(quorum: KeyQuorum, headers: dict[str, str], **kw: Any) -> Explanation:
    kw.setdefault("method", "POST")
    kw.setdefault("url", URL)
    kw.setdefault("body", BODY)
    fields = {name: kw.pop(name) for name in list(kw) if name in POLICY_FIELDS}
    return explain(headers=headers, quorum=quorum, now_ms=NOW, policy=Policy(**fields), **kw)


def assert_near_miss(report: Explanation, code: str, key: PrivateKey) -> None:
    assert not report.decision.approved
    assert report.decision.reason == "invalid_signature"
    (sig,) = report.signatures
    assert sig.status == "near_miss", str(report)
    assert sig.variant is not None
    assert sig.variant.code == code, str(report)
    assert sig.key_id == key.key_id
    text = str(report)
    assert "signature #1: verifies with member key" in text
    assert sig.variant.description in text
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["signatures"][0]["variant"]["code"] == code


def test_as_sent_and_unknown(key: PrivateKey, quorum: KeyQuorum) -> None:
    good = signed_variant(key)
    foreign = signed_variant(generate_private_key())
    report = run(quorum, {"privy-app-id": "app-1", SIG: f"{good},{foreign}"})
    assert report.decision.reason == "invalid_signature"
    assert [s.status for s in report.signatures] == ["as_sent", "unknown"]
    assert report.signatures[0].key_id == key.key_id
    assert "outside the quorum" in str(report)
    ok = run(quorum, {"privy-app-id": "app-1", SIG: good})
    assert ok.decision.approved
    assert str(ok).startswith("APPROVED")


def test_url_trailing_slash_both_ways(key: PrivateKey, quorum: KeyQuorum) -> None:
    sig = signed_variant(key, url=URL + "/")
    assert_near_miss(
        run(quorum, {"privy-app-id": "app-1", SIG: sig}), "url_with_trailing_slash", key
    )
    sig2 = signed_variant(key, url=URL)
    report = run(quorum, {"privy-app-id": "app-1", SIG: sig2}, url=URL + "/")
    assert_near_miss(report, "url_without_trailing_slash", key)


def test_scheme_behind_tls_proxy(key: PrivateKey, quorum: KeyQuorum) -> None:
    sig = signed_variant(key)  # client signed https
    report = run(quorum, {"privy-app-id": "app-1", SIG: sig}, url=URL.replace("https", "http"))
    assert_near_miss(report, "url_scheme_https", key)


def test_alternative_host(key: PrivateKey, quorum: KeyQuorum) -> None:
    public = "https://wallets.example.com/api/v1/wallets/w1/rpc"
    sig = signed_variant(key, url=public)
    headers = {"privy-app-id": "app-1", SIG: sig}
    internal = "http://10.0.0.5:8080/v1/wallets/w1/rpc"
    assert run(quorum, headers, url=internal).signatures[0].status == "unknown"
    report = run(quorum, headers, url=internal, alternative_urls=[public])
    assert_near_miss(report, "alternative_url", key)


def test_empty_body_object_vs_string(key: PrivateKey, quorum: KeyQuorum) -> None:
    rust_style = signed_variant(key, body={}, empty_body="preserve")
    report = run(quorum, {"privy-app-id": "app-1", SIG: rust_style}, body=b"{}")
    # Two SDKs sign {} as is: explain names both, and the fix names the first.
    assert_near_miss(report, "dialect:privy-server-auth+privy-rust", key)
    assert "@privy-io/server-auth ({} and [] bodies signed as is" in str(report)
    assert "Policy(dialect='privy-server-auth')" in str(report)
    node_style = signed_variant(key, body={})  # "" per the default
    report2 = run(
        quorum, {"privy-app-id": "app-1", SIG: node_style}, body=b"{}", empty_body="preserve"
    )
    assert_near_miss(report2, "dialect:privy-node+privy-client+privy-go", key)


def test_missing_body_signed_as_empty_string(key: PrivateKey, quorum: KeyQuorum) -> None:
    sig = signed_variant(key, body=None, tweaks={"body": ""})
    report = run(quorum, {"privy-app-id": "app-1", SIG: sig}, body=None)
    # What @privy-io/node, privy-client and Go sign for a call without a body (their DELETEs).
    assert_near_miss(report, "dialect:privy-node+privy-client+privy-go", key)


def test_python_sdk_canonicaljson(key: PrivateKey, quorum: KeyQuorum) -> None:
    body = {"amount": 1.0, "fee": 1e-7}
    sig = signed_variant(key, body=body, profile="canonicaljson")
    report = run(quorum, {"privy-app-id": "app-1", SIG: sig}, body=json.dumps(body))
    assert_near_miss(report, "dialect:privy-client", key)


@pytest.mark.parametrize(
    ("name", "value"),
    [("privy-request-expiry", EXPIRY), ("privy-idempotency-key", "idem-42")],
)
def test_header_sent_but_not_signed(
    key: PrivateKey, quorum: KeyQuorum, name: str, value: str
) -> None:
    sig = signed_variant(key)  # signed without the header
    report = run(quorum, {"privy-app-id": "app-1", name: value, SIG: sig})
    assert_near_miss(report, f"header_not_signed:{name}", key)


def test_expiry_signed_but_not_sent(key: PrivateKey, quorum: KeyQuorum) -> None:
    signed_headers = {"privy-app-id": "app-1", "privy-request-expiry": EXPIRY}
    sig = signed_variant(key, headers=signed_headers)
    # A proxy dropped the header whose name has underscores; it arrived under a look-alike.
    report = run(quorum, {"privy-app-id": "app-1", "privy_request_expiry": EXPIRY, SIG: sig})
    assert_near_miss(report, "header_signed_not_sent:privy-request-expiry", key)
    # Not there at all: the caller supplies the value it believes the client signed.
    bare = {"privy-app-id": "app-1", SIG: sig}
    assert run(quorum, bare).signatures[0].status == "unknown"
    report2 = run(quorum, bare, extra_headers={"privy-request-expiry": EXPIRY})
    assert_near_miss(report2, "header_signed_not_sent:privy-request-expiry", key)


def test_idempotency_signed_but_not_sent(key: PrivateKey, quorum: KeyQuorum) -> None:
    sig = signed_variant(key, headers={"privy-app-id": "app-1", "privy-idempotency-key": "k-1"})
    report = run(quorum, {"privy-app-id": "app-1", "X-Privy-Idempotency-Key": "k-1", SIG: sig})
    assert_near_miss(report, "header_signed_not_sent:privy-idempotency-key", key)


def test_method_signed_lower_case(key: PrivateKey, quorum: KeyQuorum) -> None:
    # The payload builder upper-cases the method; a buggy client does not.
    sig = signed_variant(key, tweaks={"method": "post"})
    assert_near_miss(run(quorum, {"privy-app-id": "app-1", SIG: sig}), "method_case", key)


def test_expiry_signed_in_seconds(key: PrivateKey, quorum: KeyQuorum) -> None:
    seconds = str(int(EXPIRY) // 1000)
    sig = signed_variant(key, headers={"privy-app-id": "app-1", "privy-request-expiry": seconds})
    report = run(quorum, {"privy-app-id": "app-1", "privy-request-expiry": EXPIRY, SIG: sig})
    assert_near_miss(report, "expiry_signed_in_seconds", key)


def test_refused_for_expiry_still_explains_signatures(key: PrivateKey, quorum: KeyQuorum) -> None:
    headers = {"privy-app-id": "app-1", "privy-request-expiry": str(NOW - 3_600_000)}
    sig = signed_variant(key, headers=headers)
    report = run(quorum, {**headers, SIG: sig})
    assert report.decision.reason == "expired"
    assert report.signatures[0].status == "as_sent"
    assert "REFUSED (expired, HTTP 401)" in str(report)


def test_unusable_request_gives_decision_only(key: PrivateKey, quorum: KeyQuorum) -> None:
    report = run(quorum, {"privy-app-id": "app-1", SIG: signed_variant(key)}, body=b"{oops")
    assert report.decision.reason == "invalid_body"
    assert report.signatures == ()
    assert report.payload is None
    assert "invalid_body" in str(report)


# --- the async twin and the Verifier methods ----------------------------------------------


def _user_quorum(user_key: PrivateKey) -> tuple[KeyQuorum, dict[str, list[str]]]:
    others = [generate_private_key().public_key for _ in range(4)]
    quorum = KeyQuorum(public_keys=others, user_ids=["alice"], authorization_threshold=1)
    return quorum, {"alice": [user_key.public_key.to_base64()]}


def test_explain_async_awaits_the_user_key_resolver(key: PrivateKey) -> None:
    quorum, users = _user_quorum(key)

    async def resolve(user_id: str) -> list[str]:
        await asyncio.sleep(0)
        return users.get(user_id, [])

    sig = signed_variant(key, url=URL + "/")
    headers = {"privy-app-id": "app-1", SIG: sig}
    report = asyncio.run(
        explain_async(
            method="POST", url=URL, body=BODY, headers=headers, quorum=quorum, user_keys=resolve
        )
    )
    assert report.decision.reason == "invalid_signature"
    assert_near_miss(report, "url_with_trailing_slash", key)
    # The sync twin cannot use an async resolver: the user's key stays unknown to it.
    sync = explain(
        method="POST",
        url=URL,
        body=BODY,
        headers=headers,
        quorum=quorum,
        user_keys=resolve,  # type: ignore[arg-type]
    )
    assert sync.decision.reason == "user_resolution_failed"
    assert sync.signatures[0].status == "unknown"


def test_verifier_methods_give_the_explanation_of_the_function(key: PrivateKey) -> None:
    quorum, users = _user_quorum(key)
    verifier = Verifier(quorum, user_keys=users, policy=Policy(allow_foreign_signatures=False))
    sig = signed_variant(key, method="post", tweaks={"method": "post"})
    request: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "body": BODY,
        "headers": [("privy-app-id", "app-1"), (SIG, sig)],
        "alternative_urls": ["https://other.example/v1/wallets/w1/rpc"],
    }
    by_method = verifier.explain(**request)
    by_async_method = asyncio.run(verifier.explain_async(**request))
    by_function = explain(quorum=quorum, user_keys=lambda u: users.get(u, []), **request)
    assert by_method.to_dict() == by_function.to_dict() == by_async_method.to_dict()
    assert_near_miss(by_method, "method_case", key)
    assert "alternative_url" in by_method.variants_tried
