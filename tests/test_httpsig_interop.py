"""RFC 9421 interop with code no one here wrote: ``http-message-signatures`` on PyPI and the
npm package of the same name.

Their signatures (ecdsa-p256-sha256 and ed25519, covering a Content-Digest of the body) verify
in authsig, and authsig's verify in them; a tampered body is refused. Each package runs in its
own environment (tests/_envs.py) through a helper in tests/interop/.
"""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from _envs import EnvUnavailable, node_env, python_env, run_json
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.httpsig import HttpMessage, Quorum, content_digest, sign_request, verify_request
from authsig.keys import generate_private_key

PACKAGE = "http-message-signatures==3.0.0"
SCRIPT = Path(__file__).parent / "interop" / "httpsig_python.py"
NPM_PACKAGE = "http-message-signatures@1.0.6"
NODE_SCRIPT = Path(__file__).parent / "interop" / "httpsig_node.cjs"

P256 = generate_private_key()
ED = ed25519.Ed25519PrivateKey.generate()
ED_PRIVATE_PEM = ED.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
ED_PUBLIC_PEM = (
    ED.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
KEYS = {
    "ecdsa-p256-sha256": (P256, P256.to_pem(), P256.public_key.to_pem(), P256.public_key),
    "ed25519": (ED, ED_PRIVATE_PEM, ED_PUBLIC_PEM, ED.public_key()),
}
URL = "https://api.example.com/v1/pay?currency=EUR&to=0xabc"
BODY = b'{"amount":"12.50","memo":"h\xc3\xa9llo"}'
HEADERS = [["Content-Type", "application/json"], ["Date", "Tue, 20 Apr 2021 02:07:55 GMT"]]
COMPONENTS = ["@method", "@authority", "@path", "@query", "content-type", "content-digest"]


@pytest.fixture(scope="module", params=["pypi", "npm"])
def peer(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "npm":
        node = shutil.which("node")
        try:
            folder = node_env("httpsig-node", [NPM_PACKAGE])
        except EnvUnavailable as exc:
            pytest.skip(f"{NPM_PACKAGE} unavailable: {exc}")
        assert node is not None
        return [node, str(NODE_SCRIPT), str(folder)]
    return _pypi_peer()


def _pypi_peer() -> list[str]:
    try:
        python = python_env("httpsig-python", [PACKAGE, "requests>=2.31"])
    except EnvUnavailable as exc:
        pytest.skip(f"{PACKAGE} unavailable: {exc}")
    return [str(python), str(SCRIPT)]


def _run(peer: list[str], cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = run_json(peer, {"cases": cases})
    assert isinstance(out, dict)
    versions = {PACKAGE.split("==")[1], NPM_PACKAGE.rsplit("@", 1)[1]}
    assert out["package_version"] in versions
    results = out["results"]
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors
    return list(results)


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_the_package_signs_and_authsig_verifies(peer: list[str], alg: str) -> None:
    _key, private_pem, public_pem, _public = KEYS[alg]
    now = int(time.time())
    # The npm package signs a Content-Digest it is given; the PyPI one writes its own.
    digest = ["Content-Digest", content_digest(BODY, ["sha-512"])]
    case = {
        "op": "sign",
        "alg": alg,
        "private_pem": private_pem,
        "keyid": "peer-key",
        "method": "POST",
        "url": URL,
        "headers": [*HEADERS, digest] if "node" in peer[0] else HEADERS,
        "body": base64.b64encode(BODY).decode(),
        "components": COMPONENTS,
        "created": now,
        "expires": now + 300,
        "nonce": "n-" + alg,
        "label": "peer",
    }
    (result,) = _run(peer, [case])
    headers = [(name, value) for name, value in result["headers"]]
    assert any(name.lower() == "content-digest" for name, _ in headers)
    message = HttpMessage.build("POST", URL, headers)
    keys = {"peer-key": public_pem}
    checked = verify_request(
        message, BODY, keys=keys, quorum=Quorum.of(1, ["peer-key"]), require_nonce=True
    )
    assert checked.decision.approved, checked.decision.message
    assert checked.decision.labels == ("peer",)
    tampered = verify_request(message, BODY + b" ", keys=keys)
    assert tampered.decision.reason == "httpsig_digest_mismatch"


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_authsig_signs_and_the_package_verifies(peer: list[str], alg: str) -> None:
    key, _private_pem, public_pem, _public = KEYS[alg]
    pairs = [(name, value) for name, value in HEADERS]
    signed = sign_request(
        "POST",
        URL,
        pairs,
        BODY,
        key=key,
        keyid="authsig-key",
        label="ours",
        components=COMPONENTS,
    )
    headers = [*HEADERS, *([name, value] for name, value in signed.items())]
    base = {
        "op": "verify",
        "alg": alg,
        "public_pem": public_pem,
        "keyid": "authsig-key",
        "method": "POST",
        "url": URL,
        "headers": headers,
        "body": base64.b64encode(BODY).decode(),
    }
    tampered_body = {**base, "body": base64.b64encode(BODY + b" ").decode()}
    other_query = {**base, "url": URL.replace("0xabc", "0xdef")}
    good, bad_query, bad_body = _run(peer, [base, other_query, tampered_body])
    assert good["verified"], good
    assert not bad_query["verified"]
    if "labels" in good:  # the PyPI package reports what it verified, and checks the body
        assert good["labels"] == ["ours"]
        assert ['"@query"', "?currency=EUR&to=0xabc"] in good["covered"]
        assert not bad_body["verified"]


def test_two_package_signatures_meet_an_authsig_quorum() -> None:
    # The PyPI package appends a second labelled signature to a signed request.
    peer = _pypi_peer()
    now = int(time.time())
    headers: list[list[str]] = list(HEADERS)
    for label, alg in (("p", "ecdsa-p256-sha256"), ("e", "ed25519")):
        case = {
            "op": "sign",
            "alg": alg,
            "private_pem": KEYS[alg][1],
            "keyid": label,
            "method": "POST",
            "url": URL,
            "headers": headers,
            "body": base64.b64encode(BODY).decode(),
            "components": COMPONENTS,
            "created": now,
            "expires": now + 300,
            "nonce": "shared-nonce",
            "label": f"sig-{label}",
            "append": label == "e",
        }
        (result,) = _run(peer, [case])
        headers = result["headers"]
    message = HttpMessage.build("POST", URL, [(k, v) for k, v in headers])
    keys = {"p": KEYS["ecdsa-p256-sha256"][2], "e": KEYS["ed25519"][2]}
    both = Quorum.of(2, ["p", "e"], name="both")
    checked = verify_request(message, BODY, keys=keys, quorum=both, require_nonce=True)
    assert checked.decision.approved, checked.decision.message
    assert checked.decision.labels == ("sig-p", "sig-e")
    assert checked.replay_key is not None
