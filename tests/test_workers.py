"""Replay protection across the workers of one server, with zero configuration.

Real ``uvicorn --workers 4`` and ``gunicorn -w 4`` on 127.0.0.1 serve the Privy middleware with
its default settings (no ``replay_store`` argument); 50 copies of one signed request sent at
once, each on its own connection, get exactly one 2xx. The default location is used (a
``HOME`` of the test's own), and nothing else is configured.

The control: the same servers with ``replay_store="memory"`` approve the copy in more than one
worker, and say so in a warning at start-up. Which worker counts are detected is in
``authsig/replay/_workers.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _workers import fire_copies, workers_process

from authsig.keys import generate_private_key
from authsig.privy.signing import sign_request
from authsig.replay._workers import several_workers

pytestmark = pytest.mark.slow

BASE_URL = "https://api.example.com"
SERVERS = ["uvicorn", "gunicorn"]


def _env(tmp_path: Path, store: str, public_key: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": "",
        "XDG_CACHE_HOME": "",
        "AUTHSIG_REPLAY_DB": "",
        "AUTHSIG_TEST_KEYS": public_key,
        "AUTHSIG_TEST_BASE_URL": BASE_URL,
        "AUTHSIG_TEST_STORE": store,
    }


def _transfer(key: Any, n: int = 0) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"to": "0xabc", "amount": "1.5", "n": n}).encode()
    headers = sign_request(
        method="POST", url=BASE_URL + "/transfer", body=body, app_id="app", keys=key
    )
    return headers, body


@pytest.mark.parametrize("server", SERVERS)
def test_four_workers_accept_one_of_fifty_copies_by_default(server: str, tmp_path: Path) -> None:
    key = generate_private_key()
    env = _env(tmp_path, "default", key.public_key.to_base64())
    headers, body = _transfer(key)
    with workers_process(server, 4, env, tmp_path / "server.log") as base:
        answers = fire_copies(base + "/transfer", headers, body, 50)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 49, statuses
    assert all(doc["reason"] == "replayed" for status, doc in answers if status == 409)
    # The store the workers shared is the default one, under the HOME they were given.
    assert (tmp_path / "home" / ".cache" / "authsig" / "replay.sqlite3").is_file()


@pytest.mark.parametrize("server", SERVERS)
def test_a_memory_store_in_several_workers_warns_and_lets_copies_through(
    server: str, tmp_path: Path
) -> None:
    key = generate_private_key()
    env = _env(tmp_path, "memory", key.public_key.to_base64())
    headers, body = _transfer(key)
    approving: set[int] = set()
    with workers_process(server, 2, env, tmp_path / "server.log") as base:
        for _ in range(10):  # bursts of copies until two workers approved one
            for status, doc in fire_copies(base + "/transfer", headers, body, 20):
                if status == 200:
                    approving.add(doc["pid"])
            if len(approving) == 2:
                break
    assert len(approving) == 2  # the same signed transfer approved twice
    log = (tmp_path / "server.log").read_text()
    assert f"MemoryReplayStore in one of 2 {server} workers" in log


# --- what is detected, without servers -------------------------------------------------------


def test_a_uvicorn_config_with_workers_in_the_calling_frames_is_detected() -> None:
    import uvicorn

    def load_app(config: Any) -> Any:  # where uvicorn's Server._serve calls config.load()
        return several_workers()

    assert load_app(uvicorn.Config("x:app", workers=3)) == ("uvicorn", 3)
    assert load_app(uvicorn.Config("x:app", workers=1)) is None
    assert several_workers() is None  # no server here


def test_a_gunicorn_config_with_workers_in_the_calling_frames_is_detected() -> None:
    from gunicorn.config import Config

    # gunicorn's arbiter, workers and application each hold the parsed settings as ``cfg``.
    def load_wsgi(cfg: Any) -> Any:
        return several_workers()

    cfg = Config()
    cfg.set("workers", 5)
    assert load_wsgi(cfg) == ("gunicorn", 5)
    cfg.set("workers", 1)
    assert load_wsgi(cfg) is None


def test_web_concurrency_counts_when_a_server_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn  # noqa: F401  (loaded, as in a server process)

    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert several_workers() is not None
    assert several_workers()[1] == 4  # type: ignore[index]
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert several_workers() is None
