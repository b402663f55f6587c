"""``authsig cobo``: keys, signing, verification and explanations, driven in subprocesses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_cli import AUTHSIG, assert_one_line_error, err, out

from authsig.cobo import load_api_secret, sign_event, sign_request, verify_request

NOW = 1_795_519_976_869
SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
API_KEY = load_api_secret(SECRET).api_key
BODY = '{"request_id":"r-1","amount":"1.5"}'


def run(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Any:
    return subprocess.run(
        [AUTHSIG, "cobo", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "cobo.secret"
    path.write_text(SECRET)
    return path


def test_keygen_writes_a_0600_hex_secret_without_newline(tmp_path: Path) -> None:
    target = tmp_path / "k.secret"
    proc = run("keygen", "--out", str(target))
    assert proc.returncode == 0, err(proc)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert len(text) == 64
    assert not text.endswith("\n")
    key = load_api_secret(text)
    assert f"api key:    {key.api_key}" in out(proc)
    assert text not in out(proc) + err(proc)
    # never overwritten without --force
    again = run("keygen", "--out", str(target))
    assert again.returncode == 2
    assert target.read_text() == text
    assert run("keygen", "--out", str(target), "--force").returncode == 0
    assert target.read_text() != text


def test_keygen_print_private_key_round_trips(tmp_path: Path) -> None:
    proc = run("keygen", "--print-private-key")
    assert proc.returncode == 0, err(proc)
    secret = out(proc)
    piped = tmp_path / "piped.secret"
    piped.write_text(secret)
    # stdout is the secret alone; the API key (metadata) is on stderr.
    pub = run("pubkey", str(piped))
    assert pub.returncode == 0, err(pub)
    assert f"api key: {out(pub).strip()} (ED25519)" in err(proc)
    assert load_api_secret(secret).api_key == out(pub).strip()


def test_keygen_secp256k1_json(tmp_path: Path) -> None:
    proc = run("keygen", "--out", str(tmp_path / "k1"), "--curve", "secp256k1", "--json")
    assert proc.returncode == 0, err(proc)
    result = json.loads(out(proc))
    assert result["curve"] == "SECP256K1"
    assert "api_secret" not in result
    key = load_api_secret((tmp_path / "k1").read_text(), curve="SECP256K1")
    assert key.api_key == result["api_key"]
    assert run("keygen").returncode == 2  # neither --out nor --print-private-key


def _sign(secret_ref: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, str]:
    proc = run("sign", "--key", secret_ref, "--now", str(NOW), "--json", *extra, env=env)
    assert proc.returncode == 0, err(proc)
    headers = json.loads(out(proc))
    assert isinstance(headers, dict)
    return headers


def test_sign_equals_the_library_and_verifies(secret_file: Path) -> None:
    headers = _sign(str(secret_file), "-X", "post", "--url", "/v2/transfer?a=1", "-d", BODY)
    expected = sign_request(
        SECRET, method="POST", path="/v2/transfer", query="a=1", body=BODY, nonce_ms=NOW
    )
    assert headers == expected
    from_env = _sign(
        "env:COBO_SECRET",
        "-X",
        "POST",
        "--url",
        "/v2/transfer?a=1",
        "-d",
        BODY,
        env={"COBO_SECRET": SECRET + "\n"},
    )
    assert from_env == expected
    decision = verify_request(
        headers,
        method="POST",
        path="/v2/transfer",
        query="a=1",
        body=BODY,
        api_keys=[API_KEY],
        now_ms=NOW,
    )
    assert decision.approved


def test_sign_params_and_curl(secret_file: Path) -> None:
    proc = run(
        "sign",
        "--key",
        str(secret_file),
        "--now",
        str(NOW),
        "-X",
        "GET",
        "--url",
        "https://api.dev.cobo.com/v2/wallets?wallet_type=Custodial",
        "--param",
        "cursor=a b",
        "--param",
        "chain_ids=ETH,BTC",
        "--curl",
    )
    assert proc.returncode == 0, err(proc)
    query = "wallet_type=Custodial&cursor=a+b&chain_ids=ETH%2CBTC"
    assert f"'https://api.dev.cobo.com/v2/wallets?{query}'" in out(proc)
    expected = sign_request(SECRET, method="GET", path="/v2/wallets", query=query, nonce_ms=NOW)
    assert f"Biz-Api-Signature: {expected['Biz-Api-Signature']}" in out(proc)
    # a bare path cannot make a curl command
    bare = run("sign", "--key", str(secret_file), "-X", "GET", "--url", "/v2/x", "--curl")
    assert bare.returncode == 2
    assert_one_line_error(bare)


def test_key_text_is_never_echoed(secret_file: Path) -> None:
    for args in (
        ["sign", "--key", SECRET, "-X", "GET", "--url", "/v2/x"],
        ["pubkey", SECRET],
        ["group", "upgrade", "--groups", "-", "--group", "g", "--vault-id", "v", "--key", SECRET],
    ):
        proc = run(*args, stdin=b"[]")
        assert proc.returncode == 2, args
        assert SECRET not in out(proc) + err(proc)
        assert_one_line_error(proc)
    # The arguments that take a public key accept it inline; a secret given there by mistake
    # is used as a public key and never printed.
    headers = json.dumps(sign_request(SECRET, method="GET", path="/v2/x", nonce_ms=NOW))
    hfile = secret_file.parent / "h.json"
    hfile.write_text(headers)
    for args in (
        ["verify", "-X", "GET", "--url", "/v2/x", "--api-key", SECRET],
        ["verify-event", "-d", "{}", "--public-key", SECRET],
    ):
        proc = run(*args, "--headers-json", str(hfile), "--now", str(NOW), "--explain")
        assert proc.returncode == 1, err(proc)
        assert SECRET not in out(proc) + err(proc)
    bad = secret_file.parent / "bad.secret"
    bad.write_text(SECRET[:-2] + "zz")
    proc = run("pubkey", str(bad))
    assert proc.returncode == 2
    assert SECRET[:-2] not in err(proc)


def _verify(headers: dict[str, str], *args: str) -> Any:
    headers_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"cobo-h-{os.getpid()}.json"
    headers_file.write_text(json.dumps(headers))
    try:
        return run(
            "verify",
            "--api-key",
            API_KEY,
            "--now",
            str(NOW),
            "--headers-json",
            str(headers_file),
            *args,
        )
    finally:
        headers_file.unlink()


def test_verify_exit_codes_and_explain(secret_file: Path) -> None:
    headers = _sign(str(secret_file), "-X", "GET", "--url", "/v2/wallets?chain_ids=ETH,BTC")
    ok = _verify(headers, "-X", "GET", "--url", "/v2/wallets?chain_ids=ETH,BTC")
    assert ok.returncode == 0, err(ok)
    assert out(ok).startswith("approved")
    # The query was re-encoded on the way (',' -> %2C, as urlencode does).
    moved = _verify(headers, "-X", "GET", "--url", "/v2/wallets?chain_ids=ETH%2CBTC")
    assert moved.returncode == 1
    assert "invalid_signature" in out(moved)
    explained = _verify(
        headers, "-X", "GET", "--url", "/v2/wallets?chain_ids=ETH%2CBTC", "--explain", "--json"
    )
    assert explained.returncode == 1
    report = json.loads(out(explained))
    assert report["near_misses"] == ["the query signed before percent-encoding"]
    missing = run("verify", "--api-key", "/nonexistent/api.key", "-X", "GET", "--url", "/v2/x")
    assert_one_line_error(missing)


def test_verify_explains_empty_object_body(secret_file: Path) -> None:
    # cobo-waas2 signs '' and sends '{}': accepted by default, named under --strict-empty-body.
    headers = _sign(str(secret_file), "-X", "POST", "--url", "/v2/wallets/w1/refresh")
    args = ["-X", "POST", "--url", "/v2/wallets/w1/refresh", "-d", "{}"]
    assert _verify(headers, *args).returncode == 0
    strict = _verify(headers, *args, "--strict-empty-body", "--explain")
    assert strict.returncode == 1
    assert "cobo-waas2 signs '' for {}" in out(strict)


def test_verify_event_cli(tmp_path: Path) -> None:
    headers = sign_event(BODY.encode(), SECRET, timestamp_ms=NOW)
    hfile = tmp_path / "h.json"
    hfile.write_text(json.dumps(headers))
    common = ["--headers-json", str(hfile), "--public-key", API_KEY, "--now", str(NOW)]
    ok = run("verify-event", "-d", BODY, *common)
    assert ok.returncode == 0, err(ok)
    late = run("verify-event", "-d", BODY, *common[:-1], str(NOW + 600_000), "--explain")
    assert late.returncode == 1
    assert "stale_nonce" in out(late)
    assert "only the time is off" in out(late)
    stored = run(
        "verify-event", "-d", BODY, *common[:-1], str(NOW + 600_000), "--tolerance", "none"
    )
    assert stored.returncode == 0
    # Cobo's published prod key did not sign this: refused, exit 1.
    prod = run("verify-event", "-d", BODY, "--headers-json", str(hfile), "--now", str(NOW))
    assert prod.returncode == 1
    assert "invalid_signature" in out(prod)


def test_subcommand_groups_without_a_command_show_help() -> None:
    for group in (["cobo"], ["cobo", "group"], ["privy"]):
        proc = subprocess.run([AUTHSIG, *group], capture_output=True, timeout=60, check=False)
        assert proc.returncode == 2
        assert err(proc).startswith(f"usage: authsig {' '.join(group)}")


def test_privy_group_is_the_top_level_commands(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    made = subprocess.run(
        [AUTHSIG, "privy", "keygen", "--out", str(key), "--no-passphrase"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, err(made)
    request = [
        "--key",
        str(key),
        "-X",
        "POST",
        "--url",
        "https://api.privy.io/v1/wallets",
        "-d",
        "{}",
        "--app-id",
        "app",
        "--now",
        str(NOW),
        "--deterministic",
        "--json",
    ]
    top = subprocess.run([AUTHSIG, "sign", *request], capture_output=True, timeout=60, check=False)
    grouped = subprocess.run(
        [AUTHSIG, "privy", "sign", *request], capture_output=True, timeout=60, check=False
    )
    assert top.returncode == grouped.returncode == 0, err(grouped)
    assert json.loads(out(top)) == json.loads(out(grouped))


def test_sign_with_a_secp256k1_secret(tmp_path: Path) -> None:
    k1 = "e331b6d69882b4cb4ea581d88e0b604039a3de5967688d3dcffdd2270c0fd109"
    (tmp_path / "k1.secret").write_text(k1)
    args = ["-X", "GET", "--url", "/v2/wallets?limit=10", "--curve", "secp256k1"]
    headers = _sign(str(tmp_path / "k1.secret"), *args)
    key = load_api_secret(k1, curve="SECP256K1")
    assert headers["Biz-Api-Key"] == key.api_key
    decision = verify_request(
        headers, method="GET", path="/v2/wallets", query="limit=10", body=None,
        api_keys=[key.api_key], now_ms=NOW,
    )  # fmt: skip
    assert decision.approved


def test_privy_group_offers_every_top_level_privy_command() -> None:
    import argparse

    from authsig.cli import build_parser

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return dict(action.choices)

    top = commands(build_parser())
    privy = commands(top["privy"])
    assert list(privy) == [
        "keygen", "pubkey", "convert", "sign", "payload", "combine", "verify", "explain", "quorum"
    ]  # fmt: skip
    for name, parser in privy.items():
        assert parser.get_default("func") is top[name].get_default("func")
    assert list(commands(top["cobo"])) == [
        "keygen", "pubkey", "sign", "verify", "verify-event", "group"
    ]  # fmt: skip
