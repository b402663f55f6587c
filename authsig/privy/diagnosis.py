"""Why was a Privy request refused? One sentence for the server log, naming the fix.

:func:`diagnose_refusal` runs :func:`~authsig.privy.explain.explain` on a refused request with
the URLs a deployment typically gets wrong (the other scheme, the ``Host`` the server saw, the
host and scheme a proxy reports, each with and without a trailing slash) and turns the first
near miss into a sentence such as ``signed for https://api.example.com/v1/x but received as
http://api.example.com/v1/x; set public_base_url='https://api.example.com'``.

The sentence is for the operator: it goes to the log (escaped there), never to the client.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from authsig.errors import AuthSigError
from authsig.http import RequestInfo
from authsig.http.proxy import parse_forwarded
from authsig.policy import Policy
from authsig.privy.explain import Explanation, SignatureExplanation, explain
from authsig.privy.quorum import KeyQuorum, UserKeyResolver

__all__ = ["alternative_urls", "diagnose_refusal", "verdict"]

_MAX_HOST = 255


def _host(value: str | None) -> str | None:
    """A plausible ``host[:port]`` (these are candidates to try, never trusted)."""
    if not value:
        return None
    host = value.split(",", 1)[0].strip()
    if not host or len(host) > _MAX_HOST or any(c in host for c in "/?#@ \t\\"):
        return None
    return host


def _proto(value: str | None) -> str | None:
    proto = (value or "").split(",", 1)[0].strip().lower()
    return proto if proto in ("http", "https") else None


def _forwarded(info: RequestInfo) -> tuple[str | None, str | None]:
    """(proto, host) of the client-most ``Forwarded`` element, if it parses."""
    value = info.headers.get("forwarded")
    if not value:
        return None, None
    try:
        elements = parse_forwarded(value)
    except AuthSigError:
        return None, None
    first = elements[0] if elements else {}
    return _proto(first.get("proto")), _host(first.get("host"))


def alternative_urls(info: RequestInfo) -> tuple[str, ...]:
    """The URLs the client may have signed instead of ``info.url``: the ``Host`` the server
    saw, and the host a proxy reports (``X-Forwarded-Host``, ``Forwarded``), each over http
    and https. explain() also tries each with and without a trailing slash."""
    query = f"?{info.query_string}" if info.query_string else ""
    tail = (info.raw_path or info.path or "/") + query
    own = str(info.raw.get("scheme") or info.raw.get("wsgi.url_scheme") or "http")
    fwd_proto, fwd_host = _forwarded(info)
    x_proto = _proto(info.headers.get("x-forwarded-proto"))
    hosts = [
        _host(info.headers.get("host")),
        _host(info.headers.get("x-forwarded-host")),
        fwd_host,
    ]
    schemes = [s for s in (x_proto, fwd_proto, own, "https", "http") if s]
    urls = [
        f"{scheme}://{host}{tail}"
        for host in dict.fromkeys(h for h in hosts if h)
        for scheme in dict.fromkeys(schemes)
    ]
    return tuple(u for u in dict.fromkeys(urls) if u != info.url)


def _signed_url(miss: SignatureExplanation) -> str | None:
    assert miss.variant is not None
    try:
        url = json.loads(miss.variant.payload)["url"]
    except (ValueError, KeyError, TypeError):
        return None
    return url if isinstance(url, str) else None


def _url_sentence(signed: str, received: str) -> str:
    if signed.rstrip("/") == received.rstrip("/"):
        return (
            f"a trailing slash differs: signed for {signed} but received as {received}; "
            "sign and send the same URL"
        )
    parts = urlsplit(signed)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin != "{0.scheme}://{0.netloc}".format(urlsplit(received)):
        return (
            f"signed for {signed} but received as {received}; set public_base_url={origin!r} "
            "(the URL clients sign), or trust the proxy's forwarding headers"
        )
    return (
        f"signed for {signed} but received as {received}; the path differs (a proxy that "
        "strips or adds a prefix?): sign the URL the client calls"
    )


def _sentence(miss: SignatureExplanation, received: str) -> str:
    variant = miss.variant
    assert variant is not None
    code = variant.code
    signed = _signed_url(miss) if code.startswith("url_") or code == "alternative_url" else None
    if signed is not None:
        return _url_sentence(signed, received)
    if code.startswith("dialect:"):
        # "dialect:a+b": the dialects that give these bytes; the first is the one to name.
        return f"{variant.description}, not the verifier's rules; fix: {variant.fix}"
    if code == "profile_canonicaljson":
        return (
            "signed with the Python SDK's canonicaljson dialect (privy-client), not RFC 8785; "
            "set Policy(profile='canonicaljson') for this client"
        )
    if code == "profile_rfc8785":
        return "signed with RFC 8785, not canonicaljson; set Policy(profile='rfc8785')"
    return f"{variant.description}; fix: {variant.fix}"


def verdict(explanation: Explanation, received_url: str) -> str | None:
    """The sentence for an explanation: its first near miss, or that none was found."""
    misses = explanation.near_misses
    if misses:
        first = misses[0]
        which = f"signature #{first.index + 1} of {len(explanation.signatures)}"
        return f"{which} (member key {first.key_id}): {_sentence(first, received_url)}"
    if any(s.status == "unknown" for s in explanation.signatures):
        return (
            "no member key verifies a signature over the request as received or any known near "
            "miss: a signer outside the quorum, or the body, app id or URL differ otherwise"
        )
    return None


def diagnose_refusal(
    info: RequestInfo,
    body: bytes,
    quorum: KeyQuorum,
    user_keys: UserKeyResolver | None,
    policy: Policy,
) -> str | None:
    """The verdict on a refused request (None when explain() finds nothing to say)."""
    explanation = explain(
        method=info.method,
        url=info.url,
        body=body,
        headers=info.header_items,
        quorum=quorum,
        user_keys=user_keys,
        policy=policy,
        alternative_urls=alternative_urls(info),
    )
    return verdict(explanation, info.url)
