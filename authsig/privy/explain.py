"""Explain a refused request: which near miss does each signature match?

:func:`explain` takes the same keyword arguments as :func:`authsig.privy.verifier.verify_request`
(plus ``alternative_urls`` and ``extra_headers``). It runs the verifier, and when the request is
refused it rebuilds the payloads that users really sign by mistake, and reports for each
signature which of them it matches (and with which member key):

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

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authsig._recover import recover_points
from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from authsig.keys import PublicKey
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.privy.headers import (
    APP_ID_HEADER,
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    parse_signature_header,
)
from authsig.privy.payload import parse_body, payload_object
from authsig.privy.quorum import KeyQuorum, UserKeyResolver, load_user_keys
from authsig.privy.verifier import Decision, verify_request
from authsig.signatures import decode_signature, verify_signature

__all__ = ["Explanation", "SignatureExplanation", "Variant", "explain"]

Profile = Literal["rfc8785", "canonicaljson"]
_PARTICIPATING = (APP_ID_HEADER, IDEMPOTENCY_HEADER, EXPIRY_HEADER)


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
        }

    def __str__(self) -> str:
        d = self.decision
        head = "APPROVED" if d.approved else f"REFUSED ({d.reason}, HTTP {d.http_status})"
        lines = [f"{head}: {d.message}"]
        if self.payload is not None:
            lines.append("payload the verifier checked the signatures against:")
            lines.append("  " + self.payload.decode("utf-8", "replace"))
        for s in self.signatures:
            lines.append("- " + str(s))
        if self.variants_tried:
            lines.append("near misses tried: " + ", ".join(self.variants_tried))
        return "\n".join(lines)


def _lookalike(name: str) -> str | None:
    """The participating header a look-alike name stands for (underscores, an ``x-`` prefix)."""
    norm = name.lower().replace("_", "-")
    if norm.startswith("x-"):
        norm = norm[2:]
    return norm if norm in (EXPIRY_HEADER, IDEMPOTENCY_HEADER) else None


def _variants(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    empty_body: Literal["string", "preserve"],
    profile: Profile,
    alternative_urls: Iterable[str],
    extra_headers: Mapping[str, str],
) -> tuple[bytes, list[Variant]]:
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    base = payload_object(method=method, url=url, body=body, headers=pairs, empty_body=empty_body)
    as_sent = canonicalize(base, profile=profile)
    out: list[Variant] = []

    def add(code: str, description: str, fix: str, **changes: Any) -> None:
        obj = dict(base)
        prof: Profile = changes.pop("profile", profile)
        obj.update(changes)
        try:
            data = canonicalize(obj, profile=prof)
        except AuthSigError:
            return
        if data != as_sent and all(v.payload != data for v in out):
            out.append(Variant(code, description, fix, data))

    # URL.
    if url.endswith("/"):
        add(
            "url_without_trailing_slash",
            f"the URL is signed without its trailing slash ({url.rstrip('/')})",
            "sign and send the same URL; Privy signs URLs without a trailing slash",
            url=url.rstrip("/"),
        )
    else:
        add(
            "url_with_trailing_slash",
            f"the URL is signed with a trailing slash ({url}/)",
            "strip the trailing slash from the base URL the client signs",
            url=url + "/",
        )
    for a, b in (("https://", "http://"), ("http://", "https://")):
        if url.startswith(a):
            other = b + url[len(a) :]
            add(
                f"url_scheme_{b[:-3]}",
                f"the URL is signed with {b[:-3]} ({other})",
                "give the verifier the public URL the client used (behind a TLS proxy the "
                "server sees http)",
                url=other,
            )
            break
    for alt in alternative_urls:
        add(
            "alternative_url",
            f"the URL is signed as {alt}",
            "give the verifier the public URL the client signed (proxy, host or path prefix)",
            url=alt,
        )
        add(
            "alternative_url",
            f"the URL is signed as {alt.rstrip('/') if alt.endswith('/') else alt + '/'}",
            "give the verifier the public URL the client signed, without a trailing slash",
            url=alt.rstrip("/") if alt.endswith("/") else alt + "/",
        )

    # Empty body conventions.
    parsed = parse_body(body) if isinstance(body, bytes | bytearray | memoryview | str) else body
    if base["body"] == "" and isinstance(parsed, dict | list | tuple) and not parsed:
        add(
            "empty_body_preserved",
            f"the empty body is signed as {'{}' if isinstance(parsed, dict) else '[]'} "
            "(Rust SDK, preserve_empty_body)",
            "verify with empty_body='preserve' for this client, or sign empty bodies as \"\"",
            body=parsed,
        )
    if isinstance(base["body"], dict | list) and not base["body"]:
        add(
            "empty_body_string",
            'the empty body is signed as "" (Node and Python SDKs)',
            "verify with empty_body='string' (the default) for this client",
            body="",
        )
    if base["body"] is None:
        add(
            "missing_body_as_string",
            'the missing body is signed as ""',
            "send the body the client signed, or sign a missing body as null",
            body="",
        )
        add(
            "missing_body_as_object",
            "the missing body is signed as {}",
            "send the body the client signed ({}), or sign a missing body as null",
            body={},
        )

    # Canonicalization profile.
    other_profile: Profile = "canonicaljson" if profile == "rfc8785" else "rfc8785"
    add(
        f"profile_{other_profile}",
        (
            "the payload is canonicalized with the canonicaljson package (official Python SDK "
            "privy-client), not RFC 8785"
            if other_profile == "canonicaljson"
            else "the payload is canonicalized with RFC 8785, not canonicaljson"
        ),
        f"verify with profile={other_profile!r} for this client, or avoid floats with integral "
        "values, exponents and integers beyond 2**53 in bodies",
        profile=other_profile,
    )

    # Participating headers: sent but not signed, signed but not sent.
    sent: dict[str, str] = base["headers"]
    for name in (EXPIRY_HEADER, IDEMPOTENCY_HEADER):
        if name in sent:
            reduced = {k: v for k, v in sent.items() if k != name}
            add(
                f"header_not_signed:{name}",
                f"the {name} header was sent but not signed",
                f"sign the request with the same {name} it sends (add the header before signing)",
                headers=reduced,
            )
    candidates: list[tuple[str, str, str]] = []
    for name, value in extra_headers.items():
        low = name.lower()
        if low in (EXPIRY_HEADER, IDEMPOTENCY_HEADER) and low not in sent:
            candidates.append((low, value, "given in extra_headers"))
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        target = _lookalike(name)
        if target is not None and name.lower() != target and target not in sent:
            candidates.append((target, value, f"arrived as {name!r}"))
    for target, value, how in candidates:
        added = {**sent, target: value}
        ordered = {k: added[k] for k in _PARTICIPATING if k in added}
        add(
            f"header_signed_not_sent:{target}",
            f"the {target} header ({value}, {how}) was signed but did not reach the verifier",
            f"send {target} under its exact name (proxies such as nginx drop header names "
            "with underscores)",
            headers=ordered,
        )

    # Method case.
    for m in dict.fromkeys((method, method.lower())):
        if m != base["method"]:
            add(
                "method_case",
                f"the method is signed as {m!r}",
                "sign the method in upper case (POST, PUT, PATCH, DELETE)",
                method=m,
            )

    # Expiry in seconds vs milliseconds.
    exp = sent.get(EXPIRY_HEADER)
    if exp is not None and exp.isdigit():
        exp_int = int(exp)
        for code, other, what in (
            ("expiry_signed_in_seconds", str(exp_int // 1000), "in seconds"),
            ("expiry_signed_in_milliseconds", str(exp_int * 1000), "in milliseconds"),
        ):
            add(
                code,
                f"the expiry is signed {what} ({other}) but sent as {exp}",
                "sign and send the same privy-request-expiry, in milliseconds since the epoch",
                headers={**sent, EXPIRY_HEADER: other},
            )
    return as_sent, out


def _member_keys(
    quorum: KeyQuorum, user_keys: UserKeyResolver | None
) -> tuple[dict[bytes, PublicKey], list[PublicKey]]:
    index = dict(quorum.key_index)
    if user_keys is not None:
        for uid in quorum.all_user_ids:
            try:
                for k in load_user_keys(user_keys, uid):
                    index.setdefault(k.point, k)
            except AuthSigError:
                continue
    return index, list(index.values())


def _find_key(
    payload: bytes,
    der: bytes,
    rs: tuple[int, int],
    index: Mapping[bytes, PublicKey],
    keys: list[PublicKey],
) -> PublicKey | None:
    z = int.from_bytes(hashlib.sha256(payload).digest(), "big")
    points = recover_points(z, rs[0], rs[1])
    candidates = keys if points is None else [index[p] for p in points if p in index]
    for key in candidates:
        if verify_signature(payload, der, key):
            return key
    return None


def explain(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
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
    """
    if isinstance(alternative_urls, str):
        alternative_urls = (alternative_urls,)
    policy = policy if policy is not None else DEFAULT_POLICY
    headers_list = list(headers.items() if isinstance(headers, Mapping) else headers)
    decision = verify_request(
        method=method,
        url=url,
        body=body,
        headers=headers_list,
        quorum=quorum,
        now_ms=now_ms,
        user_keys=user_keys,
        policy=policy,
    )
    sig_value = next(
        (v for k, v in headers_list if isinstance(k, str) and k.lower() == SIGNATURE_HEADER),
        None,
    )
    try:
        as_sent, variants = _variants(
            method=method,
            url=url,
            body=body,
            headers=headers_list,
            empty_body=policy.empty_body,
            profile=policy.profile,
            alternative_urls=tuple(alternative_urls),
            extra_headers=extra_headers or {},
        )
    except AuthSigError:
        return Explanation(decision, None, (), ())
    if sig_value is None:
        return Explanation(decision, as_sent, (), tuple(v.code for v in variants))
    try:
        entries = parse_signature_header(
            sig_value, max_signatures=policy.max_signatures, max_length=policy.max_header_length
        )
    except AuthSigError:
        return Explanation(decision, as_sent, (), tuple(v.code for v in variants))
    index, keys = _member_keys(quorum, user_keys)
    results: list[SignatureExplanation] = []
    for i, entry in enumerate(entries):
        try:
            der = decode_signature(entry)
        except AuthSigError:
            results.append(SignatureExplanation(i, "malformed"))
            continue
        rs = decode_dss_signature(der)
        key = _find_key(as_sent, der, rs, index, keys)
        if key is not None:
            results.append(SignatureExplanation(i, "as_sent", key.key_id))
            continue
        found: SignatureExplanation | None = None
        for v in variants:
            key = _find_key(v.payload, der, rs, index, keys)
            if key is not None:
                found = SignatureExplanation(i, "near_miss", key.key_id, v)
                break
        results.append(found or SignatureExplanation(i, "unknown"))
    return Explanation(decision, as_sent, tuple(results), tuple(v.code for v in variants))
