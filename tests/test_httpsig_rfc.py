"""RFC 9421 Appendix B (and section 4.3): the RFC's own test keys, messages, signature bases and
signatures. authsig's signature bases must be byte-identical to the RFC's, and the RFC's
ecdsa-p256-sha256 and ed25519 signatures must verify (the RSA ones are out of scope: the bases
are still compared).

The test keys (RFC 9421 B.1.3 and B.1.4) are in tests/data/httpsig/.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from authsig.httpsig import (
    HttpMessage,
    Quorum,
    load_signing_key,
    load_verifying_key,
    parse_signatures,
    sign_request,
    signature_base,
    verify_request,
)
from authsig.httpsig.algorithms import verify_base

DATA = Path(__file__).parent / "data" / "httpsig"
P256_PUBLIC = (DATA / "test-key-ecc-p256.pem").read_text()
ED25519_PUBLIC = (DATA / "test-key-ed25519.pem").read_text()
P256_PRIVATE = (DATA / "test-key-ecc-p256.key").read_text()
ED25519_PRIVATE = (DATA / "test-key-ed25519.key").read_text()

# B.2: the test-request message.
DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgB"
    "WnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
BODY = b'{"hello": "world"}'
HEADERS = (
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    ("Content-Digest", DIGEST),
    ("Content-Length", "18"),
)
URL = "https://example.com/foo?param=Value&Pet=dog"
CREATED = 1618884473
# The RFC's examples are from 2021: verify them at their own time.
AT_CREATION_MS = (CREATED + 2) * 1000

CLIENT_CERT = (
    ":MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZ"
    "BgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAxMTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJ"
    "BgNVBAMMAkJDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vd"
    "gJ1p5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIwADAfBgNVHSMEGDAW"
    "gBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMCBsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYD"
    "VR0RAQH/BBMwEYEPYmRjQGV4YW1wbGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6Y"
    "K0Q6bMjeSkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=:"
)

# (name, url, extra headers, Signature-Input, Signature, expected base, key)
CASES = [
    (
        "B.2.6 ed25519",
        URL,
        (),
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        '"@method": POST\n'
        '"@path": /foo\n'
        '"@authority": example.com\n'
        '"content-type": application/json\n'
        '"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
        ED25519_PUBLIC,
    ),
    (
        "4.3 ecdsa-p256-sha256 sig1",
        URL,
        (),
        'sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length")'
        ';created=1618884475;keyid="test-key-ecc-p256"',
        "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:",
        '"@method": POST\n'
        '"@authority": example.com\n'
        '"@path": /foo\n'
        f'"content-digest": {DIGEST}\n'
        '"content-type": application/json\n'
        '"content-length": 18\n'
        '"@signature-params": ("@method" "@authority" "@path" "content-digest" '
        '"content-type" "content-length");created=1618884475;keyid="test-key-ecc-p256"',
        P256_PUBLIC,
    ),
    (
        "B.3 ecdsa-p256-sha256 ttrp",
        "https://service.internal.example/foo?param=Value&Pet=dog",
        (("Client-Cert", CLIENT_CERT),),
        'ttrp=("@path" "@query" "@method" "@authority" "client-cert")'
        ';created=1618884473;keyid="test-key-ecc-p256"',
        "ttrp=:xVMHVpawaAC/0SbHrKRs9i8I3eOs5RtTMGCWXm/9nvZzoHsIg6Mce9315T6xoklyy0yzhD9ah4JHRwMLOgmizw==:",
        '"@path": /foo\n'
        '"@query": ?param=Value&Pet=dog\n'
        '"@method": POST\n'
        '"@authority": service.internal.example\n'
        f'"client-cert": {CLIENT_CERT}\n'
        '"@signature-params": ("@path" "@query" "@method" "@authority" "client-cert")'
        ';created=1618884473;keyid="test-key-ecc-p256"',
        P256_PUBLIC,
    ),
]


def _message(url: str, extra: tuple[tuple[str, str], ...], sig_input: str, sig: str) -> HttpMessage:
    headers = [*HEADERS, *extra, ("Signature-Input", sig_input), ("Signature", sig)]
    return HttpMessage.build("POST", url, headers)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_rfc_signature_bases_are_byte_identical_and_verify(case: tuple) -> None:  # type: ignore[type-arg]
    _name, url, extra, sig_input, sig, expected, public = case
    message = _message(url, extra, sig_input, sig)
    (entry,) = parse_signatures([sig_input], [sig])
    base = signature_base(message, entry.covered, entry.params_text)
    assert base == expected.encode("ascii")
    key = load_verifying_key(public)
    assert verify_base(base, entry.signature, key)
    keyid = entry.keyid
    assert keyid is not None
    created_ms = (entry.created or 0) * 1000
    covers_body = '"content-digest"' in sig_input
    checked = verify_request(
        message,
        BODY,
        keys={keyid: public},
        now_ms=created_ms + 1000,
        require_content_digest=covers_body,
    )
    assert checked.decision.approved, checked.decision.message
    if not covers_body:
        # By default a signature that leaves the body unsigned is refused.
        strict = verify_request(message, BODY, keys={keyid: public}, now_ms=created_ms + 1000)
        assert strict.decision.reason == "httpsig_digest_not_covered"
    assert checked.decision.keyids == (keyid,)
    # A changed method breaks the signature: the bases differ by the method line only.
    tampered = HttpMessage.build("PUT", message.url, message.headers)
    refused = verify_request(
        tampered,
        BODY,
        keys={keyid: public},
        now_ms=created_ms + 1000,
        require_content_digest=covers_body,
    )
    assert (refused.decision.approved, refused.decision.reason) == (False, "invalid_signature")


def test_b21_minimal_base_with_nonce_is_byte_identical() -> None:
    # B.2.1 signs with RSA-PSS (not an authsig algorithm); its base is still compared.
    sig_input = (
        'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
    )
    (entry,) = parse_signatures([sig_input], ["sig-b21=:AAAA:"])
    assert entry.nonce == "b3k2pp5k7z-50gnwp.yemd"
    base = signature_base(_message(URL, (), sig_input, ""), entry.covered, entry.params_text)
    assert base == (
        b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
        b';nonce="b3k2pp5k7z-50gnwp.yemd"'
    )


def test_b22_query_param_base_is_byte_identical() -> None:
    sig_input = (
        'sig-b22=("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
    )
    (entry,) = parse_signatures([sig_input], ["sig-b22=:AAAA:"])
    base = signature_base(_message(URL, (), sig_input, ""), entry.covered, entry.params_text)
    assert (
        base
        == (
            '"@authority": example.com\n'
            f'"content-digest": {DIGEST}\n'
            '"@query-param";name="Pet": dog\n'
            '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
            ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
        ).encode()
    )


@pytest.mark.parametrize(
    ("private", "alg"), [(ED25519_PRIVATE, "ed25519"), (P256_PRIVATE, "ecdsa-p256-sha256")]
)
def test_authsig_signs_the_rfc_request_and_the_rfc_key_verifies(private: str, alg: str) -> None:
    key = load_signing_key(private)
    out = sign_request(
        "POST",
        URL,
        HEADERS,
        BODY,
        key=key,
        keyid="k",
        created=CREATED,
        nonce="n-1",
        components=("@method", "@target-uri", "content-digest", "content-type"),
    )
    assert f'alg="{alg}"' in out["Signature-Input"]
    # Ed25519 is deterministic: authsig's signature over B.2.6's base is the RFC's.
    if alg == "ed25519":
        plain = sign_request(
            "POST",
            URL,
            HEADERS,
            BODY,
            key=key,
            keyid="test-key-ed25519",
            created=CREATED,
            nonce=None,
            expires=None,
            include_alg=False,
            label="sig-b26",
            components=("date", "@method", "@path", "@authority", "content-type", "content-length"),
        )
        assert plain["Signature"] == CASES[0][4]
        assert plain["Signature-Input"] == CASES[0][3]
    message = HttpMessage.build("POST", URL, [*HEADERS, *out.items()])
    public = ED25519_PUBLIC if alg == "ed25519" else P256_PUBLIC
    checked = verify_request(
        message,
        BODY,
        keys={"k": public},
        quorum=Quorum.of(1, ["k"]),
        now_ms=AT_CREATION_MS,
        require_nonce=True,
    )
    assert checked.decision.approved, checked.decision.message
    assert checked.replay_key is not None
    assert checked.replay_key.startswith("httpsig:")
    raw = base64.b64decode(out["Signature"].split("=:", 1)[1].rstrip(":"))
    assert len(raw) == 64
