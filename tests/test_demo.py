"""`authsig demo`: the whole flow over a real socket on 127.0.0.1, and a clean exit."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
from test_cli import AUTHSIG, err, out

pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

EXPECTED = [
    ("one_signature", 403),
    ("quorum_met", 200),
    ("replay", 409),
    ("expired", 401),
    ("tampered", 401),
]


def _port_is_closed(url: str) -> bool:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", parts.port or 80)) != 0


def test_demo_json_statuses_and_clean_exit() -> None:
    proc = subprocess.run(
        [AUTHSIG, "demo", "--json"], capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 0, err(proc)
    result = json.loads(out(proc))  # exactly one JSON object on stdout
    steps = [(step["name"], step["status"]) for step in result["steps"]]
    assert steps == EXPECTED
    assert result["ok"] is True
    reasons = {step["name"]: step["reason"] for step in result["steps"]}
    assert reasons["one_signature"] == "threshold_not_met"
    assert reasons["replay"] == "replayed"
    assert reasons["expired"] == "expired"
    assert reasons["tampered"] == "invalid_signature"
    approved_by = {step["name"]: step["approved_by"] for step in result["steps"]}
    assert "alice" in approved_by["quorum_met"]
    assert "ops-team" in approved_by["quorum_met"]
    assert "bob" not in approved_by["quorum_met"]
    assert approved_by["one_signature"] == []
    assert result["explanation"].strip()
    assert result["url"].startswith("http://127.0.0.1:")
    assert _port_is_closed(result["url"])


def test_demo_readable_summary() -> None:
    proc = subprocess.run([AUTHSIG, "demo"], capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    for name, status in EXPECTED:
        assert f"-> {status}" in text, (name, text)
    assert "nested" in text
    assert "explain" in text
    assert "Traceback" not in err(proc)


def test_run_demo_in_process_leaves_nothing_running() -> None:
    from authsig.demo import run_demo

    before = {t.ident for t in threading.enumerate()}
    buffer = io.StringIO()
    result = run_demo(out=buffer, as_json=True)
    assert [(s.name, s.status) for s in result.steps] == EXPECTED
    assert json.loads(buffer.getvalue())["ok"] is True
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []
    assert _port_is_closed(result.url)
    # the port is free again: it can be bound right away
    port = urlsplit(result.url).port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port or 0))


def test_demo_names_the_missing_extra() -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from authsig.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 2
    lines = err(proc).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("authsig: error: ")
    assert "authsig[asgi,servers,client]" in lines[0]
