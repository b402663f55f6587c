"""Who must approve: the quorum and member keys given to ``combine``, ``verify`` and ``explain``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from authsig.cli._io import CLIError, load_json_file, load_public_key_arg

if TYPE_CHECKING:
    from authsig.keys import PublicKey
    from authsig.privy.quorum import KeyQuorum

__all__ = ["load_quorum", "user_keys", "user_resolver"]


def user_keys(args: argparse.Namespace) -> dict[str, list[PublicKey]]:
    """``--user-key USER_ID=KEY`` values, grouped by user id."""
    found: dict[str, list[PublicKey]] = {}
    for item in args.user_key:
        user_id, sep, key = item.partition("=")
        if not sep or not user_id.strip() or not key.strip():
            # Not echoed: a value without "=" may be key text pasted in the wrong place.
            raise CLIError("invalid --user-key value: use USER_ID=KEY")
        found.setdefault(user_id.strip(), []).append(load_public_key_arg(key.strip()))
    return found


def user_resolver(
    users: Mapping[str, list[PublicKey]],
) -> Callable[[str], list[PublicKey]] | None:
    """The verifier's ``user_keys`` callable over the given keys (None when there are none)."""
    if not users:
        return None

    def resolve(user_id: str) -> list[PublicKey]:
        return list(users.get(user_id, ()))

    return resolve


def load_quorum(args: argparse.Namespace, *, required: bool) -> KeyQuorum | None:
    """The quorum from ``--quorum`` (+ ``--nested-quorum``) or from ``--public-key`` values."""
    from authsig.privy.quorum import KeyQuorum

    if args.user_key and not args.quorum:
        raise CLIError("--user-key goes with --quorum (a quorum with user_ids)")
    if args.quorum and args.public_key:
        raise CLIError("give either --quorum or --public-key, not both")
    if getattr(args, "threshold", None) is not None and not args.public_key:
        raise CLIError("--threshold goes with --public-key")
    if args.quorum:
        nested: dict[str, KeyQuorum] = {}
        for name in args.nested_quorum:
            obj = load_json_file(name, "quorum")
            quorum = KeyQuorum.from_privy(obj, quorums=nested)
            if not quorum.id:
                raise CLIError(f'{name}: a nested quorum needs an "id"')
            nested[quorum.id] = quorum
        return KeyQuorum.from_privy(load_json_file(args.quorum, "quorum"), quorums=nested)
    if args.public_key:
        keys = tuple(load_public_key_arg(value) for value in args.public_key)
        return KeyQuorum(public_keys=keys, authorization_threshold=getattr(args, "threshold", None))
    if required:
        raise CLIError("say who must approve: --quorum FILE or --public-key KEY")
    return None
