"""Client-side signing for httpx and requests.

Both auth classes sign an outgoing request from the request itself: its method, the full URL
as sent, and the body bytes as sent (parsed as JSON; an empty body signs as ``null``)::

    import httpx
    from authsig.privy.client import PrivyAuth

    auth = PrivyAuth(app_id="my-app", keys=[alice_key, kms_signer], app_secret=secret)
    with httpx.Client(auth=auth, event_hooks=auth.event_hooks()) as client:
        client.post("https://api.privy.io/v1/wallets/w1/rpc", json=body)

    import requests
    from authsig.privy.client import PrivyRequestsAuth

    requests.post(url, json=body, auth=PrivyRequestsAuth(app_id="my-app", keys=alice_key))

``keys`` are :class:`~authsig.keys.PrivateKey` objects or signer callables (``payload bytes ->
base64 DER or DER bytes``; with httpx's async client they may be ``async``). By default only
POST, PUT, PATCH and DELETE are signed (as the Privy SDKs do); ``sign_all_methods=True`` signs
every request. Each request gets ``privy-request-expiry`` (now + ``expires_in``; None to omit)
and, when ``idempotency_key`` is given (a string, or a callable such as
``lambda: str(uuid.uuid4())`` for a fresh key per request), ``privy-idempotency-key``. An
idempotency key already set on the request is kept and signed. ``app_secret`` adds
``Authorization: Basic base64(app_id:app_secret)`` to every request, as the Privy API wants.
The URL is checked as :func:`~authsig.privy.signing.sign_request` checks it
(``check_url=False`` for a server that is not Privy's). ``dialect=`` signs what an official SDK
would (:mod:`authsig.privy.dialects`); a dialect that never signs the expiry needs
``expires_in=None``, checked when the auth is built.

**Redirects.** A redirect to another origin (scheme, host and port) must not carry a signed
request there: whoever receives it could replay it to the real API until it expires. httpx
and requests drop ``Authorization`` on such a redirect but copy every other header and, for a
307/308, the body. ``on_cross_origin_redirect`` says what happens instead: ``"strip"`` (the
default) removes every ``privy-*`` header, ``Authorization`` and the body from the redirected
request; ``"refuse"`` raises :class:`CrossOriginRedirectError` before it is sent. A redirect
within the origin keeps the request as the library builds it. There is no "re-sign for the
new origin": requests builds the next hop where no auth sees it, and a caller who trusts the
new origin can sign a request to it directly. requests runs the check by
itself (a response hook); httpx only lets a client-level request hook see redirects, so pass
``event_hooks=auth.event_hooks()`` (or ``async_event_hooks()`` for ``httpx.AsyncClient``); if a
redirect leaves the origin without that hook, the auth raises :class:`CrossOriginRedirectError`
on the response instead of returning it. requests tells a hook nothing of
``allow_redirects``: its hook strips (or, with ``"refuse"``, raises) on a redirect response
off the origin whether or not the session goes on to follow it.

Each auth class lives in a module that imports only its own HTTP library
(:mod:`authsig.privy.httpx_client`, :mod:`authsig.privy.requests_client`), so this module
imports with either one installed; the other class raises :class:`ImportError` naming the
missing package when it is asked for.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from authsig._outbound import lazy_classes, origin
from authsig.errors import AuthSigError
from authsig.privy.dialects import Dialect, get_dialect
from authsig.privy.headers import EXPIRY_HEADER, IDEMPOTENCY_HEADER

if TYPE_CHECKING:  # pragma: no cover - typing only
    from authsig.privy.httpx_client import PrivyAuth
    from authsig.privy.requests_client import PrivyRequestsAuth

__all__ = [
    "DEFAULT_SIGNED_METHODS",
    "CrossOriginRedirectError",
    "PrivyAuth",
    "PrivyRequestsAuth",
]

DEFAULT_SIGNED_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods signed by default (the Privy SDKs sign only these)."""

IdempotencyKey = str | Callable[[], str] | None
RedirectPolicy = Literal["strip", "refuse"]
_REDIRECT_POLICIES = ("strip", "refuse")


class CrossOriginRedirectError(AuthSigError):
    """A signed request was redirected to another origin (``on_cross_origin_redirect``)."""

    code = "cross_origin_redirect"


def secret_headers(names: Collection[str]) -> list[str]:
    """The header names (as given) a request must not carry to another origin."""
    return [n for n in names if n.lower().startswith("privy-") or n.lower() == "authorization"]


def refuse_redirect(to_url: str) -> CrossOriginRedirectError:
    """The error for a signed request redirected off its origin; names the origin only."""
    scheme, host, port = origin(to_url)
    return CrossOriginRedirectError(
        f"a signed request was redirected to another origin ({scheme}://{host}:{port}); "
        "not sent (on_cross_origin_redirect='refuse')"
    )


class _Settings:
    """What both auth classes take, checked once."""

    def __init__(
        self,
        *,
        app_id: str,
        keys: Any,
        expires_in: timedelta | None,
        idempotency_key: IdempotencyKey,
        sign_all_methods: bool,
        methods: Collection[str] | None,
        empty_body: Literal["string", "preserve"],
        app_secret: str | None,
        on_cross_origin_redirect: RedirectPolicy,
        check_url: bool,
        dialect: str | Dialect | None = None,
    ) -> None:
        if not isinstance(app_id, str):
            raise TypeError(f"app_id must be a str, not {type(app_id).__name__}")
        if not app_id:
            raise ValueError("app_id must not be empty")
        if app_secret is not None and (not isinstance(app_secret, str) or not app_secret):
            raise TypeError("app_secret must be a non-empty str or None")
        if on_cross_origin_redirect not in _REDIRECT_POLICIES:
            raise ValueError("on_cross_origin_redirect must be 'strip' or 'refuse'")
        self.app_id = app_id
        self.keys = keys
        self.expires_in = expires_in
        self.idempotency_key = idempotency_key
        self.sign_all_methods = sign_all_methods
        self.methods = (
            frozenset(m.upper() for m in methods) if methods is not None else DEFAULT_SIGNED_METHODS
        )
        self.empty_body: Literal["string", "preserve"] = empty_body
        self.redirects: RedirectPolicy = on_cross_origin_redirect
        self.check_url = bool(check_url)
        # Checked now, not on the first request: an unknown name, or an expiry the dialect
        # never signs (sign_request would refuse every request), is a mistake in the setup.
        self.dialect = None if dialect is None else get_dialect(dialect)
        if self.dialect and expires_in is not None and not self.dialect.signs_header(EXPIRY_HEADER):
            raise ValueError(
                f"the {self.dialect.name} dialect never signs {EXPIRY_HEADER}: pass expires_in=None"
            )
        self._basic = (
            None
            if app_secret is None
            else "Basic " + base64.b64encode(f"{app_id}:{app_secret}".encode()).decode("ascii")
        )

    def should_sign(self, method: str) -> bool:
        return self.sign_all_methods or method.upper() in self.methods

    def basic_auth(self) -> dict[str, str]:
        """``{"authorization": "Basic ..."}`` when an app secret was given, else ``{}``."""
        return {} if self._basic is None else {"authorization": self._basic}

    def idempotency(self, existing: str | None) -> str | None:
        if existing:
            return existing
        key = self.idempotency_key
        if key is None:
            return None
        value = key() if callable(key) else key
        if not isinstance(value, str):
            raise TypeError(f"the idempotency key must be a str, not {type(value).__name__}")
        if not value:
            raise ValueError("the idempotency key must not be empty")
        return value

    def kwargs(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The keyword arguments of ``sign_request`` for this request."""
        return {
            "method": method.upper(),
            "url": url,
            "body": body,
            "app_id": self.app_id,
            "keys": self.keys,
            "idempotency_key": self.idempotency(headers.get(IDEMPOTENCY_HEADER)),
            "expires_in": self.expires_in,
            "empty_body": self.empty_body,
            "check_url": self.check_url,
            "dialect": self.dialect,
        }

    def __repr__(self) -> str:
        # Neither keys nor the app secret: a repr ends up in logs.
        secret = ", app_secret=<set>" if self._basic is not None else ""
        return f"app_id={self.app_id!r}{secret}"


__getattr__ = lazy_classes(
    __name__,
    {
        "PrivyAuth": "authsig.privy.httpx_client",
        "PrivyRequestsAuth": "authsig.privy.requests_client",
    },
)
