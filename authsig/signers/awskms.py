"""AWS KMS signer: an ``ECC_NIST_P256`` key with ``ECDSA_SHA_256`` (``authsig[aws]``, boto3).

KMS takes a message of at most 4096 bytes (``MessageType=RAW``, hashed by KMS); a longer one
must be hashed here and sent as its SHA-256 digest (``MessageType=DIGEST``). Both give the
same signature semantics, ECDSA over SHA-256 of the payload, so the verifier cannot tell them
apart. KMS returns DER already.

The client is ``boto3.client("kms")`` unless one is given: credentials, region and endpoint
come from the usual AWS configuration (``AWS_REGION``, ``AWS_ENDPOINT_URL``, profiles, ...).
The region of a key ARN is used when none is given.
"""

from __future__ import annotations

import hashlib
from typing import Any

from authsig.errors import AuthSigError, SignerError
from authsig.keys import PublicKey, load_public_key
from authsig.signers._base import BaseSigner, chainable_cause, signer_error

__all__ = ["MAX_RAW_MESSAGE", "AwsKmsSigner"]

MAX_RAW_MESSAGE = 4096
"""The largest message KMS signs with ``MessageType=RAW``; longer payloads go as a digest."""

_KEY_SPEC = "ECC_NIST_P256"
_ALGORITHM = "ECDSA_SHA_256"


def _arn_region(key_id: str) -> str | None:
    """``arn:aws:kms:REGION:ACCOUNT:key/...`` (or ``alias/...``) -> REGION."""
    parts = key_id.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "kms" and parts[3]:
        return parts[3]
    return None


def _check_metadata(response: dict[str, Any]) -> None:
    """Refuse a key that is not a P-256 signing key, before its first use."""
    spec = response.get("KeySpec") or response.get("CustomerMasterKeySpec")
    if spec is not None and spec != _KEY_SPEC:
        raise SignerError(f"awskms: the key is {spec}, expected {_KEY_SPEC}")
    usage = response.get("KeyUsage")
    if usage is not None and usage != "SIGN_VERIFY":
        raise SignerError(f"awskms: the key's usage is {usage}, expected SIGN_VERIFY")
    algorithms = response.get("SigningAlgorithms")
    if algorithms is not None and _ALGORITHM not in algorithms:
        raise SignerError(f"awskms: the key does not sign with {_ALGORITHM}")


class AwsKmsSigner(BaseSigner):
    """A P-256 key in AWS KMS: ``AwsKmsSigner("alias/alice")`` or a key id or ARN.

    The public key is fetched once (``GetPublicKey``) when the signer is made; each signature
    is one ``Sign`` call, checked against that public key before it is returned.
    """

    def __init__(self, key_id: str, *, client: Any = None, region: str | None = None) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise TypeError("key_id must be a non-empty str (key id, key ARN, alias/NAME)")
        self._key_id = key_id
        self._owns_client = client is None
        try:
            if client is None:
                import boto3

                client = boto3.client("kms", region_name=region or _arn_region(key_id))
            self._client = client
            response = client.get_public_key(KeyId=key_id)
            _check_metadata(response)
            self._public = load_public_key(bytes(response["PublicKey"]))
        except AuthSigError:
            raise
        except Exception as exc:
            raise signer_error(exc, what="awskms: cannot get the public key") from chainable_cause(
                exc
            )

    @property
    def public_key(self) -> PublicKey:
        return self._public

    @property
    def kms_key_id(self) -> str:
        """The KMS key id, ARN or alias this signer was made with."""
        return self._key_id

    def close(self) -> None:
        """Close the client's connections if this signer made the client."""
        if self._owns_client:
            self._owns_client = False
            self._client.close()

    def _sign_der(self, data: bytes) -> bytes:
        if len(data) <= MAX_RAW_MESSAGE:
            message, message_type = data, "RAW"
        else:
            message, message_type = hashlib.sha256(data).digest(), "DIGEST"
        response = self._client.sign(
            KeyId=self._key_id,
            Message=message,
            MessageType=message_type,
            SigningAlgorithm=_ALGORITHM,
        )
        return bytes(response["Signature"])
