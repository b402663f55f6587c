"""httpx and requests auth that sign each request with RFC 9421 HTTP Message Signatures.

One or several signers: each ``(keyid, key)`` adds a labelled signature (``sig1``, ``sig2``, ...)
over the same components, with one ``nonce`` shared by the request's signatures (a quorum
verifier names the request by it) and one ``Content-Digest`` of the body::

    import httpx
    from authsig.httpsig.client import HttpSigAuth

    auth = HttpSigAuth([("alice", alice_key), ("bob", bob_key)])
    httpx.post("https://api.example.com/pay", content=b'{"amount":1}', auth=auth)
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import requests.auth

from authsig.httpsig.algorithms import SigningKey, load_signing_key
from authsig.httpsig.errors import HttpSigError
from authsig.httpsig.signing import sign_all

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["HttpSigAuth", "HttpSigRequestsAuth"]


def _signers(signers: Any) -> list[tuple[str, SigningKey]]:
    if isinstance(signers, tuple) and len(signers) == 2 and isinstance(signers[0], str):
        signers = [signers]
    out = [(str(keyid), load_signing_key(key)) for keyid, key in signers]
    if not out:
        raise ValueError("at least one (keyid, key) signer is needed")
    return out


class _Settings:
    def __init__(self, signers: Any, components: Sequence[str] | None, tag: str | None) -> None:
        self.signers = _signers(signers)
        self.components = None if components is None else tuple(components)
        self.tag = tag

    def sign(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> Any:
        return sign_all(
            method, url, headers, body, self.signers, components=self.components, tag=self.tag
        )

    def __repr__(self) -> str:
        return f"keyids={[keyid for keyid, _ in self.signers]!r}"


class HttpSigAuth(httpx.Auth):
    """httpx auth: ``signers`` is one ``(keyid, key)`` or a list of them (P-256 or Ed25519)."""

    requires_request_body = True

    def __init__(
        self, signers: Any, *, components: Sequence[str] | None = None, tag: str | None = None
    ) -> None:
        self._settings = _Settings(signers, components, tag)

    def __repr__(self) -> str:
        return f"HttpSigAuth({self._settings!r})"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` and send it."""
        headers = self._settings.sign(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )
        for name, value in headers.items():
            request.headers[name] = value
        yield request


class HttpSigRequestsAuth(requests.auth.AuthBase):
    """requests auth with the same settings as :class:`HttpSigAuth`."""

    def __init__(
        self, signers: Any, *, components: Sequence[str] | None = None, tag: str | None = None
    ) -> None:
        self._settings = _Settings(signers, components, tag)

    def __repr__(self) -> str:
        return f"HttpSigRequestsAuth({self._settings!r})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place."""
        body = r.body
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode("utf-8")
            r.body = raw
            r.headers["Content-Length"] = str(len(raw))
        else:
            raise HttpSigError("cannot sign a streamed body; pass the body as bytes or str")
        method = (r.method or "GET").upper()
        headers = self._settings.sign(method, r.url or "", list(r.headers.items()), raw)
        for name, value in headers.items():
            r.headers[name] = value
        return r
