"""Sign a request with RFC 9421: build the base, sign it, and write the header fields.

:func:`sign_request` returns the fields to set: ``Signature-Input`` and ``Signature`` (with the
members already on the request kept, so several signers can each add a labelled signature), and
``Content-Digest`` when the body is signed (RFC 9530; the digest is written once and every later
signer covers the same field).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from typing import Any

from authsig.httpsig import _sfv as http_sfv
from authsig.httpsig.algorithms import SigningKey, algorithm_of, load_signing_key, sign_base
from authsig.httpsig.components import HttpMessage, component, signature_base
from authsig.httpsig.digest import content_digest
from authsig.httpsig.errors import HttpSigFieldError
from authsig.httpsig.fields import signature_params

__all__ = ["DEFAULT_COMPONENTS", "DEFAULT_EXPIRES_IN", "sign_all", "sign_request"]

DEFAULT_COMPONENTS = ("@method", "@authority", "@path", "@query")
"""What a signature covers by default (plus ``content-digest`` when there is a body): the
request line and host as separate components, so a refusal can say which one differed."""

DEFAULT_EXPIRES_IN = 300
"""Seconds a signature stays valid by default (a verifier's ``max_lifetime`` caps it)."""


def _replace(headers: Sequence[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return [*kept, (name, value)]


def _merged(headers: Sequence[tuple[str, str]], name: str, label: str, member: Any) -> str:
    out = http_sfv.Dictionary()
    lines = [v for k, v in headers if k.lower() == name.lower()]
    if lines:
        try:
            out.parse(", ".join(lines).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise HttpSigFieldError(f"the request's {name} is not a dictionary") from None
    if label in out:
        raise HttpSigFieldError(f"label {label!r} is already on the request")
    out[label] = member
    return str(out)


def _covered(components: Iterable[str] | None, has_body: bool) -> list[http_sfv.Item]:
    names = list(DEFAULT_COMPONENTS) if components is None else list(components)
    if isinstance(components, str):
        raise TypeError("components must be an iterable of component identifiers")
    if components is None and has_body:
        names.append("content-digest")
    return [component(name) for name in names]


def sign_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    key: SigningKey | Any,
    keyid: str,
    label: str = "sig1",
    components: Iterable[str] | None = None,
    created: int | None = None,
    expires: int | bool | None = True,
    nonce: str | bool | None = True,
    tag: str | None = None,
    include_alg: bool = True,
    digest: Sequence[str] = ("sha-256",),
    deterministic: bool = False,
) -> dict[str, str]:
    """The header fields that sign the request (set them on it, replacing those names).

    ``components``: what the signature covers (default :data:`DEFAULT_COMPONENTS`, plus
    ``content-digest`` when ``body`` is not empty). ``created``: seconds since the epoch (now by
    default); ``expires``: seconds, True for ``created`` + :data:`DEFAULT_EXPIRES_IN`, None for
    none; ``nonce``: text, True for a random one, None for none. ``digest``: the algorithms of a
    ``Content-Digest`` written when the request has none and the signature covers it.
    ``deterministic``: RFC 6979 ECDSA nonces, so that a P-256 signature reproduces (vectors).
    """
    signing_key = load_signing_key(key)
    if not isinstance(keyid, str) or not keyid:
        raise ValueError("keyid must be a non-empty string")
    lines = [(str(k), str(v)) for k, v in headers]
    covered = _covered(components, bool(body))
    out: dict[str, str] = {}
    if any(item.value == "content-digest" for item in covered) and not any(
        k.lower() == "content-digest" for k, _ in lines
    ):
        out["Content-Digest"] = content_digest(bytes(body), digest)
        lines = _replace(lines, "Content-Digest", out["Content-Digest"])
    when = int(time.time()) if created is None else int(created)
    params: dict[str, Any] = {
        "created": when,
        "expires": when + DEFAULT_EXPIRES_IN if expires is True else expires or None,
        "nonce": secrets.token_urlsafe(16) if nonce is True else nonce or None,
        "keyid": keyid,
        "alg": algorithm_of(signing_key) if include_alg else None,
        "tag": tag,
    }
    params_text = signature_params(covered, params)
    message = HttpMessage.build(method, url, lines)
    base = signature_base(message, covered, params_text)
    signature = sign_base(base, signing_key, deterministic=deterministic)
    inner = http_sfv.InnerList()
    inner.parse(params_text.encode("ascii"))
    out["Signature-Input"] = _merged(lines, "Signature-Input", label, inner)
    out["Signature"] = _merged(lines, "Signature", label, http_sfv.Item(signature))
    return out


def sign_all(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    signers: Sequence[tuple[str, SigningKey]],
    *,
    components: Sequence[str] | None = None,
    expires_in: int | None = DEFAULT_EXPIRES_IN,
    tag: str | None = None,
) -> dict[str, str]:
    """The fields that sign the request once per signer (labels ``sig1``, ``sig2``, ...)."""
    lines = list(headers)
    nonce = secrets.token_urlsafe(16)
    created = int(time.time())
    expires = None if expires_in is None else created + expires_in
    out: dict[str, str] = {}
    for number, (keyid, key) in enumerate(signers, start=1):
        added = sign_request(
            method,
            url,
            lines,
            body,
            key=key,
            keyid=keyid,
            label=f"sig{number}",
            components=components,
            created=created,
            expires=expires,
            nonce=nonce,
            tag=tag,
        )
        lowered = {name.lower() for name in added}
        lines = [(k, v) for k, v in lines if k.lower() not in lowered] + list(added.items())
        out.update(added)
    return out
