"""PKCS#11 signer: a P-256 key on an HSM or token (``authsig[pkcs11]``, python-pkcs11).

The token signs with ``CKM_ECDSA`` over a SHA-256 digest computed here: every token that
does ECDSA has that mechanism, while ``CKM_ECDSA_SHA256`` is optional (SoftHSM2 and many HSMs
lack it). ``CKM_ECDSA`` returns raw ``r || s``, converted to DER.

One logged-in session per token is shared by the signers of that token's keys in a process:
PKCS#11 login state belongs to the application, not to a session, so a second ``C_Login``
fails and the ``C_Logout`` of one signer would log out the others. Signing on a token is
serialized by that session's lock; a session lost to the token (removed, closed, logged out)
is reopened once.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import pkcs11
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from authsig.errors import AuthSigError, SignerError, WrongCurveError
from authsig.keys import PublicKey
from authsig.signatures import raw_to_der
from authsig.signers._base import BaseSigner, chainable_cause, signer_error
from authsig.signers.pkcs11_uri import PKCS11URI, parse_pkcs11_uri

__all__ = ["PKCS11Signer"]

# DER of the named-curve OID 1.2.840.10045.3.1.7 (prime256v1), as CKA_EC_PARAMS holds it.
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
# Failures after which a fresh session may succeed.
_SESSION_LOST = (
    pkcs11.exceptions.SessionClosed,
    pkcs11.exceptions.SessionHandleInvalid,
    pkcs11.exceptions.UserNotLoggedIn,
    pkcs11.exceptions.ObjectHandleInvalid,
    pkcs11.exceptions.KeyHandleInvalid,
)


class _TokenSession:
    """The one session of a token in this process, shared and reference-counted."""

    _registry: ClassVar[dict[tuple[str, int], _TokenSession]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: tuple[str, int], token: Any, pin: str | None) -> None:
        self._key = key
        self._token = token
        self._pin = pin
        self._users = 0
        self._session: Any = None
        self.generation = 0
        self.lock = threading.RLock()

    @classmethod
    def acquire(cls, module: str, token: Any, pin: str | None) -> _TokenSession:
        key = (module, int(token.slot.slot_id))
        with cls._registry_lock:
            shared = cls._registry.get(key)
            if shared is None:
                shared = cls._registry[key] = cls(key, token, pin)
            shared._users += 1
            return shared

    def release(self) -> None:
        with self._registry_lock:
            self._users -= 1
            if self._users > 0:
                return
            del self._registry[self._key]
        self.reset()

    def session(self) -> Any:
        """The open session (opened, and logged in with the PIN, on first use)."""
        with self.lock:
            if self._session is None:
                try:
                    self._session = self._token.open(user_pin=self._pin)
                except pkcs11.exceptions.UserAlreadyLoggedIn:
                    # Another part of this process logged in to the token: sessions share it.
                    self._session = self._token.open()
                self.generation += 1
            return self._session

    def reset(self) -> None:
        """Drop the session (logging out if it logged in); the next use opens a new one."""
        with self.lock:
            session, self._session = self._session, None
        if session is not None:
            # A token that already dropped the session has nothing left to release.
            with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
                session.close()


def _find_token(lib: Any, uri: PKCS11URI) -> Any:
    """The one token that the URI's token/serial/manufacturer/model/slot-id select."""
    found = []
    for slot in lib.get_slots(token_present=True):
        if uri.slot_id is not None and slot.slot_id != uri.slot_id:
            continue
        token = slot.get_token()
        serial = token.serial.decode("ascii", "replace").strip()
        if (
            (uri.token is None or token.label == uri.token)
            and (uri.serial is None or serial == uri.serial)
            and (uri.manufacturer is None or token.manufacturer_id == uri.manufacturer)
            and (uri.model is None or token.model == uri.model)
        ):
            found.append(token)
    if not found:
        raise SignerError("pkcs11: no token matches the URI (check token= and slot-id=)")
    if len(found) > 1:
        raise SignerError(f"pkcs11: {len(found)} tokens match the URI; add token= or slot-id=")
    return found[0]


def _find_private_key(session: Any, uri: PKCS11URI) -> Any:
    attrs: dict[Attribute, Any] = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.KEY_TYPE: KeyType.EC,
    }
    if uri.object is not None:
        attrs[Attribute.LABEL] = uri.object
    if uri.id is not None:
        attrs[Attribute.ID] = uri.id
    keys = list(session.get_objects(attrs))
    if not keys:
        raise SignerError(
            "pkcs11: no EC private key on the token matches the URI (check object= and id=; "
            "is the PIN given?)"
        )
    if len(keys) > 1:
        raise SignerError(f"pkcs11: {len(keys)} EC private keys match the URI; add object= or id=")
    return keys[0]


def _point(value: bytes) -> bytes:
    """``CKA_EC_POINT``: a DER OCTET STRING around the point (the standard) or the bare point."""
    if len(value) >= 2 and value[0] == 0x04 and value[1] == len(value) - 2:
        inner = value[2:]
        if len(inner) in (33, 65):  # a bare 65-byte point has no length byte that fits
            return inner
    return value


def _public_key(session: Any, private: Any) -> PublicKey:
    """The public key paired with ``private``: the public key object with its id or label."""
    if bytes(private[Attribute.EC_PARAMS]) != _P256_PARAMS:
        raise WrongCurveError("pkcs11: the key is not on P-256 (named curve prime256v1)")
    key_id = bytes(private[Attribute.ID] or b"")
    match: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PUBLIC_KEY}
    if key_id:
        match[Attribute.ID] = key_id
    else:
        match[Attribute.LABEL] = private[Attribute.LABEL]
    for public in session.get_objects(match):
        point = _point(bytes(public[Attribute.EC_POINT]))
        try:
            crypto = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise WrongCurveError("pkcs11: the public key point is not on P-256") from None
        return PublicKey.from_crypto(crypto)
    raise SignerError("pkcs11: found the private key but no public key object with its id or label")


class PKCS11Signer(BaseSigner):
    """A P-256 private key on a PKCS#11 token, found by an RFC 7512 URI.

    ``PKCS11Signer.from_uri("pkcs11:token=ops;object=alice?module-path=...&pin-source=...")``.
    Signatures are checked against the token's public key before they are returned. Close the
    signer (or use it as a context manager) to release the token session it shares.
    """

    def __init__(self, uri: PKCS11URI, *, pin: str | None, module: str) -> None:
        if not isinstance(uri, PKCS11URI):
            raise TypeError("uri must be a PKCS11URI (see PKCS11Signer.from_uri)")
        self._uri = uri
        self._closed = False
        try:
            lib = pkcs11.lib(module)
            token = _find_token(lib, uri)
        except AuthSigError:
            raise
        except Exception as exc:
            raise signer_error(exc, what="pkcs11: cannot open the token") from chainable_cause(exc)
        self._shared = _TokenSession.acquire(module, token, pin)
        self._generation = -1
        self._key: Any = None
        try:
            with self._shared.lock:
                session = self._shared.session()
                self._public = _public_key(session, self._private_key())
        except AuthSigError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise signer_error(exc, what="pkcs11: cannot use the key") from chainable_cause(exc)

    @classmethod
    def from_uri(cls, uri: str, *, environ: Mapping[str, str] | None = None) -> PKCS11Signer:
        """The signer for a ``pkcs11:`` URI; the PIN and module may come from ``environ``."""
        parsed = parse_pkcs11_uri(uri)
        return cls(parsed, pin=parsed.pin(environ), module=parsed.module(environ))

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def _private_key(self) -> Any:
        """The key object of the current session (found again after a session was reopened)."""
        session = self._shared.session()
        if self._generation != self._shared.generation:
            self._key = _find_private_key(session, self._uri)
            self._generation = self._shared.generation
        return self._key

    def _sign_der(self, data: bytes) -> bytes:
        if self._closed:
            raise SignerError("pkcs11: the signer is closed")
        digest = hashlib.sha256(data).digest()
        for attempt in (1, 2):
            with self._shared.lock:
                try:
                    raw = self._private_key().sign(digest, mechanism=Mechanism.ECDSA)
                    break
                except _SESSION_LOST:
                    if attempt == 2:
                        raise
                    self._shared.reset()
        return raw_to_der(bytes(raw))

    def close(self) -> None:
        """Release this signer's share of the token session; idempotent."""
        if not self._closed:
            self._closed = True
            self._shared.release()
