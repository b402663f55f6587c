"""Key files that ``authsig keygen`` and ``convert`` write load in the official Python SDK.

``privy-client`` reads a private key as strict base64 of PKCS#8 DER
(``base64.b64decode(key, validate=True)``), so a file with a final newline, read the usual
way, is refused by it. authsig writes privy-format key files without one; this checks that
against the SDK itself, in its own environment (``tests/interop/privy_python.py``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _interop import b64, python_driver
from test_cli import AUTHSIG, err

from authsig.keys import load_private_key
from authsig.signatures import verify_signature

pytestmark = pytest.mark.interop

PAYLOAD = b'{"body":"","headers":{"privy-app-id":"app"},"method":"POST","url":"u","version":1}'


def _authsig(*args: str) -> None:
    proc = subprocess.run(
        [AUTHSIG, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, err(proc)


def test_the_python_sdk_signs_with_authsig_key_files(tmp_path: Path) -> None:
    made = tmp_path / "made.key"
    _authsig("keygen", "--out", str(made), "--no-passphrase")
    pem = tmp_path / "k.pem"
    (tmp_path / "pass").write_text("a passphrase\n")
    _authsig(
        "keygen", "--out", str(pem), "--format", "pem", "--passphrase-file", str(tmp_path / "pass")
    )
    converted = tmp_path / "converted.key"
    _authsig(
        "convert",
        str(pem),
        "--to",
        "privy",
        "--no-passphrase",
        "--out",
        str(converted),
        "--passphrase-file",
        str(tmp_path / "pass"),
    )
    files = [made, converted]
    # What an application does with a key file: read its text and hand it to the SDK.
    cases = [
        {"op": "sign", "private_key": f.read_text(), "payload_b64": b64(PAYLOAD)} for f in files
    ]
    # The same key with the final newline the files used to have: the SDK refuses it.
    cases.append(
        {"op": "sign", "private_key": made.read_text() + "\n", "payload_b64": b64(PAYLOAD)}
    )
    results = python_driver().run(cases)
    for path, result in zip(files, results, strict=False):
        assert "error" not in result, (path.name, result)
        public = load_private_key(path.read_text()).public_key
        assert verify_signature(PAYLOAD, result["signature"], public)
    assert "Invalid authorization private key" in results[-1]["error"]
