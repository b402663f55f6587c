"""Private key DER: passphrase encryption (PKCS#8) and why a private key did not load.

Encrypted keys are PKCS#8 ``EncryptedPrivateKeyInfo`` written with ``cryptography``'s
``BestAvailableEncryption``: with ``cryptography`` 44 to 50 that is PBES2 (PBKDF2-HMAC-SHA256,
2048 iterations, a random salt) with AES-256-CBC, what OpenSSL's ``pkcs8 -topk8`` writes and
reads. Reading takes any PKCS#8 encryption ``cryptography`` can decrypt.

Every failure is a :class:`~authsig.errors.KeyFormatError` raised without the input, the
passphrase or their chained exceptions.
"""

from __future__ import annotations

from typing import Any, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from authsig._keytext import (
    P256_OID,
    PUBLIC_GIVEN,
    _algorithm_label,
    _fail,
    _wrong_curve,
)
from authsig.errors import EncryptedKeyError, WrongCurveError, WrongPassphraseError

__all__ = [
    "NEEDS_PASSPHRASE",
    "classify_private_der",
    "decrypt_pkcs8",
    "encryption",
    "is_encrypted_pkcs8",
    "params_named",
    "passphrase_bytes",
]

NEEDS_PASSPHRASE = "the private key is encrypted: give its passphrase"  # noqa: S105 - a message
"""The start of every :class:`EncryptedKeyError` message (callers add where it goes)."""


def passphrase_bytes(passphrase: str | bytes) -> bytes:
    """A passphrase as bytes (``str``: UTF-8). An empty one is a ``ValueError``."""
    if isinstance(passphrase, str):
        data = passphrase.encode("utf-8")
    elif isinstance(passphrase, bytes | bytearray):
        data = bytes(passphrase)
    else:
        raise TypeError(f"a passphrase must be str or bytes, not {type(passphrase).__name__}")
    if not data:
        raise ValueError("a passphrase must not be empty")
    return data


def encryption(passphrase: str | bytes | None) -> serialization.KeySerializationEncryption:
    """``BestAvailableEncryption`` with ``passphrase``, or ``NoEncryption`` for None."""
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(passphrase_bytes(passphrase))


def is_encrypted_pkcs8(der: bytes) -> bool:
    """True when ``der`` is a PKCS#8 ``EncryptedPrivateKeyInfo``.

    Its first member is a SEQUENCE (the algorithm); plain PKCS#8 and SEC1 keys start with an
    INTEGER (the version), so the structures cannot be mistaken for each other.
    """
    from asn1crypto import keys as asn1_keys

    try:
        info = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        info["encryption_algorithm"]["algorithm"].native  # noqa: B018 - forces the parse
        return isinstance(info["encrypted_data"].native, bytes)
    except Exception:  # asn1crypto raises many types on other structures
        return False


def decrypt_pkcs8(der: bytes, passphrase: str | bytes | None) -> bytes:
    """The plain PKCS#8 DER inside an ``EncryptedPrivateKeyInfo``.

    Raises :class:`EncryptedKeyError` without a passphrase and :class:`WrongPassphraseError`
    when it does not decrypt the key.
    """
    if passphrase is None:
        raise EncryptedKeyError(f"{NEEDS_PASSPHRASE} (passphrase=...)")
    secret = passphrase_bytes(passphrase)
    try:
        crypto = serialization.load_der_private_key(der, password=secret)
    except UnsupportedAlgorithm:
        _fail("the encrypted private key uses an encryption scheme that is not supported")
    except (ValueError, TypeError):
        # A wrong passphrase and damaged ciphertext look the same after decryption.
        raise WrongPassphraseError(
            "wrong passphrase for the encrypted private key (or the key is damaged)"
        ) from None
    return crypto.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _is_spki(der: bytes) -> bool:
    from asn1crypto import keys as asn1_keys

    try:
        asn1_keys.PublicKeyInfo.load(der, strict=True).native  # noqa: B018 - full parse
    except Exception:
        return False
    return True


def classify_private_der(der: bytes) -> NoReturn:
    """Explain why ``der`` did not load as a P-256 private key (always raises)."""
    from asn1crypto import keys as asn1_keys

    if _is_spki(der):
        _fail(PUBLIC_GIVEN)
    params: Any = None
    algorithm = "ec"
    try:
        info = asn1_keys.PrivateKeyInfo.load(der, strict=True)
        algorithm = info["private_key_algorithm"]["algorithm"].native
        params = info["private_key_algorithm"]["parameters"]
    except Exception:
        try:
            sec1 = asn1_keys.ECPrivateKey.load(der, strict=True)
            if sec1["version"].native != "ecPrivkeyVer1":
                raise ValueError("not SEC1") from None
            params = sec1["parameters"]
        except Exception:
            params = None
            algorithm = ""
    if algorithm and algorithm != "ec":
        _fail(f"{_algorithm_label(algorithm)}, expected a P-256 EC private key")
    try:
        if params is not None and params.name == "named":
            curve_oid = params.chosen.dotted
            if curve_oid != P256_OID:
                _wrong_curve(curve_oid, params.chosen.native)
    except WrongCurveError:
        raise
    except Exception:
        _fail("not a DER PKCS#8 or SEC1 private key")
    _fail("not a valid DER PKCS#8 or SEC1 P-256 private key")


def params_named(der: bytes) -> bool:
    """True when every curve parameter field in a PKCS#8/SEC1 key is a named curve.

    ``cryptography`` loads explicit parameters that spell out P-256 as P-256; authsig
    refuses them (see :mod:`authsig.keys`), so the structure is checked here.
    """
    from asn1crypto import core as asn1_core
    from asn1crypto import keys as asn1_keys

    try:
        try:
            info = asn1_keys.PrivateKeyInfo.load(der, strict=True)
            outer = info["private_key_algorithm"]["parameters"]
            inner = asn1_keys.ECPrivateKey.load(info["private_key"].contents, strict=True)
            fields = [outer, inner["parameters"]]
        except Exception:
            fields = [asn1_keys.ECPrivateKey.load(der, strict=True)["parameters"]]
        present = [f for f in fields if not isinstance(f, asn1_core.Void)]
        return bool(present) and all(f.name == "named" for f in present)
    except Exception:
        return False
