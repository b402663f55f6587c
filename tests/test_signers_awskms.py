"""AWS KMS signing against a local moto server (started by the test, on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from _signer_backends import AWS_ENV, MotoKMS, moto_kms, softhsm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from authsig.errors import SignerError
from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.privy import KeyQuorum, sign_request, sign_request_async, verify_request
from authsig.signatures import verify_signature
from authsig.signers import resolve_key, to_async
from authsig.signers.awskms import MAX_RAW_MESSAGE, AwsKmsSigner

URL = "https://api.privy.io/v1/wallets/w1/rpc"
BODY = {"method": "eth_signTransaction", "params": {"transaction": {"to": "0xabc"}}}
APP = "app-kms"


@pytest.fixture(scope="module")
def kms() -> Iterator[MotoKMS]:
    with moto_kms() as server:
        yield server


@pytest.fixture
def aws_env(kms: MotoKMS, monkeypatch: pytest.MonkeyPatch) -> MotoKMS:
    """boto3's own configuration (as a deployment has it) pointing at the moto server."""
    for name, value in kms.env.items():
        monkeypatch.setenv(name, value)
    return kms


def _approved(headers: dict[str, str], keys: list[PublicKey], body: Any = BODY) -> bool:
    quorum = KeyQuorum(public_keys=tuple(keys))
    return verify_request(
        method="POST", url=URL, body=body, headers=headers, quorum=quorum
    ).approved


def _capture_sign_requests(client: Any) -> list[dict[str, Any]]:
    """The JSON bodies of the Sign requests ``client`` sends, as they go on the wire."""
    sent: list[dict[str, Any]] = []

    def before_send(request: Any, **_: Any) -> None:
        sent.append(json.loads(request.body))

    client.meta.events.register("before-send.kms.Sign", before_send)
    return sent


def test_a_kms_key_signs_requests_the_verifier_approves(aws_env: MotoKMS) -> None:
    meta = aws_env.create_key(alias="alias/alice")
    for ref in (meta["KeyId"], meta["Arn"], "alias/alice"):
        signer = resolve_key(f"awskms://{ref}")
        assert isinstance(signer, AwsKmsSigner)
        headers = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=signer)
        assert _approved(headers, [signer.public_key])
        assert not _approved(headers, [generate_private_key().public_key])
    # The public key is KMS's own SubjectPublicKeyInfo.
    spki = aws_env.client().get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    assert signer.public_key.spki_der == spki


def test_quorum_of_kms_hsm_and_local_keys(aws_env: MotoKMS) -> None:
    from authsig.signers.pkcs11 import PKCS11Signer

    hsm = softhsm()
    kms_signer = AwsKmsSigner(aws_env.create_key()["KeyId"], client=aws_env.client())
    local = generate_private_key()
    with PKCS11Signer.from_uri(hsm.uri(object="alice")) as token_signer:
        keys: list[Any] = [kms_signer, token_signer, local]
        headers = sign_request(method="POST", url=URL, body=BODY, app_id=APP, keys=keys)
        members = [kms_signer.public_key, token_signer.public_key, local.public_key]
        assert _approved(headers, members)
        asynchronous: list[Any] = [to_async(kms_signer), to_async(token_signer), local]
        headers = asyncio.run(
            sign_request_async(method="POST", url=URL, body=BODY, app_id=APP, keys=asynchronous)
        )
        assert _approved(headers, members)


def test_raw_up_to_4096_bytes_then_digest(kms: MotoKMS) -> None:
    client = kms.client()
    sent = _capture_sign_requests(client)
    signer = AwsKmsSigner(kms.create_key()["KeyId"], client=client)
    for size in (1, MAX_RAW_MESSAGE):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        assert verify_signature(data, signer.sign(data), signer.public_key)
        request = sent.pop()
        assert request["MessageType"] == "RAW"
        assert base64.b64decode(request["Message"]) == data
        assert request["SigningAlgorithm"] == "ECDSA_SHA_256"

    # One byte more: the SHA-256 digest is sent, with MessageType DIGEST. moto does not follow
    # KMS here: it hashes a DIGEST message again, so its signature covers SHA-256(digest) and
    # not the payload. The signer checks every signature, so it refuses moto's answer; the
    # request itself is what KMS documents, and test_digest_signatures_verify checks the
    # signature semantics with a client that follows KMS.
    data = b"y" * (MAX_RAW_MESSAGE + 1)
    digest = hashlib.sha256(data).digest()
    with pytest.raises(SignerError, match="does not verify"):
        signer.sign(data)
    request = sent.pop()
    assert request["MessageType"] == "DIGEST"
    assert base64.b64decode(request["Message"]) == digest
    assert request["SigningAlgorithm"] == "ECDSA_SHA_256"
    # What moto signed instead (documents the difference above).
    moto_signature = client.sign(
        KeyId=signer.kms_key_id,
        Message=digest,
        MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )["Signature"]
    assert verify_signature(digest, moto_signature, signer.public_key)
    assert not verify_signature(data, moto_signature, signer.public_key)


class _KmsSemantics:
    """A KMS client stand-in that signs as AWS documents it: a DIGEST message is not hashed.

    Only for the DIGEST path, where moto differs from KMS (see above); it records the calls.
    """

    def __init__(self, key: PrivateKey) -> None:
        self.key = key
        self.calls: list[dict[str, Any]] = []

    def get_public_key(self, KeyId: str) -> dict[str, Any]:  # boto3's parameter names
        return {
            "KeyId": KeyId,
            "PublicKey": self.key.public_key.spki_der,
            "KeySpec": "ECC_NIST_P256",
            "KeyUsage": "SIGN_VERIFY",
            "SigningAlgorithms": ["ECDSA_SHA_256"],
        }

    def sign(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if params["MessageType"] == "DIGEST":
            algorithm = ec.ECDSA(Prehashed(hashes.SHA256()))
        else:
            algorithm = ec.ECDSA(hashes.SHA256())
        return {"Signature": self.key.crypto.sign(params["Message"], algorithm)}


def test_digest_signatures_verify() -> None:
    key = generate_private_key()
    client = _KmsSemantics(key)
    signer = AwsKmsSigner("alias/big", client=client)
    body = {"data": "z" * (2 * MAX_RAW_MESSAGE)}
    headers = sign_request(method="POST", url=URL, body=body, app_id=APP, keys=signer)
    assert client.calls[-1]["MessageType"] == "DIGEST"
    assert len(client.calls[-1]["Message"]) == 32
    assert _approved(headers, [key.public_key], body=body)


def test_kms_failures_are_chained_signer_errors(aws_env: MotoKMS) -> None:
    with pytest.raises(SignerError, match="NotFoundException") as caught:
        resolve_key("awskms://alias/no-such-key")
    from botocore.exceptions import ClientError

    assert isinstance(caught.value.__cause__, ClientError)
    assert caught.value.code == "signer_failed"
    p384 = aws_env.create_key(spec="ECC_NIST_P384")
    with pytest.raises(SignerError, match="ECC_NIST_P384, expected ECC_NIST_P256"):
        resolve_key(f"awskms://{p384['KeyId']}")


def test_the_region_of_an_arn_is_used(kms: MotoKMS, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = kms.create_key()
    monkeypatch.setenv("AWS_ENDPOINT_URL", kms.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ENV["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_ENV["AWS_SECRET_ACCESS_KEY"])
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")  # no region from ~/.aws/config
    signer = resolve_key(f"awskms://{meta['Arn']}")
    assert isinstance(signer, AwsKmsSigner)
    with pytest.raises(SignerError, match="NoRegionError"):
        resolve_key(f"awskms://{meta['KeyId']}")


def test_public_purpose_gives_the_kms_public_key(aws_env: MotoKMS) -> None:
    meta = aws_env.create_key()
    public = resolve_key(f"awskms://{meta['KeyId']}", purpose="public")
    assert isinstance(public, PublicKey)
    assert public.spki_der == aws_env.client().get_public_key(KeyId=meta["KeyId"])["PublicKey"]
