"""What every scheme's requests/httpx auth classes share for the requests they send.

A signed request is a bearer credential until it expires or its nonce is used: whoever receives
it can replay it to the real API. httpx and requests strip ``Authorization`` from a redirect
that leaves the origin, but copy every other header and, for a 307/308, the body. So each auth
class watches redirects itself, and this module holds the parts that do not depend on the
scheme: the origin of a URL, the bytes of a prepared body, and the requests response hook that
strips a hop leaving the origin.

It imports no HTTP library at module level (an auth class needs only the library it adapts),
and no scheme; requests is imported inside the hook, which only requests calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = ["origin", "prepared_body", "requests_redirect_hook"]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Headers that describe the body: they go with it when a hop loses the body.
_BODY_HEADERS = frozenset({"content-type", "transfer-encoding"})


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, lower case, the port filled in for http(s)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: no origin matches it
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def prepared_body(request: Any, error: Callable[[str], Exception], what: str) -> bytes:
    """The bytes a requests ``PreparedRequest`` will send, which are what gets signed.

    A ``str`` body is encoded as UTF-8 *in place* (http.client would send it as latin-1, and
    the signature would cover other bytes than those sent). A streamed or file body cannot be
    signed before it is read: ``error(message)`` is raised, ``what`` naming the operation.
    """
    body = request.body
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        raw = body.encode("utf-8")
        request.body = raw
        request.headers["Content-Length"] = str(len(raw))
        return raw
    raise error(f"cannot {what} a streamed or file body; pass the body as bytes, str or json=")


def requests_redirect_hook(
    signed_origin: tuple[str, str, int],
    is_secret: Callable[[str], bool],
    refuse: Callable[[str], Exception] | None = None,
) -> Callable[..., Any]:
    """A requests response hook: before requests follows a redirect off ``signed_origin``,
    remove every header ``is_secret`` names and the body from the request it will copy.

    requests builds each hop by copying the request just answered, so what is removed here is
    absent from every later hop. With ``refuse``, the hook raises ``refuse(target_url)``
    instead of stripping. Location is read the way requests reads it, so the origin compared is
    the one requests will connect to.
    """
    import requests.sessions

    redirects = requests.sessions.SessionRedirectMixin()

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        location = redirects.get_redirect_target(response)
        if location is None:
            return response
        target = urljoin(response.url, location)
        if origin(target) == signed_origin:
            return response
        if refuse is not None:
            response.close()
            raise refuse(target)
        request = response.request
        for name in [n for n in request.headers if is_secret(n) or n.lower() in _BODY_HEADERS]:
            del request.headers[name]
        request.headers["Content-Length"] = "0"
        request.body = None
        return response

    return hook


def lazy_classes(module: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each auth class from its home module on first use
    (``homes``: class name -> module), so that a client module imports with only one of httpx
    and requests installed; asking for the other's class raises its ``ModuleNotFoundError``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return getattr(__import__(home, fromlist=[name]), name)

    return __getattr__
