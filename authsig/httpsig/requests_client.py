""":class:`HttpSigRequestsAuth`: RFC 9421 signing for requests (see
:mod:`authsig.httpsig.client`), with a response hook that keeps a signed request from following a
redirect to another origin."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests.auth
import requests.sessions

from authsig.httpsig.client import SIGNATURE_FIELDS, Settings, origin
from authsig.httpsig.errors import HttpSigError

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["HttpSigRequestsAuth"]

# get_redirect_target reads only the response; it needs nothing of a session.
_REDIRECTS = requests.sessions.SessionRedirectMixin()


def _on_response(
    signed_origin: tuple[str, str, int], response: requests.Response, **_: Any
) -> requests.Response:
    """Before requests follows a redirect off the origin, strip the signature and the body
    (requests builds each hop by copying the request just answered)."""
    location = _REDIRECTS.get_redirect_target(response)
    if location is None or origin(urljoin(response.url, location)) == signed_origin:
        return response
    request = response.request
    for name in (*SIGNATURE_FIELDS, "Content-Digest", "Content-Type", "Transfer-Encoding"):
        request.headers.pop(name, None)
    request.headers["Content-Length"] = "0"
    request.body = None
    return response


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
        url = r.url or ""
        headers = self._settings.sign(method, url, list(r.headers.items()), raw)
        for name, value in headers.items():
            r.headers[name] = value
        r.register_hook("response", partial(_on_response, origin(url)))  # type: ignore[no-untyped-call]
        return r
