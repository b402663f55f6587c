"""Whether this process is one of several server workers (for the in-process store's warning).

A per-process store protects nothing across workers: a copy sent to another worker finds an
empty store. There is no standard way for an app to learn how many workers its server runs, so
this looks where uvicorn and gunicorn keep the number while they load the app:

- the call stack: a store built while the server imports the app (the usual case, and also
  gunicorn's ``--preload``) has uvicorn's ``Config`` or gunicorn's arbiter/worker/application
  (with its ``cfg``) in a calling frame, and their ``workers`` is the configured count;
- failing that, ``WEB_CONCURRENCY``, the default worker count of both servers, when one of
  them is loaded in this process.

Other servers, and stores built lazily outside the server's start-up, are not detected.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["several_workers"]

_SERVERS = ("gunicorn", "uvicorn")


def _count(holder: Any) -> int | None:
    try:
        value = getattr(holder, "workers", None)
    except Exception:  # a server object's property failed: nothing to learn from it
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _server_workers(obj: Any) -> tuple[str, int] | None:
    """(server, workers) when ``obj`` is a uvicorn or gunicorn object that knows the count."""
    server = (type(obj).__module__ or "").split(".")[0]
    if server not in _SERVERS:
        return None
    for holder in (obj, getattr(obj, "cfg", None), getattr(obj, "config", None)):
        count = _count(holder) if holder is not None else None
        if count is not None:
            return server, count
    return None


def _from_stack() -> tuple[str, int] | None:
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        names = code.co_varnames + code.co_cellvars
        for name in ("self", "config", "cfg"):
            if name in names:
                found = _server_workers(frame.f_locals.get(name))
                if found is not None:
                    return found
        frame = frame.f_back  # type: ignore[assignment]
    return None


def several_workers() -> tuple[str, int] | None:
    """(server, worker count) when this process is one of several workers, else None."""
    found = _from_stack()
    if found is None:
        loaded = [name for name in _SERVERS if name in sys.modules]
        text = os.environ.get("WEB_CONCURRENCY", "").strip()
        if loaded and text.isdigit():
            found = loaded[0], int(text)
    if found is None or found[1] < 2:
        return None
    return found
