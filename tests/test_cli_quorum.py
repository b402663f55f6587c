"""``authsig quorum``: new/update bodies, plan and lints, simulate, request (exit codes 0/1/2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli import assert_one_line_error, err, keygen, out, run

from authsig.keys import generate_private_key
from authsig.privy.payload import parse_body


def _dashed_key() -> Any:
    """A key whose id starts with "-" (one in 64 does): argparse would take it for an option."""
    while not (public := generate_private_key().public_key).key_id.startswith("-"):
        pass
    return public


# Keys 0 and 4 have ids that start with "-", so every test below also passes such an id as an
# option's separate value (--signers ID, --remove-key ID, --held ID, --owner ID=PERSON).
PUB = [_dashed_key(), *(generate_private_key().public_key for _ in range(3)), _dashed_key()]
B64 = [p.to_base64() for p in PUB]
IDS = [p.key_id for p in PUB]


def _json(proc: Any) -> Any:
    assert proc.returncode == 0, (out(proc), err(proc))
    return json.loads(out(proc))


@pytest.fixture
def current(tmp_path: Path) -> Path:
    """A 2-of-3 quorum in Privy's response shape."""
    path = tmp_path / "current.json"
    obj = {
        "id": "q1",
        "display_name": "treasury",
        "authorization_threshold": 2,
        "authorization_keys": [
            {"public_key": B64[i], "display_name": n}
            for i, n in enumerate(("alice", "bob", "carol"))
        ],
        "user_ids": None,
    }
    path.write_text(json.dumps(obj))
    return path


def test_new_builds_a_checked_body() -> None:
    body = _json(
        run("quorum", "new", f"--public-key={B64[0]}", f"--public-key={B64[1]}", "--threshold", "2")
    )
    assert body == {"public_keys": B64[:2], "authorization_threshold": 2}
    request = _json(
        run("quorum", "new", f"--public-key={B64[0]}", "--json", "--base-url", "http://h")
    )
    assert (request["method"], request["url"]) == ("POST", "http://h/v1/key_quorums")
    proc = run("quorum", "new", f"--public-key={B64[0]}", "--threshold", "2")
    assert_one_line_error(proc, "/authorization_threshold: is 2")
    proc = run("quorum", "new", f"--public-key={B64[0]}", f"--public-key={B64[0]}")
    assert_one_line_error(proc, "/public_keys/1")
    assert_one_line_error(run("quorum", "new", "--user-id", "u", "--rotate", "x=y"), "--rotate")


def test_update_edits_the_current_keys(current: Path, tmp_path: Path) -> None:
    body = _json(
        run("quorum", "update", "--current", str(current), "--rotate", f"{IDS[0]}={B64[3]}")
    )
    assert body == {"public_keys": [B64[3], B64[1], B64[2]]}
    body = _json(
        run("quorum", "update", "--current", str(current), "--remove-key", IDS[2],
            f"--add-key={B64[4]}", "--threshold", "1")
    )  # fmt: skip
    assert body == {"public_keys": [B64[0], B64[1], B64[4]], "authorization_threshold": 1}
    proc = run("quorum", "update", "--current", str(current), "--remove-key", IDS[4])
    assert_one_line_error(proc, "not a direct key")
    nested = tmp_path / "n.json"
    nested.write_text(json.dumps({"id": "n1", "authorization_keys": [{"public_key": B64[4]}]}))
    body = _json(
        run("quorum", "update", "--current", str(current), "--nested-quorum", str(nested),
            "--key-quorum-id", "n1")
    )  # fmt: skip
    assert body == {"key_quorum_ids": ["n1"]}
    proc = run("quorum", "update", "--current", str(current), "--key-quorum-id", "n2")
    assert_one_line_error(proc, "/key_quorum_ids/0")


def test_plan_prints_the_diff_and_refuses_on_a_lint(current: Path) -> None:
    rotate = f"--rotate={IDS[0]}={B64[3]}"
    proc = run("quorum", "plan", "--current", str(current), rotate)
    assert proc.returncode == 0, err(proc)
    assert f"- key {IDS[0]} (alice)" in out(proc)
    assert f"+ key {IDS[3]}" in out(proc)
    assert "lints: none" in out(proc)
    # The team holds only the new key and bob's: fine. Only the new key: locked out.
    held = ["--held", IDS[3], "--held", IDS[1]]
    assert run("quorum", "plan", "--current", str(current), rotate, *held).returncode == 0
    proc = run("quorum", "plan", "--current", str(current), rotate, "--held", IDS[3], "--json")
    assert proc.returncode == 1
    plan = json.loads(out(proc))["plan"]
    assert plan["refused"] is True
    assert plan["lints"][0]["code"] == "lockout"
    assert "refused by lints (lockout)" in err(proc)
    forced = run("quorum", "plan", "--current", str(current), rotate, "--held", IDS[3], "--force")
    assert forced.returncode == 0
    owners = ["--owner", f"{IDS[1]}=bob", "--owner", f"{IDS[2]}=bob"]
    proc = run("quorum", "plan", "--current", str(current), "--display-name", "t2", *owners)
    assert proc.returncode == 1
    assert "single_person" in out(proc)


def test_simulate_lists_sets_and_the_lockout_distance(current: Path) -> None:
    result = _json(run("quorum", "simulate", "--quorum", str(current), "--json",
                       "--signers", IDS[0], "--signers", IDS[4]))  # fmt: skip
    assert result["threshold"] == 2
    sets = {frozenset(s["signers"]) for s in result["minimal_approving_sets"]}
    assert sets == {frozenset(p) for p in ((IDS[0], IDS[1]), (IDS[0], IDS[2]), (IDS[1], IDS[2]))}
    assert result["lockout"]["distance"] == 2
    assert result["check"]["approved"] is False
    text = out(
        run("quorum", "simulate", "--quorum", str(current), "--held", IDS[0], "--held", IDS[1])
    )
    assert "signers that must be lost to lock it out: 1" in text


def test_request_writes_the_payload_after_the_plan(current: Path, tmp_path: Path) -> None:
    payload = tmp_path / "p"
    base = ["quorum", "request", "--current", str(current), f"--rotate={IDS[0]}={B64[3]}",
            "--app-id", "app", "--out", str(payload)]  # fmt: skip
    proc = run(*base, "--now", "1800000000000")
    assert proc.returncode == 0, err(proc)
    assert err(proc).startswith("plan for quorum 'q1':")
    obj = parse_body(payload.read_bytes())
    assert obj["method"] == "PATCH"
    assert obj["url"] == "https://api.privy.io/v1/key_quorums/q1"
    assert obj["body"] == {"public_keys": [B64[3], B64[1], B64[2]]}
    assert obj["headers"]["privy-request-expiry"] == str(1800000000000 + 15 * 60 * 1000)
    assert_one_line_error(run(*base, "--expires-in", "72h"), "--intent")
    proc = run(*base, "--intent", "--now", "1800000000000", "--json")
    assert proc.returncode == 0, err(proc)
    expiry = parse_body(payload.read_bytes())["headers"]["privy-request-expiry"]
    assert expiry == str(1800000000000 + 72 * 3600 * 1000)
    assert json.loads(out(proc))["plan"]["refused"] is False
    locked = run(*base, "--held", IDS[3])
    assert locked.returncode == 1
    assert "lockout" in err(locked)


def test_an_intent_is_signed_combined_and_checked_against_the_current_quorum(
    tmp_path: Path,
) -> None:
    holders = {}
    for name in ("alice", "bob", "carol", "dave"):
        holders[name] = keygen(tmp_path / f"{name}.key")
    current = tmp_path / "current.json"
    keys = [{"public_key": holders[n]["public_key"]} for n in ("alice", "bob", "carol")]
    current.write_text(
        json.dumps({"id": "q1", "authorization_threshold": 2, "authorization_keys": keys})
    )
    payload = tmp_path / "intent.payload"
    rotate = f"--rotate={holders['alice']['key_id']}={holders['dave']['public_key']}"
    _ok(run("quorum", "request", "--current", str(current), rotate, "--app-id", "app",
            "--intent", "--out", str(payload)))  # fmt: skip
    sigs = []
    for name in ("bob", "carol"):
        sig = tmp_path / f"{name}.sig"
        sig.write_text(
            _ok(run("sign", "--payload", str(payload), "--key", str(tmp_path / f"{name}.key")))
        )
        sigs.append(str(sig))
    headers = tmp_path / "headers.json"
    members = [f"--public-key={holders[n]['public_key']}" for n in ("alice", "bob", "carol")]
    # combine --intent checks the signatures, the threshold and the intent's lifetime against
    # the current quorum; without --intent the one-hour default refuses the 72-hour expiry.
    combine = ["combine", "--payload", str(payload), *sigs, "--quorum", str(current)]
    assert "combine with --intent" in err(run(*combine))
    headers.write_text(_ok(run(*combine, "--intent", "--json")))
    check = ["quorum", "check", "--current", str(current), "--payload", str(payload),
             "--headers", str(headers)]  # fmt: skip
    approved = _json(run(*check, "--intent", "--json"))
    assert approved["approved"] is True
    assert approved["threshold"] == 2
    default = run(*check)  # the default policy keeps its one-hour lifetime
    assert default.returncode == 1
    assert "expiry" in out(default)
    # Signed by one current member and the incoming key: not the current quorum's approval.
    alone = tmp_path / "dave.sig"
    alone.write_text(
        _ok(run("sign", "--payload", str(payload), "--key", str(tmp_path / "dave.key")))
    )
    mixed = run("combine", "--payload", str(payload), sigs[0], str(alone), *members)
    assert_one_line_error(mixed, "not a member key")
    unchecked = run(
        "combine", "--payload", str(payload), sigs[0], str(alone), "--no-verify", "--json"
    )
    headers.write_text(_ok(unchecked))
    refused = run(*check, "--intent", "--json")
    assert refused.returncode == 1
    assert json.loads(out(refused))["approved"] is False
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"id": "q2", "authorization_keys": keys}))
    assert_one_line_error(
        run("quorum", "check", "--current", str(other), "--payload", str(payload),
            "--headers", str(headers)),
        "not a request on quorum 'q2'",
    )  # fmt: skip


def _ok(proc: Any) -> str:
    assert proc.returncode == 0, (out(proc), err(proc))
    return str(out(proc))


def test_an_overlapping_change_is_refused_by_the_lints_alone(current: Path, tmp_path: Path) -> None:
    nested = tmp_path / "inner.json"
    nested.write_text(json.dumps({"id": "inner", "authorization_keys": [{"public_key": B64[0]}]}))
    proc = run("quorum", "plan", "--current", str(current), "--nested-quorum", str(nested),
               "--key-quorum-id", "inner", "--threshold", "4")  # fmt: skip
    assert proc.returncode == 1
    assert "refuse: overlap:" in out(proc)
    assert "refuse: lockout:" in out(proc)  # alice's key approves one of its two places
    # The lints say it once: no Python warning about the same overlap on stderr.
    assert err(proc).splitlines() == [
        "authsig: refused by lints (lockout, overlap); fix the change or pass --force"
    ]
