"""Encrypted private keys (PKCS#8 with a passphrase) and the hints of the key loaders."""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authsig.errors import EncryptedKeyError, KeyFormatError, WrongPassphraseError
from authsig.keys import (
    PrivateKey,
    PublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
)
from authsig.signers import resolve_key
from authsig.signers.refs import load_key_data

PASSPHRASE = "correct horse battery staple"
KEY = generate_private_key()


def _texts(key: PrivateKey, passphrase: str | bytes) -> dict[str, str | bytes]:
    pem = key.to_pem(passphrase)
    return {"pem": pem, "base64": key.to_base64(passphrase), "der": _pem_der(pem)}


def _pem_der(pem: str) -> bytes:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


@pytest.mark.parametrize("form", ["pem", "base64", "der"])
@pytest.mark.parametrize("passphrase", [PASSPHRASE, PASSPHRASE.encode(), "pässwörd"])
def test_encrypted_keys_round_trip(form: str, passphrase: str | bytes) -> None:
    data = _texts(KEY, passphrase)[form]
    assert load_private_key(data, passphrase=passphrase) == KEY
    other: str | bytes = passphrase + "x" if isinstance(passphrase, str) else passphrase + b"x"
    with pytest.raises(WrongPassphraseError) as wrong:
        load_private_key(data, passphrase=other)
    assert wrong.value.code == "wrong_passphrase"
    with pytest.raises(EncryptedKeyError) as missing:
        load_private_key(data)
    assert missing.value.code == "passphrase_required"
    assert "passphrase" in missing.value.message
    for error in (wrong.value, missing.value):
        assert isinstance(error, KeyFormatError)
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
        assert "horse" not in str(error)
        assert "MI" not in str(error)


def test_the_encryption_is_pbes2_with_aes_256() -> None:
    pem = KEY.to_pem(PASSPHRASE)
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    info = asn1_keys.EncryptedPrivateKeyInfo.load(_pem_der(pem))
    algorithm = info["encryption_algorithm"]
    assert algorithm["algorithm"].native == "pbes2"
    params = algorithm["parameters"]
    assert params["key_derivation_func"]["algorithm"].native == "pbkdf2"
    assert params["key_derivation_func"]["parameters"]["prf"]["algorithm"].native == "sha256"
    assert params["encryption_scheme"]["algorithm"].native == "aes256_cbc"
    # A fresh salt each time: two encryptions of one key differ.
    assert KEY.to_pem(PASSPHRASE) != pem


def test_openssl_reads_and_writes_the_encrypted_form(tmp_path: Path) -> None:
    ours = tmp_path / "ours.pem"
    ours.write_text(KEY.to_pem(PASSPHRASE))
    plain = subprocess.run(
        ["openssl", "pkey", "-in", str(ours), "-passin", f"pass:{PASSPHRASE}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert load_private_key(plain) == KEY
    theirs = subprocess.run(
        ["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", f"pass:{PASSPHRASE}"],
        input=KEY.to_pem(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert theirs.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_key(theirs, passphrase=PASSPHRASE) == KEY


def test_a_passphrase_is_not_used_for_a_plain_key() -> None:
    assert load_private_key(KEY.to_pem(), passphrase=PASSPHRASE) == KEY
    assert load_private_key(KEY.to_jwk(), passphrase=PASSPHRASE) == KEY


def test_passphrase_type_and_emptiness_are_programmer_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        KEY.to_pem("")
    with pytest.raises(ValueError, match="empty"):
        load_private_key(KEY.to_pem(PASSPHRASE), passphrase=b"")
    with pytest.raises(TypeError, match="str or bytes"):
        load_private_key(KEY.to_pem(PASSPHRASE), passphrase=1234)  # type: ignore[arg-type]


def test_public_key_loader_names_an_encrypted_private_key() -> None:
    with pytest.raises(KeyFormatError, match="private key"):
        load_public_key(KEY.to_pem(PASSPHRASE))


# --- key references --------------------------------------------------------------------------


def test_resolve_key_reads_encrypted_files(tmp_path: Path) -> None:
    path = tmp_path / "alice.pem"
    path.write_text(KEY.to_pem(PASSPHRASE))
    assert resolve_key(str(path), passphrase=PASSPHRASE) == KEY
    assert resolve_key(str(path), purpose="public", passphrase=PASSPHRASE) == KEY.public_key
    env = {"ALICE": KEY.to_base64(PASSPHRASE)}
    assert resolve_key("env:ALICE", environ=env, passphrase=PASSPHRASE.encode()) == KEY
    stdin = io.BytesIO(KEY.to_pem(PASSPHRASE).encode())
    assert resolve_key("-", stdin=stdin, passphrase=PASSPHRASE) == KEY
    with pytest.raises(EncryptedKeyError, match=f"^{path}: the private key is encrypted"):
        resolve_key(str(path))
    with pytest.raises(WrongPassphraseError, match=r"^env:ALICE: wrong passphrase"):
        resolve_key("env:ALICE", environ=env, passphrase="nope")
    # An encrypted private key is not mistaken for something else when it does not load.
    with pytest.raises(EncryptedKeyError):
        resolve_key(str(path), purpose="public")


def test_a_passphrase_function_is_called_only_for_an_encrypted_key(tmp_path: Path) -> None:
    asked: list[str] = []

    def ask(source: str) -> str:
        asked.append(source)
        return PASSPHRASE

    plain, encrypted = tmp_path / "plain.key", tmp_path / "encrypted.key"
    plain.write_text(KEY.to_base64())
    encrypted.write_text(KEY.to_base64(PASSPHRASE))
    assert resolve_key(str(plain), passphrase=ask) == KEY
    assert asked == []
    assert resolve_key(str(encrypted), passphrase=ask) == KEY
    assert asked == [str(encrypted)]
    private, public = load_key_data(KEY.public_key.to_pem(), "pub.pem", ask)
    assert private is None
    assert public == KEY.public_key
    assert asked == [str(encrypted)]


# --- tolerant loading and hints ----------------------------------------------------------


@pytest.mark.parametrize("newline", ["\\n", "\\r\\n"])
def test_pem_with_literal_newlines_as_in_environment_variables(newline: str) -> None:
    escaped = KEY.to_pem().replace("\n", newline)
    assert "\n" not in escaped
    assert load_private_key(escaped) == KEY
    encrypted = KEY.to_pem(PASSPHRASE).replace("\n", newline)
    assert load_private_key(encrypted, passphrase=PASSPHRASE) == KEY
    assert load_public_key(KEY.public_key.to_pem().replace("\n", newline)) == KEY.public_key
    assert resolve_key("env:K", environ={"K": escaped}) == KEY


def test_trailing_whitespace_is_accepted() -> None:
    assert load_private_key(KEY.to_base64() + "\n") == KEY
    assert load_private_key(KEY.to_base64() + " \r\n\t") == KEY
    assert load_private_key(KEY.to_pem().replace("\n", "  \r\n")) == KEY
    assert load_public_key(KEY.public_key.to_base64() + "\n\n") == KEY.public_key


@pytest.mark.parametrize(
    "path", ["alice.key", "./keys/alice.pem", "/etc/authsig/alice", "~/alice.jwk", r"C:\keys\a"]
)
def test_a_path_given_as_key_text_gets_its_own_hint(path: str) -> None:
    for loader in (load_private_key, load_public_key):
        with pytest.raises(KeyFormatError) as info:
            loader(path)
        assert "file path was given where key text was expected" in info.value.message
        assert "resolve_key" in info.value.message
        assert path not in info.value.message


def test_a_path_object_is_pointed_to_resolve_key(tmp_path: Path) -> None:
    for loader in (load_private_key, load_public_key):
        with pytest.raises(TypeError, match=r"from a path \(PosixPath\).*resolve_key"):
            loader(tmp_path / "alice.key")  # type: ignore[arg-type]


def test_cryptography_key_objects_are_pointed_to_the_constructor() -> None:
    crypto = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TypeError, match=r"use PrivateKey\.from_crypto\(key\)$"):
        load_private_key(crypto)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"use PrivateKey\.from_crypto\(key\)\.public_key$"):
        load_public_key(crypto)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"use PublicKey\.from_crypto\(key\)$"):
        load_public_key(crypto.public_key())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot sign"):
        load_private_key(crypto.public_key())  # type: ignore[arg-type]
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(TypeError, match="P-256 EC keys"):
        load_private_key(other)  # type: ignore[arg-type]
    # The constructors the hints name take these objects.
    assert PrivateKey.from_crypto(crypto).crypto is crypto
    assert PublicKey.from_crypto(crypto.public_key()) == PrivateKey.from_crypto(crypto).public_key


@pytest.mark.parametrize(
    "public",
    [
        KEY.public_key.to_pem(),
        KEY.public_key.to_base64(),
        KEY.public_key.spki_der,
        "wallet-auth:" + KEY.public_key.to_base64(),
    ],
)
def test_a_public_key_given_as_private_key_gets_its_own_hint(public: str | bytes) -> None:
    with pytest.raises(KeyFormatError, match="this is a public key, not a private key"):
        load_private_key(public)


def test_legacy_pem_encryption_points_to_pkcs8() -> None:
    legacy = KEY.crypto.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    assert "Proc-Type: 4,ENCRYPTED" in legacy
    with pytest.raises(KeyFormatError, match="re-encrypt it as PKCS#8"):
        load_private_key(legacy, passphrase=PASSPHRASE)
