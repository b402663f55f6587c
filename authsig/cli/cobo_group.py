"""``authsig cobo group plan`` / ``upgrade``: ``UpgradeToMainGroup``, planned then signed.

``plan`` states what the change does to the vault and refuses the transitions that cannot
work; ``upgrade`` runs the same plan and, when it passes, prints the signed ``PUT`` exactly as
cobo-waas2 sends it. Exit codes: 0 ok, 1 refused by the plan, 2 input error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from authsig.cli._args import Parser, add_command
from authsig.cli._cobo_io import CURVES, load_secret_ref
from authsig.cli._io import CLIError, dump_json, load_json_file, print_headers

__all__ = ["register", "run_plan", "run_upgrade"]

_HANDLING = ("Invalidate", "ConvertToSigningGroup")
#: cobo-waas2's default host (``Configuration(host=None)``): the development environment.
_DEFAULT_BASE_URL = "https://api.dev.cobo.com/v2"


def _add_plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--groups",
        required=True,
        metavar="FILE",
        help="the vault's groups: the JSON of 'list key share holder groups' (or -)",
    )
    p.add_argument("--group", required=True, metavar="ID", help="the Signing Group to upgrade")
    p.add_argument(
        "--original-main-group-handling",
        choices=_HANDLING,
        help="what happens to the current Main Group (Cobo's default: Invalidate)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers: Any) -> None:
    """Add ``group plan`` and ``group upgrade`` under ``cobo``."""
    parser = add_command(
        subparsers,
        "group",
        "plan and sign UpgradeToMainGroup for a key share holder group",
        "Key share holder groups: plan UpgradeToMainGroup, then sign the PUT.",
        "  authsig cobo group plan --groups groups.json --group SIGNING_GROUP_ID\n",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="group_command", metavar="COMMAND", parser_class=Parser)
    p = add_command(
        sub,
        "plan",
        "state what UpgradeToMainGroup would do, refuse invalid transitions",
        "Which group becomes Main, what happens to the previous Main, whether the group is\n"
        "Valid and complete (2-of-2, 2-of-3, 3-of-3), whether Cobo's holder is present,\n"
        "which holders are not Valid. Exit 0 ok, 1 refused, 2 input error.",
        "  authsig cobo group plan --groups groups.json --group g2 --json\n",
    )
    _add_plan_args(p)
    p.set_defaults(func=run_plan)

    p = add_command(
        sub,
        "upgrade",
        "plan, then print the signed UpgradeToMainGroup request",
        "Run the plan; when it passes, sign PUT .../vaults/VAULT/key_share_holder_groups/ID\n"
        "with the API secret and print the headers (or --curl, or --json with the plan).",
        "  authsig cobo group upgrade --groups groups.json --group g2 --vault-id v1 \\\n"
        "      --key env:COBO_API_SECRET --original-main-group-handling ConvertToSigningGroup "
        "--curl\n",
    )
    _add_plan_args(p)
    p.add_argument("--vault-id", required=True, metavar="ID", help="the vault of the groups")
    p.add_argument("--key", "-k", required=True, metavar="KEY", help="API secret: FILE, -, env:VAR")
    p.add_argument("--curve", choices=CURVES, default="ed25519", help="key type (ed25519)")
    p.add_argument(
        "--base-url",
        default=_DEFAULT_BASE_URL,
        help=f"the API's base URL with /v2 (default: {_DEFAULT_BASE_URL}, as cobo-waas2)",
    )
    p.add_argument("--now", type=int, metavar="MS", help="the nonce (default: now, in ms)")
    p.add_argument("--curl", action="store_true", help="print a curl command")
    p.set_defaults(func=run_upgrade)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _plan(args: argparse.Namespace) -> Any:
    from authsig.cobo.upgrade import load_vault_groups, plan_upgrade

    groups = load_vault_groups(load_json_file(args.groups, "groups file"))
    return plan_upgrade(
        groups,
        args.group,
        original_main_group_handling=args.original_main_group_handling or "Invalidate",
    )


def run_plan(args: argparse.Namespace) -> int:
    """``authsig cobo group plan``."""
    plan = _plan(args)
    if args.json:
        dump_json(plan.to_dict())
    else:
        print(str(plan))
    return 1 if plan.refused else 0


def run_upgrade(args: argparse.Namespace) -> int:
    """``authsig cobo group upgrade``."""
    from authsig.cobo.upgrade import sign_upgrade_request, upgrade_request

    base = urlsplit(args.base_url)
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        raise CLIError("--base-url must be an http(s) URL such as https://api.cobo.com/v2")
    plan = _plan(args)
    if plan.refused:
        if args.json:
            dump_json({"plan": plan.to_dict(), "request": None})
        else:
            print(str(plan), file=sys.stderr)
        return 1
    key = load_secret_ref(args.key, args.curve)
    request = upgrade_request(
        args.vault_id,
        args.group,
        original_main_group_handling=args.original_main_group_handling,
        base_path=base.path,
    )
    headers = sign_upgrade_request(key, request, nonce_ms=args.now)
    url = f"{base.scheme}://{base.netloc}{request.path}"
    if args.json:
        # The body as the exact text signed and sent (a re-serialized object would differ).
        body = request.body.decode("utf-8")
        out = {"method": request.method, "url": url, "headers": headers, "body": body}
        dump_json({"plan": plan.to_dict(), "request": out})
        return 0
    print(str(plan), file=sys.stderr)
    if args.curl:  # curl's command line gets its content-type from print_headers
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    print_headers(
        headers,
        as_json=False,
        as_curl=args.curl,
        method=request.method,
        url=url,
        body=request.body,
        body_file=None,
    )
    return 0
