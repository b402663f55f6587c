"""Load: the ASGI middleware under uvicorn, ~1000 concurrent signed requests over loopback.

One uvicorn process serves ``echo_app`` behind :class:`~authsig.asgi.AuthSigMiddleware`
(2-of-3 quorum, in-memory replay store). Each round sends, all at once from one httpx
``AsyncClient``: ``FRESH`` newly signed requests, a copy of ``RACED`` of them at the same time
(a concurrent replay), and every request of the previous round again (replays). Checks:

- no transport error and no 5xx at all;
- every fresh request is accepted exactly once (200, approved, body echoed intact), every
  replay is refused with 409 ``replayed``, and of two concurrent copies exactly one wins;
- the server process's resident memory (``/proc/PID/status``) stays flat across rounds after
  the warm-up: growth bounded by a generous margin (no timing assertion anywhere).

Counts and deadlines are bounded; the summary is written to ``.cache/load/summary.json``
(the numbers in ``docs/load-results.md`` come from it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import ROOT, ServerUnavailable, uvicorn_process

from authsig.keys import PrivateKey, generate_private_key
from authsig.privy.signing import sign_request

BASE = "https://api.example.com"
FRESH = int(os.environ.get("AUTHSIG_LOAD_FRESH", "1000"))
RACED = 100
ROUNDS = int(os.environ.get("AUTHSIG_LOAD_ROUNDS", "4"))
WARMUP_ROUNDS = 2
MAX_RSS_GROWTH_KIB = 24 * 1024  # generous: ~3000 replay entries plus allocator noise
ROUND_DEADLINE_S = 240.0
PER_CLIENT = 16


@dataclass
class Signed:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class RoundResult:
    fresh_ok: int = 0
    replay_refused: int = 0
    race_pairs_one_winner: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    rss_kib: int = 0
    server_cpu_s: float = 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


@pytest.fixture(scope="module")
def keys() -> list[PrivateKey]:
    return [generate_private_key() for _ in range(3)]


def _raise_fd_limit() -> int:
    """Raise this process's open-file limit (inherited by the server) as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


@pytest.fixture(scope="module")
def in_flight() -> int:
    """How many requests may be in flight at once (one socket each, per process)."""
    return max(64, _raise_fd_limit() - 256)


@pytest.fixture(scope="module")
def server(keys: list[PrivateKey], in_flight: int) -> Iterator[str]:
    env = {
        "AUTHSIG_TEST_KEYS": ",".join(k.public_key.to_base64() for k in keys),
        "AUTHSIG_TEST_THRESHOLD": "2",
        "AUTHSIG_TEST_BASE_URL": BASE,
        "AUTHSIG_TEST_MAX_ENTRIES": "100000",
    }
    try:
        with uvicorn_process("_load_app:load_app_from_env", env) as url:
            yield url
    except ServerUnavailable as exc:  # pragma: no cover - uvicorn is a dev dependency
        pytest.skip(f"uvicorn unavailable: {exc}")


def _sign_batch(keys: list[PrivateKey], round_no: int, count: int) -> list[Signed]:
    batch = []
    for i in range(count):
        path = f"/v1/wallets/w{i % 17}/rpc"
        body = json.dumps(
            {"method": "personal_sign", "params": {"message": f"r{round_no}-{i}"}},
            separators=(",", ":"),
        ).encode()
        headers = sign_request(
            method="POST",
            url=BASE + path,
            body=body,
            app_id="app-load",
            keys=[keys[i % 3], keys[(i + 1) % 3]],
            idempotency_key=f"idem-{round_no}-{i}",
        )
        headers["content-type"] = "application/json"
        batch.append(Signed(path, body, headers))
    return batch


async def _post(
    client: httpx.AsyncClient, base_url: str, req: Signed, gate: asyncio.Semaphore
) -> tuple[int, Any]:
    async with gate:
        response = await client.post(base_url + req.path, content=req.body, headers=req.headers)
    return response.status_code, response.json()


async def _round(
    base_url: str, fresh: list[Signed], replays: list[Signed], in_flight: int
) -> tuple[RoundResult, int]:
    jobs = (
        [("fresh", i, r) for i, r in enumerate(fresh)]
        + [("race", i, fresh[i]) for i in range(RACED)]
        + [("replay", i, r) for i, r in enumerate(replays)]
    )
    # Every request in flight at once on its own connection. httpx's pool gets slow when many
    # requests queue on one client, so the connections are spread over several small clients.
    limits = httpx.Limits(max_connections=PER_CLIENT, max_keepalive_connections=PER_CLIENT)
    timeout = httpx.Timeout(60.0, pool=None)  # queueing for a connection is not an error
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(timeout=timeout, limits=limits))
            for _ in range(-(-len(jobs) // PER_CLIENT))
        ]
        gate = asyncio.Semaphore(in_flight)  # only below ~2 400 open files per process
        start = time.monotonic()
        outcomes = await asyncio.wait_for(
            asyncio.gather(
                *(
                    _post(clients[n % len(clients)], base_url, r, gate)
                    for n, (_, _, r) in enumerate(jobs)
                )
            ),
            ROUND_DEADLINE_S,
        )
        elapsed = time.monotonic() - start
    result = RoundResult(seconds=elapsed)
    pid = 0
    wins: dict[int, int] = {}
    for (kind, i, req), (status, answer) in zip(jobs, outcomes, strict=True):
        result.statuses[status] = result.statuses.get(status, 0) + 1
        assert status < 500, f"{status}: {answer}"
        if kind == "replay":
            assert status == 409, answer
            assert answer["reason"] == "replayed"
            result.replay_refused += 1
            continue
        if status == 200:
            assert answer["approved"] is True
            assert answer["body"] == req.body.decode()
            pid = int(answer["pid"])
            wins[i] = wins.get(i, 0) + 1
        else:
            assert status == 409, answer
            assert answer["reason"] == "replayed"
            assert i < RACED, "an unraced fresh request was refused as a replay"
    assert all(wins.get(i) == 1 for i in range(FRESH)), "a fresh request won zero or two times"
    result.fresh_ok = FRESH
    result.race_pairs_one_winner = RACED
    assert pid, "no approved answer carried the server pid"
    return result, pid


def test_concurrent_signed_requests_replays_and_flat_memory(
    server: str, keys: list[PrivateKey], in_flight: int
) -> None:
    results: list[RoundResult] = []
    previous: list[Signed] = []
    cpu_before = 0.0
    for round_no in range(ROUNDS):
        fresh = _sign_batch(keys, round_no, FRESH)
        result, pid = asyncio.run(_round(server, fresh, previous, in_flight))
        result.rss_kib = _rss_kib(pid)
        cpu_now = _cpu_seconds(pid)
        result.server_cpu_s = cpu_now - cpu_before if round_no else 0.0
        cpu_before = cpu_now
        results.append(result)
        previous = fresh
        assert 500 not in result.statuses
        assert set(result.statuses) <= {200, 409}

    total_requests = sum(sum(r.statuses.values()) for r in results)
    assert total_requests == ROUNDS * (FRESH + RACED) + (ROUNDS - 1) * FRESH
    baseline = results[WARMUP_ROUNDS - 1].rss_kib
    growth = max(r.rss_kib for r in results[WARMUP_ROUNDS:]) - baseline
    summary = {
        "rounds": ROUNDS,
        "fresh_per_round": FRESH,
        "raced_per_round": RACED,
        "replays_per_round": FRESH,
        "total_requests": total_requests,
        "statuses": [r.statuses for r in results],
        "seconds": [round(r.seconds, 2) for r in results],
        "requests_per_second": [round(sum(r.statuses.values()) / r.seconds) for r in results],
        "rss_kib": [r.rss_kib for r in results],
        "server_cpu_seconds": [round(r.server_cpu_s, 2) for r in results],
        "rss_growth_after_warmup_kib": growth,
        "cpus": os.cpu_count(),
        "max_in_flight": in_flight,
    }
    out = ROOT / ".cache" / "load"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    assert growth < MAX_RSS_GROWTH_KIB, summary
