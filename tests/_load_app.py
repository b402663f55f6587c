"""uvicorn factory for the load test: ``echo_app`` behind the ASGI middleware with an
in-memory replay store (one server process, so one store sees every request).

Settings from the environment: ``AUTHSIG_TEST_KEYS`` (comma-separated base64 SPKI public
keys), ``AUTHSIG_TEST_THRESHOLD``, ``AUTHSIG_TEST_BASE_URL``, ``AUTHSIG_TEST_MAX_ENTRIES``.
"""

from __future__ import annotations

import os
from typing import Any

from servers import echo_app

from authsig.asgi import AuthSigMiddleware
from authsig.keys import load_public_key
from authsig.privy.quorum import KeyQuorum
from authsig.replay import MemoryReplayStore


def load_app_from_env() -> Any:
    """The app under load (see the module docstring for its settings)."""
    keys = tuple(load_public_key(k) for k in os.environ["AUTHSIG_TEST_KEYS"].split(","))
    quorum = KeyQuorum(
        public_keys=keys, authorization_threshold=int(os.environ["AUTHSIG_TEST_THRESHOLD"])
    )
    return AuthSigMiddleware(
        echo_app,
        quorum=quorum,
        public_base_url=os.environ["AUTHSIG_TEST_BASE_URL"],
        replay_store=MemoryReplayStore(int(os.environ.get("AUTHSIG_TEST_MAX_ENTRIES", "100000"))),
    )
