"""Framework-free logic shared by the ASGI and WSGI middleware.

* which URL the client signed (public base URL, trusted proxies, ``Forwarded`` /
  ``X-Forwarded-*``),
* RFC 9457 problem documents for refusals,
* the body-size limit,
* verification plus replay protection (:class:`Gate`), sync and async.

Nothing here imports a web framework.
"""

from __future__ import annotations

import inspect
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from urllib.parse import quote

from authsig.errors import AuthSigError, ReplayStoreUnavailableError
from authsig.privy.verifier import REASON_STATUS, Decision, verify_request, verify_request_async

if TYPE_CHECKING:  # pragma: no cover - typing only
    from authsig.privy.quorum import KeyQuorum
    from authsig.replay import ReplayStore

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "Gate",
    "Outcome",
    "Problem",
    "QuorumSource",
    "RequestInfo",
    "STATUS_BY_REASON",
    "forwarded_origin",
    "parse_forwarded",
    "parse_trusted_proxies",
    "problem",
    "public_url",
]

logger = logging.getLogger("authsig.middleware")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Default limit on a signed request's body (1 MiB)."""

PROBLEM_TYPE_PREFIX = "urn:authsig:problem:"

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: HTTP status of each refusal reason (the verifier's table, plus ``internal_error``).
STATUS_BY_REASON: dict[str, int] = {**REASON_STATUS, "internal_error": 500}

_TITLES: dict[str, str] = {
    "missing_signature": "Signature required",
    "malformed_signature_header": "Malformed signature header",
    "empty_signature_entry": "Malformed signature header",
    "signature_header_too_large": "Signature header too large",
    "duplicate_signature": "Malformed signature header",
    "malformed_signature": "Malformed signature",
    "invalid_signature": "Invalid signature",
    "missing_header": "Missing header",
    "invalid_body": "Invalid request body",
    "invalid_payload": "Invalid request",
    "malformed_expiry": "Request expiry refused",
    "expiry_in_seconds": "Request expiry refused",
    "expired": "Request expired",
    "expiry_too_far": "Request expiry refused",
    "expiry_required": "Request expiry required",
    "threshold_not_met": "Not enough approvals",
    "replayed": "Request replayed",
    "body_too_large": "Request body too large",
    "user_resolution_failed": "Service unavailable",
    "replay_store_unavailable": "Service unavailable",
    "internal_error": "Internal error",
}


# --- request description ------------------------------------------------------------------


@dataclass(frozen=True)
class RequestInfo:
    """What the middleware knows about a request before reading its body.

    Passed to the application's quorum resolver. ``headers`` has lower-case names (repeated
    headers joined with ``,``); ``url`` is the public URL the signature must cover; ``raw`` is
    the ASGI scope or the WSGI environ; ``header_items`` keeps every header line as received
    (what the verifier sees, so that a repeated signature header is refused, not merged).
    """

    method: str
    url: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    peer: str | None
    raw: Mapping[str, Any] = field(repr=False)
    header_items: tuple[tuple[str, str], ...] = field(default=(), repr=False)


QuorumResult: TypeAlias = "KeyQuorum | None"
QuorumSource: TypeAlias = (
    "KeyQuorum | Callable[[RequestInfo], KeyQuorum | Awaitable[KeyQuorum | None] | None]"
)
"""A fixed quorum, or a resolver (sync or async) returning the request's quorum or None."""


# --- problem documents --------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 ``application/problem+json`` response."""

    status: int
    reason: str
    title: str
    detail: str
    type: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: ``type``, ``title``, ``status``, ``detail``, ``reason``."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "reason": self.reason,
        }

    def body(self) -> bytes:
        """The response body (UTF-8 JSON)."""
        return json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")

    def headers(self) -> list[tuple[str, str]]:
        """Response headers (content type, length, no caching)."""
        return [
            ("content-type", "application/problem+json"),
            ("content-length", str(len(self.body()))),
            ("cache-control", "no-store"),
        ]


def problem(
    reason: str,
    detail: str,
    *,
    status: int | None = None,
    type_prefix: str = PROBLEM_TYPE_PREFIX,
) -> Problem:
    """Build the problem document for a refusal ``reason`` (a reason code)."""
    code = status if status is not None else STATUS_BY_REASON.get(reason, 500)
    return Problem(
        status=code,
        reason=reason,
        title=_TITLES.get(reason, "Request refused"),
        detail=detail,
        type=type_prefix + reason,
    )


def internal_error(type_prefix: str = PROBLEM_TYPE_PREFIX) -> Problem:
    """The 500 problem for an unexpected failure (details go to the log only)."""
    return problem(
        "internal_error",
        "the request could not be checked; see the server log",
        type_prefix=type_prefix,
    )


def body_too_large(limit: int, type_prefix: str = PROBLEM_TYPE_PREFIX) -> Problem:
    """The 413 problem."""
    return problem(
        "body_too_large",
        f"the request body exceeds the limit of {limit} bytes",
        type_prefix=type_prefix,
    )


def check_content_length(
    value: str | None, limit: int, type_prefix: str = PROBLEM_TYPE_PREFIX
) -> tuple[int | None, Problem | None]:
    """Parse a ``Content-Length`` and check it against ``limit``.

    Returns ``(length or None, problem or None)``.
    """
    if value is None or value.strip() == "":
        return None, None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        return None, problem(
            "invalid_body", "the Content-Length header is not a number", type_prefix=type_prefix
        )
    length = int(text)
    if length > limit:
        return length, body_too_large(limit, type_prefix)
    return length, None


# --- trusted proxies and the public URL ---------------------------------------------------


def parse_trusted_proxies(values: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (or single addresses) of trusted reverse proxies."""
    if isinstance(values, str):
        values = [values]
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise AuthSigError(
                f"trusted proxy {value!r} is not an IP address or CIDR", code="invalid_argument"
            ) from None
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


# --- verification + replay ----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Result of :meth:`Gate.check`: pass the request on (``problem`` is None) or refuse it."""

    decision: Any
    problem: Problem | None


def _status(decision: Any) -> int:
    status = getattr(decision, "http_status", None)
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    return STATUS_BY_REASON.get(str(getattr(decision, "reason", "")), 401)


class Gate:
    """Holds the middleware settings and decides on one request (sync or async)."""

    def __init__(
        self,
        *,
        quorum: QuorumSource,
        public_base_url: str | None = None,
        trusted_proxies: Iterable[str] = (),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        replay_store: ReplayStore | Literal["memory"] | None = "memory",
        user_keys: Any = None,
        allow_foreign_signatures: bool = False,
        require_expiry: bool | None = None,
        max_lifetime: timedelta | None = None,
        clock_skew: timedelta | None = None,
        empty_body: Literal["string", "preserve"] = "string",
        profile: Literal["rfc8785", "canonicaljson"] = "rfc8785",
        max_signatures: int | None = None,
        max_header_length: int | None = None,
        problem_type_prefix: str = PROBLEM_TYPE_PREFIX,
        detailed_problems: bool = True,
    ) -> None:
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise AuthSigError("max_body_bytes must be an integer", code="invalid_argument")
        if max_body_bytes < 0:
            raise AuthSigError("max_body_bytes must not be negative", code="invalid_argument")
        if public_base_url is not None and not re.match(
            r"^https?://[^/?#]+(/[^?#]*)?$", public_base_url
        ):
            raise AuthSigError(
                "public_base_url must look like https://host[/prefix]", code="invalid_argument"
            )
        from authsig.privy.expiry import DEFAULT_CLOCK_SKEW, DEFAULT_MAX_LIFETIME

        self.quorum = quorum
        self.public_base_url = public_base_url
        self.trusted = parse_trusted_proxies(trusted_proxies)
        self.max_body_bytes = max_body_bytes
        if replay_store == "memory":
            from authsig.replay import MemoryReplayStore

            replay_store = MemoryReplayStore()
        elif isinstance(replay_store, str):
            raise AuthSigError(
                'replay_store must be a ReplayStore, "memory" (the default) or None',
                code="invalid_argument",
            )
        self.replay_store: ReplayStore | None = replay_store
        self.require_expiry = (
            (replay_store is not None) if require_expiry is None else require_expiry
        )
        self.max_lifetime = max_lifetime if max_lifetime is not None else DEFAULT_MAX_LIFETIME
        self.clock_skew = clock_skew if clock_skew is not None else DEFAULT_CLOCK_SKEW
        self.type_prefix = problem_type_prefix
        self.detailed_problems = detailed_problems
        from authsig.policy import Policy

        limits: dict[str, int] = {}
        if max_signatures is not None:
            limits["max_signatures"] = max_signatures
        if max_header_length is not None:
            limits["max_header_length"] = max_header_length
        policy = Policy(
            allow_foreign_signatures=allow_foreign_signatures,
            require_expiry=self.require_expiry,
            max_lifetime=self.max_lifetime,
            clock_skew=self.clock_skew,
            empty_body=empty_body,
            profile=profile,
            **limits,
        )
        self.verify_options: dict[str, Any] = {"user_keys": user_keys, "policy": policy}

    # -- resolver

    def _quorum_call(self, info: RequestInfo) -> Any:
        source = self.quorum
        if callable(source) and not _is_quorum(source):
            return source(info)
        return source

    def resolve(self, info: RequestInfo) -> KeyQuorum | None:
        """The quorum for the request (sync resolvers only)."""
        result = self._quorum_call(info)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise AuthSigError(
                "the quorum resolver is async; use the ASGI middleware", code="invalid_argument"
            )
        return result  # type: ignore[no-any-return]

    async def aresolve(self, info: RequestInfo) -> KeyQuorum | None:
        """The quorum for the request (sync or async resolvers)."""
        result = self._quorum_call(info)
        if inspect.isawaitable(result):
            result = await result
        return result  # type: ignore[no-any-return]

    # -- problems

    def problem(self, reason: str, detail: str, status: int | None = None) -> Problem:
        """A problem document with this middleware's type prefix."""
        return problem(reason, detail, status=status, type_prefix=self.type_prefix)

    def internal_error(self) -> Problem:
        """The 500 problem."""
        return internal_error(self.type_prefix)

    def too_large(self) -> Problem:
        """The 413 problem."""
        return body_too_large(self.max_body_bytes, self.type_prefix)

    def content_length(self, value: str | None) -> tuple[int | None, Problem | None]:
        """Check a Content-Length header against the body limit."""
        return check_content_length(value, self.max_body_bytes, self.type_prefix)

    def url(
        self,
        *,
        scheme: str,
        host: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        peer: str | None,
    ) -> str:
        """The public URL of a request (see :func:`public_url`)."""
        return public_url(
            scheme=scheme,
            host=host,
            raw_path=raw_path,
            query_string=query_string,
            headers=headers,
            peer=peer,
            public_base_url=self.public_base_url,
            trusted=self.trusted,
        )

    # -- checks

    def _refusal(self, decision: Any) -> Problem:
        reason = str(getattr(decision, "reason", "invalid_signature"))
        message = str(getattr(decision, "message", "")) or "the request was refused"
        return self.problem(reason, self._detail(reason, message), _status(decision))

    def _detail(self, reason: str, message: str) -> str:
        if self.detailed_problems:
            return message
        return _TITLES.get(reason, "Request refused") + "."

    def _error_problem(self, exc: AuthSigError) -> Problem:
        if exc.code in STATUS_BY_REASON and exc.code != "approved":
            return self.problem(exc.code, self._detail(exc.code, exc.message))
        logger.error("authsig: request check failed with %s (%s)", type(exc).__name__, exc.code)
        return self.internal_error()

    def _replay_entry(self, info: RequestInfo, decision: Decision) -> tuple[str, int]:
        from authsig.privy.expiry import current_time_ms
        from authsig.replay import replay_key

        # The verifier attaches the payload it checked to every decision it reaches after
        # building one, approved ones included; without it, refuse (fail closed).
        payload = decision.payload
        if payload is None:
            raise AuthSigError("approved decision carries no payload", code="internal_error")
        expiry = info.headers.get("privy-request-expiry", "").strip()
        skew_ms = int(self.clock_skew.total_seconds() * 1000)
        if expiry.isdigit() and expiry.isascii():
            expires_at = int(expiry) + skew_ms
        else:
            expires_at = current_time_ms() + int(self.max_lifetime.total_seconds() * 1000)
        return replay_key(payload), expires_at

    def _replayed(self) -> Problem:
        return self.problem("replayed", "this signed request was already accepted; send a new one")

    def _verify_args(self, info: RequestInfo, body: bytes, quorum: KeyQuorum) -> dict[str, Any]:
        """The keyword arguments of the verifier call for this request."""
        return {
            "method": info.method,
            "url": info.url,
            "body": body,
            "headers": info.header_items or info.headers,
            "quorum": quorum,
            **self.verify_options,
        }

    def _refused_or_passed(self, decision: Any) -> Outcome:
        """The outcome of a decision with no replay check to make (refused, or no store)."""
        return Outcome(decision, None if decision.approved else self._refusal(decision))

    def _replay_outcome(self, decision: Any, fresh: bool) -> Outcome:
        """The outcome of an approved decision once the replay store has answered."""
        return Outcome(decision, None if fresh else self._replayed())

    def _replay_failed(self, decision: Any, exc: AuthSigError) -> Outcome:
        """The outcome of an approved decision whose replay check raised ``exc``."""
        if isinstance(exc, ReplayStoreUnavailableError):
            return Outcome(decision, self.problem(exc.code, exc.message))
        return Outcome(decision, self._error_problem(exc))

    # check and acheck differ only in awaiting the verifier and the replay store; the steps
    # around those calls are the helpers above.

    def check(self, info: RequestInfo, body: bytes, quorum: KeyQuorum) -> Outcome:
        """Verify the request and record it in the replay store (sync)."""

        try:
            decision = verify_request(**self._verify_args(info, body, quorum))
        except AuthSigError as exc:
            return Outcome(None, self._error_problem(exc))
        if not decision.approved or self.replay_store is None:
            return self._refused_or_passed(decision)
        try:
            key, expires_at = self._replay_entry(info, decision)
            fresh = self.replay_store.add_if_absent(key, expires_at)
        except AuthSigError as exc:
            return self._replay_failed(decision, exc)
        return self._replay_outcome(decision, fresh)

    async def acheck(self, info: RequestInfo, body: bytes, quorum: KeyQuorum) -> Outcome:
        """Verify the request and record it in the replay store (async)."""

        try:
            decision = await verify_request_async(**self._verify_args(info, body, quorum))
        except AuthSigError as exc:
            return Outcome(None, self._error_problem(exc))
        if not decision.approved or self.replay_store is None:
            return self._refused_or_passed(decision)
        try:
            key, expires_at = self._replay_entry(info, decision)
            fresh = await self.replay_store.aadd_if_absent(key, expires_at)
        except AuthSigError as exc:
            return self._replay_failed(decision, exc)
        return self._replay_outcome(decision, fresh)


def _is_quorum(value: object) -> bool:
    try:
        from authsig.privy.quorum import KeyQuorum
    except ImportError:  # pragma: no cover - the quorum module is part of the core
        return False
    return isinstance(value, KeyQuorum)


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names; repeated headers joined with ``,``."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in headers:
            headers[key] = headers[key] + "," + value
        else:
            headers[key] = value
    return headers
