"""Encrypted key files on the command line: keygen, convert, pubkey and sign, with the
passphrase from --passphrase-file, $AUTHSIG_PASSPHRASE or a prompt on a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from test_cli import AUTHSIG, URL, assert_one_line_error, err, out

from authsig.errors import EncryptedKeyError
from authsig.keys import PrivateKey, generate_private_key, load_private_key
from authsig.privy import KeyQuorum, verify_request

PASSPHRASE = "tr0ub4dor&3 plus some"
BODY = '{"method":"eth_sendTransaction","params":{"to":"0xabc"}}'
REQUEST = ["-X", "POST", "--url", URL, "-d", BODY, "--app-id", "app-cli"]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    """The console script with stdin on /dev/null (so never a prompt) and a clean passphrase
    environment unless ``env`` sets one."""
    base = {k: v for k, v in os.environ.items() if k != "AUTHSIG_PASSPHRASE"}
    return subprocess.run(
        [AUTHSIG, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
        env={**base, **(env or {})},
    )


def _no_secret(proc: Any, *secrets: str) -> None:
    text = out(proc) + err(proc)
    for secret in (PASSPHRASE, *secrets):
        assert secret not in text


def _passfile(tmp_path: Path, text: str = PASSPHRASE + "\n", name: str = "pass.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _approved(headers: dict[str, str], key: PrivateKey) -> bool:
    quorum = KeyQuorum(public_keys=(key.public_key,))
    return verify_request(
        method="POST", url=URL, body=BODY, headers=headers, quorum=quorum
    ).approved


def test_keygen_encrypts_by_default_and_needs_a_passphrase(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    proc = run("keygen", "--out", str(key))
    assert_one_line_error(proc, "--no-passphrase")
    assert "AUTHSIG_PASSPHRASE" in err(proc)
    assert not key.exists()
    proc = run("keygen", "--out", str(key), "--passphrase-file", str(_passfile(tmp_path)))
    assert proc.returncode == 0, err(proc)
    assert "encrypted" in out(proc)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text()
    assert not text.endswith("\n")
    private = load_private_key(text, passphrase=PASSPHRASE)
    assert private.public_key.to_base64() in out(proc)
    _no_secret(proc, text[:40])


def test_keygen_formats_encrypted(tmp_path: Path) -> None:
    passfile = str(_passfile(tmp_path))
    pem = tmp_path / "a.pem"
    proc = run("keygen", "--out", str(pem), "--format", "pem", "--passphrase-file", passfile)
    assert proc.returncode == 0, err(proc)
    assert pem.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    proc = run("keygen", "--out", str(tmp_path / "a.jwk"), "--format", "jwk", "--json")
    assert_one_line_error(proc, "a JWK cannot be encrypted")
    proc = run(
        "keygen", "--out", str(tmp_path / "b"), "--no-passphrase", "--passphrase-file", passfile
    )
    assert_one_line_error(proc, "exclude each other")


def test_keygen_printed_key_loads_back_as_it_is(tmp_path: Path) -> None:
    env = {"AUTHSIG_PASSPHRASE": PASSPHRASE}
    proc = run("keygen", "--print-private-key", "--format", "pem", env=env)
    assert proc.returncode == 0, err(proc)
    private = load_private_key(out(proc), passphrase=PASSPHRASE)
    assert out(proc).startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert private.public_key.to_base64() in err(proc)
    assert private.key_id in err(proc)
    proc = run("keygen", "--print-private-key", "--json", env=env)
    result = json.loads(out(proc))
    assert result["encrypted"] is True
    private = load_private_key(result["private_key"], passphrase=PASSPHRASE)
    assert private.public_key.to_base64() == result["public_key"]


def test_passphrase_sources_for_reading(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    assert run("keygen", "--out", str(key), env={"AUTHSIG_PASSPHRASE": PASSPHRASE}).returncode == 0
    public = load_private_key(key.read_text(), passphrase=PASSPHRASE).public_key.to_base64()
    # The file's final newline is not part of the passphrase (as step reads --password-file).
    for passfile in (_passfile(tmp_path), _passfile(tmp_path, PASSPHRASE + "\r\n", "crlf.txt")):
        proc = run("pubkey", str(key), "--passphrase-file", str(passfile))
        assert out(proc).strip() == public, err(proc)
    proc = run("pubkey", str(key), env={"AUTHSIG_PASSPHRASE": PASSPHRASE})
    assert out(proc).strip() == public
    # --passphrase-file wins over the environment.
    proc = run(
        "pubkey",
        str(key),
        "--passphrase-file",
        str(_passfile(tmp_path)),
        env={"AUTHSIG_PASSPHRASE": "not it"},
    )
    assert out(proc).strip() == public


def test_missing_and_wrong_passphrases_are_typed_errors(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    run("keygen", "--out", str(key), env={"AUTHSIG_PASSPHRASE": PASSPHRASE})
    proc = run("pubkey", str(key))
    assert_one_line_error(proc, f"{key}: the private key is encrypted")
    assert "--passphrase-file" in err(proc)
    proc = run("sign", "--key", str(key), *REQUEST, env={"AUTHSIG_PASSPHRASE": "guess"})
    assert_one_line_error(proc, "wrong passphrase")
    _no_secret(proc, "guess")
    # A passphrase given where its file goes is not repeated.
    proc = run("sign", "--key", str(key), *REQUEST, "--passphrase-file", PASSPHRASE)
    assert_one_line_error(proc, "--passphrase-file: cannot read the file")
    _no_secret(proc)
    proc = run("pubkey", str(key), "--passphrase-file", str(_passfile(tmp_path, "\n", "empty")))
    assert_one_line_error(proc, "empty")


def test_sign_with_an_encrypted_key(tmp_path: Path) -> None:
    key = tmp_path / "alice.pem"
    passfile = str(_passfile(tmp_path))
    run("keygen", "--out", str(key), "--format", "pem", "--passphrase-file", passfile)
    private = load_private_key(key.read_text(), passphrase=PASSPHRASE)
    proc = run("sign", "--key", str(key), *REQUEST, "--json", "--passphrase-file", passfile)
    assert proc.returncode == 0, err(proc)
    assert _approved(json.loads(out(proc)), private)
    payload = tmp_path / "request.payload"
    assert run("payload", *REQUEST, "--expires-in", "1h", "--out", str(payload)).returncode == 0
    proc = run("sign", "--payload", str(payload), "--key", str(key), "--passphrase-file", passfile)
    assert proc.returncode == 0, err(proc)
    signature = out(proc).split()[0]  # "SIGNATURE KEY_ID"
    combined = run(
        "combine",
        "--payload",
        str(payload),
        signature,
        "--public-key",
        str(key),
        "--json",
        env={"AUTHSIG_PASSPHRASE": PASSPHRASE},
    )
    assert combined.returncode == 0, err(combined)
    assert _approved(json.loads(out(combined)), private)


def test_convert_adds_changes_and_removes_encryption(tmp_path: Path) -> None:
    passfile, newfile = _passfile(tmp_path), _passfile(tmp_path, "another one\n", "new.txt")
    plain = tmp_path / "plain.key"
    assert run("keygen", "--out", str(plain), "--no-passphrase").returncode == 0
    original = load_private_key(plain.read_text())

    def convert(src: Path, dst: str, *extra: str) -> Path:
        proc = run("convert", str(src), "--out", str(tmp_path / dst), *extra)
        assert proc.returncode == 0, err(proc)
        _no_secret(proc, "another one")
        return tmp_path / dst

    # Adding encryption: the private output is encrypted unless --no-passphrase.
    assert_one_line_error(run("convert", str(plain), "--to", "pem", "--out", str(tmp_path / "x")))
    encrypted = convert(plain, "enc.pem", "--to", "pem", "--passphrase-file", str(passfile))
    assert encrypted.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_key(encrypted.read_text(), passphrase=PASSPHRASE) == original
    # Changing the format keeps the encryption and its passphrase.
    same = convert(encrypted, "enc.key", "--to", "privy", "--passphrase-file", str(passfile))
    assert load_private_key(same.read_text(), passphrase=PASSPHRASE) == original
    # Changing the passphrase.
    changed = convert(
        encrypted,
        "new.pem",
        "--to",
        "pem",
        "--passphrase-file",
        str(passfile),
        "--new-passphrase-file",
        str(newfile),
    )
    assert load_private_key(changed.read_text(), passphrase="another one") == original
    # Removing it.
    back = convert(
        changed, "back.key", "--to", "privy", "--no-passphrase", "--passphrase-file", str(newfile)
    )
    assert back.read_text() == original.to_base64()
    # Printing: the printed key loads back as it is.
    proc = run(
        "convert",
        str(encrypted),
        "--to",
        "privy",
        "--print-private-key",
        "--passphrase-file",
        str(passfile),
    )
    assert load_private_key(out(proc), passphrase=PASSPHRASE) == original
    # The public half needs the passphrase to read an encrypted key, and no output one.
    proc = run(
        "convert", str(encrypted), "--to", "jwk", "--public", env={"AUTHSIG_PASSPHRASE": PASSPHRASE}
    )
    assert json.loads(out(proc)) == original.public_key.to_jwk()


# --- the prompt, on a real terminal --------------------------------------------------------


def _on_terminal(argv: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its terminal; answer each passphrase prompt."""
    env = {k: v for k, v in os.environ.items() if k != "AUTHSIG_PASSPHRASE"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its stdin, stdout, stderr and controlling terminal
        try:
            os.execve(AUTHSIG, [AUTHSIG, *argv], env)
        finally:
            os._exit(127)
    seen, pending, deadline = b"", list(answers), time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            # Answer each prompt once, when it is on the screen (getpass turns echo off and
            # flushes the input before it writes the prompt).
            asked = seen.count(b"passphrase for")
            if pending and len(answers) - len(pending) < asked and seen.endswith(b": "):
                os.write(fd, pending.pop(0).encode() + b"\n")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_prompts_on_a_terminal(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    code, screen = _on_terminal(["keygen", "--out", str(key)], [PASSPHRASE, PASSPHRASE])
    assert code == 0, screen
    assert f"new passphrase for {key}:" in screen
    assert f"new passphrase for {key} (again):" in screen
    assert PASSPHRASE not in screen  # no echo
    private = load_private_key(key.read_text(), passphrase=PASSPHRASE)
    code, screen = _on_terminal(["pubkey", str(key)], [PASSPHRASE])
    assert code == 0, screen
    assert f"passphrase for {key}:" in screen
    assert private.public_key.to_base64() in screen
    code, screen = _on_terminal(["pubkey", str(key)], ["wrong"])
    assert code == 2
    assert "wrong passphrase" in screen
    code, screen = _on_terminal(["keygen", "--out", str(tmp_path / "b.key")], ["one", "two"])
    assert code == 2
    assert "do not match" in screen
    assert not (tmp_path / "b.key").exists()


def test_without_a_source_the_cli_raises_the_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authsig.cli._io import load_signing_key

    monkeypatch.delenv("AUTHSIG_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    key = tmp_path / "alice.key"
    key.write_text(generate_private_key().to_base64(PASSPHRASE))
    with pytest.raises(EncryptedKeyError) as info:
        load_signing_key(str(key))
    assert info.value.code == "passphrase_required"
    monkeypatch.setenv("AUTHSIG_PASSPHRASE", PASSPHRASE)
    assert isinstance(load_signing_key(str(key)), PrivateKey)
