"""Key references on the command line: env:, file:, stdin, a SoftHSM2 token and moto KMS."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _signer_backends import MotoKMS, SoftHSM, moto_kms, softhsm
from test_cli import AUTHSIG, URL, assert_one_line_error, err, out

from authsig.keys import PrivateKey, PublicKey, generate_private_key, load_public_key
from authsig.privy import KeyQuorum, verify_request
from authsig.signatures import sign

BODY = '{"method":"eth_sendTransaction","params":{"to":"0xabc"}}'
REQUEST = ["-X", "POST", "--url", URL, "-d", BODY, "--app-id", "app-cli"]


def run(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Any:
    return subprocess.run(
        [AUTHSIG, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _approved(headers: dict[str, str], keys: list[PublicKey]) -> bool:
    quorum = KeyQuorum(public_keys=tuple(keys))
    decision = verify_request(method="POST", url=URL, body=BODY, headers=headers, quorum=quorum)
    return decision.approved


@pytest.fixture(scope="module")
def hsm() -> SoftHSM:
    return softhsm()


@pytest.fixture(scope="module")
def kms() -> Iterator[MotoKMS]:
    with moto_kms() as server:
        yield server


def test_sign_with_env_file_and_stdin_keys(tmp_path: Path) -> None:
    alice, bob, carol = (generate_private_key() for _ in range(3))
    bob_file = tmp_path / "bob.pem"
    bob_file.write_text(bob.to_pem())
    proc = run(
        "sign",
        "--key",
        "env:ALICE_KEY",
        "--key",
        f"file:{bob_file}",
        "--key",
        "-",
        *REQUEST,
        "--json",
        env={"ALICE_KEY": alice.to_base64()},
        stdin=json.dumps(carol.to_jwk()).encode(),
    )
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    assert _approved(headers, [alice.public_key, bob.public_key, carol.public_key])


def test_sign_with_token_and_kms_keys(hsm: SoftHSM, kms: MotoKMS) -> None:
    kms.create_key(alias="alias/cli-sign")
    local = generate_private_key()
    proc = run(
        "sign",
        "--key",
        hsm.uri(object="alice"),
        "--key",
        "awskms://alias/cli-sign",
        "--key",
        "env:LOCAL",
        *REQUEST,
        "--json",
        env={**kms.env, "LOCAL": local.to_pem()},
    )
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    members: list[Any] = [
        _pubkey(hsm.uri(object="alice")),
        _pubkey("awskms://alias/cli-sign", kms),
        local,
    ]
    assert _approved(headers, [k if isinstance(k, PublicKey) else k.public_key for k in members])
    deterministic = run(
        "sign", "--key", hsm.uri(object="alice"), *REQUEST, "--deterministic", env=kms.env
    )
    assert_one_line_error(deterministic, "--deterministic needs key files")


def _pubkey(ref: str, kms: MotoKMS | None = None) -> PublicKey:
    proc = run("pubkey", ref, "--json", env=kms.env if kms else None)
    assert proc.returncode == 0, err(proc)
    return load_public_key(json.loads(out(proc))["public_key"])


def test_pubkey_of_every_reference_kind(hsm: SoftHSM, kms: MotoKMS) -> None:
    assert _pubkey(hsm.uri(object="carol")) == hsm.imported.public_key
    meta = kms.create_key()
    spki = kms.client().get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    assert _pubkey(f"awskms://{meta['Arn']}", kms).spki_der == spki
    key = generate_private_key()
    proc = run("pubkey", "env:K", env={"K": key.to_pem()})
    assert out(proc).strip() == key.public_key.to_base64()
    proc = run("pubkey", "-", stdin=key.public_key.to_pem().encode())
    assert out(proc).strip() == key.public_key.to_base64()


def test_multi_party_with_a_token_and_a_kms_key(tmp_path: Path, hsm: SoftHSM, kms: MotoKMS) -> None:
    kms.create_key(alias="alias/cli-party")
    payload = tmp_path / "request.payload"
    proc = run("payload", *REQUEST, "--expires-in", "1h", "--out", str(payload))
    assert proc.returncode == 0, err(proc)
    signatures = []
    for ref in (hsm.uri(object="bob"), "awskms://alias/cli-party"):
        proc = run("sign", "--payload", str(payload), "--key", ref, "--json", env=kms.env)
        assert proc.returncode == 0, err(proc)
        signatures += json.loads(out(proc))["signatures"]
    refs = ["--public-key", hsm.uri(object="bob"), "--public-key", "awskms://alias/cli-party"]
    proc = run("combine", "--payload", str(payload), *signatures, *refs, "--json", env=kms.env)
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    members = [_pubkey(hsm.uri(object="bob")), _pubkey("awskms://alias/cli-party", kms)]
    assert _approved(headers, members)
    # verify takes the same references for the member keys.
    header_args = [a for name, value in headers.items() for a in ("-H", f"{name}: {value}")]
    proc = run("verify", *REQUEST[:-2], *header_args, *refs, env=kms.env)
    assert proc.returncode == 0, (out(proc), err(proc))


# --- key text where a key reference goes --------------------------------------------------


PASSPHRASE = "not for any log 4711"


def _key_texts(key: PrivateKey) -> dict[str, str]:
    return {
        "pem": key.to_pem(),
        "base64": key.to_base64(),
        "jwk": json.dumps(key.to_jwk()),
        "encrypted-pem": key.to_pem(PASSPHRASE),
        "encrypted-base64": key.to_base64(PASSPHRASE),
        "pem-escaped-newlines": key.to_pem().replace("\n", "\\n"),
    }


def _key_arguments(tmp_path: Path, text: str) -> dict[str, list[str]]:
    """Every command line that reads a key, with ``text`` in the key's place."""
    payload = tmp_path / "p.payload"
    proc = run("payload", *REQUEST, "--expires-in", "1h", "--out", str(payload))
    assert proc.returncode == 0, err(proc)
    signature = sign(payload.read_bytes(), generate_private_key())
    verify = ["-X", "POST", "--url", URL, "-d", BODY, "-H", "privy-app-id: app-cli"]
    verify += ["-H", f"privy-authorization-signature: {signature}"]
    quorum = tmp_path / "quorum.json"
    quorum.write_text(
        json.dumps({"authorization_threshold": 1, "authorization_keys": [], "user_ids": ["u1"]})
    )
    return {
        "sign --key": ["sign", "--key", text, *REQUEST],
        "sign --payload --key": ["sign", "--payload", str(payload), "--key", text],
        "pubkey": ["pubkey", text],
        "convert": ["convert", text, "--to", "pem", "--public"],
        "verify --public-key": ["verify", *verify, "--public-key", text],
        "explain --public-key": ["explain", *verify, "--public-key", text],
        "verify --user-key U=KEY": [
            "verify",
            *verify,
            "--quorum",
            str(quorum),
            "--user-key",
            f"u1={text}",
        ],
        "verify --user-key KEY": ["verify", *verify, "--quorum", str(quorum), "--user-key", text],
        "combine --public-key": [
            "combine",
            "--payload",
            str(payload),
            signature,
            "--public-key",
            text,
        ],
    }


@pytest.mark.parametrize(
    "form",
    ["pem", "base64", "jwk", "encrypted-pem", "encrypted-base64", "pem-escaped-newlines"],
)
def test_key_text_never_reaches_stderr(
    tmp_path: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process (authsig.cli.main) to keep 54 runs fast; the subprocess tests above cover the
    # console script itself.
    from authsig.cli import main

    text = _key_texts(generate_private_key())[form]
    pieces = [text[i : i + 16] for i in range(len(text) - 15)]
    for name, argv in _key_arguments(tmp_path, text).items():
        status = main(argv)
        captured = capsys.readouterr()
        assert status == 2, (name, captured.out, captured.err)
        assert captured.err.startswith("authsig: error: "), (name, captured.err)
        assert captured.err.count("\n") == 1, (name, captured.err)
        leaked = [piece for piece in pieces if piece in captured.err + captured.out]
        assert not leaked, f"{name}: key text in the output: {captured.err}"


@pytest.mark.parametrize("given", ["none", "wrong"])
def test_encrypted_key_files_in_every_key_argument(
    tmp_path: Path,
    given: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An encrypted key file where each command reads a key: without a passphrase (and no
    # terminal to ask on) or with a wrong one, a one-line error that says so, and neither the
    # key nor the passphrase in the output.
    from authsig.cli import main

    key = generate_private_key()
    path = tmp_path / "alice.key"
    path.write_text(key.to_base64(PASSPHRASE))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    if given == "wrong":
        monkeypatch.setenv("AUTHSIG_PASSPHRASE", PASSPHRASE[::-1])
    else:
        monkeypatch.delenv("AUTHSIG_PASSPHRASE", raising=False)
    expected = "wrong passphrase" if given == "wrong" else "the private key is encrypted"
    secrets = [PASSPHRASE, PASSPHRASE[::-1], path.read_text()[:24], key.to_base64()[:24]]
    arguments = _key_arguments(tmp_path, str(path))
    del arguments["verify --user-key KEY"]  # a usage error before any key is read
    for name, argv in arguments.items():
        status = main(argv)
        captured = capsys.readouterr()
        assert status == 2, (name, captured.out, captured.err)
        assert captured.err.startswith(f"authsig: error: {path}: {expected}"), (name, captured.err)
        assert captured.err.count("\n") == 1, (name, captured.err)
        if given == "none":  # the hint names only what this command takes
            offers = argv[0] in ("sign", "pubkey", "convert")
            assert ("--passphrase-file" in captured.err) == offers, (name, captured.err)
            assert "AUTHSIG_PASSPHRASE" in captured.err
        leaked = [s for s in secrets if s in captured.err + captured.out]
        assert not leaked, f"{name}: a secret in the output: {captured.err}"
