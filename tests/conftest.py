"""Shared test configuration and fixtures.

Third-party conformance data (Wycheproof, the RFC 8785 test files) is vendored in
``tests/conformance`` (its README says where each file came from); ``AUTHSIG_VECTORS`` may name
another directory laid out the same way, to try a newer upstream copy. Where a *tool* is absent
(redis-server, Node), tests skip and say how to install it; with ``AUTHSIG_STRICT=1`` (set by
``.ci/run``) any skip makes the run fail.

Fixtures for the middleware: ``keys`` (a 2-of-3 quorum and an outsider), ``sign`` (signed
request headers), ``server`` (the Privy middleware served over ASGI and over WSGI, see
:class:`servers.MiddlewareServer`) and ``redis_url`` (a throw-away redis-server); helpers for
their responses: ``problem_of`` and ``post_chunks``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from authsig.keys import PrivateKey
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request

ROOT = Path(__file__).resolve().parent.parent

# The default replay store is a SQLite file shared by every process of the host: a test run
# gets its own, so that runs (and the developer's own services) never share state.
if "AUTHSIG_REPLAY_DB" not in os.environ:
    import tempfile

    os.environ["AUTHSIG_REPLAY_DB"] = str(
        Path(tempfile.mkdtemp(prefix="authsig-tests-")) / "replay.sqlite3"
    )
STRICT = os.environ.get("AUTHSIG_STRICT") == "1"


CONFORMANCE = Path(__file__).resolve().parent / "conformance"
"""The vendored third-party data: next to this file, so that the tests copied out of the
repository (an unpacked sdist, the installed-wheel run of ``.ci/run``) find it too."""


def vectors_root() -> Path:
    return Path(os.environ.get("AUTHSIG_VECTORS", str(CONFORMANCE))).resolve()


def vectors_path(*parts: str) -> Path:
    """Path of a conformance file. The data ships with the tests, so a missing file is a broken
    checkout (or a wrong ``AUTHSIG_VECTORS``): it fails, it never skips."""
    path = vectors_root().joinpath(*parts)
    if not path.exists():
        pytest.fail(f"conformance data not found at {path} (see tests/conformance/README.md)")
    return path


@pytest.fixture
def vectors() -> Any:
    return vectors_path


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throw-away real ``redis-server`` for the session (skips, failing CI, without one)."""
    from servers import ServerUnavailable, redis_server

    try:
        with redis_server() as url:
            yield url
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


# --- keys and signed requests ----------------------------------------------------------------

APP_ID = "app-e2e"
"""The Privy app id the ``sign`` fixture and the tests' clients sign for."""


def derived_key(label: str) -> PrivateKey:
    """A P-256 key derived from ``label``: the same key in every run, so that a failure can be
    reproduced with the same keys (never use such keys outside tests)."""
    digest = hashlib.sha256(b"authsig test key\x00" + label.encode()).digest()
    # 248 bits, plus one: never zero and always below the group order (about 2**256).
    scalar = int.from_bytes(digest[:31], "big") + 1
    return PrivateKey.from_crypto(ec.derive_private_key(scalar, ec.SECP256R1()))


@dataclass(frozen=True)
class Keys:
    """Alice, Bob and Carol form a 2-of-3 quorum; Mallory is not a member."""

    alice: PrivateKey
    bob: PrivateKey
    carol: PrivateKey
    mallory: PrivateKey
    quorum: KeyQuorum


@pytest.fixture(scope="session")
def keys() -> Keys:
    alice, bob, carol, mallory = (
        derived_key(name) for name in ("alice", "bob", "carol", "mallory")
    )
    quorum = KeyQuorum(
        public_keys=(alice.public_key, bob.public_key, carol.public_key),
        authorization_threshold=2,
        id="treasury",
    )
    return Keys(alice, bob, carol, mallory, quorum)


class Sign(Protocol):
    def __call__(
        self,
        url: str,
        body: bytes = b"",
        *,
        method: str = "POST",
        signers: list[PrivateKey] | None = None,
        **options: Any,
    ) -> dict[str, str]: ...


@pytest.fixture(scope="session")
def sign(keys: Keys) -> Sign:
    """``sign(url, body, method=..., signers=..., **sign_request options)``: the headers of a
    request signed for ``APP_ID`` (by Alice and Bob unless ``signers`` says otherwise), with a
    JSON content type."""

    def signed(
        url: str,
        body: bytes = b"",
        *,
        method: str = "POST",
        signers: list[PrivateKey] | None = None,
        **options: Any,
    ) -> dict[str, str]:
        headers = sign_request(
            method=method,
            url=url,
            body=body,
            app_id=APP_ID,
            keys=signers if signers is not None else [keys.alice, keys.bob],
            **options,
        )
        headers["content-type"] = "application/json"
        return headers

    return signed


# --- HTTP responses ----------------------------------------------------------------------------

Response = httpx.Response | requests.Response


def problem_of(response: Response) -> dict[str, Any]:
    """The RFC 9457 document of a refusal, checked for shape (and for no traceback)."""
    assert response.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert set(doc) == {"type", "title", "status", "detail", "reason"}
    assert doc["status"] == response.status_code
    assert doc["type"].endswith(doc["reason"])
    assert "Traceback" not in response.text
    return doc


def post_chunks(client: str, url: str, raw: bytes, size: int, headers: dict[str, str]) -> Response:
    """POST ``raw`` in ``size``-byte chunks with no Content-Length (chunked transfer coding),
    with ``client`` ``"httpx"`` or ``"requests"``."""

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), size):
            yield raw[i : i + size]

    response: Response
    if client == "httpx":
        response = httpx.post(url, content=chunks(), headers=headers)
    else:
        response = requests.post(url, data=chunks(), headers=headers, timeout=10)
    assert "content-length" not in response.request.headers
    assert response.request.headers.get("transfer-encoding") == "chunked"
    return response


# --- servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def server(request: pytest.FixtureRequest, keys: Keys) -> Iterator[Any]:
    """The Privy middleware in front of a Starlette app under uvicorn (``asgi``) and a Flask
    app under waitress (``wsgi``): a :class:`servers.MiddlewareServer` whose ``url`` is the
    running default app (quorum ``keys.quorum`` on ``/v1/...``)."""
    from servers import MiddlewareServer

    with MiddlewareServer.started(request.param, keys.quorum) as running:
        yield running


def pytest_report_header() -> str:
    import authsig

    return f"authsig {authsig.__version__} from {Path(authsig.__file__).parent}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """With ``AUTHSIG_TEST_INSTALLED=1`` (tools/check_dist.py), refuse to test anything but the
    installed package: an ``authsig`` imported from a source tree would pass for the wheel."""
    if os.environ.get("AUTHSIG_TEST_INSTALLED") != "1":
        return
    import sysconfig

    import authsig

    where = Path(authsig.__file__).resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if not where.is_relative_to(site):
        raise pytest.UsageError(f"AUTHSIG_TEST_INSTALLED=1 but authsig comes from {where}")


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if STRICT and _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STRICT and _skipped:
        terminalreporter.write_line(
            f"AUTHSIG_STRICT=1: {len(_skipped)} skipped test(s) count as failures: "
            + ", ".join(_skipped[:10]),
            red=True,
        )
