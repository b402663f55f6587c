""":class:`HttpSigAuth`: RFC 9421 signing for httpx (see :mod:`authsig.httpsig.client`)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import httpx

from authsig.httpsig.client import Settings

__all__ = ["HttpSigAuth"]


class HttpSigAuth(httpx.Auth):
    """httpx auth: ``signers`` is one ``(keyid, key)`` or a list of them (P-256 or Ed25519)."""

    requires_request_body = True

    def __init__(
        self, signers: Any, *, components: Sequence[str] | None = None, tag: str | None = None
    ) -> None:
        self._settings = Settings(signers, components, tag)

    def __repr__(self) -> str:
        return f"HttpSigAuth({self._settings!r})"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` and send it (the async client runs the same flow)."""
        headers = self._settings.sign(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )
        for name, value in headers.items():
            request.headers[name] = value
        yield request
