"""``authsig sign --curl --app-secret``: the command carries a reference to the app secret,
never the secret, and the command it prints works against a real server."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from servers import waitress_thread
from test_cli import AUTHSIG, assert_one_line_error, keygen
from test_client_redirects import Seen, _recording_app

from authsig.keys import load_public_key
from authsig.privy.payload import signing_payload
from authsig.signatures import verify_signature

APP = "app-curl"
SECRET = "privy-app-secret-5f0c9a"


def _authsig(*args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [AUTHSIG, *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _run_curl(command: str, env: dict[str, str]) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("curl and bash run the printed command (apt-get install curl)")
    proc = subprocess.run(
        ["bash", "-c", command.rstrip("\n") + " --fail --silent --show-error"],
        capture_output=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_curl_with_the_app_secret_from_env_and_file(tmp_path: Path) -> None:
    key = tmp_path / "k"
    info = keygen(key)
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    seen = Seen()
    with waitress_thread(_recording_app(seen, {})) as base:
        url = base + "/v1/wallets/w1/rpc"
        request = ["sign", "--key", str(key), "-X", "POST", "--url", url, "-d", '{"a": 1}']
        for ref, expect in (
            ("env:PRIVY_APP_SECRET", '"app-curl:${PRIVY_APP_SECRET}"'),
            (f"file:{secret_file}", f'"app-curl:$(cat -- {secret_file})"'),
        ):
            proc = _authsig(
                *request,
                "--app-id",
                APP,
                "--curl",
                "--app-secret",
                ref,
                env={"PRIVY_APP_SECRET": SECRET},
            )
            assert proc.returncode == 0, proc.stderr
            command = proc.stdout.decode()
            assert SECRET not in command + proc.stderr.decode()
            assert f"-u {expect}" in command
            _run_curl(command, {"PRIVY_APP_SECRET": SECRET})
    assert len(seen.requests) == 2
    public = load_public_key(info["public_key"])
    for method, _path, headers, body in seen.requests:
        expected = base64.b64encode(f"{APP}:{SECRET}".encode()).decode("ascii")
        assert headers["authorization"] == "Basic " + expected
        payload = signing_payload(method=method, url=url, body=body, headers=headers)
        assert verify_signature(payload, headers["privy-authorization-signature"], public)


def test_app_secret_refusals_never_echo_the_value(tmp_path: Path) -> None:
    key = tmp_path / "k"
    keygen(key)
    request = ["sign", "--key", str(key), "-X", "POST", "--url", "https://api.privy.io/v1/x"]
    request += ["-d", "{}", "--app-id", APP]
    proc = _authsig(*request, "--app-secret", "env:PRIVY_APP_SECRET")
    assert_one_line_error(proc, "--app-secret goes with --curl")
    proc = _authsig(*request, "--curl", "--app-secret", SECRET)
    assert_one_line_error(proc, "env:VAR or file:PATH")
    assert SECRET not in proc.stderr.decode() + proc.stdout.decode()
    proc = _authsig(*request, "--curl", "--app-secret", "env:NOT_SET_ANYWHERE_1")
    assert proc.returncode == 0
    assert "$NOT_SET_ANYWHERE_1 is not set" in proc.stderr.decode()
