"""What the ``authsig cobo`` commands share: reading Cobo keys and the request being signed.

Cobo's keys are hex text (the API secret: a 32-byte seed or scalar; the API key: the public
key), read through the same key references as every other key (FILE, ``-``, ``env:VAR``,
``file:PATH``), so a secret never has to appear on a command line.
"""

from __future__ import annotations

import argparse
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from authsig.cli._args import add_body_args
from authsig.cli._io import CLIError, read_key_arg, request_body
from authsig.cobo.errors import CoboKeyError
from authsig.cobo.keys import CoboPrivateKey, CoboPublicKey, Curve, load_api_key, load_api_secret
from authsig.cobo.signing import encode_query

__all__ = [
    "CURVES",
    "CoboRequest",
    "add_cobo_request_args",
    "cobo_request",
    "load_api_key_arg",
    "load_secret_ref",
]

CURVES = ("ed25519", "secp256k1")

# An API key is public, so it may be given inline: 32 bytes (Ed25519) or a 33/65-byte point.
_INLINE_API_KEY = re.compile(r"(0[xX])?([0-9a-fA-F]{64}|[0-9a-fA-F]{66}|[0-9a-fA-F]{130})")


def _curve(name: str) -> Curve:
    return "SECP256K1" if name.lower() == "secp256k1" else "ED25519"


def _key_text(ref: str) -> tuple[str, str]:
    data, source = read_key_arg(ref)
    try:
        return data.decode("ascii").strip(), source
    except UnicodeDecodeError:
        raise CoboKeyError(f"{source}: a Cobo key is hex text, not binary data") from None


def load_secret_ref(ref: str, curve: str) -> CoboPrivateKey:
    """The API secret a key reference holds (hex text; the message never repeats it)."""
    if ref.lower().startswith(("pkcs11:", "awskms://")):
        raise CLIError("Cobo API secrets are hex key files: pkcs11: and awskms:// are P-256 only")
    text, source = _key_text(ref)
    try:
        return load_api_secret(text, curve=_curve(curve))
    except CoboKeyError as exc:
        raise CoboKeyError(f"{source}: not a Cobo API secret ({exc.message})") from None


def load_api_key_arg(value: str, curve: str | None = None) -> CoboPublicKey:
    """An API key given inline as hex (it is public) or by reference."""
    want = _curve(curve) if curve else None
    if _INLINE_API_KEY.fullmatch(value.strip()):
        return load_api_key(value.strip(), curve=want)
    text, source = _key_text(value)
    try:
        return load_api_key(text, curve=want)
    except CoboKeyError as exc:
        raise CoboKeyError(f"{source}: not a Cobo API key ({exc.message})") from None


class CoboRequest(NamedTuple):
    """A request as it travels: its origin (None for a bare path), path, query and body."""

    method: str
    origin: str | None
    path: str
    query: str
    body: bytes | None

    @property
    def url(self) -> str:
        """The URL to send (the origin is required)."""
        if self.origin is None:
            raise CLIError("--curl needs a full --url (https://HOST/v2/...), not only a path")
        return self.origin + self.path + (f"?{self.query}" if self.query else "")


def add_cobo_request_args(parser: argparse.ArgumentParser) -> None:
    """``--method``, ``--url``, ``--param`` and the body: the request signed or checked."""
    group = parser.add_argument_group("request")
    group.add_argument("--method", "-X", required=True, help="HTTP method (GET, POST, PUT, ...)")
    group.add_argument(
        "--url",
        required=True,
        help="the URL as sent: https://api.dev.cobo.com/v2/wallets?limit=10, or only the path "
        "and query (/v2/wallets?limit=10); its query is signed byte for byte",
    )
    group.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a query parameter appended as the Python SDK encodes it (repeat)",
    )
    add_body_args(group)


def _params(values: list[str]) -> str:
    pairs = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CLIError(f"invalid --param {item!r}: use NAME=VALUE")
        pairs.append((name, value))
    return encode_query(pairs)


def cobo_request(args: argparse.Namespace) -> CoboRequest:
    """The request of ``--method``/``--url``/``--param``/``--data``/``--body``."""
    url = str(args.url)
    parts = urlsplit(url)
    if parts.fragment or "#" in url:
        raise CLIError("--url must not have a fragment (#...): it is never sent")
    origin: str | None = None
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CLIError("--url must be an http(s) URL or a path starting with '/'")
        origin = f"{parts.scheme}://{parts.netloc}"
    elif not url.startswith("/"):
        raise CLIError("--url must be an http(s) URL or a path starting with '/'")
    path = parts.path or "/"
    query = parts.query
    extra = _params(args.param)
    if extra:
        query = f"{query}&{extra}" if query else extra
    return CoboRequest(str(args.method).upper(), origin, path, query, request_body(args))
