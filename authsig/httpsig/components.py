"""RFC 9421 covered components and the signature base (sections 2.1, 2.2 and 2.5).

A message is its method, its target URI as the client addressed it, and its header lines as
received. A covered component is an sf-string naming a header field (lower case) or a derived
component (``@method``, ``@target-uri``, ``@authority``, ``@scheme``, ``@request-target``,
``@path``, ``@query``, ``@query-param``), with its parameters (``key``, ``bs``, ``name``). The
signature base is one ``"identifier": value`` line per component, in the order the signer
listed them, then the ``"@signature-params"`` line; it must be ASCII, and nothing in it may
contain a line break (a value that did could forge a line of its own).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urlsplit

from authsig.httpsig import _sfv as http_sfv
from authsig.httpsig.errors import HttpSigComponentError

__all__ = [
    "DERIVED",
    "HttpMessage",
    "component",
    "component_value",
    "signature_base",
]

DERIVED = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
    }
)
"""The derived components authsig builds (request components; ``@status`` is a response's)."""

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_OBS_FOLD = re.compile(r"\r?\n[ \t]+")
# application/x-www-form-urlencoded percent-encode set: everything but ASCII alphanumerics and
# *-._ is encoded, and spaces as %20 (RFC 9421 section 2.2.8).
_QUERY_SAFE = "*-._"


@dataclass(frozen=True)
class HttpMessage:
    """A request as the signature sees it: ``method``, the absolute target ``url`` (scheme,
    host, path and query as the client addressed them) and the header lines, in order."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def build(cls, method: str, url: str, headers: Iterable[tuple[str, str]] = ()) -> HttpMessage:
        """A message from any iterable of ``(name, value)`` header pairs."""
        if not isinstance(method, str) or not isinstance(url, str):
            raise TypeError("method and url must be strings")
        return cls(method, url, tuple((str(name), str(value)) for name, value in headers))

    def field_lines(self, name: str) -> list[str]:
        """The values of every line of header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


def component(spec: str | http_sfv.Item) -> http_sfv.Item:
    """A component identifier: an sf-string item, from ``"@method"`` or the serialized form
    with parameters (``'"@query-param";name="Pet"'``)."""
    if isinstance(spec, http_sfv.Item):
        item = spec
    elif isinstance(spec, str) and spec.startswith('"'):
        item = http_sfv.Item()
        try:
            item.parse(spec.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise HttpSigComponentError(f"{spec!r} is not a component identifier") from None
    elif isinstance(spec, str):
        item = http_sfv.Item(spec)
    else:
        raise TypeError("a component is a string or an http_sfv.Item")
    _check_identifier(item)
    return item


def _check_identifier(item: http_sfv.Item) -> str:
    """The component's name; refuses a token, an unknown derived name or a bad field name."""
    value = item.value
    if not isinstance(value, str) or isinstance(value, http_sfv.Token):
        raise HttpSigComponentError("a component identifier must be an sf-string")
    if value.startswith("@"):
        if value not in DERIVED:
            raise HttpSigComponentError(f"derived component {value!r} is not supported")
    elif not _FIELD_NAME.fullmatch(value):
        raise HttpSigComponentError(f"{value!r} is not a lower-case header field name")
    return value


def _authority(scheme: str, netloc: str) -> str:
    host = netloc.rpartition("@")[2].lower()
    name, colon, port = host.rpartition(":")
    if colon and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        return name
    return host


def _split(url: str) -> tuple[str, str, str, str | None]:
    """scheme, netloc, path, query (None when the URL has no ``?``) of an absolute URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise HttpSigComponentError("the target URI is not a valid URL") from None
    if not parts.scheme or not parts.netloc:
        raise HttpSigComponentError("the target URI must be absolute (scheme and host)")
    head = url.split("#", 1)[0]
    query = head.split("?", 1)[1] if "?" in head else None
    return parts.scheme.lower(), parts.netloc, parts.path, query


def _query_param(query: str | None, name: object) -> str:
    if not isinstance(name, str):
        raise HttpSigComponentError('"@query-param" needs a name parameter (a string)')
    found = []
    for pair in (query or "").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if quote(unquote_plus(key), safe=_QUERY_SAFE) == name:
            found.append(quote(unquote_plus(value), safe=_QUERY_SAFE))
    if len(found) != 1:
        count = "absent" if not found else "repeated"
        raise HttpSigComponentError(f"query parameter {name!r} is {count}")
    return found[0]


def _derived(message: HttpMessage, name: str, item: http_sfv.Item) -> str:
    scheme, netloc, path, query = _split(message.url)
    if name == "@method":
        return message.method
    if name == "@target-uri":
        return message.url.split("#", 1)[0]
    if name == "@authority":
        return _authority(scheme, netloc)
    if name == "@scheme":
        return scheme
    if name == "@path":
        return path or "/"
    if name == "@query":
        return "?" + (query or "")
    if name == "@request-target":
        return (path or "/") + ("?" + query if query is not None else "")
    return _query_param(query, item.params.get("name"))


def _field(message: HttpMessage, name: str, item: http_sfv.Item) -> str:
    lines = message.field_lines(name)
    if not lines:
        raise HttpSigComponentError(f"the request has no {name!r} field")
    values = [_OBS_FOLD.sub(" ", line).strip(" \t") for line in lines]
    if item.params.get("bs") is True:
        return ", ".join(":" + base64.b64encode(v.encode("latin-1")).decode() + ":" for v in values)
    combined = ", ".join(values)
    key = item.params.get("key")
    if key is None:
        return combined
    parsed = http_sfv.Dictionary()
    try:
        parsed.parse(combined.encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise HttpSigComponentError(f"{name!r} is not a dictionary field") from None
    if not isinstance(key, str) or key not in parsed:
        raise HttpSigComponentError(f"{name!r} has no member {key!r}")
    return str(parsed[key])


_ALLOWED_PARAMS = {"bs", "key", "name"}


def component_value(message: HttpMessage, item: http_sfv.Item) -> str:
    """The value of component ``item`` in ``message`` (RFC 9421 sections 2.1 and 2.2)."""
    name = _check_identifier(item)
    unknown = set(item.params) - _ALLOWED_PARAMS
    if unknown:
        raise HttpSigComponentError(f"component parameter(s) {sorted(unknown)} not supported")
    if ("name" in item.params) != (name == "@query-param"):
        raise HttpSigComponentError('only "@query-param" takes the name parameter')
    if name.startswith("@"):
        if {"bs", "key"} & set(item.params):
            raise HttpSigComponentError("bs and key apply to header fields only")
        return _derived(message, name, item)
    if "bs" in item.params and "key" in item.params:
        raise HttpSigComponentError("bs and key cannot be combined")
    return _field(message, name, item)


def _line(identifier: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise HttpSigComponentError(f"{identifier} contains a line break")
    return f"{identifier}: {value}"


def signature_base(message: HttpMessage, covered: Sequence[http_sfv.Item], params: str) -> bytes:
    """The signature base of ``message`` for the ``covered`` components, ending with the
    ``"@signature-params"`` line whose value is ``params`` (the serialized inner list)."""
    seen: set[str] = set()
    lines = []
    for item in covered:
        identifier = str(item)
        if identifier in seen:
            raise HttpSigComponentError(f"component {identifier} is covered twice")
        seen.add(identifier)
        lines.append(_line(identifier, component_value(message, item)))
    lines.append(_line('"@signature-params"', params))
    text = "\n".join(lines)
    if not text.isascii():
        raise HttpSigComponentError("the signature base must be ASCII")
    return text.encode("ascii")
