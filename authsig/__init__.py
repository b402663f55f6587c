"""authsig: P-256 signing keys and authorization signatures (Privy key quorums, Cobo WaaS 2.0)."""

from __future__ import annotations

from authsig.errors import AuthSigError

__version__ = "0.1.0"

__all__ = ["AuthSigError", "__version__"]
