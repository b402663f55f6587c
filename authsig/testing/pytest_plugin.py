"""A pytest plugin serving :class:`~authsig.testing.privy.PrivyStandIn` on 127.0.0.1.

Enable it in a ``conftest.py``::

    pytest_plugins = ["authsig.testing.pytest_plugin"]

and ask for the ``privy_stand_in`` fixture: a fresh stand-in (empty state, strict default
policy) under a real uvicorn server on a free port, stopped after the test. It is not registered
as an entry point: a plugin that every pytest run in an environment loads would start nothing
by itself, but would still import authsig into test sessions that never asked for it.

:func:`serve` is the same server as a context manager, for a stand-in built with other options
(a named loosening such as ``Policy(require_expiry=False)``, or an ``app_id`` of your own).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

from authsig.keys import PublicKey
from authsig.privy.quorum import KeyQuorum
from authsig.testing.privy import PrivyStandIn

__all__ = ["RunningStandIn", "privy_stand_in", "serve"]

HOST = "127.0.0.1"
DEFAULT_APP_ID = "authsig-stand-in-app"
_START_TIMEOUT = 15.0


@dataclass(frozen=True)
class RunningStandIn:
    """A served stand-in: ``url`` (``http://127.0.0.1:PORT``, what clients sign), ``app_id``
    (what they must send in ``privy-app-id``) and ``app`` (the state, for assertions)."""

    url: str
    app_id: str
    app: PrivyStandIn

    def add_quorum(
        self,
        public_keys: Iterable[PublicKey | str],
        *,
        threshold: int | None = None,
        display_name: str | None = None,
    ) -> str:
        """Seed a quorum of ``public_keys`` (objects or base64 DER SPKI text, the form Privy's
        dashboard shows); returns its id."""
        return self.app.add_quorum(
            KeyQuorum(
                public_keys=public_keys,
                authorization_threshold=threshold,
                display_name=display_name,
            )
        )

    def add_wallet(self, owner_id: str) -> str:
        """Seed an Ethereum wallet owned by the quorum ``owner_id``; returns its id. Its RPC
        endpoint is ``{url}/v1/wallets/{id}/rpc``."""
        return self.app.add_wallet(owner_id)

    def quorum(self, quorum_id: str) -> KeyQuorum:
        """The quorum as the stand-in holds it now."""
        return self.app.quorums[quorum_id]


@contextlib.contextmanager
def serve(app: PrivyStandIn) -> Iterator[RunningStandIn]:
    """Serve ``app`` with uvicorn in a thread on a free port of 127.0.0.1 until the block
    ends. ``app.app_id`` must be set (clients send one; the default fixture's is
    :data:`DEFAULT_APP_ID`)."""
    if app.app_id is None:
        raise ValueError("serve() needs a PrivyStandIn with an app_id")
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("the stand-in fixture needs uvicorn: authsig[servers]") from exc
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield RunningStandIn(url=f"http://{HOST}:{port}", app_id=app.app_id, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def privy_stand_in() -> Iterator[RunningStandIn]:
    """A fresh :class:`PrivyStandIn` (strict default policy, app id :data:`DEFAULT_APP_ID`)
    served on 127.0.0.1 for one test."""
    with serve(PrivyStandIn(app_id=DEFAULT_APP_ID)) as running:
        yield running
