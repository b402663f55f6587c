"""Local stand-ins of the services authsig talks to, for tests and demos (nothing here is
used in production code paths).

- :class:`~authsig.testing.privy.PrivyStandIn`: Privy's authorization checks (key quorums and
  the wallets they own) as an ASGI app, built on authsig's verifier;
- :mod:`authsig.testing.pytest_plugin`: the ``privy_stand_in`` fixture serving it on
  127.0.0.1 (enable with ``pytest_plugins = ["authsig.testing.pytest_plugin"]``; not imported
  here, so importing :mod:`authsig.testing` needs neither pytest nor uvicorn).

docs/testing.md lists each rule of the stand-in and where it comes from.
"""

from __future__ import annotations

from authsig.testing.privy import PrivyError, PrivyStandIn, Response

__all__ = ["PrivyError", "PrivyStandIn", "Response"]
