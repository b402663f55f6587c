"""What every signer shares: the checked ``sign``, error wrapping, and signature normalising."""

from __future__ import annotations

import base64
import binascii
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Literal

from authsig.errors import KeyFormatError, SignatureFormatError, SignerError
from authsig.keys import PrivateKey, PublicKey
from authsig.signatures import decode_signature, raw_to_der, sign, verify_signature

__all__ = [
    "BaseSigner",
    "CallableSigner",
    "KeyReferenceError",
    "LocalSigner",
    "chainable_cause",
    "has_key_like_run",
    "scrub",
    "signer_error",
    "to_der",
]

SignatureEncoding = Literal["der", "raw"]

# Key material in text is a PEM block or a long run of base64/hex characters. A run of 41+
# counts when it mixes upper and lower case with few slashes (base64 has one in 64), is 56+ hex
# digits, or is base64 of DER. Paths (many slashes, mostly one case), ARNs and UUIDs (short
# runs) stay readable; a long CamelCase word is redacted too, which costs little.
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL)
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{41,}")
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_MESSAGE = 300


class KeyReferenceError(KeyFormatError, ValueError):
    """A key reference (path, ``env:``, ``file:``, ``pkcs11:``, ``awskms://``) is unusable.

    The message names the kind of input and never holds what might be key material or a PIN.
    """

    code = "invalid_key_reference"


def _key_like(run: str) -> bool:
    if len(run) >= 56 and _HEX.issuperset(run):
        return True
    if run.startswith("M"):  # base64 of a DER SEQUENCE (a key), however many slashes it has
        try:
            if binascii.a2b_base64(run, strict_mode=True)[:1] == b"\x30":
                return True
        except (binascii.Error, ValueError):
            pass
    if run.count("/") * 20 > len(run):
        return False
    return any(c.isupper() for c in run) and any(c.islower() for c in run)


def has_key_like_run(text: str) -> bool:
    """True when ``text`` holds a PEM marker or a run that looks like base64/hex key material."""
    if "-----BEGIN" in text or "-----END" in text:
        return True
    return any(_key_like(m.group()) for m in _RUN.finditer(text))


def scrub(text: str) -> str:
    """``text`` with PEM blocks and key-like runs over 40 characters replaced, on one line."""
    text = _PEM.sub("[redacted]", text)
    text = _RUN.sub(lambda m: "[redacted]" if _key_like(m.group()) else m.group(), text)
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text


def chainable_cause(exc: BaseException) -> BaseException | None:
    """``exc`` when its chain may be shown in a traceback, else None (``raise ... from None``).

    A chained exception is printed by every logged traceback with its own, unscrubbed message.
    So the cause is chained for debugging when no message along its chain looks like key
    material, and left out when one does: the scrubbed :func:`signer_error` message is then
    all that a log shows.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if has_key_like_run(str(current)):
            return None
        # What a traceback prints next: the cause, else the context unless suppressed.
        if current.__cause__ is not None or current.__suppress_context__:
            current = current.__cause__
        else:
            current = current.__context__
    return exc


def signer_error(exc: BaseException, *, what: str = "signer failed") -> SignerError:
    """A :class:`SignerError` naming ``exc``'s type and its scrubbed message.

    Raise it ``from chainable_cause(exc)``: the chain keeps the backend's own exception for
    debugging, while the message shown to users and logs holds nothing that looks like key
    material.
    """
    message = scrub(str(exc))
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return SignerError(f"{what}: {detail}")


def to_der(signature: bytes | str, encoding: SignatureEncoding = "der") -> bytes:
    """A backend's signature as DER bytes.

    ``encoding="raw"``: 64 bytes ``r || s`` (IEEE P1363, what PKCS#11 ``CKM_ECDSA`` and JWS
    return). ``"der"``: DER bytes, or base64 DER text. The two cannot be told apart by looking
    (a 64-byte DER signature exists), so the adapter that knows its backend says which it is.
    Raises :class:`SignatureFormatError`.
    """
    if encoding == "raw":
        if not isinstance(signature, bytes | bytearray | memoryview):
            raise SignatureFormatError("a raw r||s signature must be bytes")
        return raw_to_der(bytes(signature))
    if encoding != "der":
        raise ValueError("encoding must be 'der' or 'raw'")
    if isinstance(signature, str):
        return decode_signature(signature)
    if not isinstance(signature, bytes | bytearray | memoryview):
        raise SignatureFormatError(f"a signature must be bytes or str, not {type(signature)}")
    der = bytes(signature)
    decode_signature(base64.b64encode(der).decode("ascii"))  # checks the DER structure
    return der


class BaseSigner(ABC):
    """A key that signs elsewhere: implements the :class:`~authsig.signers.Signer` protocol.

    Subclasses provide :attr:`public_key` and :meth:`_sign_der`; this class checks what the
    backend returned, wraps its failures in :class:`SignerError` (chained, message scrubbed),
    and makes the signer callable, so it can be passed as a key to ``sign_request`` and the
    auth classes as it is.
    """

    #: Verify each signature with :attr:`public_key` before returning it. A remote key found by
    #: label can be paired with the wrong public key object; this catches that on first use.
    verify_own_signatures: bool = True

    @property
    @abstractmethod
    def public_key(self) -> PublicKey:
        """The public key of the signing key."""

    @abstractmethod
    def _sign_der(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 over ``data``, DER; exceptions propagate to :meth:`sign`."""

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 signature of ``data`` as DER bytes.

        Raises :class:`SignerError` when the backend fails (chained to its exception) or
        returns something that is not a valid signature of ``data`` by :attr:`public_key`.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        data = bytes(data)
        try:
            der = self._sign_der(data)
        except SignerError:
            raise
        except Exception as exc:
            raise signer_error(exc) from chainable_cause(exc)
        try:
            der = to_der(der)
        except SignatureFormatError as exc:
            raise SignerError(
                f"signer failed: the backend's answer is not a DER ECDSA signature ({exc.message})"
            ) from exc
        if self.verify_own_signatures and not verify_signature(data, der, self.public_key):
            raise SignerError(
                "signer failed: the signature does not verify with the signer's public key "
                "(a key paired with the wrong public key, or a backend that signed something else)"
            )
        return der

    def __call__(self, payload: bytes) -> bytes:
        """:meth:`sign`: a signer is also the callable ``sign_request`` accepts as a key."""
        return self.sign(payload)

    def close(self) -> None:  # noqa: B027 - most signers hold nothing to release
        """Release what the signer holds (a session, a connection); idempotent."""

    def __enter__(self) -> BaseSigner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_id={self.public_key.key_id!r})"


class LocalSigner(BaseSigner):
    """A :class:`~authsig.keys.PrivateKey` held in this process, as a signer."""

    verify_own_signatures = False  # the public key is derived from the same object

    def __init__(self, private_key: PrivateKey, *, deterministic: bool = False) -> None:
        if not isinstance(private_key, PrivateKey):
            raise TypeError("private_key must be an authsig.keys.PrivateKey")
        self._key = private_key
        self._deterministic = bool(deterministic)

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key

    def _sign_der(self, data: bytes) -> bytes:
        text = sign(data, self._key, deterministic=self._deterministic)
        return base64.b64decode(text)


class CallableSigner(BaseSigner):
    """Any ``function(data) -> signature`` plus its public key, as a checked signer.

    For a backend without an adapter here: ``encoding="raw"`` when it returns ``r || s``
    (Azure Key Vault, JWS-style APIs), ``"der"`` for DER bytes or base64 DER text.
    """

    def __init__(
        self,
        function: Callable[[bytes], bytes | str],
        public_key: PublicKey,
        *,
        encoding: SignatureEncoding = "der",
    ) -> None:
        if not callable(function):
            raise TypeError("function must be callable")
        if not isinstance(public_key, PublicKey):
            raise TypeError("public_key must be an authsig.keys.PublicKey")
        if encoding not in ("der", "raw"):
            raise ValueError("encoding must be 'der' or 'raw'")
        self._function = function
        self._public = public_key
        self._encoding: SignatureEncoding = encoding

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def _sign_der(self, data: bytes) -> bytes:
        result = self._function(data)
        try:
            return to_der(result, self._encoding)
        except SignatureFormatError as exc:
            raise SignerError(
                f"signer failed: the function's answer is not a {self._encoding} ECDSA "
                f"signature ({exc.message})"
            ) from exc
