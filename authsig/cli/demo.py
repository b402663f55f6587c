"""``authsig demo``: the whole flow against a sample server on 127.0.0.1 (see authsig.demo)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from authsig.cli._args import add_command

__all__ = ["register", "run_demo"]


def register(subparsers: Any) -> None:
    """Add ``demo``."""
    p = add_command(
        subparsers,
        "demo",
        "run the whole flow against a local sample server",
        "Generate keys, build a 2-of-3 key quorum with a nested quorum, serve a sample\n"
        "app behind the ASGI middleware on 127.0.0.1, and send signed requests: too few\n"
        "signatures (403), enough (200), the same request again (409 replay), expired\n"
        "(401) and tampered (401, with the explanation). Needs the extras\n"
        "authsig[asgi,servers,client] (uvicorn and httpx). Nothing is left running.",
        "  authsig demo\n  authsig demo --json\n",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """``authsig demo``."""
    # Imported here: the demo needs optional extras (uvicorn, httpx) that main() names when
    # they are missing, and that no other command should need.
    from authsig.demo import run_demo as demo

    result = demo(out=sys.stdout, as_json=args.json)
    return 0 if result.ok else 1
