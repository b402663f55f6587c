"""Why a Cobo request or event is refused: the check that failed, and the near miss that matches.

A refused signature is tried again against the mistakes that happen in practice, and each one
that would make it verify is named:

- the query re-encoded on the way (sorted as the Go SDK signs, ``+`` versus ``%20``, the
  ``parse_qsl``/``urlencode`` round trip cobo-waas2's ``call_api`` makes, signed undecoded);
- the path (trailing slash, the ``/v2`` prefix);
- the body (``{}`` versus nothing, JSON re-serialized by a framework, whitespace);
- timestamp units (a nonce or ``Biz-Timestamp`` in seconds or microseconds, not milliseconds);
- for events, the wrong environment's key (Cobo signs dev, sandbox and prod with different
  keys).

Everything here is diagnostics: the decision is always the verifier's own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode

from authsig._clock import now_ms as _now_ms
from authsig.cobo.decision import CoboDecision, header_value
from authsig.cobo.errors import CoboKeyError
from authsig.cobo.events import (
    COBO_EVENT_PUBLIC_KEYS,
    RESP_SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    event_digest,
    event_public_key,
    verify_event,
)
from authsig.cobo.keys import CoboPublicKey, load_api_key
from authsig.cobo.signing import (
    API_KEY_HEADER,
    DEFAULT_NONCE_WINDOW_MS,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    Query,
    encode_query,
    signature_bytes,
    verify_request,
)

__all__ = ["CoboExplanation", "explain_event", "explain_request", "request_near_misses"]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
_SECONDS_BELOW = 10**12  # a smaller timestamp is seconds (before 2001-09-09 in ms)
_MICROS_ABOVE = 10**15  # a larger one is microseconds (after year 33658 in ms)
_SHOWN_TEXT = 400  # characters of the checked text shown in the human report


@dataclass(frozen=True)
class CoboExplanation:
    """The verifier's decision, the checks behind it, and the near misses that would verify."""

    kind: Literal["request", "event"]
    decision: CoboDecision
    checks: tuple[str, ...]
    near_misses: tuple[str, ...]
    signed_text: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "decision": self.decision.to_dict(),
            "checks": list(self.checks),
            "near_misses": list(self.near_misses),
            "signed_text": self.signed_text,
        }

    def __str__(self) -> str:
        d = self.decision
        verdict = "approved" if d.approved else "refused"
        lines = [f"{verdict} ({d.reason}, HTTP {d.http_status}): {d.message}"]
        lines += [f"  - {check}" for check in self.checks]
        if self.near_misses:
            lines.append("it would verify with:")
            lines += [f"  * {miss}" for miss in self.near_misses]
        elif not d.approved:
            lines.append("no common near miss matches")
        if self.signed_text is not None:
            shown = self.signed_text
            if len(shown) > _SHOWN_TEXT:
                shown = shown[:_SHOWN_TEXT] + f"... ({len(self.signed_text)} characters)"
            lines.append(f"checked text: {shown}")
        return "\n".join(lines)


def _digest(message: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(message).digest()).digest()


def _request_message(method: str, path: str, nonce: str, params: str, body: bytes) -> bytes:
    return "|".join((method.upper(), path, nonce, params, "")).encode("utf-8") + body


def _query_variants(params: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pairs = params.split("&")
    ordered = "&".join(sorted(pairs))
    if ordered != params:
        out.append(("the query parameters sorted (as the Go SDK signs)", ordered))
    if "+" in params:
        out.append(("spaces as %20 instead of +", params.replace("+", "%20")))
    if "%20" in params:
        out.append(("spaces as + instead of %20", params.replace("%20", "+")))
    parsed = parse_qsl(params, keep_blank_values=True)
    sdk = urlencode({name: value for name, value in dict(parsed).items() if value})
    if sdk != params:
        out.append(("the query as cobo-waas2 re-encodes it (parse, drop empty, urlencode)", sdk))
    decoded = unquote(params)
    if decoded != params:
        out.append(("the query signed before percent-encoding", decoded))
    out.append(("an empty query string", ""))
    return out


def _json_variants(body: bytes) -> list[tuple[str, bytes]]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    forms = {
        "json.dumps defaults (the Python SDK)": json.dumps(value),
        "compact JSON": json.dumps(value, separators=(",", ":")),
        "compact JSON with raw UTF-8": json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        "json.dumps with raw UTF-8": json.dumps(value, ensure_ascii=False),
    }
    out: list[tuple[str, bytes]] = []
    seen = {body}
    for name, text in forms.items():
        data = text.encode("utf-8")
        if data not in seen:
            seen.add(data)
            out.append((f"the JSON body re-serialized ({name}); verify the raw bytes", data))
    return out


def _body_variants(body: bytes) -> list[tuple[str, bytes]]:
    if not body:
        return [("a '{}' body (signed '{}' but sent no body)", b"{}")]
    out = [("an empty body", b"")]
    if body == b"{}":
        out[0] = ("an empty body: cobo-waas2 signs '' for {} (accepted unless strict)", b"")
    if body.strip() != body:
        out.append(("the body without surrounding whitespace", body.strip()))
    return out + _json_variants(body)


def request_near_misses(
    api_key: CoboPublicKey,
    signature: bytes,
    *,
    method: str,
    path: str,
    nonce: str,
    params: str,
    body: bytes,
) -> list[str]:
    """Each common difference that would make ``signature`` verify (diagnostics only)."""
    variants: list[tuple[str, str, str, bytes]] = []
    if path.endswith("/") and len(path) > 1:
        variants.append((f"path {path[:-1]!r} (no trailing slash)", path[:-1], params, body))
    else:
        variants.append((f"path {path + '/'!r} (trailing slash)", path + "/", params, body))
    if path.startswith("/v2/"):
        variants.append((f"path {path[3:]!r} (without /v2)", path[3:], params, body))
    else:
        variants.append((f"path {'/v2' + path!r} (with /v2)", "/v2" + path, params, body))
    if params:
        variants += [(what, path, query, body) for what, query in _query_variants(params)]
    variants += [(what, path, params, b) for what, b in _body_variants(body)]
    found = []
    for what, v_path, v_params, v_body in variants:
        message = _request_message(method, v_path, nonce, v_params, v_body)
        if api_key.verify_digest(_digest(message), signature):
            found.append(what)
    if nonce.isdigit() and len(nonce) >= 13:
        seconds = str(int(nonce) // 1000)
        message = _request_message(method, path, seconds, params, body)
        if api_key.verify_digest(_digest(message), signature):
            found.append(f"the nonce in seconds ({seconds}): it was signed in s, sent in ms")
    return found


def _units(value: str, now: int, what: str) -> str | None:
    """A sentence when a timestamp's digits say seconds or microseconds, not milliseconds."""
    text = value.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    if number < _SECONDS_BELOW and abs(number * 1000 - now) < 86_400_000:
        return f"{what} {text} is in seconds: send milliseconds since the epoch ({number * 1000})"
    if number > _MICROS_ABOVE and abs(number // 1000 - now) < 86_400_000:
        return f"{what} {text} is in microseconds: send milliseconds ({number // 1000})"
    return None


def _text(header: str | list[str] | None) -> str | None:
    return header if isinstance(header, str) else None


def explain_request(
    headers: Headers,
    *,
    method: str,
    path: str,
    query: Query,
    body: str | bytes | None,
    api_keys: Iterable[str | bytes | CoboPublicKey] | str | bytes | CoboPublicKey,
    now_ms: int | None = None,
    window_ms: int = DEFAULT_NONCE_WINDOW_MS,
    accept_sdk_empty_object: bool = True,
) -> CoboExplanation:
    """:func:`~authsig.cobo.verify_request`'s decision, with the checks and near misses."""
    now = _now_ms() if now_ms is None else now_ms
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    params = encode_query(query)
    decision = verify_request(
        headers,
        method=method,
        path=path,
        query=params,
        body=raw,
        api_keys=api_keys,
        now_ms=now,
        window_ms=window_ms,
        accept_sdk_empty_object=accept_sdk_empty_object,
    )
    checks: list[str] = []
    misses: list[str] = []
    key_text = _text(header_value(headers, API_KEY_HEADER))
    nonce = _text(header_value(headers, NONCE_HEADER))
    sig_text = _text(header_value(headers, SIGNATURE_HEADER))
    if key_text is None or nonce is None or sig_text is None:
        checks.append("the three Biz-Api-* headers must each appear once")
        return CoboExplanation("request", decision, tuple(checks), (), None)
    nonce = nonce.strip()
    message = _request_message(method, path, nonce, params, raw)
    signed_text = message.decode("utf-8", "replace")
    unit = _units(nonce, now, NONCE_HEADER)
    if unit:
        checks.append(unit)
    try:
        api_key = load_api_key(key_text.strip())
    except CoboKeyError:
        checks.append(f"{API_KEY_HEADER} is not a hex Ed25519 or secp256k1 public key")
        return CoboExplanation("request", decision, tuple(checks), (), signed_text)
    signature = signature_bytes(sig_text)
    if signature is None:
        checks.append(f"{SIGNATURE_HEADER} is not hex of a plausible length")
        return CoboExplanation("request", decision, tuple(checks), (), signed_text)
    if api_key.verify_digest(_digest(message), signature):
        checks.append(f"the signature is valid for API key {api_key.hex} over the checked text")
    else:
        checks.append(f"the signature does not verify for API key {api_key.hex}")
        misses = request_near_misses(
            api_key, signature, method=method, path=path, nonce=nonce, params=params, body=raw
        )
    if decision.reason == "unknown_api_key":
        checks.append("that API key is not among the accepted keys (another key pair?)")
    return CoboExplanation("request", decision, tuple(checks), tuple(misses), signed_text)


def _event_misses(
    key: CoboPublicKey, signature: bytes, body: bytes, timestamp: str, environment: str
) -> list[str]:
    found = []
    for env, hex_key in COBO_EVENT_PUBLIC_KEYS.items():
        other = load_api_key(hex_key)
        if other != key and other.verify_digest(event_digest(body, timestamp), signature):
            found.append(
                f"Cobo's {env} key: this event comes from the {env} environment, "
                f"not {environment} (verify with --env {env})"
            )
    candidates: list[tuple[str, bytes, str]] = [
        (what, b, timestamp) for what, b in _body_variants(body)
    ]
    if timestamp.isdigit():
        ms, s = str(int(timestamp) * 1000), str(int(timestamp) // 1000)
        candidates.append((f"the timestamp {ms} (signed in ms, the header carries s)", body, ms))
        candidates.append((f"the timestamp {s} (signed in s, the header carries ms)", body, s))
    for what, v_body, v_ts in candidates:
        if key.verify_digest(event_digest(v_body, v_ts), signature):
            found.append(what)
    return found


def explain_event(
    raw_body: str | bytes | None,
    headers: Headers,
    *,
    public_key: str | bytes | CoboPublicKey | None = None,
    environment: str = "prod",
    now_ms: int | None = None,
    tolerance_ms: int | None = 5 * 60 * 1000,
) -> CoboExplanation:
    """:func:`~authsig.cobo.verify_event`'s decision, with the checks and near misses."""
    now = _now_ms() if now_ms is None else now_ms
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body or b"")
    key = event_public_key(public_key, environment)
    decision = verify_event(
        body,
        headers,
        public_key=key,
        now_ms=now,
        tolerance_ms=tolerance_ms,
    )
    # The given key is named, not shown: a secret passed there by mistake must not be printed.
    where = "the given key" if public_key is not None else f"Cobo's {environment} key {key.hex}"
    checks = [f"verified with {where}"]
    timestamp = _text(header_value(headers, TIMESTAMP_HEADER))
    sig_text = _text(header_value(headers, RESP_SIGNATURE_HEADER))
    if timestamp is None or sig_text is None:
        checks.append(f"{TIMESTAMP_HEADER} and {RESP_SIGNATURE_HEADER} must each appear once")
        return CoboExplanation("event", decision, tuple(checks), (), None)
    timestamp = timestamp.strip()
    signed_text = (body + b"|" + timestamp.encode("ascii", "replace")).decode("utf-8", "replace")
    unit = _units(timestamp, now, TIMESTAMP_HEADER)
    if unit:
        checks.append(unit)
    signature = signature_bytes(sig_text)
    if signature is None:
        checks.append(f"{RESP_SIGNATURE_HEADER} is not hex of a plausible length")
        return CoboExplanation("event", decision, tuple(checks), (), signed_text)
    misses: list[str] = []
    if key.verify_digest(event_digest(body, timestamp), signature):
        checks.append("the signature is valid over raw_body|timestamp")
        if decision.reason in ("stale_nonce", "future_nonce"):
            checks.append("only the time is off: a queued or replayed event, or a wrong clock")
    else:
        checks.append("the signature does not verify over raw_body|timestamp")
        misses = _event_misses(key, signature, body, timestamp, environment)
    return CoboExplanation("event", decision, tuple(checks), tuple(misses), signed_text)
