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
from typing import TypeAlias
from urllib.parse import quote

__all__ = [
    "Network",
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


_TOKEN = re.compile(r"\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,\s]*)\s*")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+;=%-]+)(?::[0-9]{1,5})?$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$")


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """Parse an RFC 7239 ``Forwarded`` header into its elements (lower-case parameter names).

    Unparseable pairs are skipped.
    """
    elements: list[dict[str, str]] = []
    for element in _split_outside_quotes(value, ","):
        pairs: dict[str, str] = {}
        for pair in _split_outside_quotes(element, ";"):
            match = _TOKEN.fullmatch(pair)
            if match is None:
                continue
            name, raw = match.group(1).lower(), match.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            pairs[name] = raw
        elements.append(pairs)
    return elements


def _split_outside_quotes(value: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _list(value: str | None) -> list[str]:
    if not value:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass
class _Origin:
    scheme: str
    host: str
    prefix: str = ""


def forwarded_origin(
    *,
    scheme: str,
    host: str,
    headers: Mapping[str, str],
    peer: str | None,
    trusted: tuple[Network, ...],
) -> tuple[str, str, str]:
    """The ``(scheme, host, path prefix)`` the client used, seen through trusted proxies.

    Proxies append to ``Forwarded`` / ``X-Forwarded-For``, so the list is walked from the
    right (the hop nearest to us) for as long as the hop that added the entry is trusted; each
    trusted hop's entry says what scheme and host it received. Forwarding headers from an
    untrusted peer are ignored entirely. ``Forwarded`` wins over ``X-Forwarded-*``.
    """
    origin = _Origin(scheme, host)
    if not trusted or not is_trusted(peer, trusted):
        return origin.scheme, origin.host, origin.prefix
    forwarded = headers.get("forwarded")
    if forwarded:
        hop: str | None = peer
        for element in reversed(parse_forwarded(forwarded)):
            if not is_trusted(hop, trusted):
                break
            proto = element.get("proto", "").lower()
            if proto in ("http", "https"):
                origin.scheme = proto
            fhost = element.get("host", "")
            if fhost and _HOST.match(fhost):
                origin.host = fhost
            hop = element.get("for")
        return origin.scheme, origin.host, origin.prefix
    hops = list(reversed(_list(headers.get("x-forwarded-for"))))
    protos = list(reversed(_list(headers.get("x-forwarded-proto"))))
    hosts = list(reversed(_list(headers.get("x-forwarded-host"))))
    prefixes = list(reversed(_list(headers.get("x-forwarded-prefix"))))
    steps = max(len(hops), len(protos), len(hosts), len(prefixes), 1)
    hop = peer
    for index in range(steps):
        if not is_trusted(hop, trusted):
            break
        if index < len(protos) and protos[index].lower() in ("http", "https"):
            origin.scheme = protos[index].lower()
        if index < len(hosts) and _HOST.match(hosts[index]):
            origin.host = hosts[index]
        if index < len(prefixes) and _PREFIX.match(prefixes[index]):
            origin.prefix = prefixes[index].rstrip("/")
        hop = hops[index] if index < len(hops) else None
    return origin.scheme, origin.host, origin.prefix


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
) -> str:
    """The URL the client signed.

    With ``public_base_url`` it is that base (trailing ``/`` removed) + the path as this server
    received it + ``?query``; forwarding headers are then ignored. Otherwise it is
    ``scheme://host`` from the request, corrected by ``Forwarded``/``X-Forwarded-*`` only when
    the peer is a trusted proxy (see :func:`forwarded_origin`), + prefix + path + ``?query``.
    """
    query = f"?{query_string}" if query_string else ""
    if public_base_url:
        return public_base_url.rstrip("/") + raw_path + query
    fscheme, fhost, prefix = forwarded_origin(
        scheme=scheme, host=host, headers=headers, peer=peer, trusted=trusted
    )
    return f"{fscheme}://{fhost}{prefix}{raw_path}{query}"
