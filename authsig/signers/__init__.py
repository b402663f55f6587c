"""Signers: keys that sign somewhere else (an HSM over PKCS#11, AWS KMS), and key references.

A :class:`Signer` reports its public key and signs bytes (ECDSA P-256 / SHA-256, DER). It is
also callable as ``signer(payload) -> DER bytes``, the signer callable that
:func:`authsig.privy.sign_request` and the auth classes of :mod:`authsig.privy.client` accept
as a key, so HSM and KMS keys mix freely with local keys in a quorum::

    from authsig.privy import sign_request
    from authsig.signers import resolve_key

    hsm = resolve_key("pkcs11:token=ops;object=alice?module-path=/usr/lib/softhsm/libsofthsm2.so")
    kms = resolve_key("awskms://alias/bob")
    headers = sign_request(method="POST", url=url, body=body, app_id=app_id, keys=[hsm, kms])

Backends (each an optional extra): :class:`~authsig.signers.pkcs11.PKCS11Signer`
(``authsig[pkcs11]``) and :class:`~authsig.signers.awskms.AwsKmsSigner` (``authsig[aws]``);
:class:`LocalSigner` wraps a :class:`~authsig.keys.PrivateKey` and :class:`CallableSigner` any
signing function (raw ``r || s`` results are converted to DER). :func:`resolve_key` turns a key
reference (a path, ``-``, ``env:VAR``, ``file:PATH``, ``pkcs11:...``, ``awskms://...``) into a
key or a signer; ``docs/keys.md`` describes them.

Failures are :class:`~authsig.errors.SignerError`, naming the backend exception's type and its
message (scrubbed of anything that looks like key material), chained to that exception.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

from authsig.keys import PublicKey
from authsig.signers._base import (
    BaseSigner,
    CallableSigner,
    KeyReferenceError,
    LocalSigner,
    has_key_like_run,
    scrub,
    signer_error,
    to_der,
)
from authsig.signers.refs import looks_like_key_text, resolve_key

__all__ = [
    "AsyncSigner",
    "BaseSigner",
    "CallableSigner",
    "KeyReferenceError",
    "LocalSigner",
    "Signer",
    "has_key_like_run",
    "looks_like_key_text",
    "resolve_key",
    "scrub",
    "signer_error",
    "to_async",
    "to_der",
]


@runtime_checkable
class Signer(Protocol):
    """A P-256 signing key used through its public key and a ``sign`` operation."""

    @property
    def public_key(self) -> PublicKey:
        """The public key of the signing key."""
        ...

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 over ``data``; DER bytes."""
        ...

    def __call__(self, payload: bytes) -> bytes:
        """The same as :meth:`sign` (the signer callable of ``sign_request``)."""
        ...


@runtime_checkable
class AsyncSigner(Protocol):
    """The asynchronous twin of :class:`Signer` (for ``sign_request_async``)."""

    @property
    def public_key(self) -> PublicKey:
        """The public key of the signing key."""
        ...

    def sign_async(self, data: bytes) -> Awaitable[bytes]:
        """ECDSA P-256 / SHA-256 over ``data``; DER bytes."""
        ...

    def __call__(self, payload: bytes) -> Awaitable[bytes]:
        """The same as :meth:`sign_async` (an async signer callable of ``sign_request_async``)."""
        ...


class _ThreadedAsyncSigner:
    """A :class:`Signer` whose calls run in a worker thread: see :func:`to_async`."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    @property
    def public_key(self) -> PublicKey:
        return self._signer.public_key

    async def sign_async(self, data: bytes) -> bytes:
        import asyncio

        return await asyncio.to_thread(self._signer.sign, data)

    async def __call__(self, payload: bytes) -> bytes:
        return await self.sign_async(payload)

    def __repr__(self) -> str:
        return f"to_async({self._signer!r})"


def to_async(signer: Signer) -> AsyncSigner:
    """``signer`` as an :class:`AsyncSigner` whose calls run in a worker thread.

    ``sign_request_async`` awaits async signers concurrently; a plain (blocking) signer passed
    to it would hold the event loop for a whole HSM or KMS round trip.
    """
    if not isinstance(signer, Signer):
        raise TypeError("signer must have public_key, sign() and __call__()")
    return _ThreadedAsyncSigner(signer)
