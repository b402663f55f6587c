"""Local stand-ins of the services authsig talks to, for tests and demos (nothing here is
used in production code paths).

- :class:`~authsig.testing.privy.PrivyStandIn`: Privy's key-quorum endpoint as an ASGI app,
  built on authsig's verifier.
"""

from __future__ import annotations

from authsig.testing.privy import PrivyError, PrivyStandIn, Response

__all__ = ["PrivyError", "PrivyStandIn", "Response"]
