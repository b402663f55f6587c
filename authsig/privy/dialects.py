"""Privy's SDK dialects, as data: what each official SDK really signs.

Privy's SDKs agree on the payload's five members but not on the details, so a verifier that
serves clients of one SDK must rebuild that SDK's bytes. :data:`DIALECTS` holds one
:class:`Dialect` per SDK; ``docs/dialects.md`` cites the source line of every rule, and the
interop tests check the rules against the SDKs that run here (@privy-io/node,
@privy-io/server-auth, privy-client).

A dialect is named wherever a payload is built: ``Policy(dialect="privy-server-auth")`` for
verifying and ``explain``, ``sign_request(..., dialect=...)`` for signing,
``signing_payload(..., dialect=...)`` for the bytes. Without one, authsig's strict rules apply
(RFC 8785, ``{}``/``[]`` as ``""``, a missing body as ``null``, every participating header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from authsig.jcs import canonicalize
from authsig.policy import Profile
from authsig.privy.headers import (
    APP_ID_HEADER,
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    PARTICIPATING_HEADERS,
)

__all__ = [
    "DIALECTS",
    "DIALECT_NAMES",
    "Dialect",
    "EmptyRule",
    "NilBody",
    "get_dialect",
    "register_dialect",
]

EmptyRule = Literal["string", "preserve"]
"""What an empty body becomes in the payload: ``""`` (``string``) or itself (``preserve``)."""

NilBody = Literal["null", "omit", "empty_object", "empty_string"]
"""What the SDK signs for a request it sends without a body: ``null``, no ``body`` member at
all (``omit``), ``{}`` (``empty_object``, which then follows the empty-body rule) or ``""``."""

_ID = r"[^/?#]+"


@dataclass(frozen=True)
class Dialect:
    """How one SDK builds the signed payload and signs it.

    - ``name``: the name to pass as ``dialect=``; ``sdk`` and ``checked``: the package and the
      version (or commit) the rules were read from; ``summary``: the rules in one phrase, for
      ``explain``;
    - ``profile``: the canonicalization (``rfc8785`` or ``canonicaljson``);
    - ``empty_object`` / ``empty_array``: the empty-body rule for ``{}`` and ``[]``;
    - ``preserve_empty_on``: ``(METHOD, path regex)`` pairs where the SDK keeps an empty body
      although its rule says ``""`` (privy-client's DELETE calls);
    - ``nil_body``: what a request sent without a body was signed with (:data:`NilBody`);
    - ``signed_headers``: the ``privy-*`` headers the SDK signs (a header it does not sign must
      not be sent: nothing would protect its value);
    - ``key_prefixes``: prefixes the SDK strips from a private key (``wallet-auth:``);
    - ``deterministic``: whether its signatures are RFC 6979 (the same bytes on every run);
    - ``upper_cases_method``: whether it upper-cases the method before signing.
    """

    name: str
    sdk: str
    checked: str
    profile: Profile
    empty_object: EmptyRule
    empty_array: EmptyRule
    nil_body: NilBody
    signed_headers: tuple[str, ...]
    key_prefixes: tuple[str, ...]
    deterministic: bool
    upper_cases_method: bool
    summary: str
    preserve_empty_on: tuple[tuple[str, str], ...] = ()

    def signs_header(self, name: str) -> bool:
        """Whether this dialect signs the participating header ``name``."""
        return name in self.signed_headers

    def empty_rule(self, method: str, url: str, body: list[Any] | dict[str, Any]) -> EmptyRule:
        """The empty-body rule for an empty ``body`` sent as ``method`` to ``url``."""
        path = _path(url)
        for m, pattern in self.preserve_empty_on:
            if method.upper() == m and re.fullmatch(pattern, path):
                return "preserve"
        return self.empty_object if isinstance(body, dict) else self.empty_array

    def payload_object(
        self, *, method: str, url: str, body: Any, absent: bool, headers: dict[str, str]
    ) -> dict[str, Any]:
        """The payload object this SDK signs. ``body`` is the parsed body (``None`` when the
        request has none, ``absent`` True then); ``headers`` the participating headers sent."""
        obj: dict[str, Any] = {
            "version": 1,
            "method": method.upper() if self.upper_cases_method else method,
            "url": url,
        }
        if absent:
            if self.nil_body == "omit":
                body = _OMIT
            elif self.nil_body == "empty_object":
                body = {}
            elif self.nil_body == "empty_string":
                body = ""
        if isinstance(body, dict | list | tuple) and not body:
            empty = body if isinstance(body, dict) else list(body)
            if self.empty_rule(method, url, empty) == "string":
                body = ""
        if body is not _OMIT:
            obj["body"] = body
        obj["headers"] = {k: headers[k] for k in PARTICIPATING_HEADERS if k in headers}
        return obj

    def canonicalize(self, obj: dict[str, Any]) -> bytes:
        """The payload bytes of ``obj`` in this dialect's canonicalization."""
        return canonicalize(obj, profile=self.profile)

    def strip_key_prefix(self, text: str) -> str:
        """``text`` without the key prefixes this SDK strips (the first occurrence of each, as
        the SDKs' ``str.replace`` does)."""
        for prefix in self.key_prefixes:
            text = text.replace(prefix, "", 1)
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for docs and the vectors)."""
        return {
            "name": self.name,
            "sdk": self.sdk,
            "checked": self.checked,
            "profile": self.profile,
            "empty_object": self.empty_object,
            "empty_array": self.empty_array,
            "preserve_empty_on": [list(p) for p in self.preserve_empty_on],
            "nil_body": self.nil_body,
            "signed_headers": list(self.signed_headers),
            "key_prefixes": list(self.key_prefixes),
            "deterministic": self.deterministic,
            "upper_cases_method": self.upper_cases_method,
        }


class _Omit:
    """Marks a body member left out of the payload."""


_OMIT: Any = _Omit()


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    return path.split("?", 1)[0].split("#", 1)[0]


_ALL = (APP_ID_HEADER, IDEMPOTENCY_HEADER, EXPIRY_HEADER)
_NO_EXPIRY = (APP_ID_HEADER, IDEMPOTENCY_HEADER)
_PREFIXES = ("wallet-auth:", "wallet-api:")

# The table. Each value is read from the SDK named in ``checked``; docs/dialects.md cites the
# file and function of each rule.
DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(
            name="privy-node",
            sdk="@privy-io/node",
            checked="0.35.0",
            profile="rfc8785",
            empty_object="string",
            empty_array="string",
            nil_body="empty_object",
            signed_headers=_ALL,
            key_prefixes=_PREFIXES,
            deterministic=True,
            upper_cases_method=True,
            summary='empty {} and [] bodies signed as "", every privy-* header signed',
        ),
        Dialect(
            name="privy-server-auth",
            sdk="@privy-io/server-auth",
            checked="1.32.5",
            profile="rfc8785",
            empty_object="preserve",
            empty_array="preserve",
            nil_body="omit",
            signed_headers=_NO_EXPIRY,
            key_prefixes=_PREFIXES,
            deterministic=True,
            upper_cases_method=False,
            summary="{} and [] bodies signed as is, privy-request-expiry never signed",
        ),
        Dialect(
            name="privy-client",
            sdk="privy-client (Python)",
            checked="0.7.0",
            profile="canonicaljson",
            empty_object="string",
            empty_array="string",
            nil_body="empty_object",
            signed_headers=_ALL,
            key_prefixes=(),
            deterministic=False,
            upper_cases_method=True,
            summary='canonicaljson; empty bodies signed as "" except {} on a few DELETE calls',
            preserve_empty_on=(
                ("DELETE", rf"/v1/key_quorums/{_ID}"),
                ("DELETE", rf"/v1/policies/{_ID}"),
                ("DELETE", rf"/v1/policies/{_ID}/rules/{_ID}"),
                ("DELETE", rf"/v1/intents/policies/{_ID}/rules/{_ID}"),
            ),
        ),
        Dialect(
            name="privy-go",
            sdk="github.com/privy-io/go-sdk",
            checked="authorization/authorization.go @ 6ca3a7d5 and its service wrappers",
            profile="rfc8785",
            empty_object="string",
            empty_array="preserve",
            nil_body="empty_string",
            signed_headers=_ALL,
            key_prefixes=(),
            deterministic=False,
            upper_cases_method=False,
            summary='only {} signed as "" ([] as is), its DELETE calls sign ""',
        ),
        Dialect(
            name="privy-rust",
            sdk="privy-rust (crates.io)",
            checked="src/utils.rs @ 0111fdba",
            profile="rfc8785",
            empty_object="preserve",
            empty_array="preserve",
            nil_body="empty_object",
            signed_headers=_NO_EXPIRY,
            key_prefixes=(),
            deterministic=True,
            upper_cases_method=True,
            summary="{} bodies signed as is (DELETE signs {}), expiry not signed",
        ),
    )
}

DIALECT_NAMES: tuple[str, ...] = tuple(DIALECTS)
"""The names of the official SDKs' dialects, in table order."""


def register_dialect(dialect: Dialect) -> Dialect:
    """Add a dialect of your own (an older SDK version, an in-house client) to the table, so
    that ``Policy(dialect=name)`` and ``explain`` know it; idempotent for an identical value.

    Raises :class:`TypeError` for another type and :class:`ValueError` when the name is taken
    by another dialect or when a header it signs is not a participating one.
    """
    if not isinstance(dialect, Dialect):
        raise TypeError(f"dialect must be a Dialect, not {type(dialect).__name__}")
    if not dialect.name or APP_ID_HEADER not in dialect.signed_headers:
        raise ValueError("a dialect needs a name and must sign privy-app-id")
    if any(h not in PARTICIPATING_HEADERS for h in dialect.signed_headers):
        raise ValueError(f"signed_headers must be among {PARTICIPATING_HEADERS}")
    existing = DIALECTS.get(dialect.name)
    if existing is not None and existing != dialect:
        raise ValueError(f"dialect {dialect.name!r} is already registered with other rules")
    DIALECTS[dialect.name] = dialect
    return dialect


def get_dialect(dialect: str | Dialect) -> Dialect:
    """The :class:`Dialect` named ``dialect`` (a :class:`Dialect` is returned as is).

    Raises :class:`TypeError` for another type and :class:`ValueError` for an unknown name.
    """
    if isinstance(dialect, Dialect):
        return dialect
    if not isinstance(dialect, str):
        raise TypeError(f"dialect must be a str or Dialect, not {type(dialect).__name__}")
    found = DIALECTS.get(dialect)
    if found is None:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECT_NAMES)}")
    return found
