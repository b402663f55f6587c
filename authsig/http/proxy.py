"""Which URL did the client sign? Public base URL, trusted proxies, ``Forwarded`` and
``X-Forwarded-*``.

A signature covers the URL the *client* used. Behind a reverse proxy the server sees another
scheme, host or path prefix, so the middleware either takes the operator's ``public_base_url``
or believes forwarding headers, and only those written by a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn, TypeAlias
from urllib.parse import quote

from authsig.errors import ForwardedHeaderError

__all__ = [
    "Network",
    "ProxyHeaders",
    "forwarded_origin",
    "is_trusted",
    "parse_forwarded",
    "parse_trusted_proxies",
    "public_url",
    "quote_path",
]

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(values: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (or single addresses) of trusted reverse proxies."""
    if isinstance(values, str):
        values = [values]
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted proxy {value!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    text = value.strip()
    if text.startswith("["):  # [v6]:port
        end = text.find("]")
        text = text[1:end] if end > 0 else text
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``peer`` (an address, maybe with a port) is inside a trusted network."""
    address = _ip(peer)
    if address is None:
        return False
    return any(address in network for network in networks)


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+;=%-]+)(?::[0-9]{1,5})?$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$")
_OWS = " \t"

ProxyHeaders = Literal["forwarded", "x-forwarded"]
"""Which forwarding headers the operator's proxy writes: RFC 7239 ``Forwarded``, or the
``X-Forwarded-For/Proto/Host/Prefix`` family. Only that family is read."""


def _fail(message: str) -> NoReturn:
    raise ForwardedHeaderError(message)


def _quoted(value: str, pos: int) -> tuple[str, int]:
    """The unescaped quoted-string starting at ``value[pos] == '"'``, and the position after it."""
    out: list[str] = []
    pos += 1
    while pos < len(value):
        char = value[pos]
        if char == "\\":
            if pos + 1 >= len(value):
                break
            out.append(value[pos + 1])
            pos += 2
        elif char == '"':
            return "".join(out), pos + 1
        else:
            out.append(char)
            pos += 1
    _fail("the Forwarded header has an unterminated quoted string")


def _pair(value: str, pos: int) -> tuple[str, str, int]:
    """One ``token=value`` pair at ``pos``: (lower-case name, value, position after it)."""
    name = _TOKEN.match(value, pos)
    if name is None or name.end() >= len(value) or value[name.end()] != "=":
        _fail("the Forwarded header has a parameter that is not token=value")
    pos = name.end() + 1
    if pos < len(value) and value[pos] == '"':
        text, pos = _quoted(value, pos)
    else:
        token = _TOKEN.match(value, pos)
        if token is None:
            _fail("the Forwarded header has an empty or invalid parameter value")
        text, pos = token.group(), token.end()
    return name.group().lower(), text, pos


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """Parse an RFC 7239 ``Forwarded`` header into its elements (lower-case parameter names).

    Strict: an unterminated quoted string, a parameter that is not ``token=value``, stray
    characters, or a parameter repeated within one element raise
    :class:`~authsig.errors.ForwardedHeaderError`. A lenient parser is what lets a client's
    half-open quote swallow the element its proxy appended and pose as the nearest hop.
    """
    elements: list[dict[str, str]] = []
    current: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        while pos < end and value[pos] in _OWS:
            pos += 1
        if pos < end and value[pos] not in ",;":
            name, text, pos = _pair(value, pos)
            if name in current:
                _fail(f"the Forwarded header repeats {name!r} within one element")
            current[name] = text
            while pos < end and value[pos] in _OWS:
                pos += 1
        if pos >= end:
            break
        if value[pos] == ",":
            if current:
                elements.append(current)
            current = {}
        elif value[pos] != ";":
            _fail("the Forwarded header has characters outside its grammar")
        pos += 1
    if current:
        elements.append(current)
    return elements


def _list(value: str | None) -> list[str]:
    if not value:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass
class _Origin:
    scheme: str
    host: str
    prefix: str = ""

    def take(self, proto: str | None, host: str | None, prefix: str | None) -> None:
        """Adopt what a trusted hop reports; a value outside its grammar is refused, since
        ignoring it would fall back to the client-controlled ``Host``."""
        if proto:
            if proto.lower() not in ("http", "https"):
                _fail("a trusted proxy reported a protocol other than http or https")
            self.scheme = proto.lower()
        if host:
            if not _HOST.match(host):
                _fail("a trusted proxy reported a host that is not a host name")
            self.host = host
        if prefix:
            if not _PREFIX.match(prefix):
                _fail("a trusted proxy reported a path prefix that is not a path")
            self.prefix = prefix.rstrip("/")


def _walk_forwarded(
    origin: _Origin, value: str, peer: str | None, trusted: tuple[Network, ...]
) -> None:
    hop: str | None = peer
    for element in reversed(parse_forwarded(value)):
        if not is_trusted(hop, trusted):
            break
        origin.take(element.get("proto"), element.get("host"), None)
        hop = element.get("for")


def _walk_x_forwarded(
    origin: _Origin, headers: Mapping[str, str], peer: str | None, trusted: tuple[Network, ...]
) -> None:
    hops = list(reversed(_list(headers.get("x-forwarded-for"))))
    protos = list(reversed(_list(headers.get("x-forwarded-proto"))))
    hosts = list(reversed(_list(headers.get("x-forwarded-host"))))
    prefixes = list(reversed(_list(headers.get("x-forwarded-prefix"))))
    hop = peer
    for index in range(max(len(hops), len(protos), len(hosts), len(prefixes), 1)):
        if not is_trusted(hop, trusted):
            break
        origin.take(
            protos[index] if index < len(protos) else None,
            hosts[index] if index < len(hosts) else None,
            prefixes[index] if index < len(prefixes) else None,
        )
        hop = hops[index] if index < len(hops) else None


def forwarded_origin(
    *,
    scheme: str,
    host: str,
    headers: Mapping[str, str],
    peer: str | None,
    trusted: tuple[Network, ...],
    family: ProxyHeaders | None = None,
) -> tuple[str, str, str]:
    """The ``(scheme, host, path prefix)`` the client used, seen through trusted proxies.

    Only the header ``family`` the operator's proxy writes is read: the other family is the
    client's to forge, since a proxy passes headers it does not write through untouched.
    Proxies append, so the list is walked from the right (the hop nearest to us) for as long as
    the hop that added the entry is trusted; each trusted hop's entry says what scheme and host
    it received. Forwarding headers from an untrusted peer are ignored entirely.
    """
    origin = _Origin(scheme, host)
    if family is None or not trusted or not is_trusted(peer, trusted):
        return origin.scheme, origin.host, origin.prefix
    if family == "forwarded":
        forwarded = headers.get("forwarded")
        if forwarded:
            _walk_forwarded(origin, forwarded, peer, trusted)
    else:
        _walk_x_forwarded(origin, headers, peer, trusted)
    return origin.scheme, origin.host, origin.prefix


def _starts_at_segment(path: str, prefix: str) -> bool:
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


def quote_path(path: str) -> str:
    """Percent-encode a decoded (WSGI/ASGI ``path``) path the way clients send it."""
    return quote(path.encode("latin-1", "replace"), safe="/:@!$&'()*+,;=~")


def public_url(
    *,
    scheme: str,
    host: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    peer: str | None,
    public_base_url: str | None,
    trusted: tuple[Network, ...],
    family: ProxyHeaders | None = None,
    root_path: str = "",
) -> str:
    """The URL the client signed.

    With ``public_base_url`` it is that base (trailing ``/`` removed) + the path as this server
    received it + ``?query``; forwarding headers are then ignored. Otherwise it is
    ``scheme://host`` from the request, corrected by the ``family`` of forwarding headers only
    when the peer is a trusted proxy (see :func:`forwarded_origin`), + prefix + path +
    ``?query``.

    The application's root path (ASGI ``root_path``, WSGI ``SCRIPT_NAME``; percent-encoded
    here) is counted once: ``public_base_url`` may name the public origin alone
    (``https://host``) or the origin with the root path (``https://host/api``); both give
    ``https://host/api/route`` for the route ``/route`` of an app mounted at ``/api``.
    """
    query = f"?{query_string}" if query_string else ""
    if public_base_url:
        base = public_base_url.rstrip("/")
        root = root_path.rstrip("/")
        if root and base.endswith(root) and _starts_at_segment(raw_path, root):
            raw_path = raw_path[len(root) :] or "/"
        return base + raw_path + query
    fscheme, fhost, prefix = forwarded_origin(
        scheme=scheme, host=host, headers=headers, peer=peer, trusted=trusted, family=family
    )
    return f"{fscheme}://{fhost}{prefix}{raw_path}{query}"
