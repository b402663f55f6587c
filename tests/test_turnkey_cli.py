"""``authsig turnkey keygen | stamp | verify``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from authsig.cli import main
from authsig.turnkey import TurnkeyPrivateKey, stamp, verify_stamp

BODY = '{"organizationId":"org-1","timestampMs":"1795519976869"}'


@pytest.mark.parametrize("scheme", ["p256", "secp256k1", "ed25519"])
def test_keygen_stamp_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scheme: str
) -> None:
    key_file = tmp_path / "api.key"
    assert main(["turnkey", "keygen", "--out", str(key_file), "--scheme", scheme]) == 0
    public = capsys.readouterr().out.strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private_hex = key_file.read_text().strip()
    assert private_hex not in public

    assert (
        main(["turnkey", "stamp", "--key", str(key_file), "--scheme", scheme, "--data", BODY]) == 0
    )
    header = capsys.readouterr().out.strip()
    assert private_hex not in header
    assert verify_stamp(BODY, header).key_hex == public

    args = ["turnkey", "verify", "--stamp", header, "--data", BODY, "--scheme", scheme]
    assert main([*args, "--public-key", public]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert main(["turnkey", "verify", "--stamp", header, "--data", BODY + " "]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "turnkey_invalid_signature"


def test_refusals_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "api.key"
    assert main(["turnkey", "keygen", "--out", str(key_file)]) == 0
    assert main(["turnkey", "keygen", "--out", str(key_file)]) == 2  # never overwritten
    assert "already exists" in capsys.readouterr().err
    assert main(["turnkey", "verify", "--stamp", "not-a-stamp!", "--data", BODY]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "turnkey_malformed_stamp"
    other = TurnkeyPrivateKey.generate().public_key.hex
    value = stamp(BODY, TurnkeyPrivateKey.from_hex(key_file.read_text().strip()))
    assert main(["turnkey", "verify", "--stamp", value, "--data", BODY, "--public-key", other]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "unknown_api_key"
    bad = tmp_path / "bad.key"
    bad.write_text("zz" * 32)
    assert main(["turnkey", "stamp", "--key", str(bad), "--data", BODY]) == 2
    err = capsys.readouterr().err
    assert "zz" * 32 not in err
    assert "not lower-case hex" in err
    assert main(["turnkey", "stamp", "--key", str(key_file)]) == 2


def test_the_key_may_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = TurnkeyPrivateKey.generate()
    monkeypatch.setenv("TK_KEY", key.to_hex())
    assert main(["turnkey", "stamp", "--key", "env:TK_KEY", "--data", BODY]) == 0
    header = capsys.readouterr().out.strip()
    assert verify_stamp(BODY, header).key_hex == key.public_key.hex
    assert main(["turnkey", "stamp", "--key", "pkcs11:token=x", "--data", BODY]) == 2
