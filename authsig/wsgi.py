"""WSGI middleware for Privy authorization signatures (see :mod:`authsig.privy.middleware`).

A thin public module: the middleware is the scheme-neutral :mod:`authsig.http` layer running
the Privy scheme.
"""

from __future__ import annotations

from authsig.http import ENVIRON_KEY, RequestInfo
from authsig.privy.middleware import AuthSigWSGIMiddleware

__all__ = ["ENVIRON_KEY", "AuthSigWSGIMiddleware", "RequestInfo"]
