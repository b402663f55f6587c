"""ASGI middleware for Privy authorization signatures (see :mod:`authsig.privy.middleware`).

A thin public module: the middleware is the scheme-neutral :mod:`authsig.http` layer running
the Privy scheme.
"""

from __future__ import annotations

from authsig.http import STATE_KEY, RequestInfo
from authsig.privy.middleware import AuthSigMiddleware

__all__ = ["STATE_KEY", "AuthSigMiddleware", "RequestInfo"]
