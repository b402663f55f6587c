"""Key references (``resolve_key``) and the signer adapters shared by every backend."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _signer_backends import MotoKMS, moto_kms, softhsm
from cryptography.hazmat.primitives import serialization

from authsig.errors import KeyFormatError, SignatureFormatError, SignerError
from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.privy import KeyQuorum, sign_request, verify_request
from authsig.signatures import der_to_raw, verify_signature
from authsig.signers import (
    AsyncSigner,
    CallableSigner,
    KeyReferenceError,
    LocalSigner,
    Signer,
    looks_like_key_text,
    resolve_key,
    scrub,
    signer_error,
    to_async,
    to_der,
)
from authsig.signers.refs import KEY_TEXT_GIVEN, parse_key_reference

KEY = generate_private_key()


def _key_texts(key: PrivateKey) -> dict[str, str]:
    """Every way a private key is written down."""
    sec1 = key.crypto.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    d = key.crypto.private_numbers().private_value.to_bytes(32, "big")
    return {
        "pem": key.to_pem(),
        "sec1-pem": sec1,
        "base64": key.to_base64(),
        "wallet-auth": "wallet-auth:" + key.to_base64(),
        "jwk": json.dumps(key.to_jwk()),
        "jwk-d": key.to_jwk()["d"],
        "hex-d": d.hex(),
    }


def _substrings(text: str, size: int = 16) -> Iterator[str]:
    return (text[i : i + size] for i in range(len(text) - size + 1))


def assert_no_key_text(message: str, text: str) -> None:
    leaked = [part for part in _substrings(text) if part in message]
    assert not leaked, f"message holds key text: {leaked[:3]}"


# --- every kind of reference --------------------------------------------------------------


def test_a_path_and_file_references(tmp_path: Path) -> None:
    path = tmp_path / "alice.key"
    path.write_text(KEY.to_pem())
    assert resolve_key(str(path)) == KEY
    assert resolve_key(f"file:{path}") == KEY
    assert resolve_key(f"file://{path}") == KEY  # file:///abs/path
    assert resolve_key(f"file://localhost{path}") == KEY
    assert resolve_key(str(path), purpose="public") == KEY.public_key
    public = tmp_path / "alice.pub"
    public.write_text(KEY.public_key.to_base64())
    assert resolve_key(str(public), purpose="public") == KEY.public_key
    with pytest.raises(KeyFormatError, match="holds a public key"):
        resolve_key(str(public))
    # A file whose name reads as another kind of reference is reached with file:.
    odd = tmp_path / "env:ALICE"
    odd.write_text(KEY.to_base64())
    assert resolve_key(f"file:{odd}") == KEY


def test_stdin_and_environment_references() -> None:
    assert resolve_key("-", stdin=io.BytesIO(KEY.to_pem().encode())) == KEY
    der = KEY.to_sec1_der()
    assert resolve_key("-", stdin=io.BytesIO(der)) == KEY  # binary DER
    environ = {"ALICE_KEY": json.dumps(KEY.to_jwk())}
    assert resolve_key("env:ALICE_KEY", environ=environ) == KEY
    public = resolve_key("env:ALICE_KEY", purpose="public", environ=environ)
    assert public == KEY.public_key


def test_pkcs11_and_awskms_references_give_signers() -> None:
    from authsig.signers.awskms import AwsKmsSigner
    from authsig.signers.pkcs11 import PKCS11Signer

    hsm = softhsm()
    signer = resolve_key(hsm.uri(object="carol"))
    assert isinstance(signer, PKCS11Signer)
    with signer:
        assert signer.public_key == hsm.imported.public_key
    assert resolve_key(hsm.uri(object="carol"), purpose="public") == hsm.imported.public_key
    environ = {"AUTHSIG_PKCS11_MODULE": hsm.module, "AUTHSIG_PKCS11_PIN": "4321"}
    with resolve_key("pkcs11:token=authsig-test;object=carol", environ=environ) as from_env:  # type: ignore[union-attr]
        assert from_env.public_key == hsm.imported.public_key
    kms: MotoKMS
    with moto_kms() as kms, pytest.MonkeyPatch.context() as patch:
        for name, value in kms.env.items():
            patch.setenv(name, value)
        meta = kms.create_key(alias="alias/refs")
        kms_signer = resolve_key("awskms://alias/refs")
        assert isinstance(kms_signer, AwsKmsSigner)
        assert kms_signer.kms_key_id == "alias/refs"
        public = resolve_key(f"awskms://{meta['Arn']}", purpose="public")
        assert public == kms_signer.public_key


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("", "empty key reference"),
        ("env:", "variable name"),
        ("env:NOT-A-NAME", "variable name"),
        ("env:AUTHSIG_TEST_UNSET_VARIABLE", "AUTHSIG_TEST_UNSET_VARIABLE is not set"),
        ("file:", "without a path"),
        ("file://remote.example/key", "local path"),
        ("awskms://", "key id"),
        ("awskms://has space", "key id"),
        ("/nonexistent/alice.key", "key file /nonexistent/alice.key: No such file"),
    ],
)
def test_unusable_references(ref: str, fragment: str) -> None:
    with pytest.raises(KeyReferenceError, match=fragment) as caught:
        resolve_key(ref, environ={})
    assert isinstance(caught.value, KeyFormatError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "invalid_key_reference"


def test_empty_and_oversized_inputs(tmp_path: Path) -> None:
    with pytest.raises(KeyReferenceError, match="empty"):
        resolve_key("env:EMPTY", environ={"EMPTY": " \n"})
    with pytest.raises(KeyReferenceError, match="stdin: no key"):
        resolve_key("-", stdin=io.BytesIO(b""))
    big = tmp_path / "big"
    big.write_bytes(b"A" * 200_000)
    with pytest.raises(KeyFormatError):
        resolve_key(str(big))
    with pytest.raises(ValueError, match="purpose"):
        resolve_key(str(big), purpose="secret")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        resolve_key(b"alice.key")  # type: ignore[call-overload]


# --- key text is never a reference, and never repeated ------------------------------------


@pytest.mark.parametrize("form", sorted(_key_texts(KEY)))
def test_key_text_is_refused_without_repeating_it(form: str) -> None:
    text = _key_texts(KEY)[form]
    assert looks_like_key_text(text)
    for ref in (text, f"file:{text}"):
        for purpose in ("private", "public"):
            with pytest.raises(KeyReferenceError) as caught:
                resolve_key(ref, purpose=purpose)  # type: ignore[call-overload]
            assert str(caught.value) == KEY_TEXT_GIVEN
            assert_no_key_text(str(caught.value), text)


@pytest.mark.parametrize("form", sorted(_key_texts(KEY)))
def test_broken_key_text_behind_a_reference_is_not_repeated(form: str) -> None:
    text = _key_texts(KEY)[form]
    middle = len(text) // 2
    broken = text[:middle] + "!!" + text[middle + 2 :]
    for purpose in ("private", "public"):
        with pytest.raises(KeyFormatError) as caught:
            resolve_key("env:K", purpose=purpose, environ={"K": broken})  # type: ignore[call-overload]
        assert str(caught.value).startswith("env:K")
        assert_no_key_text(str(caught.value), text)


@pytest.mark.parametrize(
    "name",
    [
        "alice.key",
        "/etc/authsig/keys/production-signing-key-2024.pem",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "keys/MyAlice.pem",
    ],
)
def test_names_do_not_look_like_key_text(name: str) -> None:
    assert not looks_like_key_text(name)
    assert parse_key_reference(name).kind == "path"


# --- signer adapters ----------------------------------------------------------------------


def test_local_signer_is_a_signer_and_signs_requests() -> None:
    signer = LocalSigner(KEY)
    assert isinstance(signer, Signer)
    assert not isinstance(KEY, Signer)
    assert repr(signer) == f"LocalSigner(key_id={KEY.key_id!r})"
    assert verify_signature(b"m", signer.sign(b"m"), KEY.public_key)
    deterministic = LocalSigner(KEY, deterministic=True)
    assert deterministic.sign(b"m") == deterministic(b"m")
    headers = sign_request(
        method="POST", url="https://x.test/a", body={}, app_id="app", keys=[signer]
    )
    quorum = KeyQuorum(public_keys=(KEY.public_key,))
    decision = verify_request(
        method="POST", url="https://x.test/a", body={}, headers=headers, quorum=quorum
    )
    assert decision.approved


def test_callable_signer_converts_raw_r_s_to_der() -> None:
    def raw_backend(data: bytes) -> bytes:  # an API that answers r || s (IEEE P1363)
        return der_to_raw(LocalSigner(KEY).sign(data))

    signer = CallableSigner(raw_backend, KEY.public_key, encoding="raw")
    der = signer.sign(b"payload")
    assert der[0] == 0x30
    assert verify_signature(b"payload", der, KEY.public_key)
    assert to_der(der_to_raw(der), "raw") == der
    with pytest.raises(SignatureFormatError):
        to_der(b"\x01" * 63, "raw")
    with pytest.raises(SignatureFormatError):
        to_der(b"\x30\x00", "der")


def test_a_signature_by_another_key_is_refused() -> None:
    other = LocalSigner(generate_private_key())
    signer = CallableSigner(other.sign, KEY.public_key)
    with pytest.raises(SignerError, match="does not verify with the signer's public key"):
        signer.sign(b"m")
    garbage = CallableSigner(lambda data: b"\x30\x03\x02\x01\x01", KEY.public_key)
    with pytest.raises(SignerError, match="not a der ECDSA signature"):
        garbage.sign(b"m")


def test_backend_failures_chain_their_cause_without_key_material() -> None:
    pem = generate_private_key().to_pem()

    class BackendDown(RuntimeError):
        pass

    def failing(data: bytes) -> bytes:
        raise BackendDown(f"HSM said: cannot use {pem} (slot 3)")

    with pytest.raises(SignerError) as caught:
        CallableSigner(failing, KEY.public_key).sign(b"m")
    message = str(caught.value)
    assert message.startswith("signer failed: BackendDown: HSM said: cannot use [redacted]")
    assert "(slot 3)" in message
    assert_no_key_text(message, pem)
    # The cause's own message holds the key, and a logged traceback would print it: not chained.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__

    def down(data: bytes) -> bytes:
        raise BackendDown("HSM said: slot 3 is not initialized")

    with pytest.raises(SignerError) as caught:
        CallableSigner(down, KEY.public_key).sign(b"m")
    assert str(caught.value) == "signer failed: BackendDown: HSM said: slot 3 is not initialized"
    assert isinstance(caught.value.__cause__, BackendDown)
    # Through sign_request too (which adds which signer failed).
    with pytest.raises(SignerError) as caught:
        sign_request(
            method="POST",
            url="https://x.test/a",
            body={},
            app_id="app",
            keys=[CallableSigner(failing, KEY.public_key)],
        )
    assert_no_key_text(str(caught.value), pem)
    assert str(caught.value).startswith("signer 1 failed: SignerError: signer failed: BackendDown")
    # the chain holds no key text either: the signer's error is chained, the backend's is not
    assert isinstance(caught.value.__cause__, SignerError)
    assert caught.value.__cause__.__cause__ is None
    assert caught.value.__cause__.__suppress_context__


def test_scrub_keeps_ordinary_messages() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/4c979add-5658-4861-b8ac-d960d6a1e160"
    text = f"AccessDenied for {arn}\non /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"
    assert scrub(text) == " ".join(text.split())
    for form, secret in _key_texts(KEY).items():
        scrubbed = scrub(f"bad key: {secret}")
        if form == "jwk":  # the JSON structure stays; the key's numbers go
            assert KEY.to_jwk()["d"] not in scrubbed
            assert KEY.to_jwk()["x"] not in scrubbed
        else:
            assert_no_key_text(scrubbed, secret)
    assert signer_error(ValueError("")).message == "signer failed: ValueError"


def test_to_async_runs_a_signer_in_a_thread() -> None:
    import asyncio

    wrapped = to_async(LocalSigner(KEY))
    assert isinstance(wrapped, AsyncSigner)
    assert wrapped.public_key == KEY.public_key
    der: bytes = asyncio.run(wrapped(b"m"))  # type: ignore[arg-type]
    assert verify_signature(b"m", der, KEY.public_key)
    with pytest.raises(TypeError):
        to_async(KEY)  # type: ignore[arg-type]


def test_public_key_objects_are_not_signers() -> None:
    assert not isinstance(KEY.public_key, Signer)
    assert isinstance(
        resolve_key("env:P", purpose="public", environ={"P": KEY.to_pem()}), PublicKey
    )
