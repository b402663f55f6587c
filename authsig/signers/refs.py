"""Key references: where a key is read from, everywhere a key is read (CLI and API).

=====================  ===================================================================
reference              key
=====================  ===================================================================
``PATH``               the key file at PATH (base64 DER, PEM or JWK; a private or public key)
``-``                  the key text on standard input
``env:VAR``            the key text in environment variable VAR
``file:PATH``          the key file at PATH (also ``file:///abs/path``); for paths that would
                       otherwise read as another kind, e.g. a file named ``env:x``
``pkcs11:...``         a key on a PKCS#11 token (RFC 7512 URI): a signer
``awskms://KEY``       an AWS KMS key (key id, key ARN, ``alias/NAME`` or alias ARN): a signer
=====================  ===================================================================

Key *text* is never a reference: a reference names where the key is, so that the key itself
stays out of argument lists, shell history and error messages. When a value looks like key
text (a PEM block, a long base64 or hex run, JSON) and names no file, the error says so and
does not repeat it.

A key file may hold an encrypted PKCS#8 key: give ``passphrase`` (a value, or a function of
the key's source name that is called only when the key turns out to be encrypted).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal, overload

from authsig.errors import (
    EncryptedKeyError,
    KeyFormatError,
    WrongCurveError,
    WrongPassphraseError,
)
from authsig.keys import MAX_KEY_INPUT, PrivateKey, PublicKey, load_private_key, load_public_key
from authsig.signers._base import KeyReferenceError, has_key_like_run

if TYPE_CHECKING:
    from authsig.signers._base import BaseSigner

__all__ = [
    "KEY_TEXT_GIVEN",
    "KeyReference",
    "KeyReferenceError",
    "Passphrase",
    "is_private_key_text",
    "load_key_data",
    "looks_like_key_text",
    "parse_key_reference",
    "read_key_text",
    "resolve_key",
]

Purpose = Literal["private", "public"]
Kind = Literal["path", "stdin", "env", "file", "pkcs11", "awskms"]

Passphrase = str | bytes | Callable[[str], str | bytes] | None
"""A passphrase for encrypted key files: the value, or a function of the key's source name
(called only for an encrypted key, e.g. to prompt for it), or None."""

KEY_TEXT_GIVEN = (
    "key text given where a key reference (path, -, env:VAR, file:PATH, pkcs11:, awskms://) "
    "was expected"
)
"""The message for key text in the place of a reference (it never repeats the text)."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
_MAX_KMS_KEY_ID = 2048


def looks_like_key_text(text: str) -> bool:
    """True when ``text`` looks like key material rather than a name (a path, a variable).

    PEM markers, a ``wallet-auth:`` prefix, JSON (a JWK), several lines, or a long run of
    base64 or hex characters (see :func:`~authsig.signers.has_key_like_run`).
    """
    stripped = text.strip()
    if stripped.startswith(("wallet-auth:", "wallet-api:", "{")):
        return True
    if "\n" in stripped or "PRIVATE KEY" in stripped:
        return True
    return has_key_like_run("".join(stripped.split()))


@dataclass(frozen=True)
class KeyReference:
    """A parsed key reference: its kind and its target (a path, a variable, a URI, a key id)."""

    kind: Kind
    target: str

    def describe(self) -> str:
        """The reference as errors name it (never key text: references are checked first)."""
        if self.kind == "stdin":
            return "stdin"
        if self.kind == "env":
            return f"env:{self.target}"
        if self.kind == "pkcs11":
            return "the pkcs11: key"
        if self.kind == "awskms":
            return "the awskms:// key"
        return self.target


def _file_path(rest: str) -> str:
    """The path of a ``file:`` reference (``file:PATH``, ``file:///PATH``, ``file://localhost/``)."""
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost") or not slash:
            raise KeyReferenceError(
                "file: references name a local path (file:PATH or file:///PATH)"
            )
        rest = "/" + path
    if not rest:
        raise KeyReferenceError("file: reference without a path")
    if looks_like_key_text(rest) and not os.path.lexists(rest):
        raise KeyReferenceError(KEY_TEXT_GIVEN)
    return rest


def parse_key_reference(ref: str) -> KeyReference:
    """Classify ``ref``; raises :class:`KeyReferenceError` for key text and malformed refs."""
    if not isinstance(ref, str):
        raise TypeError(f"a key reference must be a str, not {type(ref).__name__}")
    if ref == "-":
        return KeyReference("stdin", "-")
    if ref.startswith("env:"):
        name = ref[4:]
        if not _ENV_NAME.fullmatch(name):
            raise KeyReferenceError("env: reference without a valid variable name (env:VAR)")
        return KeyReference("env", name)
    if ref.startswith("file:"):
        return KeyReference("file", _file_path(ref[5:]))
    if ref[:7].lower() == "pkcs11:":
        return KeyReference("pkcs11", ref)
    if ref.startswith("awskms://"):
        key_id = ref[9:]
        if not key_id or len(key_id) > _MAX_KMS_KEY_ID or not key_id.isprintable() or " " in key_id:
            raise KeyReferenceError(
                "awskms:// reference without a valid key id (awskms://KEY-ID, ARN or alias/NAME)"
            )
        return KeyReference("awskms", key_id)
    if not ref.strip():
        raise KeyReferenceError("empty key reference")
    if looks_like_key_text(ref) and not os.path.lexists(ref):
        raise KeyReferenceError(KEY_TEXT_GIVEN)
    return KeyReference("path", ref)


def _read_bounded(handle: IO[bytes]) -> bytes:
    return handle.read(MAX_KEY_INPUT + 1)


def read_key_text(
    ref: str | KeyReference,
    *,
    stdin: IO[bytes] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[bytes, str]:
    """The key bytes a path, ``-``, ``env:`` or ``file:`` reference holds, and its name.

    For ``pkcs11:``/``awskms://`` (whose keys never leave the token or KMS) raises
    :class:`KeyReferenceError`; so do missing files, unset variables and empty inputs.
    """
    reference = ref if isinstance(ref, KeyReference) else parse_key_reference(ref)
    source = reference.describe()
    if reference.kind in ("pkcs11", "awskms"):
        raise KeyReferenceError(f"{source} has no key text: the key never leaves its store")
    if reference.kind == "stdin":
        data = _read_bounded(stdin if stdin is not None else sys.stdin.buffer)
    elif reference.kind == "env":
        env = os.environ if environ is None else environ
        value = env.get(reference.target)
        if value is None:
            raise KeyReferenceError(f"environment variable {reference.target} is not set")
        data = value.encode("utf-8", "surrogateescape")
    else:
        try:
            with open(reference.target, "rb") as handle:
                data = _read_bounded(handle)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise KeyReferenceError(f"key file {source}: {reason}") from None
    if not data.strip():
        raise KeyReferenceError(f"{source}: no key (empty)")
    return data, source


def is_private_key_text(data: str | bytes) -> bool:
    """Guess whether key text holds a private key (PEM ``PRIVATE KEY``, a JWK with ``d``)."""
    if isinstance(data, bytes):
        return False
    stripped = data.strip()
    if "PRIVATE KEY" in stripped:
        return True
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return False
        return isinstance(obj, dict) and "d" in obj
    return stripped.startswith(("wallet-auth:", "wallet-api:"))


def _text_if_possible(data: str | bytes) -> str | bytes:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _load_private(data: str | bytes, source: str, passphrase: Passphrase) -> PrivateKey:
    if not callable(passphrase):
        return load_private_key(data, passphrase=passphrase)
    try:
        return load_private_key(data)
    except EncryptedKeyError:
        return load_private_key(data, passphrase=passphrase(source))


def load_key_data(
    data: str | bytes, source: str, passphrase: Passphrase = None
) -> tuple[PrivateKey | None, PublicKey]:
    """Load a private or a public key: ``(private_or_None, public)``; errors name ``source``.

    An encrypted private key needs ``passphrase`` (see :data:`Passphrase`); its errors
    (:class:`~authsig.errors.EncryptedKeyError`, :class:`~authsig.errors.WrongPassphraseError`)
    are raised as they are, never replaced by a public-key error.
    """
    data = _text_if_possible(data)
    try:
        private = _load_private(data, source, passphrase)
    except (EncryptedKeyError, WrongPassphraseError) as exc:
        if exc.message.startswith(f"{source}: "):
            raise
        raise type(exc)(f"{source}: {exc.message}") from None
    except KeyFormatError as private_error:
        try:
            public = load_public_key(data)
        except KeyFormatError as public_error:
            for err in (private_error, public_error):
                if isinstance(err, WrongCurveError):
                    raise WrongCurveError(f"{source}: {err.message}") from None
            # Both loaders failed; report the one that matches what the text looks like.
            chosen = private_error if is_private_key_text(data) else public_error
            raise type(chosen)(
                f"{source}: not a P-256 private or public key ({chosen.message})"
            ) from None
        return None, public
    return private, private.public_key


def _signer(reference: KeyReference, environ: Mapping[str, str] | None) -> BaseSigner:
    if reference.kind == "pkcs11":
        from authsig.signers.pkcs11 import PKCS11Signer

        return PKCS11Signer.from_uri(reference.target, environ=environ)
    from authsig.signers.awskms import AwsKmsSigner

    return AwsKmsSigner(reference.target)


@overload
def resolve_key(
    ref: str,
    *,
    purpose: Literal["private"] = ...,
    stdin: IO[bytes] | None = ...,
    environ: Mapping[str, str] | None = ...,
    passphrase: Passphrase = ...,
) -> PrivateKey | BaseSigner: ...


@overload
def resolve_key(
    ref: str,
    *,
    purpose: Literal["public"],
    stdin: IO[bytes] | None = ...,
    environ: Mapping[str, str] | None = ...,
    passphrase: Passphrase = ...,
) -> PublicKey: ...


def resolve_key(
    ref: str,
    *,
    purpose: Purpose = "private",
    stdin: IO[bytes] | None = None,
    environ: Mapping[str, str] | None = None,
    passphrase: Passphrase = None,
) -> PrivateKey | PublicKey | BaseSigner:
    """The key that reference ``ref`` names.

    ``purpose="private"``: a :class:`~authsig.keys.PrivateKey` (path, ``-``, ``env:``,
    ``file:``) or a signer (``pkcs11:`` → :class:`~authsig.signers.pkcs11.PKCS11Signer`,
    ``awskms://`` → :class:`~authsig.signers.awskms.AwsKmsSigner`); a public key there is an
    error. ``purpose="public"``: always a :class:`~authsig.keys.PublicKey` (the public half of a
    private key or of a signer's key). ``stdin`` and ``environ`` replace ``sys.stdin.buffer`` and
    ``os.environ`` for ``-``, ``env:`` and the ``pkcs11:`` PIN and module variables (boto3
    reads its own configuration). ``passphrase`` decrypts an encrypted key file (PKCS#8): a
    value, or a function of the key's source name called only when the key is encrypted.

    Raises :class:`KeyReferenceError` (a ``KeyFormatError`` and a ``ValueError``) for key text
    or an unusable reference, :class:`~authsig.errors.KeyFormatError` for a file that holds no
    P-256 key (:class:`~authsig.errors.EncryptedKeyError` for an encrypted one without a
    passphrase, :class:`~authsig.errors.WrongPassphraseError` for a wrong one), and
    :class:`~authsig.errors.SignerError` when a token or KMS cannot be used.
    """
    if purpose not in ("private", "public"):
        raise ValueError("purpose must be 'private' or 'public'")
    reference = parse_key_reference(ref)
    if reference.kind in ("pkcs11", "awskms"):
        signer = _signer(reference, environ)
        if purpose == "private":
            return signer
        with signer:
            return signer.public_key
    data, source = read_key_text(reference, stdin=stdin, environ=environ)
    private, public = load_key_data(data, source, passphrase)
    if purpose == "public":
        return public
    if private is None:
        raise KeyFormatError(
            f"{source} holds a public key; signing needs a private key or a pkcs11:/awskms:// key"
        )
    return private
