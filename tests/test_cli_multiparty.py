"""Multi-party signing with the CLI: three key holders, each in a separate process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_cli import AUTHSIG, URL, assert_one_line_error, err, keygen, out, run

from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import verify_request

BODY = '{"method": "eth_sendTransaction", "params": {"to": "0xabc", "value": "0x10"}}'


def _quorum_file(path: Path, keys: list[str], threshold: int, **extra: Any) -> Path:
    obj: dict[str, Any] = {
        "id": extra.pop("id", "treasury"),
        "display_name": "test quorum",
        "authorization_threshold": threshold,
        "authorization_keys": [{"public_key": k, "display_name": None} for k in keys],
        "user_ids": [],
        "key_quorum_ids": extra.pop("key_quorum_ids", []),
    }
    path.write_text(json.dumps(obj))
    return path


@pytest.fixture
def holders(tmp_path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Three key holders, each with a home directory and a key made by `authsig keygen`."""
    result = []
    for name in ("alice", "bob", "carol"):
        home = tmp_path / name
        home.mkdir()
        key = home / "key"
        result.append((key, keygen(key)))
    return result


def _payload(tmp_path: Path) -> Path:
    target = tmp_path / "request.payload"
    proc = run(
        "payload",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        BODY,
        "--app-id",
        "app-1",
        "--idempotency-key",
        "idem-1",
        "--expires-in",
        "1h",
        "--out",
        str(target),
    )
    assert proc.returncode == 0, err(proc)
    return target


def _sign_in_separate_processes(
    payload: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> list[Path]:
    """Each holder gets its own copy of the payload and signs it in its own process."""
    procs = []
    for key, _ in holders:
        copy = key.parent / "received.payload"
        copy.write_bytes(payload.read_bytes())
        sig_file = key.parent / "signature.txt"
        handle = sig_file.open("wb")
        procs.append(
            (
                subprocess.Popen(
                    [AUTHSIG, "sign", "--payload", str(copy), "--key", str(key)],
                    stdout=handle,
                    stderr=subprocess.PIPE,
                    cwd=key.parent,
                ),
                handle,
                sig_file,
            )
        )
    files = []
    for proc, handle, sig_file in procs:
        _, stderr = proc.communicate(timeout=60)
        handle.close()
        assert proc.returncode == 0, stderr
        files.append(sig_file)
    return files


@pytest.mark.parametrize(("threshold", "signers"), [(2, 2), (2, 3), (3, 3)])
def test_three_holders_combine_and_verify(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]], threshold: int, signers: int
) -> None:
    quorum_path = _quorum_file(
        tmp_path / "q.json", [h[1]["public_key"] for h in holders], threshold
    )
    payload = _payload(tmp_path)
    sig_files = _sign_in_separate_processes(payload, holders[:signers])
    # every holder made a different, single signature
    sigs = [f.read_text().strip() for f in sig_files]
    assert len(set(sigs)) == signers
    assert all("\n" not in s for s in sigs)

    proc = run(
        "combine",
        "--payload",
        str(payload),
        *map(str, sig_files),
        "--quorum",
        str(quorum_path),
        "--json",
    )
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    assert headers["privy-app-id"] == "app-1"
    assert headers["privy-idempotency-key"] == "idem-1"
    assert sorted(headers["privy-authorization-signature"].split(",")) == sorted(sigs)

    # the library verifier approves the assembled request against the quorum
    quorum = KeyQuorum.from_privy(json.loads(quorum_path.read_text()))
    decision = verify_request(
        method="POST", url=URL, body=BODY.encode(), headers=headers, quorum=quorum
    )
    assert decision.approved, decision.to_dict()
    # and so does `authsig verify`
    hfile = tmp_path / "headers.json"
    hfile.write_text(json.dumps(headers))
    proc = run(
        "verify",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        BODY,
        "--headers-json",
        str(hfile),
        "--quorum",
        str(quorum_path),
    )
    assert proc.returncode == 0, out(proc) + err(proc)
    # a tampered body is refused with the same headers
    tampered = BODY.replace("0x10", "0x1000")
    decision = verify_request(
        method="POST", url=URL, body=tampered.encode(), headers=headers, quorum=quorum
    )
    assert not decision.approved


def test_combine_below_threshold_exits_1(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    quorum_path = _quorum_file(tmp_path / "q.json", [h[1]["public_key"] for h in holders], 3)
    payload = _payload(tmp_path)
    sig_files = _sign_in_separate_processes(payload, holders[:2])
    proc = run(
        "combine", "--payload", str(payload), *map(str, sig_files), "--quorum", str(quorum_path)
    )
    assert proc.returncode == 1
    assert "threshold_not_met" in err(proc)
    assert out(proc) == ""


def test_combine_refuses_foreign_and_wrong_payload_signatures(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    members = holders[:2]
    outsider = holders[2]
    quorum_path = _quorum_file(tmp_path / "q.json", [h[1]["public_key"] for h in members], 1)
    payload = _payload(tmp_path)
    sig_files = _sign_in_separate_processes(payload, holders)
    # a signature by a key outside the quorum
    proc = run(
        "combine",
        "--payload",
        str(payload),
        str(sig_files[0]),
        str(sig_files[2]),
        "--quorum",
        str(quorum_path),
    )
    assert_one_line_error(proc, "does not verify")
    # with --public-key instead of a quorum file, the same check applies
    proc = run(
        "combine",
        "--payload",
        str(payload),
        str(sig_files[2]),
        "--public-key",
        members[0][1]["public_key"],
    )
    assert_one_line_error(proc, "does not verify")
    proc = run(
        "combine",
        "--payload",
        str(payload),
        str(sig_files[2]),
        "--public-key",
        outsider[1]["public_key"],
    )
    assert proc.returncode == 0, err(proc)
    # a member's signature over another payload
    other = tmp_path / "other.payload"
    run("payload", "-X", "POST", "--url", URL, "-d", "{}", "--app-id", "app-1", "--out", str(other))
    sig = run("sign", "--payload", str(other), "--key", str(members[0][0]))
    proc = run("combine", "--payload", str(payload), out(sig).strip(), "--quorum", str(quorum_path))
    assert_one_line_error(proc, "does not verify")


def test_combine_rejects_edited_payload_and_garbage_signature(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    payload = _payload(tmp_path)
    sig_files = _sign_in_separate_processes(payload, holders[:1])
    edited = tmp_path / "edited.payload"
    edited.write_bytes(payload.read_bytes().replace(b'{"body"', b'{ "body"'))
    assert_one_line_error(run("combine", "--payload", str(edited), str(sig_files[0])), "canonical")
    assert_one_line_error(run("combine", "--payload", str(payload), "not-base64!"))
    notjson = tmp_path / "x.payload"
    notjson.write_text("hello")
    assert_one_line_error(run("combine", "--payload", str(notjson), str(sig_files[0])))


def test_combine_with_nested_quorum(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    (_, a_info), (_, b_info), (_, c_info) = holders
    nested = _quorum_file(
        tmp_path / "ops.json", [b_info["public_key"], c_info["public_key"]], 2, id="ops"
    )
    top = _quorum_file(
        tmp_path / "top.json", [a_info["public_key"]], 2, id="top", key_quorum_ids=["ops"]
    )
    payload = _payload(tmp_path)
    files = _sign_in_separate_processes(payload, holders)
    args = ["--quorum", str(top), "--nested-quorum", str(nested)]
    # alice + bob: the nested quorum is not complete, so only one member approves
    proc = run("combine", "--payload", str(payload), str(files[0]), str(files[1]), *args)
    assert proc.returncode == 1, err(proc)
    proc = run("combine", "--payload", str(payload), *map(str, files), *args, "--json")
    assert proc.returncode == 0, err(proc)
    assert len(json.loads(out(proc))["privy-authorization-signature"].split(",")) == 3


def test_user_member_keys_from_the_command_line(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    (_, a_info), (_, u_info) = holders[0], holders[1]
    quorum_path = tmp_path / "q.json"
    quorum_path.write_text(
        json.dumps(
            {
                "public_keys": [a_info["public_key"]],
                "user_ids": ["did:privy:user-1"],
                "authorization_threshold": 2,
            }
        )
    )
    payload = _payload(tmp_path)
    files = _sign_in_separate_processes(payload, holders[:2])
    user = ["--user-key", f"did:privy:user-1={u_info['public_key']}"]
    # without the user's key, the user's signature belongs to no known member
    proc = run("combine", "--payload", str(payload), *map(str, files), "--quorum", str(quorum_path))
    assert_one_line_error(proc, "does not verify")
    proc = run(
        "combine",
        "--payload",
        str(payload),
        *map(str, files),
        "--quorum",
        str(quorum_path),
        *user,
        "--json",
    )
    assert proc.returncode == 0, err(proc)
    hfile = tmp_path / "h.json"
    hfile.write_bytes(proc.stdout)
    verify = [
        "verify",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        BODY,
        "--headers-json",
        str(hfile),
        "--quorum",
        str(quorum_path),
    ]
    assert run(*verify, *user).returncode == 0
    assert run(*verify).returncode == 1
    assert_one_line_error(run(*verify, "--user-key", "no-equals-sign"), "--user-key")


def test_combine_refuses_an_expired_payload(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    target = tmp_path / "old.payload"
    proc = run(
        "payload",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        BODY,
        "--app-id",
        "app-1",
        "--expires-in",
        "15m",
        "--now",
        "1700000000000",
        "--out",
        str(target),
    )
    assert proc.returncode == 0, err(proc)
    sig = run("sign", "--payload", str(target), "--key", str(holders[0][0]))
    proc = run("combine", "--payload", str(target), out(sig).strip())
    assert_one_line_error(proc, "expired")
