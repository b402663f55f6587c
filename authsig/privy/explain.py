"""Explain a refused request: which near miss does each signature match?

:func:`explain` (and :func:`explain_async`, :meth:`Verifier.explain
<authsig.privy.verifier.Verifier.explain>`) take the keyword arguments of
:func:`~authsig.privy.verifier.verify_request` plus ``alternative_urls`` and ``extra_headers``.
They run the verifier, rebuild the payloads that users really sign by mistake, and report for
each signature which of them it matches (and with which member key):

- the URL with or without a trailing slash, with the other scheme (http/https), or one of the
  ``alternative_urls`` (another host or path prefix, e.g. behind a proxy);
- an empty body signed as ``{}`` / ``[]`` instead of ``""`` (or the reverse), or a missing
  body signed as ``""`` / ``{}``;
- the Python SDK's ``canonicaljson`` form instead of RFC 8785 (or the reverse);
- ``privy-request-expiry`` / ``privy-idempotency-key`` sent but not signed, or signed but not
  sent (the value then comes from ``extra_headers``, or from a look-alike header that did
  arrive, such as ``privy_request_expiry`` or ``x-privy-request-expiry``);
- the method signed in lower case (``post``) or as sent;
- the expiry signed in seconds while milliseconds were sent (or the reverse).

``str(explanation)`` is a readable multi-line report; ``explanation.to_dict()`` the same for
programs. Explanations show public data only (the payload, key ids, member ids).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from authsig.errors import AuthSigError, SignatureFormatError
from authsig.jcs import canonicalize
from authsig.policy import Policy, Profile
from authsig.privy._match import Approval, MemberKeys
from authsig.privy.decision import seat_member
from authsig.privy.dialects import get_dialect
from authsig.privy.headers import (
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    PARTICIPATING_HEADERS,
    Headers,
    parse_signature_header,
    read_headers,
)
from authsig.privy.payload import dialect_payloads, parse_body, payload_object
from authsig.privy.quorum import AnyUserKeyResolver, KeyQuorum, UserKeyResolver
from authsig.privy.verifier import Decision, Verifier
from authsig.signatures import parse_der_signature

__all__ = ["Explanation", "SignatureExplanation", "Variant", "explain", "explain_async"]


@dataclass(frozen=True)
class Variant:
    """One candidate payload: ``code`` (stable), ``description`` (what the client did) and
    ``fix`` (what to change)."""

    code: str
    description: str
    fix: str
    payload: bytes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the payload as text)."""
        return {
            "code": self.code,
            "description": self.description,
            "fix": self.fix,
            "payload": self.payload.decode("utf-8", "replace"),
        }


@dataclass(frozen=True)
class SignatureExplanation:
    """What one signature of the header matches.

    ``status``: ``as_sent`` (it verifies with ``key_id`` over the payload the verifier built),
    ``near_miss`` (it verifies with ``key_id`` over the payload of ``variant`` instead),
    ``unknown`` (no member key over any known variant: a non-member signer, or another
    difference) or ``malformed`` (not a DER ECDSA signature).
    """

    index: int
    status: Literal["as_sent", "near_miss", "unknown", "malformed"]
    key_id: str | None = None
    variant: Variant | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "index": self.index,
            "status": self.status,
            "key_id": self.key_id,
            "variant": None if self.variant is None else self.variant.to_dict(),
        }

    def __str__(self) -> str:
        n = self.index + 1
        if self.status == "as_sent":
            return (
                f"signature #{n}: verifies with member key {self.key_id} over the request as sent"
            )
        if self.status == "near_miss" and self.variant is not None:
            return (
                f"signature #{n}: verifies with member key {self.key_id} only if "
                f"{self.variant.description}; fix: {self.variant.fix}"
            )
        if self.status == "malformed":
            return f"signature #{n}: is not a DER ECDSA P-256 signature (base64)"
        return (
            f"signature #{n}: verifies with no member key over the request as sent nor over any "
            "known near miss: it was made by a key outside the quorum, or the request differs "
            "in another way (body content, app id, another URL: try alternative_urls=...)"
        )


@dataclass(frozen=True)
class Explanation:
    """The verifier's :class:`~authsig.privy.verifier.Decision` plus what each signature matches."""

    decision: Decision
    payload: bytes | None
    signatures: tuple[SignatureExplanation, ...]
    variants_tried: tuple[str, ...]
    overlap: str | None = None
    """When a key listed as several members capped the count: which keys, and where."""
    completion: str | None = None
    """When too few members approved: which further members would complete the approval."""

    @property
    def near_misses(self) -> tuple[SignatureExplanation, ...]:
        """The signatures that match a near miss."""
        return tuple(s for s in self.signatures if s.status == "near_miss")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "decision": self.decision.to_dict(),
            "payload": None if self.payload is None else self.payload.decode("utf-8", "replace"),
            "signatures": [s.to_dict() for s in self.signatures],
            "variants_tried": list(self.variants_tried),
            "overlap": self.overlap,
            "completion": self.completion,
        }

    def __str__(self) -> str:
        d = self.decision
        head = "APPROVED" if d.approved else f"REFUSED ({d.reason}, HTTP {d.http_status})"
        if d.privy_code:
            head += f"; Privy would answer {d.privy_code}"
        lines = [f"{head}: {d.message}"]
        if self.payload is not None:
            lines.append("payload the verifier checked the signatures against:")
            lines.append("  " + self.payload.decode("utf-8", "replace"))
        for s in self.signatures:
            lines.append("- " + str(s))
        if self.variants_tried:
            lines.append("near misses tried: " + ", ".join(self.variants_tried))
        if self.overlap is not None:
            lines.append("overlap: " + self.overlap)
        if self.completion is not None:
            lines.append("to complete: " + self.completion)
        return "\n".join(lines)


def explain(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers,
    quorum: KeyQuorum,
    user_keys: UserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
    alternative_urls: Iterable[str] = (),
    extra_headers: Mapping[str, str] | None = None,
) -> Explanation:
    """Run :func:`~authsig.privy.verifier.verify_request` and explain the result.

    Takes the same keyword arguments, plus ``alternative_urls`` (other URLs the client may have
    signed: another host, scheme or path prefix) and ``extra_headers`` (participating header
    values the client may have signed but not sent). ``str()`` of the result is the report.
    A convenience for ``Verifier(quorum, user_keys=..., policy=...).explain(...)``.
    """
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return verifier.explain(
        method=method,
        url=url,
        body=body,
        headers=headers,
        now_ms=now_ms,
        alternative_urls=alternative_urls,
        extra_headers=extra_headers,
    )


async def explain_async(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers,
    quorum: KeyQuorum,
    user_keys: AnyUserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
    alternative_urls: Iterable[str] = (),
    extra_headers: Mapping[str, str] | None = None,
) -> Explanation:
    """The async twin of :func:`explain`: ``user_keys`` may be sync or async (awaited)."""
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return await verifier.explain_async(
        method=method,
        url=url,
        body=body,
        headers=headers,
        now_ms=now_ms,
        alternative_urls=alternative_urls,
        extra_headers=extra_headers,
    )


def overlap_note(quorum: KeyQuorum, approval: Approval) -> str | None:
    """A sentence naming each signing key listed as several members, when that capped the
    count (None otherwise)."""
    if not approval.capped:
        return None
    parts = []
    for key, seats in approval.shared.items():
        where = " and ".join(str(seat_member(quorum, seat)) for seat in seats)
        parts.append(f"key {key.key_id} is listed as {where}")
    return (
        f"{'; '.join(parts)}. A key approves one member only, so {approval.count} approval(s) "
        f"count instead of {approval.uncapped}: each member needs its own signer."
    )


def explanation(
    decision: Decision,
    keys: MemberKeys,
    policy: Policy,
    *,
    request: tuple[str, str, Any, list[tuple[str, str]]],
    alternative_urls: Iterable[str],
    extra_headers: Mapping[str, str] | None,
) -> Explanation:
    """The :class:`Explanation` of ``decision`` on ``request`` (method, url, body, header
    pairs), matching each signature against ``keys``. Serves :meth:`Verifier.explain
    <authsig.privy.verifier.Verifier.explain>` and its async twin, which differ only in how
    they obtain ``decision`` and the user members' keys (they add :func:`overlap_note`)."""
    method, url, body, pairs = request
    urls = (alternative_urls,) if isinstance(alternative_urls, str) else tuple(alternative_urls)
    try:
        dialect = None if policy.dialect is None else get_dialect(policy.dialect)
        profile = policy.profile if dialect is None else dialect.profile
        base = payload_object(
            method=method,
            url=url,
            body=body,
            headers=pairs,
            empty_body=policy.empty_body,
            dialect=dialect,
        )
        as_sent = canonicalize(base, profile=profile)
        near = _Request(method, url, body, pairs, base, profile, urls, extra_headers or {})
        variants = _variants(near, as_sent, _dialect_variants(method, url, body, pairs, policy))
    except AuthSigError:
        return Explanation(decision, None, (), ())
    tried = tuple(v.code for v in variants)
    signature = read_headers(pairs).signature
    if signature is None:
        return Explanation(decision, as_sent, (), tried)
    try:
        entries = parse_signature_header(
            signature, max_signatures=policy.max_signatures, max_length=policy.max_header_length
        )
    except AuthSigError:
        return Explanation(decision, as_sent, (), tried)
    results = tuple(
        _explain_signature(i, entry, as_sent, variants, keys) for i, entry in enumerate(entries)
    )
    return Explanation(decision, as_sent, results, tried)


def _explain_signature(
    index: int, entry: str, as_sent: bytes, variants: list[Variant], keys: MemberKeys
) -> SignatureExplanation:
    der = base64.b64decode(entry)
    try:
        r, s = parse_der_signature(der)
    except SignatureFormatError:
        return SignatureExplanation(index, "malformed")
    key = keys.signer(as_sent, der, r, s)
    if key is not None:
        return SignatureExplanation(index, "as_sent", key.key_id)
    for variant in variants:
        key = keys.signer(variant.payload, der, r, s)
        if key is not None:
            return SignatureExplanation(index, "near_miss", key.key_id, variant)
    return SignatureExplanation(index, "unknown")


# --- near misses -----------------------------------------------------------------------------


class _Request(NamedTuple):
    """What the near misses are made from."""

    method: str
    url: str
    body: Any
    pairs: list[tuple[str, str]]
    base: dict[str, Any]  # the payload object as the verifier built it
    profile: Profile
    alternative_urls: tuple[str, ...]
    extra_headers: Mapping[str, str]


class _NearMiss(NamedTuple):
    """A mistake a client makes: what it did, the fix, and how it changes the payload object
    (``profile`` when it canonicalizes with the other profile)."""

    code: str
    description: str
    fix: str
    changes: dict[str, Any]
    profile: Profile | None = None


def _variants(request: _Request, as_sent: bytes, leading: list[Variant]) -> list[Variant]:
    """The payloads of every near miss that differs from the payload as sent, each once,
    after the ``leading`` ones (the SDK dialects, which name the client outright)."""
    out: list[Variant] = []
    seen = {as_sent}
    for variant in leading:
        if variant.payload not in seen:
            seen.add(variant.payload)
            out.append(variant)
    for miss in _near_misses(request):
        obj = {**request.base, **miss.changes}
        try:
            data = canonicalize(obj, profile=miss.profile or request.profile)
        except AuthSigError:
            continue
        if data not in seen:
            seen.add(data)
            out.append(Variant(miss.code, miss.description, miss.fix, data))
    return out


def _dialect_variants(
    method: str, url: str, body: Any, pairs: list[tuple[str, str]], policy: Policy
) -> list[Variant]:
    """The payload of each official SDK's dialect, and authsig's strict one when the policy
    names a dialect (see :mod:`authsig.privy.dialects`)."""
    out = [
        Variant(
            "dialect:" + "+".join(d.name for d in found),
            "the request is signed in the dialect of "
            + " and of ".join(f"{d.sdk} ({d.summary})" for d in found),
            f"verify with Policy(dialect={found[0].name!r}) for this client",
            data,
        )
        for found, data in dialect_payloads(method=method, url=url, body=body, headers=pairs)
    ]
    if policy.dialect is not None:
        strict = canonicalize(payload_object(method=method, url=url, body=body, headers=pairs))
        out.append(
            Variant(
                "dialect:strict",
                'the request is signed with authsig\'s strict rules (RFC 8785, empty body as "")',
                "verify without a dialect (Policy(dialect=None)) for this client",
                strict,
            )
        )
    return out


def _near_misses(request: _Request) -> Iterator[_NearMiss]:
    yield from _url_misses(request)
    yield from _body_misses(request)
    yield _profile_miss(request.profile)
    yield from _header_misses(request)
    yield from _method_misses(request)
    yield from _expiry_misses(request)


def _url_misses(request: _Request) -> Iterator[_NearMiss]:
    url = request.url
    if url.endswith("/"):
        yield _NearMiss(
            "url_without_trailing_slash",
            f"the URL is signed without its trailing slash ({url.rstrip('/')})",
            "sign and send the same URL; Privy signs URLs without a trailing slash",
            {"url": url.rstrip("/")},
        )
    else:
        yield _NearMiss(
            "url_with_trailing_slash",
            f"the URL is signed with a trailing slash ({url}/)",
            "strip the trailing slash from the base URL the client signs",
            {"url": url + "/"},
        )
    for a, b in (("https://", "http://"), ("http://", "https://")):
        if url.startswith(a):
            other = b + url[len(a) :]
            yield _NearMiss(
                f"url_scheme_{b[:-3]}",
                f"the URL is signed with {b[:-3]} ({other})",
                "give the verifier the public URL the client used (behind a TLS proxy the "
                "server sees http)",
                {"url": other},
            )
            break
    for alt in request.alternative_urls:
        yield _NearMiss(
            "alternative_url",
            f"the URL is signed as {alt}",
            "give the verifier the public URL the client signed (proxy, host or path prefix)",
            {"url": alt},
        )
        toggled = alt.rstrip("/") if alt.endswith("/") else alt + "/"
        yield _NearMiss(
            "alternative_url",
            f"the URL is signed as {toggled}",
            "give the verifier the public URL the client signed, without a trailing slash",
            {"url": toggled},
        )


def _body_misses(request: _Request) -> Iterator[_NearMiss]:
    body, signed_body = request.body, request.base.get("body")
    parsed = parse_body(body) if isinstance(body, bytes | bytearray | memoryview | str) else body
    if signed_body == "" and isinstance(parsed, dict | list | tuple) and not parsed:
        yield _NearMiss(
            "empty_body_preserved",
            f"the empty body is signed as {'{}' if isinstance(parsed, dict) else '[]'} "
            "(as privy-client's preserve_empty_body does)",
            "verify with empty_body='preserve' for this client, or sign empty bodies as \"\"",
            {"body": parsed},
        )
    if isinstance(signed_body, dict | list) and not signed_body:
        yield _NearMiss(
            "empty_body_string",
            'the empty body is signed as "" (Node and Python SDKs)',
            "verify with empty_body='string' (the default) for this client",
            {"body": ""},
        )
    if signed_body is None:
        yield _NearMiss(
            "missing_body_as_string",
            'the missing body is signed as ""',
            "send the body the client signed, or sign a missing body as null",
            {"body": ""},
        )
        yield _NearMiss(
            "missing_body_as_object",
            "the missing body is signed as {}",
            "send the body the client signed ({}), or sign a missing body as null",
            {"body": {}},
        )


def _profile_miss(profile: Profile) -> _NearMiss:
    other: Profile = "canonicaljson" if profile == "rfc8785" else "rfc8785"
    return _NearMiss(
        f"profile_{other}",
        (
            "the payload is canonicalized with the canonicaljson package (official Python SDK "
            "privy-client), not RFC 8785"
            if other == "canonicaljson"
            else "the payload is canonicalized with RFC 8785, not canonicaljson"
        ),
        f"verify with profile={other!r} for this client, or avoid floats with integral "
        "values, exponents and integers beyond 2**53 in bodies",
        {},
        other,
    )


def _lookalike(name: str) -> str | None:
    """The participating header a look-alike name stands for (underscores, an ``x-`` prefix)."""
    norm = name.lower().replace("_", "-")
    if norm.startswith("x-"):
        norm = norm[2:]
    return norm if norm in (EXPIRY_HEADER, IDEMPOTENCY_HEADER) else None


def _header_misses(request: _Request) -> Iterator[_NearMiss]:
    """Participating headers sent but not signed, or signed but not sent."""
    sent: dict[str, str] = request.base["headers"]
    for name in (EXPIRY_HEADER, IDEMPOTENCY_HEADER):
        if name in sent:
            yield _NearMiss(
                f"header_not_signed:{name}",
                f"the {name} header was sent but not signed",
                f"sign the request with the same {name} it sends (add the header before signing)",
                {"headers": {k: v for k, v in sent.items() if k != name}},
            )
    candidates: list[tuple[str, str, str]] = []
    for name, value in request.extra_headers.items():
        low = name.lower()
        if low in (EXPIRY_HEADER, IDEMPOTENCY_HEADER) and low not in sent:
            candidates.append((low, value, "given in extra_headers"))
    for name, value in request.pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        target = _lookalike(name)
        if target is not None and name.lower() != target and target not in sent:
            candidates.append((target, value, f"arrived as {name!r}"))
    for target, value, how in candidates:
        added = {**sent, target: value}
        yield _NearMiss(
            f"header_signed_not_sent:{target}",
            f"the {target} header ({value}, {how}) was signed but did not reach the verifier",
            f"send {target} under its exact name (proxies such as nginx drop header names "
            "with underscores)",
            {"headers": {k: added[k] for k in PARTICIPATING_HEADERS if k in added}},
        )


def _method_misses(request: _Request) -> Iterator[_NearMiss]:
    method = request.method
    for m in dict.fromkeys((method, method.lower())):
        if m != request.base["method"]:
            yield _NearMiss(
                "method_case",
                f"the method is signed as {m!r}",
                "sign the method in upper case (POST, PUT, PATCH, DELETE)",
                {"method": m},
            )


def _expiry_misses(request: _Request) -> Iterator[_NearMiss]:
    """The expiry signed in seconds while milliseconds were sent, or the reverse."""
    sent: dict[str, str] = request.base["headers"]
    exp = sent.get(EXPIRY_HEADER)
    if exp is None or not exp.isdigit():
        return
    exp_int = int(exp)
    for code, other, what in (
        ("expiry_signed_in_seconds", str(exp_int // 1000), "in seconds"),
        ("expiry_signed_in_milliseconds", str(exp_int * 1000), "in milliseconds"),
    ):
        yield _NearMiss(
            code,
            f"the expiry is signed {what} ({other}) but sent as {exp}",
            "sign and send the same privy-request-expiry, in milliseconds since the epoch",
            {"headers": {**sent, EXPIRY_HEADER: other}},
        )
