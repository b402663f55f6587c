"""RFC 9421 units: derived components, the fields' shapes, Content-Digest, the freshness rules,
foreign and bad signatures, nonces, tags, and the explanations of a failed signature."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

import authsig
from authsig.httpsig import (
    HttpMessage,
    HttpSigComponentError,
    HttpSigDigestError,
    HttpSigFieldError,
    HttpSigKeyError,
    Quorum,
    check_content_digest,
    component,
    component_value,
    content_digest,
    load_verifying_key,
    parse_signatures,
    sign_request,
    verify_request,
)
from authsig.httpsig.explain import diagnose_refusal, explain_signature
from authsig.httpsig.verify import KeyResolver
from authsig.keys import generate_private_key
from authsig.policy import Policy
from authsig.reasons import Reason

KEY = generate_private_key()
ED = ed25519.Ed25519PrivateKey.generate()
KEYS: dict[str, Any] = {"p": KEY.public_key, "e": ED.public_key()}
NOW = 1_800_000_000
NOW_MS = NOW * 1000
URL = "https://API.example.com:443/v1/pay?b=2&a=1"
BODY = b'{"amount":1}'


def _value(url: str, spec: str, headers: tuple[tuple[str, str], ...] = ()) -> str:
    return component_value(HttpMessage.build("GET", url, headers), component(spec))


@pytest.mark.parametrize(
    ("url", "spec", "expected"),
    [
        (URL, "@authority", "api.example.com"),
        ("http://h.example:8080/x", "@authority", "h.example:8080"),
        ("http://h.example:80/x", "@authority", "h.example"),
        (URL, "@scheme", "https"),
        (URL, "@path", "/v1/pay"),
        ("https://h.example", "@path", "/"),
        (URL, "@query", "?b=2&a=1"),
        ("https://h.example/x", "@query", "?"),
        ("https://h.example/x?", "@query", "?"),
        (URL, "@request-target", "/v1/pay?b=2&a=1"),
        ("https://h.example/x#frag", "@target-uri", "https://h.example/x"),
        ("https://h.example/x?a%20b=c+d&e=1", '"@query-param";name="a%20b"', "c%20d"),
        ("https://h.example/x?Pet=dog", '"@query-param";name="Pet"', "dog"),
    ],
)
def test_derived_components(url: str, spec: str, expected: str) -> None:
    assert _value(url, spec) == expected


def test_header_fields_are_trimmed_and_combined() -> None:
    headers = (("Accept", " application/json "), ("X-Other", "1"), ("accept", "*/*\t"))
    assert _value(URL, "accept", headers) == "application/json, */*"
    folded = (("X-Folded", "a\r\n  b"),)
    assert _value(URL, "x-folded", folded) == "a b"
    assert _value(URL, '"accept";bs', headers) == ":YXBwbGljYXRpb24vanNvbg==:, :Ki8q:"
    dictionary = (("Example-Dict", "a=1, b=2;x=1;y=2, c=(a b c)"),)
    assert _value(URL, '"example-dict";key="b"', dictionary) == "2;x=1;y=2"


@pytest.mark.parametrize(
    ("spec", "headers"),
    [
        ("x-absent", ()),
        ('"@query-param";name="a"', ()),
        ('"@method";bs', ()),
        ('"accept";sf', (("Accept", "x"),)),
        ('"accept";bs;key="a"', (("Accept", "x"),)),
        ('"accept";key="zz"', (("Accept", "a=1"),)),
        ('"@authority";name="x"', ()),
    ],
)
def test_components_that_cannot_be_built_are_refused(
    spec: str, headers: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(HttpSigComponentError):
        _value("https://h.example/x?a=1&a=2", spec, headers)


@pytest.mark.parametrize("spec", ["@status", "Accept", '"@unknown"', "bad name"])
def test_unsupported_identifiers_are_refused(spec: str) -> None:
    with pytest.raises(HttpSigComponentError):
        component(spec)


def _signed(**changes: Any) -> HttpMessage:
    options: dict[str, Any] = {"key": KEY, "keyid": "p", "created": NOW, "nonce": "n1"}
    options.update(changes)
    headers = sign_request("POST", URL, [("Content-Type", "application/json")], BODY, **options)
    return HttpMessage.build("POST", URL, [("Content-Type", "application/json"), *headers.items()])


def _verify(message: HttpMessage, body: bytes = BODY, **options: Any) -> Any:
    options.setdefault("keys", KEYS)
    options.setdefault("now_ms", NOW_MS)
    return verify_request(message, body, **options).decision


def test_a_signed_request_verifies_and_changes_are_refused() -> None:
    assert _verify(_signed()).approved
    assert _verify(_signed(key=ED, keyid="e")).approved
    message = _signed()
    moved = HttpMessage.build("POST", URL.replace("/v1/", "/v2/"), message.headers)
    assert _verify(moved).reason == "invalid_signature"
    assert _verify(message, BODY + b"x").reason == "httpsig_digest_mismatch"


@pytest.mark.parametrize(
    ("changes", "now_ms", "policy", "reason"),
    [
        ({"created": NOW + 61}, NOW_MS, Policy(), "httpsig_not_yet_valid"),
        ({"created": NOW - 3661, "expires": None}, NOW_MS, Policy(), "httpsig_too_old"),
        ({"created": NOW - 120, "expires": NOW - 61}, NOW_MS, Policy(), "expired"),
        ({"expires": NOW - 1000}, NOW_MS, Policy(), "expired"),  # before its creation
        ({"expires": NOW + 7200}, NOW_MS, Policy(), "expiry_too_far"),
        ({"expires": None}, NOW_MS, Policy(require_expiry=True), "expiry_required"),
        ({"created": NOW + 30}, NOW_MS, Policy(), "approved"),
        ({"created": NOW - 60, "expires": NOW - 30}, NOW_MS, Policy(), "approved"),
    ],
)
def test_freshness_follows_the_policy(
    changes: dict[str, Any], now_ms: int, policy: Policy, reason: str
) -> None:
    assert _verify(_signed(**changes), now_ms=now_ms, policy=policy).reason == reason


def test_created_is_required() -> None:
    message = _signed()
    without = [
        (k, v.replace(f";created={NOW}", "")) if k == "Signature-Input" else (k, v)
        for k, v in message.headers
    ]
    decision = _verify(HttpMessage.build("POST", URL, without))
    assert decision.reason == "httpsig_created_required"


def test_foreign_and_mismatched_signatures() -> None:
    message = _signed(keyid="stranger")
    assert _verify(message).reason == "httpsig_unknown_key"
    lenient = _verify(message, policy=Policy(allow_foreign_signatures=True))
    assert lenient.reason == "httpsig_unknown_key"  # ignored, and nothing else signed
    # A known key outside the quorum is foreign too.
    assert _verify(_signed(), quorum=Quorum.of(1, ["e"])).reason == "httpsig_unknown_key"
    # alg must match the key the keyid names.
    wrong = _signed(key=ED, keyid="p")
    assert _verify(wrong).reason == "httpsig_unsupported_algorithm"


def _two(first: dict[str, Any], second: dict[str, Any]) -> HttpMessage:
    one = sign_request("POST", URL, [], BODY, created=NOW, label="a", **first)
    lines = list(one.items())
    two = sign_request("POST", URL, lines, BODY, created=NOW, label="b", **second)
    merged = [(k, v) for k, v in lines if k not in two] + list(two.items())
    return HttpMessage.build("POST", URL, merged)


def test_nonces_and_tags() -> None:
    same = _two({"key": KEY, "keyid": "p", "nonce": "x"}, {"key": ED, "keyid": "e", "nonce": "x"})
    assert _verify(same, quorum=Quorum.of(2, ["p", "e"]), require_nonce=True).approved
    differ = _two({"key": KEY, "keyid": "p", "nonce": "x"}, {"key": ED, "keyid": "e", "nonce": "y"})
    assert _verify(differ).reason == "httpsig_nonce_mismatch"
    none = _signed(nonce=None)
    assert _verify(none, require_nonce=True).reason == "httpsig_nonce_required"
    assert _verify(none).approved
    tagged = _two(
        {"key": KEY, "keyid": "p", "tag": "mine"}, {"key": ED, "keyid": "stranger", "tag": "x"}
    )
    assert _verify(tagged, tag="mine").approved
    assert _verify(tagged).reason == "httpsig_unknown_key"
    assert _verify(tagged, tag="absent").reason == "missing_signature"


def test_a_body_must_be_covered() -> None:
    message = _signed(components=["@method", "@authority", "@path"])
    assert _verify(message).reason == "httpsig_digest_not_covered"
    assert _verify(message, require_content_digest=False).approved


@pytest.mark.parametrize(
    ("inputs", "signatures", "policy"),
    [
        (['a=("@method");created=1'], ["b=:AAAA:"], Policy()),
        (["a=1"], ["a=:AAAA:"], Policy()),
        (['a=("@method")'], ["a=1"], Policy()),
        (['a=("@method")'], ["a=:AAAA:;x=1"], Policy()),
        (["a=(@method)"], ["a=:AAAA:"], Policy()),
        (['a=("@method");created="1"'], ["a=:AAAA:"], Policy()),
        (['a=("@method");keyid=k'], ["a=:AAAA:"], Policy()),
        (['a=("@method");nonce=""'], ["a=:AAAA:"], Policy()),
        (['a=("@method" "@status")'], ["a=:AAAA:"], Policy()),
        (['a=("@method")', 'b=("@method")'], ["a=:AAAA:, b=:AA==:"], Policy(max_signatures=1)),
        (['a=("@method")'], ["a=:AAAA:"], Policy(max_header_length=10)),
        (['a=("é")'], ["a=:AAAA:"], Policy()),
        (["a=(("], ["a=:AAAA:"], Policy()),
        ([""], [""], Policy()),
    ],
)
def test_malformed_fields_are_refused(
    inputs: list[str], signatures: list[str], policy: Policy
) -> None:
    with pytest.raises(HttpSigFieldError):
        parse_signatures(inputs, signatures, policy=policy)


def test_content_digest() -> None:
    one = content_digest(BODY, ["sha-256", "sha-512"])
    assert one.startswith("sha-256=:")
    assert check_content_digest([one], BODY).matches
    result = check_content_digest([one], BODY + b"!")
    assert (result.matches, result.mismatched) == (False, ("sha-256", "sha-512"))
    # One right digest and one wrong one is a mismatch.
    sha256 = content_digest(BODY, ["sha-256"])
    wrong512 = content_digest(b"other", ["sha-512"])
    assert not check_content_digest([sha256, wrong512], BODY).matches
    # Unknown algorithms are ignored, but one accepted algorithm is needed.
    assert check_content_digest(["md5=:AAAA:", sha256], BODY).checked == ("sha-256",)
    for bad in (["md5=:AAAA:"], ["sha-256=1"], ["sha-256=:AAAA"], ["x" * 5000]):
        with pytest.raises(HttpSigDigestError):
            check_content_digest(bad, BODY)
    with pytest.raises(ValueError, match="unsupported"):
        content_digest(BODY, ["md5"])


def test_keys_that_are_neither_p256_nor_ed25519_are_refused() -> None:
    with pytest.raises(HttpSigKeyError):
        load_verifying_key("not a key")
    assert load_verifying_key(ED.public_key()) is not None
    with pytest.raises(TypeError):
        KeyResolver(42)  # type: ignore[arg-type]


def test_explanations_name_the_component_that_differed() -> None:
    signed_for = "https://api.example.com/v1/pay/"
    headers = sign_request("POST", signed_for, [], BODY, key=KEY, keyid="p", created=NOW)
    seen = HttpMessage.build("POST", "https://api.example.com/v1/pay", list(headers.items()))
    keys = KeyResolver(KEYS)
    (difference,) = explain_signature(seen, keys, "sig1") or []
    assert (difference.component, difference.signed, difference.received) == (
        '"@path"',
        "/v1/pay/",
        "/v1/pay",
    )
    decision = _verify(seen)
    sentence = diagnose_refusal(seen, BODY, keys, decision)
    assert sentence is not None
    assert "/v1/pay/" in sentence
    # The host with a port the signer did not see.
    at_port = HttpMessage.build("POST", "https://api.example.com:8443/v1/pay/", seen.headers)
    (port,) = explain_signature(at_port, keys, "sig1") or []
    assert port.component == '"@authority"'
    assert port.received == "api.example.com:8443"


def test_explanations_of_a_body_that_differs() -> None:
    message = _signed()
    decision = _verify(message, BODY + b"\n")
    assert decision.reason == "httpsig_digest_mismatch"
    hint = diagnose_refusal(message, BODY + b"\n", KeyResolver(KEYS), decision)
    assert hint is not None
    assert "without its trailing newline" in hint
    assert hashlib.sha256(BODY).hexdigest() not in hint


def test_the_scheme_needs_no_change_to_the_http_layer() -> None:
    # The HTTP layer never names this scheme, and the scheme's reasons are registered from
    # its own package.
    http = Path(authsig.__file__).parent / "http"
    for path in http.rglob("*.py"):
        assert "httpsig" not in path.read_text(), path.name
    for code in ("httpsig_digest_mismatch", "httpsig_nonce_required", "httpsig_unknown_key"):
        assert Reason.get(code) is not None


def test_the_gate_hook_gets_the_diagnosis_and_the_facts() -> None:
    from authsig.http import Gate
    from authsig.httpsig.scheme import HttpSigScheme

    records: list[Any] = []
    gate = Gate(
        HttpSigScheme(keys=KEYS, quorum=Quorum.of(1, ["p", "e"], name="ops")),
        replay_store=None,
        public_base_url="https://api.example.com",
        clock=lambda: NOW_MS,
        on_decision=lambda info, record: records.append(record),
    )
    signed = sign_request(
        "POST", "https://api.example.com/v1/pay/", [], BODY, key=KEY, keyid="p", created=NOW
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/pay",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items()},
    }
    info = gate.urls.from_wsgi(environ)
    outcome = gate.check(info, BODY, gate.scheme.resolve(info))
    assert outcome.problem is not None
    assert outcome.problem.reason == "invalid_signature"
    (record,) = records
    assert record.verdict is not None
    assert "\"@path\" was signed as '/v1/pay/'" in record.verdict
    assert record.target == "ops"
