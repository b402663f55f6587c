"""``RequestInfo``: what the HTTP layer knows of a request before reading its body, built the
same way from an ASGI scope and from a WSGI environ."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authsig.http.proxy import ProxyHeaders, parse_trusted_proxies, public_url, quote_path

__all__ = ["RequestInfo", "URLSettings", "join_headers"]

logger = logging.getLogger("authsig.http")

_BASE_URL = re.compile(r"^https?://[^/?#]+(/[^?#]*)?$")


@dataclass(frozen=True)
class RequestInfo:
    """A request as the middleware sees it, passed to resolvers and schemes.

    ``headers`` has lower-case names (a repeated header joined with ``,``); ``header_items``
    keeps every header line as received, so that a scheme can refuse a repeated signature
    header instead of reading a merged one. ``url`` is the public URL the signature must cover
    (see :class:`URLSettings`); ``path`` is the decoded path; ``raw`` is the ASGI scope or the
    WSGI environ; ``raw_path`` is the path as it travelled (percent-encoded, without the query);
    ``kind`` is ``"http"`` or ``"websocket"``.
    """

    method: str
    url: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    peer: str | None
    raw: Mapping[str, Any] = field(repr=False)
    header_items: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    kind: str = "http"
    raw_path: str = ""


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names; repeated headers joined with ``,``."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = headers[key] + "," + value if key in headers else value
    return headers


class URLSettings:
    """How to reconstruct the URL a client signed: ``public_base_url`` (the operator's word),
    or the request's own scheme and host corrected by the ``proxy_headers`` family, believed
    from ``trusted_proxies`` only.

    Trusting proxies needs ``proxy_headers`` ("forwarded" or "x-forwarded"): a proxy passes
    the family it does not write through untouched, so reading both lets a client choose the
    host. Without ``public_base_url`` the host still comes from the request: a warning says so
    at start-up.
    """

    __slots__ = ("proxy_headers", "public_base_url", "trusted")

    def __init__(
        self,
        public_base_url: str | None = None,
        trusted_proxies: Iterable[str] = (),
        proxy_headers: ProxyHeaders | None = None,
    ) -> None:
        if public_base_url is not None and not _BASE_URL.match(public_base_url):
            raise ValueError("public_base_url must look like https://host[/prefix]")
        self.public_base_url = public_base_url
        self.trusted = parse_trusted_proxies(trusted_proxies)
        if proxy_headers not in (None, "forwarded", "x-forwarded"):
            raise ValueError('proxy_headers must be "forwarded", "x-forwarded" or None')
        if self.trusted and proxy_headers is None:
            raise ValueError(
                "trusted_proxies needs proxy_headers: say which family your proxy writes "
                '("forwarded" for RFC 7239 Forwarded, "x-forwarded" for X-Forwarded-*)'
            )
        if proxy_headers is not None and not self.trusted:
            raise ValueError("proxy_headers has no effect without trusted_proxies")
        self.proxy_headers: ProxyHeaders | None = proxy_headers
        if self.trusted and public_base_url is None:
            logger.warning(
                "authsig: trusted_proxies is set without public_base_url: the signed host comes "
                "from the proxy's %s headers or, where it sends none, from the client's Host "
                "header; set public_base_url to pin it",
                proxy_headers,
            )

    def _url(
        self,
        scheme: str,
        host: str,
        raw_path: str,
        query: str,
        headers: Mapping[str, str],
        peer: str | None,
        root_path: str = "",
    ) -> str:
        return public_url(
            scheme=scheme,
            host=host,
            raw_path=raw_path,
            query_string=query,
            headers=headers,
            peer=peer,
            public_base_url=self.public_base_url,
            trusted=self.trusted,
            family=self.proxy_headers,
            root_path=quote_path(root_path) if root_path else "",
        )

    def from_asgi(self, scope: Mapping[str, Any]) -> RequestInfo:
        """Describe an ASGI ``http`` (or ``websocket``) scope."""
        items = tuple(
            (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
            for name, value in scope.get("headers", ())
        )
        headers = join_headers(items)
        raw_path_bytes = scope.get("raw_path")
        if raw_path_bytes:
            raw_path = bytes(raw_path_bytes).decode("latin-1").split("?", 1)[0]
        else:
            raw_path = quote_path(str(scope.get("root_path", "")) + str(scope.get("path", "/")))
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        client = scope.get("client")
        peer = str(client[0]) if client else None
        host = headers.get("host")
        if not host:
            server = scope.get("server")
            host = f"{server[0]}:{server[1]}" if server else "localhost"
        kind = str(scope.get("type", "http"))
        scheme = str(scope.get("scheme", "ws" if kind == "websocket" else "http"))
        root = str(scope.get("root_path", ""))
        url = self._url(scheme, host, raw_path, query, headers, peer, root)
        return RequestInfo(
            method=str(scope.get("method", "GET")).upper(),
            url=url,
            path=str(scope.get("path", "/")),
            query_string=query,
            headers=headers,
            peer=peer,
            raw=scope,
            header_items=items,
            kind=kind,
            raw_path=raw_path,
        )

    def from_wsgi(self, environ: Mapping[str, Any]) -> RequestInfo:
        """Describe a WSGI environ."""
        pairs: list[tuple[str, str]] = [
            (key[5:].replace("_", "-").lower(), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
            if environ.get(key):
                pairs.append((name, str(environ[key])))
        headers = join_headers(pairs)
        query = str(environ.get("QUERY_STRING", ""))
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if isinstance(raw_uri, str) and raw_uri.startswith("/"):
            raw_path = raw_uri.split("?", 1)[0]
        else:
            script_and_path = str(environ.get("SCRIPT_NAME", "")) + str(
                environ.get("PATH_INFO", "")
            )
            raw_path = quote_path(script_and_path)
        host = headers.get("host")
        if not host:
            host = f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        remote = environ.get("REMOTE_ADDR")
        peer = str(remote) if remote else None
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        root = str(environ.get("SCRIPT_NAME", ""))
        url = self._url(scheme, host, raw_path or "/", query, headers, peer, root)
        return RequestInfo(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            url=url,
            path=str(environ.get("PATH_INFO", "")),
            query_string=query,
            headers=headers,
            peer=peer,
            raw=environ,
            header_items=tuple(pairs),
            raw_path=raw_path or "/",
        )
