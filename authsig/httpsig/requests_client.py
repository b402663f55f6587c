""":class:`HttpSigRequestsAuth`: RFC 9421 signing for requests (see
:mod:`authsig.httpsig.client`), with a response hook that keeps a signed request from following a
redirect to another origin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests.auth

from authsig._outbound import prepared_body, requests_redirect_hook
from authsig.httpsig.client import SIGNATURE_FIELDS, Settings, origin
from authsig.httpsig.errors import HttpSigError

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["HttpSigRequestsAuth"]

# Content-Digest goes with the body it describes.
_SECRET = frozenset(name.lower() for name in (*SIGNATURE_FIELDS, "Content-Digest"))


def _is_secret(name: str) -> bool:
    return name.lower() in _SECRET


class HttpSigRequestsAuth(requests.auth.AuthBase):
    """requests auth with the same settings as :class:`~authsig.httpsig.client.HttpSigAuth`."""

    def __init__(
        self, signers: Any, *, components: Sequence[str] | None = None, tag: str | None = None
    ) -> None:
        self._settings = Settings(signers, components, tag)

    def __repr__(self) -> str:
        return f"HttpSigRequestsAuth({self._settings!r})"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Sign the prepared request in place."""
        raw = prepared_body(r, HttpSigError, "sign")
        method = (r.method or "GET").upper()
        url = r.url or ""
        headers = self._settings.sign(method, url, list(r.headers.items()), raw)
        for name, value in headers.items():
            r.headers[name] = value
        r.register_hook("response", requests_redirect_hook(origin(url), _is_secret))  # type: ignore[no-untyped-call]
        return r
