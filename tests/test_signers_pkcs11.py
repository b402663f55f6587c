"""PKCS#11 signing against a real SoftHSM2 token, and RFC 7512 URI parsing."""

from __future__ import annotations

import asyncio
import base64
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from _signer_backends import PIN, SoftHSM, softhsm

from authsig.errors import KeyFormatError, SignerError, WrongCurveError
from authsig.keys import PublicKey, generate_private_key
from authsig.privy import KeyQuorum, sign_request, sign_request_async, verify_request
from authsig.privy.client import PrivyRequestsAuth
from authsig.signatures import decode_signature, verify_signature
from authsig.signers import KeyReferenceError, Signer, to_async
from authsig.signers.pkcs11_uri import MODULE_ENV, PIN_ENV, parse_pkcs11_uri

if TYPE_CHECKING:  # the module imports python-pkcs11, which the tests import lazily
    from authsig.signers.pkcs11 import PKCS11Signer

URL = "https://api.privy.io/v1/wallets/w1/rpc"
BODY = {"method": "eth_signTransaction", "params": {"transaction": {"to": "0xabc"}}}
APP = "app-hsm"


@pytest.fixture(scope="module")
def hsm() -> SoftHSM:
    return softhsm()


def _signer(hsm: SoftHSM, **attrs: str) -> PKCS11Signer:
    from authsig.signers.pkcs11 import PKCS11Signer

    return PKCS11Signer.from_uri(hsm.uri(**attrs))


def _approved(headers: dict[str, str], keys: list[PublicKey], threshold: int | None = None) -> bool:
    quorum = KeyQuorum(public_keys=tuple(keys), authorization_threshold=threshold)
    decision = verify_request(method="POST", url=URL, body=BODY, headers=headers, quorum=quorum)
    return decision.approved


# --- URIs (no token needed) ---------------------------------------------------------------


def test_uri_attributes_in_path_and_query() -> None:
    uri = parse_pkcs11_uri(
        "pkcs11:token=My%20Token;object=alice;id=%01%ff;slot-id=7;serial=00ab"
        "?module-path=/usr/lib/p11.so&pin-value=12%3B34"
    )
    assert uri.token == "My Token"
    assert uri.object == "alice"
    assert uri.id == b"\x01\xff"
    assert uri.slot_id == 7
    assert uri.serial == "00ab"
    assert uri.module_path == "/usr/lib/p11.so"
    assert uri.pin_value == "12;34"
    assert "12;34" not in repr(uri)
    # Some tools put query attributes in the path; vendor attributes are ignored.
    lenient = parse_pkcs11_uri("PKCS11:object=k;pin-value=9999;x-vendor=whatever")
    assert (lenient.object, lenient.pin_value) == ("k", "9999")


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("pkcs11:object=a;object=b", "given twice"),
        ("pkcs11:colour=blue", "unknown URI attribute 'colour'"),
        ("pkcs11:slot-description=x", "not supported"),
        ("pkcs11:object=a;type=public", "type=private"),
        ("pkcs11:slot-id=one", "slot-id"),
        ("pkcs11:object", "name=value"),
        ("pkcs11:id=", "empty"),
        ("pkcs11:object=a?pin-value=1&pin-source=file:/p", "not both"),
        ("pkcs11:object=a?module-path=/a&module-name=b", "not both"),
        ("notpkcs11:object=a", "not a pkcs11: URI"),
    ],
)
def test_bad_uris_are_refused_by_attribute_name(uri: str, fragment: str) -> None:
    with pytest.raises(KeyReferenceError, match=fragment) as caught:
        parse_pkcs11_uri(uri)
    assert isinstance(caught.value, KeyFormatError)
    assert isinstance(caught.value, ValueError)


def test_error_messages_never_hold_the_pin() -> None:
    secret = "s3cr3t-PIN-value"
    for uri in (
        f"pkcs11:object=a;object=b?pin-value={secret}",
        f"pkcs11:token=t;pin-value={secret};colour=blue",
        f"pkcs11:token=t?pin-value={secret}&pin-source=file:/x",
    ):
        with pytest.raises(KeyReferenceError) as caught:
            parse_pkcs11_uri(uri)
        assert secret not in str(caught.value)


def test_pin_and_module_sources(tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("2468\n")
    assert parse_pkcs11_uri(f"pkcs11:?pin-source=file:{pin_file}").pin({}) == "2468"
    assert parse_pkcs11_uri(f"pkcs11:?pin-source={pin_file}").pin({}) == "2468"
    assert parse_pkcs11_uri("pkcs11:?pin-source=env:MY_PIN").pin({"MY_PIN": "1357"}) == "1357"
    assert parse_pkcs11_uri("pkcs11:object=a").pin({PIN_ENV: "8642"}) == "8642"
    assert parse_pkcs11_uri("pkcs11:object=a").pin({}) is None  # no login
    with pytest.raises(KeyReferenceError, match="MY_PIN is not set"):
        parse_pkcs11_uri("pkcs11:?pin-source=env:MY_PIN").pin({})
    with pytest.raises(KeyReferenceError, match="not supported"):
        parse_pkcs11_uri("pkcs11:?pin-source=%7C/bin/echo%201234").pin({})
    with pytest.raises(KeyReferenceError, match="pin-source file"):
        parse_pkcs11_uri(f"pkcs11:?pin-source={tmp_path / 'missing'}").pin({})
    assert parse_pkcs11_uri("pkcs11:object=a").module({MODULE_ENV: "/m.so"}) == "/m.so"
    with pytest.raises(KeyReferenceError, match=MODULE_ENV):
        parse_pkcs11_uri("pkcs11:object=a").module({})
    with pytest.raises(KeyReferenceError, match="module-name"):
        parse_pkcs11_uri("pkcs11:?module-name=no-such-module-here").module({})


# --- SoftHSM2 -----------------------------------------------------------------------------


def test_a_token_key_signs_requests_the_verifier_approves(hsm: SoftHSM) -> None:
    with _signer(hsm, object="alice") as alice:
        assert isinstance(alice, Signer)
        headers = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=alice)
        assert _approved(headers, [alice.public_key])
        assert not _approved(headers, [generate_private_key().public_key])
        der = alice.sign(b"payload")
        decode_signature(base64.b64encode(der).decode())  # strict DER
        assert der != alice.sign(b"payload")  # ECDSA with the token's randomness


def test_keys_found_by_id_and_by_label_are_the_same_key(hsm: SoftHSM) -> None:
    with _signer(hsm, object="bob") as by_label, _signer(hsm, id="%02") as by_id:
        assert by_label.public_key == by_id.public_key
        assert verify_signature(b"x", by_id.sign(b"x"), by_label.public_key)


def test_an_imported_key_signs_for_its_known_public_key(hsm: SoftHSM) -> None:
    """carol was generated here and imported: the token's signatures verify with our copy."""
    with _signer(hsm, object="carol") as carol:
        assert carol.public_key == hsm.imported.public_key
        headers = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=carol)
        assert _approved(headers, [hsm.imported.public_key])
        # ... and the local copy's signatures verify with the key read from the token.
        local = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=hsm.imported)
        assert _approved(local, [carol.public_key])


def test_multi_key_quorum_mixing_token_and_local_keys(hsm: SoftHSM) -> None:
    local = generate_private_key()
    with _signer(hsm, object="alice") as alice, _signer(hsm, object="bob") as bob:
        members = [alice.public_key, bob.public_key, local.public_key]
        headers = sign_request(
            method="POST", url=URL, body=BODY, app_id=APP, keys=[alice, local, bob]
        )
        assert _approved(headers, members)  # all three
        two = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=[bob, local])
        assert _approved(two, members, threshold=2)
        assert not _approved(two, members)


def test_async_signing_and_the_requests_auth_class(hsm: SoftHSM) -> None:
    local = generate_private_key()
    with _signer(hsm, object="alice") as alice:
        headers = asyncio.run(
            sign_request_async(
                method="POST", url=URL, body=BODY, app_id=APP, keys=[to_async(alice), local]
            )
        )
        assert _approved(headers, [alice.public_key, local.public_key])
        auth = PrivyRequestsAuth(APP, [alice, local])
        prepared = requests.Request("POST", URL, json=BODY, auth=auth).prepare()
        quorum = KeyQuorum(public_keys=(alice.public_key, local.public_key))
        decision = verify_request(
            method="POST", url=URL, body=prepared.body, headers=prepared.headers, quorum=quorum
        )
        assert decision.approved, decision.message


def test_signers_of_one_token_share_its_login(hsm: SoftHSM) -> None:
    """Closing one signer (C_Logout is per application) must not log the others out."""
    alice = _signer(hsm, object="alice")
    with _signer(hsm, object="bob") as bob:
        alice.close()
        alice.close()  # idempotent
        assert verify_signature(b"after", bob.sign(b"after"), bob.public_key)
    with pytest.raises(SignerError, match="closed"):
        alice.sign(b"x")


def test_concurrent_signing_from_threads(hsm: SoftHSM) -> None:
    failures: list[BaseException] = []
    with _signer(hsm, object="alice") as alice, _signer(hsm, object="bob") as bob:

        def work(signer: Signer, n: int) -> None:
            try:
                for i in range(10):
                    data = f"{n}-{i}".encode()
                    assert verify_signature(data, signer.sign(data), signer.public_key)
            except BaseException as exc:  # reported below, from the main thread
                failures.append(exc)

        threads = [
            threading.Thread(target=work, args=(s, n)) for n, s in enumerate([alice, bob] * 3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []


def test_wrong_pin_is_a_chained_signer_error(hsm: SoftHSM) -> None:
    from authsig.signers.pkcs11 import PKCS11Signer

    bad_pin = "99887766"
    with pytest.raises(SignerError) as caught:
        PKCS11Signer.from_uri(hsm.uri(pin=bad_pin, object="alice"))
    assert "PinIncorrect" in str(caught.value)
    assert bad_pin not in str(caught.value)
    assert type(caught.value.__cause__).__name__ == "PinIncorrect"
    assert caught.value.code == "signer_failed"


@pytest.mark.parametrize(
    ("attrs", "error", "fragment"),
    [
        ({"object": "nobody"}, SignerError, "no EC private key"),
        ({}, SignerError, "EC private keys match"),
        ({"object": "orphan"}, SignerError, "no public key object"),
        ({"object": "p384"}, WrongCurveError, "not on P-256"),
    ],
)
def test_unusable_keys_are_named(
    hsm: SoftHSM, attrs: dict[str, str], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        _signer(hsm, **attrs)


def test_unknown_token_and_unloadable_module(hsm: SoftHSM, tmp_path: Path) -> None:
    from authsig.signers.pkcs11 import PKCS11Signer

    with pytest.raises(SignerError, match="no token matches"):
        PKCS11Signer.from_uri(hsm.uri(object="alice").replace("token=authsig-test", "token=x"))
    not_a_module = tmp_path / "libnothing.so"
    not_a_module.write_bytes(b"not a shared object")
    with pytest.raises(SignerError, match="cannot open the token") as caught:
        PKCS11Signer.from_uri(f"pkcs11:object=alice?module-path={not_a_module}&pin-value={PIN}")
    assert caught.value.__cause__ is not None
