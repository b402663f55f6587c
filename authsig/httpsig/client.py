"""httpx and requests auth that sign each request with RFC 9421 HTTP Message Signatures.

One or several signers: each ``(keyid, key)`` adds a labelled signature (``sig1``, ``sig2``, ...)
over the same components, with one ``nonce`` shared by the request's signatures (a quorum
verifier names the request by it) and one ``Content-Digest`` of the body::

    import httpx
    from authsig.httpsig.client import HttpSigAuth

    auth = HttpSigAuth([("alice", alice_key), ("bob", bob_key)])
    httpx.post("https://api.example.com/pay", content=b'{"amount":1}', auth=auth)

**Redirects.** A signed request must not travel to another origin (scheme, host, port): whoever
receives it could replay it to the real server before its nonce is used. requests follows
redirects by default, so :class:`HttpSigRequestsAuth` strips ``Signature``,
``Signature-Input`` and the body from a redirect off the origin (a response hook).
httpx follows none unless asked (``follow_redirects=True``), and an auth flow does not see the
hops it then makes: keep redirects off for signed requests.

Each auth class lives in a module that imports only its own HTTP library
(:mod:`authsig.httpsig.httpx_client`, :mod:`authsig.httpsig.requests_client`), so this module
imports with either one installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from authsig._outbound import lazy_classes, origin
from authsig.httpsig.algorithms import SigningKey, load_signing_key
from authsig.httpsig.signing import sign_all

if TYPE_CHECKING:  # pragma: no cover - typing only
    from authsig.httpsig.httpx_client import HttpSigAuth
    from authsig.httpsig.requests_client import HttpSigRequestsAuth

__all__ = ["SIGNATURE_FIELDS", "HttpSigAuth", "HttpSigRequestsAuth", "origin"]

SIGNATURE_FIELDS = ("Signature", "Signature-Input")
"""The fields a request must not carry to another origin."""


def _signers(signers: Any) -> list[tuple[str, SigningKey]]:
    if isinstance(signers, tuple) and len(signers) == 2 and isinstance(signers[0], str):
        signers = [signers]
    out = [(str(keyid), load_signing_key(key)) for keyid, key in signers]
    if not out:
        raise ValueError("at least one (keyid, key) signer is needed")
    return out


class Settings:
    """What both auth classes sign with (the signers' keys stay out of ``repr``)."""

    def __init__(self, signers: Any, components: Sequence[str] | None, tag: str | None) -> None:
        self.signers = _signers(signers)
        self.components = None if components is None else tuple(components)
        self.tag = tag

    def sign(
        self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> dict[str, str]:
        """The fields that sign the request."""
        return sign_all(
            method, url, headers, body, self.signers, components=self.components, tag=self.tag
        )

    def __repr__(self) -> str:
        return f"keyids={[keyid for keyid, _ in self.signers]!r}"


__getattr__ = lazy_classes(
    __name__,
    {
        "HttpSigAuth": "authsig.httpsig.httpx_client",
        "HttpSigRequestsAuth": "authsig.httpsig.requests_client",
    },
)
