"""P4: the ASGI middleware under uvicorn: requests/s and p50/p99 latency of a signed
endpoint, vs the same endpoint unsigned, vs verifying inline in the handler.

Three uvicorn processes (``_p4_server.py``: ``unsigned``, ``middleware``, ``inline``) run
side by side on 127.0.0.1 and are driven from this process by a minimal asyncio HTTP/1.1
client (pre-built request bytes over a handful of keep-alive connections, one request in
flight on each). The load is bounded by a
request count and a time limit per mode. It comes in rounds: in each round every server gets
one burst, in rotated order, so drifts of the machine hit all three alike; requests/s is the
median over the rounds and the ratios are paired by round; latencies (client side: send to
full response) are pooled over all bursts.

Every signed request carries a fresh signature and a unique idempotency key (the replay
store is on), pre-signed with ``sign_request`` before the clock starts. The quorum is one
key (1-of-1). Any answer other than 200 is counted as an error and reported.

A second measurement calls the three ASGI apps directly in this process (no network, no
client): the server-side cost per request, in interleaved rounds like the other benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._data import APP_ID, small_body
from benchmarks._model import BenchConfig, Section, Table, Unavailable, cost_row
from benchmarks._timing import Timings

BENCH = "P4"
TITLE = "ASGI middleware under uvicorn (requests/s, latency)"

ROOT = Path(__file__).resolve().parent.parent
MODES = ("unsigned", "middleware", "inline")
LABELS = {
    "unsigned": "unsigned endpoint",
    "middleware": "AuthSigMiddleware",
    "inline": "verify inline in handler",
}
PATH = "/v1/wallets/ud5ojlb7n2zx0r6kzd1u1pml/rpc"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One uvicorn process."""

    mode: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The endpoint's URL."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def stop(self) -> None:
        """Terminate the process (only this one) and wait for it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _start(mode: str, public_key: str) -> Server:
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._p4_server", mode, str(port), public_key],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return Server(mode, port, proc)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def _wait_ready(server: Server, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            err = server.proc.stderr.read().decode(errors="replace") if server.proc.stderr else ""
            raise Unavailable(f"the {server.mode} server exited: {err[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Unavailable(f"the {server.mode} server did not start within {timeout:g} s")


@dataclass
class Burst:
    """The outcome of one burst of requests against one server."""

    completed: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float | None = None


def _http_request(url_path: str, port: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {url_path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, rest = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _burst(
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    time_limit: float,
) -> Burst:
    """Send ``requests`` (complete HTTP/1.1 messages) over ``concurrency`` keep-alive
    connections, one request in flight per connection."""
    result = Burst()
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    queue = iter(requests)
    start = time.perf_counter()
    deadline = start + time_limit

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for message in queue:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            writer.write(message)
            status = await _read_response(reader)
            result.latencies.append(time.perf_counter() - t0)
            result.completed += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200:
                result.errors += 1

    try:
        await asyncio.gather(*(worker(r, w) for r, w in connections))
        result.seconds = time.perf_counter() - start
    finally:
        for _, writer in connections:
            writer.close()
    return result


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _server_stack() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def has(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    loop = f"uvloop {has('uvloop')}" if has("uvloop") else "asyncio loop"
    http = f"httptools {has('httptools')}" if has("httptools") else f"h11 {has('h11')}"
    return f"uvicorn {has('uvicorn')} ({loop}, {http}), starlette {has('starlette')}"


def _asgi_scope(port: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    pairs = [(b"host", f"127.0.0.1:{port}".encode()), (b"content-length", str(len(body)).encode())]
    pairs += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": pairs,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", port),
    }


async def _asgi_batch(app: Any, scopes: Sequence[dict[str, Any]], body: bytes) -> float:
    """CPU seconds per request of calling the ASGI app directly on ``scopes``."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    start = time.thread_time()  # CPU time: the machine is shared (see _timing.py)
    for scope in scopes:
        await app(dict(scope), receive, send)
    elapsed = time.thread_time() - start
    if any(status != 200 for status in statuses):
        raise AssertionError(f"P4 in-process: unexpected statuses {sorted(set(statuses))}")
    return elapsed / len(scopes)


def _sign_many(key: Any, url: str, body: bytes, prefix: str, count: int) -> list[dict[str, str]]:
    from authsig.privy import sign_request

    return [
        sign_request(
            method="POST",
            url=url,
            body=body,
            app_id=APP_ID,
            keys=key,
            idempotency_key=f"{prefix}-{i}",
        )
        for i in range(count)
    ]


def _in_process(config: BenchConfig, key: Any, body: bytes, section: Section) -> None:
    """Server-side cost per request, no network and no client: the ASGI apps called
    directly, in interleaved rounds (each request freshly signed, replay store on)."""
    from benchmarks._p4_server import build_app

    port = 8443
    url = f"http://127.0.0.1:{port}{PATH}"
    timing = config.timing
    per_batch = timing.fixed_number or max(50, round(timing.batch_seconds / 200e-6))
    rounds = timing.rounds
    plain = {"content-type": "application/json"}
    apps = {mode: build_app(mode, port, key.public_key.to_base64()) for mode in MODES}
    scopes: dict[str, list[dict[str, Any]]] = {}
    for mode in MODES:
        count = per_batch * (rounds + 1)
        if mode == "unsigned":
            signed: list[dict[str, str]] = [{} for _ in range(count)]
        else:
            signed = _sign_many(key, url, body, f"inproc-{mode}", count)
        scopes[mode] = [_asgi_scope(port, {**plain, **h}, body) for h in signed]
    samples: dict[str, list[float]] = {LABELS[mode]: [] for mode in MODES}
    loop = asyncio.new_event_loop()
    try:
        for mode in MODES:  # warm-up batch
            loop.run_until_complete(_asgi_batch(apps[mode], scopes[mode][:per_batch], body))
        for r in range(rounds):
            order = MODES[r % 3 :] + MODES[: r % 3]
            for mode in order:
                batch = scopes[mode][(r + 1) * per_batch : (r + 2) * per_batch]
                samples[LABELS[mode]].append(
                    loop.run_until_complete(_asgi_batch(apps[mode], batch, body))
                )
    finally:
        loop.close()
    t = Timings(samples=samples)
    unsigned, middleware, inline = (LABELS[m] for m in MODES)
    case = "in-process ASGI call"
    section.rows += [
        cost_row(BENCH, case, t, middleware, unsigned),
        cost_row(BENCH, case, t, inline, unsigned),
        cost_row(BENCH, case, t, middleware, inline),
    ]
    section.notes.append(
        f"In-process (no network, no client): the unsigned endpoint takes "
        f"{t.us(unsigned):.1f} µs per request through Starlette; the middleware adds "
        f"{t.us(middleware) - t.us(unsigned):.1f} µs, verifying inline in the handler adds "
        f"{t.us(inline) - t.us(unsigned):.1f} µs ({rounds} rounds x {per_batch} requests, "
        "medians)."
    )


def run(config: BenchConfig) -> Section:
    """Measure and return the P4 section."""
    try:
        import uvicorn  # noqa: F401

        from authsig.asgi import AuthSigMiddleware  # noqa: F401
        from authsig.keys import generate_private_key
        from authsig.privy import verify_request  # noqa: F401
    except ImportError as exc:
        raise Unavailable(f"middleware or uvicorn not importable: {exc}") from exc

    rounds = 1 if config.p4_requests <= 100 else (2 if config.p4_requests <= 1000 else 4)
    per_burst = max(1, config.p4_requests // rounds)
    burst_time = config.p4_seconds / rounds
    key = generate_private_key()  # a throwaway key
    body = json.dumps(small_body(), separators=(",", ":")).encode()
    section = Section(BENCH, TITLE)

    servers = {mode: _start(mode, key.public_key.to_base64()) for mode in MODES}
    results: dict[str, list[Burst]] = {mode: [] for mode in MODES}
    try:
        for server in servers.values():
            _wait_ready(server)
        plain = {"content-type": "application/json"}
        prepared: dict[str, list[list[bytes]]] = {}
        for mode, server in servers.items():
            batches = []
            for r in range(rounds + 1):  # +1: the warm-up burst
                if mode == "unsigned":
                    headers = [plain] * per_burst
                else:
                    signed = _sign_many(key, server.url, body, f"{mode}-{r}", per_burst)
                    headers = [{**plain, **h} for h in signed]
                batches.append([_http_request(PATH, server.port, h, body) for h in headers])
            prepared[mode] = batches

        warm = min(per_burst, 50)
        for mode in MODES:  # warm-up burst (not counted)
            asyncio.run(
                _burst(
                    servers[mode].port,
                    prepared[mode][0][:warm],
                    config.p4_concurrency,
                    burst_time,
                )
            )
        for r in range(rounds):
            order = MODES[r % 3 :] + MODES[: r % 3]
            for mode in order:
                pid = servers[mode].proc.pid
                cpu_before = _cpu_seconds(pid)
                burst = asyncio.run(
                    _burst(
                        servers[mode].port,
                        prepared[mode][r + 1],
                        config.p4_concurrency,
                        burst_time,
                    )
                )
                cpu_after = _cpu_seconds(pid)
                if cpu_before is not None and cpu_after is not None:
                    burst.server_cpu = cpu_after - cpu_before
                results[mode].append(burst)
    finally:
        for server in servers.values():
            server.stop()

    timings = Timings(
        samples={
            LABELS[mode]: [b.seconds / max(1, b.completed) for b in results[mode]] for mode in MODES
        }
    )
    table_rows = []
    for mode in MODES:
        bursts = results[mode]
        latencies = [x for b in bursts for x in b.latencies]
        rps = statistics.median(b.completed / b.seconds for b in bursts)
        cpu = [b.server_cpu for b in bursts if b.server_cpu is not None]
        completed = sum(b.completed for b in bursts)
        cpu_text = f"{sum(cpu) / completed * 1e6:,.0f}" if cpu and completed else "n/a"
        statuses: dict[int, int] = {}
        for b in bursts:
            for status, count in b.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        table_rows.append(
            [
                LABELS[mode],
                str(sum(b.completed for b in bursts)),
                str(sum(b.errors for b in bursts)),
                f"{rps:,.0f}",
                f"{_percentile(latencies, 0.50) * 1000:.2f}",
                f"{_percentile(latencies, 0.99) * 1000:.2f}",
                cpu_text,
                ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items())),
            ]
        )
    section.tables.append(
        Table(
            title=(
                f"uvicorn over 127.0.0.1: {rounds} round(s) x up to {per_burst} requests per "
                f"server, {config.p4_concurrency} concurrent keep-alive connections, "
                f"max {burst_time:g} s per burst"
            ),
            headers=[
                "server",
                "requests",
                "errors",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU µs/req",
                "statuses",
            ],
            rows=table_rows,
        )
    )
    unsigned, middleware, inline = (LABELS[m] for m in MODES)
    case = "uvicorn, time per request"
    note = "time per request = 1 / (req/s) of a burst"
    section.rows += [
        cost_row(BENCH, case, timings, middleware, unsigned, note=note),
        cost_row(BENCH, case, timings, inline, unsigned, note=note),
        cost_row(BENCH, case, timings, middleware, inline, note=note),
    ]
    cpu_samples = {
        LABELS[mode]: [(b.server_cpu or 0.0) / max(1, b.completed) for b in results[mode]]
        for mode in MODES
    }
    if all(x > 0 for xs in cpu_samples.values() for x in xs):
        cpu_t = Timings(samples=cpu_samples)
        case = "uvicorn, server CPU per request"
        note = "CPU time of the server process (/proc) / requests, per burst"
        section.rows += [
            cost_row(BENCH, case, cpu_t, middleware, unsigned, note=note),
            cost_row(BENCH, case, cpu_t, inline, unsigned, note=note),
            cost_row(BENCH, case, cpu_t, middleware, inline, note=note),
        ]
    else:
        section.notes.append("Server CPU time per request: too few requests to measure.")
    section.data["versions"] = {"P4 server stack": _server_stack()}
    section.notes.append(
        "The load generator is a minimal asyncio HTTP/1.1 client (pre-built request bytes, "
        "one request in flight per keep-alive connection), chosen over httpx because httpx's "
        "own CPU cost per request (~1 ms here) capped every server at the same rate. Client "
        "and servers still share the machine's cores."
    )
    _in_process(config, key, body, section)
    return section
