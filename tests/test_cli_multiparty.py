"""Multi-party signing with the CLI: three key holders, each in a separate process."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_cli import AUTHSIG, URL, assert_one_line_error, err, keygen, out, run

from authsig.keys import load_private_key
from authsig.policy import INTENT_POLICY
from authsig.privy.quorum import KeyQuorum
from authsig.privy.verifier import verify_request
from authsig.signatures import sign

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


def _payload(tmp_path: Path, expires_in: str = "1h") -> Path:
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
        expires_in,
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
    # every holder made a different, single signature, and named their key
    lines = [f.read_text().strip().split(" ") for f in sig_files]
    assert [key_id for _, key_id in lines] == [h[1]["key_id"] for h in holders[:signers]]
    sigs = [sig for sig, _ in lines]
    assert len(set(sigs)) == signers

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
    assert_one_line_error(proc, "which is not a member key")
    # with --public-key instead of a quorum file, the same check applies
    proc = run(
        "combine",
        "--payload",
        str(payload),
        str(sig_files[2]),
        "--public-key",
        members[0][1]["public_key"],
    )
    assert_one_line_error(proc, "which is not a member key")
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
    member = ["--public-key", holders[0][1]["public_key"]]
    assert_one_line_error(
        run("combine", "--payload", str(edited), str(sig_files[0]), *member), "canonical"
    )
    assert_one_line_error(run("combine", "--payload", str(payload), "not-base64!", *member))
    notjson = tmp_path / "x.payload"
    notjson.write_text("hello")
    assert_one_line_error(run("combine", "--payload", str(notjson), str(sig_files[0]), *member))


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
    assert_one_line_error(proc, "which is not a member key")
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
    # the signer is shown the request and refuses to sign it
    sig = run("sign", "--payload", str(target), "--key", str(holders[0][0]))
    assert sig.returncode == 2
    assert out(sig) == ""
    assert err(sig).splitlines()[-1].startswith("authsig: error: ")
    assert "expired" in err(sig).splitlines()[-1]
    assert "2023-11-14 22:28:20 UTC" in err(sig)  # the expiry, in the summary
    # and combine refuses it too (a signature made elsewhere)
    payload = target.read_bytes()
    signature = sign(payload, load_private_key(holders[0][0].read_text()))
    proc = run("combine", "--payload", str(target), signature, "--no-verify")
    assert_one_line_error(proc, "expired")


def test_combine_needs_member_keys_unless_told_not_to_check(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    payload = _payload(tmp_path)
    [sig_file] = _sign_in_separate_processes(payload, holders[:1])
    # an edited payload, re-canonicalized: only the member key tells it from the signed one
    edited = tmp_path / "edited.payload"
    edited.write_bytes(payload.read_bytes().replace(b"0x10", b"0x99"))
    proc = run("combine", "--payload", str(edited), str(sig_file))
    assert_one_line_error(proc, "--quorum FILE or --public-key KEY")
    proc = run(
        "combine", "--payload", str(edited), str(sig_file), "--public-key", str(holders[0][0])
    )
    assert_one_line_error(proc, "does not verify")
    # --no-verify assembles unchecked headers, and says so
    proc = run("combine", "--payload", str(payload), str(sig_file), "--no-verify", "--json")
    assert proc.returncode == 0, err(proc)
    assert "not checked" in err(proc)
    assert (
        json.loads(out(proc))["privy-authorization-signature"] == (sig_file.read_text().split()[0])
    )
    key = ["--public-key", holders[0][1]["public_key"]]
    assert_one_line_error(
        run("combine", "--payload", str(payload), str(sig_file), *key, "--no-verify"),
        "--no-verify",
    )


def test_combine_intent_accepts_a_72_hour_expiry_only_when_asked(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    quorum_path = _quorum_file(tmp_path / "q.json", [h[1]["public_key"] for h in holders], 2)
    payload = _payload(tmp_path, expires_in="72h")
    sig_files = _sign_in_separate_processes(payload, holders[:2])
    combine = ["combine", "--payload", str(payload), *map(str, sig_files)]
    # the default policy's one-hour lifetime refuses it, and says how to accept an intent
    refused = run(*combine, "--quorum", str(quorum_path))
    assert refused.returncode == 1
    assert out(refused) == ""
    assert "refused: expiry_too_far" in err(refused)
    assert "combine with --intent" in err(refused)
    # --intent verifies under the intent policy: the same signatures now pass
    proc = run(*combine, "--quorum", str(quorum_path), "--intent", "--json")
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    assert sorted(headers["privy-authorization-signature"].split(",")) == sorted(
        f.read_text().split()[0] for f in sig_files
    )
    # and the library verifier agrees, under the intent policy only
    quorum = KeyQuorum.from_privy(json.loads(quorum_path.read_text()))
    request = {"method": "POST", "url": URL, "body": BODY.encode(), "headers": headers}
    assert verify_request(**request, quorum=quorum, policy=INTENT_POLICY).approved
    assert verify_request(**request, quorum=quorum).reason == "expiry_too_far"
    # --intent still counts: one signature is below the threshold
    below = run(*combine[:-1], "--quorum", str(quorum_path), "--intent")
    assert below.returncode == 1
    assert "threshold_not_met" in err(below)
    assert "--intent" not in err(below)
    # only the quorum check looks at the expiry, so --intent without --quorum is a mistake
    members = [a for h in holders for a in ("--public-key", h[1]["public_key"])]
    assert_one_line_error(run(*combine, *members, "--intent"), "--intent goes with --quorum")


def test_signature_files_name_their_key_and_old_files_still_read(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    payload = _payload(tmp_path)
    files = _sign_in_separate_processes(payload, holders[:2])
    (a_sig, a_id), (b_sig, b_id) = (f.read_text().split() for f in files)
    members = [a for h in holders[:2] for a in ("--public-key", h[1]["public_key"])]
    # a file without key ids (one bare signature per line, as before) still reads
    old = tmp_path / "old.sig"
    old.write_text(f"{a_sig}\n{b_sig}\n")
    proc = run("combine", "--payload", str(payload), str(old), *members, "--json")
    assert proc.returncode == 0, err(proc)
    # a signature claiming the other member's key is caught, with both key ids named
    swapped = tmp_path / "swapped.sig"
    swapped.write_text(f"{a_sig} {b_id}\n")
    proc = run("combine", "--payload", str(payload), str(swapped), *members)
    assert_one_line_error(proc, f"with its key {b_id}")
    outsider = holders[2][1]["key_id"]
    swapped.write_text(f"{a_sig} {outsider}\n")
    proc = run("combine", "--payload", str(payload), str(swapped), *members)
    assert_one_line_error(proc, f"by key {outsider}, which is not a member key")
    swapped.write_text(f"{a_sig} {a_id} extra\n")
    assert_one_line_error(run("combine", "--payload", str(payload), str(swapped), *members))


def test_sign_payload_shows_the_request_before_signing(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    payload = _payload(tmp_path)
    proc = run("sign", "--payload", str(payload), "--key", str(holders[0][0]))
    assert proc.returncode == 0, err(proc)
    text = err(proc)
    canonical = json.dumps(json.loads(BODY), separators=(",", ":"), sort_keys=True)
    assert f"POST {URL}" in text
    assert "app id:          app-1" in text
    assert "idempotency key: idem-1" in text
    assert f"sha256 {hashlib.sha256(canonical.encode()).hexdigest()}" in text
    assert canonical[:40] in text
    assert re.search(r"expires: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (59|60)m", text)
    assert out(proc).count("\n") == 1  # stdout holds the signature line only


def test_sign_payload_escapes_control_characters_in_the_summary(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]]
) -> None:
    target = tmp_path / "p"
    body = json.dumps({"note": "\x1b[2J\x1b]0;owned\x07 \u202e"})
    proc = run(
        "payload", "-X", "POST", "--url", URL, "-d", body, "--app-id", "a", "--out", str(target)
    )
    assert proc.returncode == 0, err(proc)
    proc = run("sign", "--payload", str(target), "--key", str(holders[0][0]))
    assert proc.returncode == 0, err(proc)
    assert "\x1b" not in err(proc)
    assert "\u202e" not in err(proc)
    assert "\\u001b[2J" in err(proc)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/v1/wallets/w1/rpc", "not absolute"),
        ("ftp://api.privy.io/v1/wallets", "scheme"),
        ("https://api.privy.io/v1/wallets/", "slash"),
        ("https://api.privy.io/v1/wallets#x", "fragment"),
        ("api.privy.io/v1/wallets", "not absolute"),
    ],
)
def test_sign_and_payload_check_the_url(tmp_path: Path, url: str, problem: str) -> None:
    key = tmp_path / "k"
    keygen(key)
    request = ["-X", "POST", "--url", url, "-d", "{}", "--app-id", "a"]
    for argv in (["sign", "--key", str(key), *request], ["payload", *request]):
        proc = run(*argv)
        assert_one_line_error(proc, problem)
        assert "--any-url" in err(proc)
        assert run(*argv, "--any-url").returncode == 0


@pytest.mark.parametrize("expiry", ["soon", "99999999999999999", "1700000000"])
def test_sign_payload_with_a_bad_expiry_is_an_input_error(
    tmp_path: Path, holders: list[tuple[Path, dict[str, Any]]], expiry: str
) -> None:
    from authsig.privy.payload import signing_payload

    target = tmp_path / "p"
    headers = {"privy-app-id": "a", "privy-request-expiry": expiry}
    target.write_bytes(signing_payload(method="POST", url=URL, body=None, headers=headers))
    proc = run("sign", "--payload", str(target), "--key", str(holders[0][0]))
    assert proc.returncode == 2
    assert out(proc) == ""
    last = err(proc).splitlines()[-1]
    assert last.startswith("authsig: error: ")
    assert "internal error" not in err(proc)
    assert f"expires:         {expiry}" in err(proc) or "UTC" in err(proc)
