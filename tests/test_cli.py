"""The ``authsig`` console script, driven in subprocesses."""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authsig.keys import load_private_key


def _script() -> str:
    beside = Path(sys.executable).parent / "authsig"
    if beside.exists():
        return str(beside)
    found = shutil.which("authsig")
    if found is None:
        pytest.skip("the authsig console script is not installed")
    return found


AUTHSIG = _script()
URL = "https://api.privy.io/v1/wallets/w1/rpc"
NOW_MS = 1_700_000_000_000


def run(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None) -> Any:
    # Without stdin, /dev/null: never the terminal pytest may run on (no passphrase prompts).
    data = stdin.encode() if isinstance(stdin, str) else stdin
    feed: dict[str, Any] = {"input": data} if data is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        [AUTHSIG, *args], capture_output=True, timeout=60, cwd=cwd, check=False, **feed
    )


def out(proc: Any) -> str:
    return str(proc.stdout.decode())


def err(proc: Any) -> str:
    return str(proc.stderr.decode())


def assert_one_line_error(proc: Any, fragment: str = "") -> None:
    assert proc.returncode == 2, (out(proc), err(proc))
    text = err(proc)
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("authsig: error: ")
    assert fragment in lines[0]


def keygen(path: Path, *extra: str) -> dict[str, Any]:
    proc = run("keygen", "--out", str(path), "--json", "--no-passphrase", *extra)
    assert proc.returncode == 0, err(proc)
    result: dict[str, Any] = json.loads(out(proc))
    return result


def independent_payload(method: str, url: str, body: Any, headers: dict[str, str]) -> bytes:
    """The Privy payload, built by hand with the third-party rfc8785 package."""
    if body in ({}, []):
        body = ""
    obj = {"version": 1, "method": method, "url": url, "body": body, "headers": headers}
    return bytes(rfc8785.dumps(obj))


def raw_verify(payload: bytes, signature_b64: str, public_b64: str) -> bool:
    key = serialization.load_der_public_key(base64.b64decode(public_b64))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    try:
        key.verify(base64.b64decode(signature_b64), payload, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return False
    return True


# --- keygen ------------------------------------------------------------------------------


def test_keygen_writes_0600_file_and_prints_public_key_only(tmp_path: Path) -> None:
    path = tmp_path / "alice.key"
    proc = run("keygen", "--out", str(path), "--no-passphrase")
    assert proc.returncode == 0, err(proc)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    private = load_private_key(secret)
    text = out(proc) + err(proc)
    assert secret not in text
    assert "PRIVATE" not in text
    assert private.public_key.to_base64() in out(proc)
    assert private.public_key.key_id in out(proc)
    # no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.key"]


def test_keygen_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    result = keygen(path)
    assert set(result) == {"public_key", "key_id", "private_key_file", "encrypted"}
    assert result["encrypted"] is False
    assert result["private_key_file"] == str(path)
    private = load_private_key(path.read_text())
    assert result["public_key"] == private.public_key.to_base64()
    assert result["public_key"].startswith("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
    assert result["key_id"] == private.public_key.key_id


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    keygen(path)
    before = path.read_bytes()
    proc = run("keygen", "--out", str(path))
    assert_one_line_error(proc, "--force")
    assert path.read_bytes() == before
    after = keygen(path, "--force")
    assert path.read_bytes() != before
    assert load_private_key(path.read_text()).public_key.to_base64() == after["public_key"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keygen_needs_a_destination_for_the_private_key() -> None:
    assert_one_line_error(run("keygen"), "--out")


def test_keygen_print_private_key_is_explicit() -> None:
    proc = run("keygen", "--print-private-key", "--no-passphrase")
    assert proc.returncode == 0, err(proc)
    # stdout is the key alone, as its file would hold it; the public key and id go to stderr.
    private = load_private_key(out(proc))
    assert "\n" not in out(proc)
    assert private.public_key.to_base64() in err(proc)
    assert private.public_key.key_id in err(proc)
    proc = run("keygen", "--print-private-key", "--json", "--no-passphrase")
    result = json.loads(out(proc))
    assert result["private_key_file"] is None
    assert load_private_key(result["private_key"]).public_key.to_base64() == result["public_key"]


def test_keygen_print_private_key_excludes_out(tmp_path: Path) -> None:
    proc = run("keygen", "--out", str(tmp_path / "k"), "--print-private-key")
    assert_one_line_error(proc)
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize("fmt", ["privy", "pem", "jwk"])
def test_keygen_formats(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"k.{fmt}"
    result = keygen(path, "--format", fmt)
    text = path.read_text()
    if fmt == "pem":
        assert text.startswith("-----BEGIN PRIVATE KEY-----")
    elif fmt == "jwk":
        assert json.loads(text)["crv"] == "P-256"
    else:
        base64.b64decode(text.strip(), validate=True)
    assert load_private_key(text).public_key.to_base64() == result["public_key"]


# --- pubkey and convert ---------------------------------------------------------------


def test_pubkey_of_private_and_public_files(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    result = keygen(path)
    proc = run("pubkey", str(path))
    assert out(proc).strip() == result["public_key"]
    pem = run("pubkey", str(path), "--format", "pem")
    (tmp_path / "pub.pem").write_bytes(pem.stdout)
    assert out(pem).startswith("-----BEGIN PUBLIC KEY-----")
    again = run("pubkey", str(tmp_path / "pub.pem"), "--json")
    assert json.loads(out(again)) == {
        "public_key": result["public_key"],
        "key_id": result["key_id"],
    }
    stdin = run("pubkey", "-", stdin=path.read_text())
    assert out(stdin).strip() == result["public_key"]


def test_convert_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    result = keygen(path)
    original = load_private_key(path.read_text())
    proc = run(
        "convert", str(path), "--to", "pem", "--out", str(tmp_path / "k.pem"), "--no-passphrase"
    )
    assert proc.returncode == 0, err(proc)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    proc = run(
        "convert",
        str(tmp_path / "k.pem"),
        "--from",
        "pem",
        "--to",
        "jwk",
        "--out",
        str(tmp_path / "k.jwk"),
        "--no-passphrase",
    )
    assert proc.returncode == 0, err(proc)
    jwk = json.loads((tmp_path / "k.jwk").read_text())
    assert "d" in jwk
    proc = run(
        "convert",
        str(tmp_path / "k.jwk"),
        "--to",
        "privy",
        "--print-private-key",
        "--no-passphrase",
    )
    back = load_private_key(out(proc))
    assert back.to_base64() == original.to_base64()
    proc = run("convert", str(tmp_path / "k.jwk"), "--to", "privy", "--public")
    assert out(proc).strip() == result["public_key"]


def test_convert_never_prints_a_private_key_by_default(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    keygen(path)
    proc = run("convert", str(path), "--to", "pem")
    assert_one_line_error(proc, "private key")
    assert out(proc) == ""


def test_convert_checks_from_format(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    keygen(path)
    assert_one_line_error(run("convert", str(path), "--from", "pem", "--to", "jwk", "--public"))


# --- errors and help --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["pubkey", "/nonexistent/key"],
        ["canonicalize", "/nonexistent/file.json"],
        ["sign", "--key", "/nonexistent/key", "-X", "POST", "--url", URL, "--app-id", "a"],
        ["keygen", "--format", "nope", "--out", "x"],
        ["sign", "--payload", "p"],
        ["verify", "-X", "POST"],
        ["nosuchcommand"],
    ],
)
def test_errors_are_one_line_exit_2(args: list[str], tmp_path: Path) -> None:
    assert_one_line_error(run(*args, cwd=tmp_path))


def test_bad_key_file_is_an_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("this is not a key")
    assert_one_line_error(run("pubkey", str(bad)), str(bad))
    proc = run("sign", "--key", str(bad), "-X", "POST", "--url", URL, "--app-id", "a")
    assert_one_line_error(proc, str(bad))


def test_key_errors_name_the_file_and_keep_their_class(tmp_path: Path) -> None:
    from authsig.cli._io import load_any_key, load_private_key_file, load_public_key_arg
    from authsig.errors import KeyFormatError, WrongCurveError

    p384 = tmp_path / "p384.pem"
    p384.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(WrongCurveError) as caught:
        load_private_key_file(str(p384))
    assert caught.value.code == "wrong_curve"
    assert caught.value.message.startswith(f"{p384}: ")
    with pytest.raises(WrongCurveError, match=r"^p384\.pem: "):
        load_any_key(p384.read_text(), "p384.pem")
    with pytest.raises(KeyFormatError) as bad:
        load_any_key("not a key", "bad.key")
    assert type(bad.value) is KeyFormatError
    assert bad.value.code == "invalid_key"
    assert bad.value.message.startswith("bad.key: not a P-256 private or public key (")
    with pytest.raises(KeyFormatError, match="neither a file nor a public key") as bad:
        load_public_key_arg(str(tmp_path / "no-such-file"))
    assert bad.value.code == "invalid_key"


def test_bad_key_error_does_not_echo_key_material(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    keygen(path)
    secret = path.read_text().strip()
    broken = tmp_path / "broken.key"
    broken.write_text(secret[:-8] + "!!!!" + secret[-4:])
    proc = run("pubkey", str(broken))
    assert_one_line_error(proc)
    assert secret[20:60] not in err(proc)


def test_bad_json_inputs(tmp_path: Path) -> None:
    assert_one_line_error(run("canonicalize", stdin="{not json"))
    assert_one_line_error(run("canonicalize", stdin='{"a": NaN}'))
    assert_one_line_error(run("canonicalize", stdin=""))
    key = tmp_path / "k.key"
    keygen(key)
    proc = run(
        "sign", "--key", str(key), "-X", "POST", "--url", URL, "--app-id", "a", "-d", "{oops"
    )
    assert_one_line_error(proc)


# Every command the CLI offers, in the order `authsig --help` lists them. A command that
# disappears (say, a command module no longer registered) fails the test below.
COMMANDS = [
    "keygen",
    "pubkey",
    "convert",
    "sign",
    "payload",
    "combine",
    "verify",
    "explain",
    "quorum",
    "canonicalize",
    "vectors",
    "demo",
    "privy",
    "cobo",
    "httpsig",
    "turnkey",
]


def test_registered_commands_are_pinned() -> None:
    import argparse

    from authsig.cli import build_parser

    parser = build_parser()
    # argparse has no public accessor for the subcommands; the choices of its action are them.
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(action.choices) == COMMANDS
    for name, sub in action.choices.items():
        assert callable(sub.get_default("func")), name
    # the command list of `authsig --help`: 4-space indented names (wrapped summaries indent more)
    lines = parser.format_help().splitlines()
    listed = [line.split()[0] for line in lines if line.startswith(" " * 4) and line[4] != " "]
    assert listed == COMMANDS


def test_python_m_authsig_is_the_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "authsig", "--help"], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, err(proc)
    assert out(proc).startswith("usage: authsig ")
    assert proc.stdout == run("--help").stdout
    bad = subprocess.run(
        [sys.executable, "-m", "authsig", "no-such-command"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert_one_line_error(bad, "invalid choice: 'no-such-command'")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere_with_examples(command: str | None) -> None:
    proc = run(*([command] if command else []), "--help")
    assert proc.returncode == 0
    assert "examples:" in out(proc)
    assert "usage: authsig" in out(proc)


def test_duration_parsing() -> None:
    from datetime import timedelta

    from authsig.cli import CLIError, parse_duration

    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("45") == timedelta(seconds=45)
    assert parse_duration("none") is None
    with pytest.raises(CLIError):
        parse_duration("15 minutes")
    with pytest.raises(CLIError):
        parse_duration("-1m")


# --- canonicalize ------------------------------------------------------------------------


def test_canonicalize_matches_rfc8785(tmp_path: Path) -> None:
    doc = '{"b": [1.0, 1e-7, 1e21, "\\u00e9", true, null], "a": {"z": 0.5, "\\u20ac": -0.0}}'
    expected = rfc8785.dumps(json.loads(doc))
    assert run("canonicalize", stdin=doc).stdout == expected
    (tmp_path / "d.json").write_text(doc)
    proc = run("canonicalize", str(tmp_path / "d.json"), "--newline")
    assert proc.stdout == expected + b"\n"


def test_canonicalize_canonicaljson_profile() -> None:
    import canonicaljson

    doc = '{"b": 2.0, "a": 1e-7}'
    proc = run("canonicalize", "--profile", "canonicaljson", stdin=doc)
    assert proc.stdout == canonicaljson.encode_canonical_json(json.loads(doc))
    assert proc.stdout != rfc8785.dumps(json.loads(doc))


# --- sign, payload, verify, explain -----------------------------------------------------


def test_sign_headers_verify_independently(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    ka, kb = keygen(a), keygen(b)
    body = '{"method": "eth_signTransaction", "params": {"value": "0x1"}}'
    proc = run(
        "sign",
        "--key",
        str(a),
        "--key",
        str(b),
        "-X",
        "post",
        "--url",
        URL,
        "-d",
        body,
        "--app-id",
        "app-1",
        "--idempotency-key",
        "idem-9",
        "--expires-in",
        "15m",
        "--now",
        str(NOW_MS),
        "--json",
    )
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    assert headers["privy-app-id"] == "app-1"
    assert headers["privy-idempotency-key"] == "idem-9"
    assert headers["privy-request-expiry"] == str(NOW_MS + 15 * 60 * 1000)
    payload = independent_payload(
        "POST",
        URL,
        json.loads(body),
        {
            "privy-app-id": "app-1",
            "privy-idempotency-key": "idem-9",
            "privy-request-expiry": str(NOW_MS + 900_000),
        },
    )
    sigs = headers["privy-authorization-signature"].split(",")
    assert len(sigs) == 2
    assert raw_verify(payload, sigs[0], ka["public_key"])
    assert raw_verify(payload, sigs[1], kb["public_key"])
    assert not raw_verify(payload + b" ", sigs[0], ka["public_key"])


def test_sign_plain_and_curl_output(tmp_path: Path) -> None:
    key = tmp_path / "a.key"
    keygen(key)
    body = tmp_path / "body.json"
    body.write_text('{"x": 1}')
    proc = run(
        "sign",
        "--key",
        str(key),
        "-X",
        "POST",
        "--url",
        URL,
        "--body",
        str(body),
        "--app-id",
        "app-1",
        "--expires-in",
        "none",
    )
    lines = out(proc).splitlines()
    names = [line.split(":", 1)[0] for line in lines]
    assert names == ["privy-app-id", "privy-authorization-signature"] or sorted(names) == sorted(
        ["privy-app-id", "privy-authorization-signature"]
    )
    proc = run(
        "sign",
        "--key",
        str(key),
        "-X",
        "POST",
        "--url",
        URL,
        "--body",
        str(body),
        "--app-id",
        "app-1",
        "--curl",
    )
    text = out(proc)
    assert text.startswith("curl -X POST")
    assert "privy-authorization-signature: " in text
    assert "privy-request-expiry: " in text
    assert f"@{body}" in text


def test_sign_body_from_stdin(tmp_path: Path) -> None:
    key = tmp_path / "a.key"
    info = keygen(key)
    proc = run(
        "sign",
        "--key",
        str(key),
        "-X",
        "PUT",
        "--url",
        URL,
        "--body",
        "-",
        "--app-id",
        "app-1",
        "--expires-in",
        "none",
        "--json",
        stdin='{"k": [1, 2]}',
    )
    headers = json.loads(out(proc))
    payload = independent_payload("PUT", URL, {"k": [1, 2]}, {"privy-app-id": "app-1"})
    assert raw_verify(payload, headers["privy-authorization-signature"], info["public_key"])


def test_payload_file_is_the_canonical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "request.payload"
    proc = run(
        "payload",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        '{"b": 1, "a": {}}',
        "--app-id",
        "app-1",
        "--expires-in",
        "1h",
        "--now",
        str(NOW_MS),
        "--out",
        str(target),
    )
    assert proc.returncode == 0, err(proc)
    expected = independent_payload(
        "POST",
        URL,
        {"b": 1, "a": {}},
        {"privy-app-id": "app-1", "privy-request-expiry": str(NOW_MS + 3_600_000)},
    )
    assert target.read_bytes() == expected
    # empty body {} is signed as "" by default
    proc = run(
        "payload", "-X", "DELETE", "--url", URL, "-d", "{}", "--app-id", "x", "--expires-in", "none"
    )
    assert proc.stdout == independent_payload("DELETE", URL, "", {"privy-app-id": "x"})


def test_sign_payload_file_prints_one_signature(tmp_path: Path) -> None:
    key = tmp_path / "a.key"
    info = keygen(key)
    target = tmp_path / "p"
    run("payload", "-X", "POST", "--url", URL, "-d", "{}", "--app-id", "a", "--out", str(target))
    proc = run("sign", "--payload", str(target), "--key", str(key))
    assert proc.returncode == 0, err(proc)
    lines = out(proc).splitlines()
    assert len(lines) == 1
    signature, key_id = lines[0].split(" ")
    assert key_id == info["key_id"]
    assert raw_verify(target.read_bytes(), signature, info["public_key"])


def _sign_json(key: Path, body: str, *extra: str) -> dict[str, str]:
    proc = run(
        "sign",
        "--key",
        str(key),
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        body,
        "--app-id",
        "app-1",
        "--json",
        *extra,
    )
    assert proc.returncode == 0, err(proc)
    result: dict[str, str] = json.loads(out(proc))
    return result


def test_sign_then_verify_round_trip(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    ka, kb = keygen(a), keygen(b)
    body = '{"amount": "10"}'
    headers_file = tmp_path / "headers.json"
    headers_file.write_text(json.dumps(_sign_json(a, body)))
    common = ["-X", "POST", "--url", URL, "-d", body, "--headers-json", str(headers_file)]
    # alice alone is enough for a 1-of-2 ...
    proc = run(
        "verify",
        *common,
        "--public-key",
        ka["public_key"],
        "--public-key",
        str(b),
        "--threshold",
        "1",
    )
    assert proc.returncode == 0, out(proc) + err(proc)
    assert out(proc).startswith("approved")
    # ... but not for a 2-of-2
    proc = run("verify", *common, "--public-key", str(a), "--public-key", kb["public_key"])
    assert proc.returncode == 1
    assert out(proc).startswith("refused")
    assert "threshold_not_met" in out(proc)
    # --json gives the decision
    proc = run("verify", *common, "--public-key", str(a), "--json")
    decision = json.loads(out(proc))
    assert decision["approved"] is True
    assert decision["reason"] == "approved"


def test_verify_with_quorum_file_and_header_flags(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    ka, kb = keygen(a), keygen(b)
    quorum = tmp_path / "quorum.json"
    quorum.write_text(
        json.dumps(
            {
                "id": "q1",
                "display_name": "two of two",
                "authorization_threshold": 2,
                "authorization_keys": [
                    {"public_key": ka["public_key"], "display_name": "a"},
                    {"public_key": kb["public_key"], "display_name": "b"},
                ],
                "user_ids": [],
                "key_quorum_ids": [],
            }
        )
    )
    body = '{"x": 1}'
    headers = _sign_json(a, body, "--key", str(b))
    flags = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    proc = run("verify", "-X", "POST", "--url", URL, "-d", body, *flags, "--quorum", str(quorum))
    assert proc.returncode == 0, out(proc) + err(proc)
    # tampered body: refused with 401 invalid_signature
    proc = run(
        "verify", "-X", "POST", "--url", URL, "-d", '{"x": 2}', *flags, "--quorum", str(quorum)
    )
    assert proc.returncode == 1
    assert "invalid_signature" in out(proc)


def test_verify_expiry_uses_now(tmp_path: Path) -> None:
    a = tmp_path / "a.key"
    keygen(a)
    headers = _sign_json(a, "{}", "--now", str(NOW_MS), "--expires-in", "15m")
    hfile = tmp_path / "h.json"
    hfile.write_text(json.dumps(headers))
    common = [
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        "{}",
        "--headers-json",
        str(hfile),
        "--public-key",
        str(a),
    ]
    assert run("verify", *common, "--now", str(NOW_MS + 60_000)).returncode == 0
    late = run("verify", *common, "--now", str(NOW_MS + 3_600_000))
    assert late.returncode == 1
    assert "expired" in out(late)
    # The code Privy's API answers for the same refusal, to match against its logs.
    assert "privy code: request_expired" in out(late).splitlines()
    explained = run("explain", *common, "--now", str(NOW_MS + 3_600_000))
    assert "Privy would answer request_expired" in out(explained).splitlines()[0]


def test_verify_input_errors_exit_2(tmp_path: Path) -> None:
    a = tmp_path / "a.key"
    keygen(a)
    base = ["verify", "-X", "POST", "--url", URL, "-d", "{}"]
    assert_one_line_error(run(*base, "-H", "privy-app-id: a"), "--quorum")
    assert_one_line_error(run(*base, "-H", "no colon here", "--public-key", str(a)))
    assert_one_line_error(run(*base, "--public-key", "not-a-key"))
    bad = tmp_path / "q.json"
    bad.write_text("[1, 2")
    assert_one_line_error(run(*base, "--quorum", str(bad)), str(bad))


def test_explain_reports_a_near_miss(tmp_path: Path) -> None:
    a = tmp_path / "a.key"
    keygen(a)
    # signed with a trailing slash, sent without
    proc = run(
        "sign",
        "--key",
        str(a),
        "-X",
        "POST",
        "--url",
        URL + "/",
        "--any-url",  # the mistake, on purpose
        "-d",
        '{"x": 1}',
        "--app-id",
        "app-1",
        "--json",
    )
    hfile = tmp_path / "h.json"
    hfile.write_bytes(proc.stdout)
    proc = run(
        "explain",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        '{"x": 1}',
        "--headers-json",
        str(hfile),
        "--public-key",
        str(a),
    )
    assert proc.returncode == 1
    assert "slash" in out(proc).lower()
    ok = run(
        "explain",
        "-X",
        "POST",
        "--url",
        URL + "/",
        "-d",
        '{"x": 1}',
        "--headers-json",
        str(hfile),
        "--public-key",
        str(a),
    )
    assert ok.returncode == 0, out(ok) + err(ok)


def test_explain_json_and_extra_header(tmp_path: Path) -> None:
    a = tmp_path / "a.key"
    keygen(a)
    # signed with an idempotency key that the client then did not send
    headers = _sign_json(a, '{"x": 1}', "--idempotency-key", "idem-7")
    sent = {k: v for k, v in headers.items() if k != "privy-idempotency-key"}
    hfile = tmp_path / "h.json"
    hfile.write_text(json.dumps(sent))
    base = [
        "explain",
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        '{"x": 1}',
        "--headers-json",
        str(hfile),
        "--public-key",
        str(a),
    ]
    proc = run(*base, "--json")
    assert proc.returncode == 1
    report = json.loads(out(proc))
    assert report["decision"]["approved"] is False
    proc = run(*base, "--extra-header", "privy-idempotency-key: idem-7", "--json")
    report = json.loads(out(proc))
    statuses = [s["status"] for s in report["signatures"]]
    assert statuses == ["near_miss"], report


# --- vectors -----------------------------------------------------------------------------


VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def test_vectors_check(tmp_path: Path) -> None:
    target = tmp_path / "vectors"
    shutil.copytree(VECTORS, target)
    total = sum(len(json.loads(p.read_text())["cases"]) for p in target.glob("*.json"))
    proc = run("vectors", "check", str(target))
    assert proc.returncode == 0, out(proc) + err(proc)
    assert out(proc) == f"{total} passed, 0 failed, {total} total\n"
    # a missing vector file is a failure
    victim = target / "quorum.json"
    victim.unlink()
    proc = run("vectors", "check", str(target), "--json")
    assert proc.returncode == 1
    result = json.loads(out(proc))
    assert result["ok"] is False
    assert any(victim.name in failure for failure in result["failed"])
    assert_one_line_error(run("vectors", "check", str(tmp_path / "nope")))
    assert_one_line_error(run("vectors", "check"), "authsig vectors check DIR")


def test_vectors_generate_is_not_in_the_package(tmp_path: Path) -> None:
    """The generator lives in tools/vectors of the source repository, outside the wheel."""
    target = tmp_path / "out"
    for args in (("vectors", "generate", str(target)), ("vectors", "generate")):
        assert_one_line_error(run(*args), "tools/vectors in the source repository")
    assert not target.exists()


def test_no_command_and_missing_directory(tmp_path: Path) -> None:
    proc = run()
    assert proc.returncode == 2
    assert "usage: authsig" in err(proc)
    assert_one_line_error(run("keygen", "--out", str(tmp_path / "missing" / "k")), "directory")


def test_deterministic_curl_output_matches_json(tmp_path: Path) -> None:
    import shlex

    key = tmp_path / "a.key"
    keygen(key)
    common = [
        "sign",
        "--key",
        str(key),
        "-X",
        "POST",
        "--url",
        URL,
        "-d",
        '{"a": "it\'s"}',
        "--app-id",
        "app-1",
        "--now",
        str(NOW_MS),
        "--deterministic",
    ]
    headers = json.loads(out(run(*common, "--json")))
    words = shlex.split(out(run(*common, "--curl")).replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", URL]
    sent = dict(words[i + 1].split(": ", 1) for i in range(len(words)) if words[i] == "-H")
    assert sent.pop("content-type") == "application/json"
    assert sent == headers
    assert words[words.index("--data-binary") + 1] == '{"a": "it\'s"}'


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [("--idempotency-key", "", "must not be empty"), ("--expires-in", "0s", "must be positive")],
)
@pytest.mark.parametrize("command", ["sign", "payload"])
def test_request_options_are_usage_errors_not_internal_errors(
    tmp_path: Path, command: str, option: str, value: str, says: str
) -> None:
    key = tmp_path / "k.key"
    keygen = [sys.executable, "-m", "authsig", "keygen", "--out", str(key), "--no-passphrase"]
    subprocess.run(keygen, capture_output=True, check=True)
    argv = [command, "-X", "POST", "--url", "https://api.privy.io/v1/x", "-d", "{}"]
    argv += ["--app-id", "a", option, value]
    if command == "sign":
        argv += ["--key", str(key)]
    result = subprocess.run(
        [sys.executable, "-m", "authsig", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert "internal error" not in result.stderr
