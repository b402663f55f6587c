"""``authsig httpsig sign`` / ``verify``: two key holders sign, a 2-of-2 verify passes, a
request sent elsewhere is refused with what differed, and no key material is printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authsig.cli import main
from authsig.keys import generate_private_key

URL = "https://api.example.com/v1/pay?x=1"
BODY = '{"amount":"1.00"}'


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    p256 = generate_private_key()
    ed = ed25519.Ed25519PrivateKey.generate()
    files = {
        "alice.pem": p256.to_pem(),
        "alice.pub": p256.public_key.to_pem(),
        "bob.pem": ed.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "bob.pub": ed.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return {name: tmp_path / name for name in files}


def test_sign_then_verify_a_two_of_two_quorum(
    keys: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["httpsig", "sign", "--key", f"alice={keys['alice.pem']}"]
    argv += ["--key", f"bob={keys['bob.pem']}", "-X", "POST", "--url", URL, "-d", BODY, "--json"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for private in ("alice.pem", "bob.pem"):
        secret = keys[private].read_text().splitlines()[1]
        assert secret not in out
    headers = json.loads(out)
    assert set(headers) == {"Content-Digest", "Signature-Input", "Signature"}
    signed = tmp_path / "signed.json"
    signed.write_text(out)

    verify = ["httpsig", "verify", "--public-key", f"alice={keys['alice.pub']}"]
    verify += ["--public-key", f"bob={keys['bob.pub']}", "--threshold", "2"]
    verify += ["-X", "POST", "-d", BODY, "--headers-json", str(signed), "--require-nonce"]
    assert main([*verify, "--url", URL, "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert (decision["approved"], sorted(decision["keyids"])) == (True, ["alice", "bob"])

    elsewhere = URL.replace("/v1/pay", "/v1/pay/")
    assert main([*verify, "--url", elsewhere]) == 1
    text = capsys.readouterr().out
    assert text.startswith("refused (invalid_signature)")
    assert "why:" in text
    assert "\"@path\" was signed as '/v1/pay'" in text


def test_bad_arguments_exit_2(keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["httpsig", "sign", "--key", str(keys["alice.pem"]), "-X", "GET", "--url", URL]
    assert main(argv) == 2
    assert "KEYID=FILE" in capsys.readouterr().err
    argv = ["httpsig", "sign", "--key", f"a={keys['alice.pub']}", "-X", "GET", "--url", URL]
    assert main(argv) == 2
    assert "private key" in capsys.readouterr().err


def test_the_group_alone_prints_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["httpsig"]) == 2
    err = capsys.readouterr().err
    assert "sign" in err
    assert "verify" in err
