"""``authsig quorum``: create, change and audit Privy key quorums safely.

- ``new`` / ``update`` build a create or update body from flags or a file, checked against the
  API's documented rules before anything is signed;
- ``plan`` prints what a change does and the lints (exit 1 when a lint refuses, unless
  ``--force``);
- ``simulate`` lists the minimal approving sets, the lockout distance, and whether given
  signers approve;
- ``request`` shows the plan, then writes the signing payload of the update for the
  multi-party flow (``authsig sign --payload`` by each member, ``authsig combine --quorum
  CURRENT``, which checks the signatures against the quorum as it is now);
- ``check`` verifies the combined headers against the quorum as it is now before they are
  sent (``--intent`` accepts the 72-hour expiry of Privy's intents).

Quorum files are in Privy's response shape (``GET /v1/key_quorums/{id}``); nested quorums
are given with ``--nested-quorum FILE``. Exit codes: 0 ok, 1 refused by a lint, 2 input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from authsig.cli._args import add_command
from authsig.cli._io import (
    CLIError,
    Refused,
    dump_json,
    load_json_file,
    load_public_key_arg,
    parse_duration,
    read_input,
    write_output,
)

if TYPE_CHECKING:
    from authsig.privy.lifecycle.body import QuorumRequest
    from authsig.privy.lifecycle.plan import Plan
    from authsig.privy.quorum import KeyQuorum

__all__ = ["register"]

_BASE_URL = "https://api.privy.io"


def register(subparsers: Any) -> None:
    """Add ``quorum`` and its subcommands."""
    group = add_command(
        subparsers,
        "quorum",
        "create, change and audit Privy key quorums (plan, lints, simulation)",
        "Build and check key-quorum changes before anyone signs them.\n"
        "exit codes: 0 ok, 1 refused by a lint, 2 input error",
        "  authsig quorum new --public-key a.pub --public-key b.pub --threshold 2\n"
        "  authsig quorum plan --current q.json --rotate KEY_ID=new.pub\n"
        "  authsig quorum simulate --quorum q.json\n"
        "  authsig quorum request --current q.json --rotate KEY_ID=new.pub --app-id APP \\\n"
        "      --out rotate.payload\n",
    )
    sub = group.add_subparsers(dest="quorum_command", metavar="SUBCOMMAND")
    sub.required = True
    group.set_defaults(func=_choose)
    _register_new(sub)
    _register_update(sub)
    _register_plan(sub)
    _register_simulate(sub)
    _register_request(sub)
    _register_check(sub)


def _choose(args: argparse.Namespace) -> int:
    # argparse requires a subcommand first; this is the group's own handler all the same.
    raise CLIError("choose a subcommand: new, update, plan, simulate, request or check")


# --- shared arguments ------------------------------------------------------------------------


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nested-quorum", action="append", default=[], metavar="FILE")
    p.add_argument("--base-url", default=_BASE_URL, help=f"API base URL (default {_BASE_URL})")
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_body_flags(p: argparse.ArgumentParser, *, update: bool) -> None:
    g = p.add_argument_group("body")
    g.add_argument("--from", dest="from_file", metavar="FILE", help="the body as a JSON file")
    g.add_argument("--public-key", action="append", metavar="KEY", help="member key (repeat)")
    g.add_argument("--user-id", action="append", metavar="ID", help="user member (repeat)")
    g.add_argument("--key-quorum-id", action="append", metavar="ID", help="nested quorum id")
    g.add_argument("--threshold", type=int, metavar="N", help="authorization_threshold")
    g.add_argument("--display-name", metavar="NAME")
    if update:
        g.add_argument("--add-key", action="append", default=[], metavar="KEY")
        g.add_argument("--remove-key", action="append", default=[], metavar="KEY_ID")
        g.add_argument(
            "--rotate", action="append", default=[], metavar="OLD_KEY_ID=NEW_KEY", help="rotate"
        )


def _add_lint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--held", action="append", metavar="SIGNER", help="a key id or user:ID held")
    p.add_argument("--owner", action="append", default=[], metavar="SIGNER=PERSON")
    p.add_argument("--user-key", action="append", default=[], metavar="USER_ID=KEY")
    p.add_argument("--force", action="store_true", help="go on although a lint refuses")


def _nested(args: argparse.Namespace) -> dict[str, KeyQuorum]:
    from authsig.privy.quorum import KeyQuorum

    found: dict[str, KeyQuorum] = {}
    for name in args.nested_quorum:
        quorum = KeyQuorum.from_privy(load_json_file(name, "quorum"), quorums=found)
        if not quorum.id:
            raise CLIError(f'{name}: a nested quorum needs an "id"')
        found[quorum.id] = quorum
    return found


def _load_quorum(name: str, nested: dict[str, KeyQuorum]) -> KeyQuorum:
    from authsig.privy.quorum import KeyQuorum

    quorum = KeyQuorum.from_privy(load_json_file(name, "quorum"), quorums=nested)
    if quorum.id:
        nested.setdefault(quorum.id, quorum)
    return quorum


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in values:
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise CLIError(f"invalid {flag} value: use A=B")  # not echoed: it may be key text
        out.append((left.strip(), right.strip()))
    return out


def _flag_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.from_file:
        loaded = load_json_file(args.from_file, "body")
        if not isinstance(loaded, dict):
            raise CLIError(f"{args.from_file}: the body must be a JSON object")
        body.update(loaded)
    if args.public_key:
        body["public_keys"] = [load_public_key_arg(k).to_base64() for k in args.public_key]
    if args.user_id:
        body["user_ids"] = list(args.user_id)
    if args.key_quorum_id:
        body["key_quorum_ids"] = list(args.key_quorum_id)
    if args.threshold is not None:
        body["authorization_threshold"] = args.threshold
    if args.display_name is not None:
        body["display_name"] = args.display_name
    return body


def _update_body(args: argparse.Namespace, current: KeyQuorum) -> dict[str, Any]:
    """The update body from ``--from`` and the flags; ``--add-key``, ``--remove-key`` and
    ``--rotate`` edit the current key list (or the one given with ``--public-key``)."""
    body = _flag_body(args)
    edits = args.add_key or args.remove_key or args.rotate
    if not edits:
        return body
    keys = [k.to_base64() for k in current.public_keys]
    if "public_keys" in body:
        keys = [load_public_key_arg(k).to_base64() for k in body["public_keys"]]
    ids = [load_public_key_arg(k).key_id for k in keys]
    for old, new in _pairs(args.rotate, "--rotate"):
        if old not in ids:
            raise CLIError(f"--rotate: key {old} is not a direct key of {current.label}")
        keys[ids.index(old)] = load_public_key_arg(new).to_base64()
        ids[ids.index(old)] = load_public_key_arg(new).key_id
    for old in args.remove_key:
        if old not in ids:
            raise CLIError(f"--remove-key: key {old} is not a direct key of {current.label}")
        del keys[ids.index(old)]
        ids.remove(old)
    keys += [load_public_key_arg(k).to_base64() for k in args.add_key]
    body["public_keys"] = keys
    return body


def _request(args: argparse.Namespace, *, current_required: bool) -> QuorumRequest:
    from authsig.privy.lifecycle.body import create_request, update_request

    nested = _nested(args)
    current = getattr(args, "current", None)
    if current is None:
        if current_required:
            raise CLIError("give the quorum as it is now: --current FILE")
        if (
            getattr(args, "add_key", None)
            or getattr(args, "remove_key", None)
            or getattr(args, "rotate", None)
        ):
            raise CLIError("--add-key, --remove-key and --rotate change a quorum: give --current")
        return create_request(_flag_body(args), base_url=args.base_url, quorums=nested)
    quorum = _load_quorum(current, nested)
    body = _update_body(args, quorum)
    return update_request(quorum, body, base_url=args.base_url, quorums=nested)


def _plan(args: argparse.Namespace, request: QuorumRequest) -> Plan:
    from authsig.cli._quorum import user_keys
    from authsig.privy.lifecycle.plan import plan_change

    assert request.after is not None  # create and update requests have an after-state
    return plan_change(
        request.before,
        request.after,
        held=args.held,
        owners=dict(_pairs(args.owner, "--owner")),
        user_keys=user_keys(args),
    )


def _request_dict(request: QuorumRequest) -> dict[str, Any]:
    return {"method": request.method, "url": request.url, "body": request.body}


def _refuse_if(plan: Plan, force: bool) -> None:
    if plan.refusals and not force:
        codes = ", ".join(lint.code for lint in plan.refusals)
        print(
            f"authsig: refused by lints ({codes}); fix the change or pass --force", file=sys.stderr
        )
        raise Refused


# --- new / update ----------------------------------------------------------------------------


def _register_new(sub: Any) -> None:
    p = add_command(
        sub,
        "new",
        "build a create body (POST /v1/key_quorums)",
        "Build and check the body of a key-quorum create request.",
        "  authsig quorum new --public-key a.pub --public-key b.pub --threshold 2 > body.json\n",
    )
    _add_body_flags(p, update=False)
    _add_common(p)
    p.add_argument("--out", "-o", metavar="FILE")
    p.set_defaults(func=_run_build)


def _register_update(sub: Any) -> None:
    p = add_command(
        sub,
        "update",
        "build an update body (PATCH /v1/key_quorums/{id})",
        "Build and check the body of a key-quorum update: fields given replace the current\n"
        "ones; --add-key/--remove-key/--rotate edit the current key list.",
        "  authsig quorum update --current q.json --rotate KEY_ID=new.pub > body.json\n",
    )
    p.add_argument("--current", required=True, metavar="FILE", help="the quorum as it is now")
    _add_body_flags(p, update=True)
    _add_common(p)
    p.add_argument("--out", "-o", metavar="FILE")
    p.set_defaults(func=_run_build)


def _run_build(args: argparse.Namespace) -> int:
    request = _request(args, current_required=False)
    data = _request_dict(request) if args.json else request.body
    write_output(args.out, (json.dumps(data, indent=2) + "\n").encode())
    return 0


# --- plan ------------------------------------------------------------------------------------


def _register_plan(sub: Any) -> None:
    p = add_command(
        sub,
        "plan",
        "show what a change does and run the lints",
        "Show the diff of a create (without --current) or update, who can approve it and\n"
        "who can approve changes after it, and the lints. Exit 1 when a lint refuses.",
        "  authsig quorum plan --current q.json --from body.json --held KID1 --held KID2\n",
    )
    p.add_argument("--current", metavar="FILE", help="the quorum as it is now (update)")
    _add_body_flags(p, update=True)
    _add_lint_flags(p)
    _add_common(p)
    p.set_defaults(func=_run_plan)


def _run_plan(args: argparse.Namespace) -> int:
    request = _request(args, current_required=False)
    plan = _plan(args, request)
    if args.json:
        dump_json({"request": _request_dict(request), "plan": plan.to_dict()})
    else:
        print(plan.render())
    _refuse_if(plan, args.force)
    return 0


# --- simulate --------------------------------------------------------------------------------


def _register_simulate(sub: Any) -> None:
    p = add_command(
        sub,
        "simulate",
        "list minimal approving sets and the lockout distance",
        "Simulate a quorum under the distinct-key rule (a key approves one member of the\n"
        "whole tree): its minimal approving sets, how many held signers must be lost to lock\n"
        "it out, and whether --signers approve.",
        "  authsig quorum simulate --quorum q.json --signers KID1 --signers KID2\n",
    )
    p.add_argument("--quorum", required=True, metavar="FILE")
    p.add_argument("--signers", action="append", metavar="SIGNER", help="key id or user:ID")
    p.add_argument("--held", action="append", metavar="SIGNER", help="signers the team holds")
    p.add_argument("--user-key", action="append", default=[], metavar="USER_ID=KEY")
    p.add_argument("--limit", type=int, default=100, help="most approving sets to list")
    _add_common(p)
    p.set_defaults(func=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from authsig.cli._quorum import user_keys
    from authsig.privy.lifecycle.simulate import Simulation

    if args.limit < 1:
        raise CLIError("--limit must be at least 1")
    sim = Simulation(_load_quorum(args.quorum, _nested(args)), user_keys=user_keys(args))
    sets, truncated = sim.minimal_sets(limit=args.limit)
    lockout = sim.lockout(args.held)
    check = None if args.signers is None else sim.approval(args.signers)
    if args.json:
        out: dict[str, Any] = {
            "threshold": sim.quorum.threshold,
            "signers": list(sim.signers),
            "minimal_approving_sets": [s.to_dict() for s in sets],
            "truncated": truncated,
            "lockout": lockout.to_dict(),
        }
        if check is not None:
            out["check"] = {"approved": check.approved, "members": list(check.members)}
        dump_json(out)
        return 0
    print(f"minimal approving sets of {sim.quorum.label} (threshold {sim.quorum.threshold}):")
    for s in sets:
        print(f"  {{{', '.join(s.signers)}}} -> {', '.join(s.members)}")
    if truncated:
        print("  ... (more sets not listed; raise --limit)")
    print(f"signers that must be lost to lock it out: {lockout.distance}")
    if check is not None:
        verdict = "approve" if check.approved else "do not approve"
        print(f"the given signers {verdict} ({check.count} of {check.threshold} members)")
    return 0


# --- request ---------------------------------------------------------------------------------


def _register_request(sub: Any) -> None:
    p = add_command(
        sub,
        "request",
        "show the plan, then write the signing payload of an update",
        "Show the plan of the update (stderr), refuse it when a lint refuses (exit 1, unless\n"
        "--force), and write the canonical payload each member of the CURRENT quorum signs\n"
        "with 'authsig sign --payload'. Then: authsig combine --payload FILE SIG... --quorum\n"
        "CURRENT. --intent signs with Privy's 72-hour intent expiry.",
        "  authsig quorum request --current q.json --rotate KEY_ID=new.pub --app-id APP \\\n"
        "      --out rotate.payload\n",
    )
    p.add_argument("--current", required=True, metavar="FILE", help="the quorum as it is now")
    _add_body_flags(p, update=True)
    _add_lint_flags(p)
    _add_common(p)
    p.add_argument("--app-id", required=True)
    p.add_argument("--expires-in", metavar="DURATION", help="default 15m (72h with --intent)")
    p.add_argument("--intent", action="store_true", help="allow up to 72h (Privy intents)")
    p.add_argument("--idempotency-key")
    p.add_argument("--now", type=int, metavar="MS", help="pretend now is MS ms since the epoch")
    p.add_argument("--out", "-o", metavar="FILE", help="payload file (default: stdout)")
    p.set_defaults(func=_run_request)


def _run_request(args: argparse.Namespace) -> int:
    from authsig.privy.lifecycle.flow import expires_in_for, update_payload

    if args.json and args.out in (None, "-"):
        raise CLIError("--json prints the plan: write the payload with --out FILE")
    if args.idempotency_key is not None and not args.idempotency_key.strip():
        raise CLIError("--idempotency-key must not be empty; leave it out for no key")
    try:  # checked before the plan: a lifetime the verifier would refuse is the user's to fix
        expires_in = expires_in_for(
            parse_duration(args.expires_in) if args.expires_in else None, intent=args.intent
        )
    except ValueError:
        limit = "72h" if args.intent else "1h (72h with --intent, for Privy intents)"
        raise CLIError(f"--expires-in must be positive and at most {limit}") from None
    request = _request(args, current_required=True)
    plan = _plan(args, request)
    print(plan.render(), file=sys.stderr)
    _refuse_if(plan, args.force)
    payload = update_payload(
        request,
        app_id=args.app_id,
        expires_in=expires_in,
        intent=args.intent,
        idempotency_key=args.idempotency_key,
        now_ms=args.now,
    )
    write_output(args.out, payload)
    if args.json:
        dump_json({"request": _request_dict(request), "plan": plan.to_dict(), "out": args.out})
    elif args.out and args.out != "-":
        print(f"payload written to {args.out} ({len(payload)} bytes)", file=sys.stderr)
    return 0


# --- check -----------------------------------------------------------------------------------


def _register_check(sub: Any) -> None:
    p = add_command(
        sub,
        "check",
        "verify combined headers against the quorum as it is now",
        "Verify the headers from 'authsig combine --json' over the payload file against the\n"
        "CURRENT quorum with authsig's verifier, before the request is sent. Exit 0 when\n"
        "approved, 1 when refused. --intent accepts an expiry up to 72 hours ahead.",
        "  authsig quorum check --current q.json --payload rotate.payload --headers h.json\n",
    )
    p.add_argument("--current", required=True, metavar="FILE", help="the quorum as it is now")
    p.add_argument("--payload", required=True, metavar="FILE")
    p.add_argument("--headers", required=True, metavar="FILE", help="combine --json output")
    p.add_argument("--intent", action="store_true", help="accept a 72h expiry (intents)")
    p.add_argument("--user-key", action="append", default=[], metavar="USER_ID=KEY")
    p.add_argument("--nested-quorum", action="append", default=[], metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the decision as JSON")
    p.set_defaults(func=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from authsig.cli._quorum import user_keys
    from authsig.privy.lifecycle.body import QuorumRequest
    from authsig.privy.lifecycle.errors import UpdateNotApprovedError
    from authsig.privy.lifecycle.flow import verify_update
    from authsig.privy.payload import parse_body

    current = _load_quorum(args.current, _nested(args))
    parts = parse_body(read_input(args.payload))
    if not isinstance(parts, dict) or not {"method", "url", "body", "headers"} <= set(parts):
        raise CLIError(f"{args.payload}: not a signing payload")
    if not str(parts["url"]).endswith(f"/v1/key_quorums/{current.id}"):
        raise CLIError(f"{args.payload}: the payload is not a request on {current.label}")
    headers = load_json_file(args.headers, "headers")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise CLIError(f"{args.headers}: want a JSON object of header names to values")
    body = {} if parts["body"] == "" else parts["body"]  # "" is how {} is signed
    request = QuorumRequest(parts["method"], parts["url"], body, current)
    try:
        decision = verify_update(request, headers, user_keys=user_keys(args), intent=args.intent)
    except UpdateNotApprovedError as exc:
        decision = exc.decision
    if args.json:
        dump_json(decision.to_dict())
    else:
        print(decision.message)
    if not decision.approved:
        raise Refused
    return 0
