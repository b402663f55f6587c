"""P1: ``sign_request`` on every sample class vs the hand-written minimum, and on the typical
body vs the official Python SDK's ``prepare_request``.

- *hand-written minimum*: ``json.dumps`` (sorted keys, compact separators,
  ``ensure_ascii=False``) of the payload object, one ``cryptography`` ECDSA P-256 sign with
  an already loaded key and an ``ECDSA(SHA256())`` object built once (as ``sign_request``
  does; building it per call costs a few µs), base64; it also computes the expiry and
  returns the header dict, as ``sign_request`` does. ``json.dumps`` is not RFC 8785 on some
  classes (floats, some keys): there the minimum signs other bytes than a Privy server
  checks; it stays the floor.
  Target (architecture issue): ``sign_request`` <= 1.25x its time on every sample class.
- *official SDK*: ``privy.lib.authorization.prepare_request`` from ``privy-client`` (the
  same pin as the interop tests), in its own venv (the SDK pins ``cryptography<47``). A
  helper process there (``_privy_sdk_timer.py``) runs one batch of its cases whenever we
  ask, at the start of each of our rounds, while this process waits: the ratios are paired
  by round like the local ones. Target: authsig at least 1.5x faster.

The SDK takes the private key as base64 text and loads it on every call, so we also time
``load_private_key(base64) + sign_request`` (same inputs as the SDK). And since the SDK
venv has another ``cryptography`` (46 vs ours), the same hand-written code is timed in both
processes: the ratio between the two shows how much of the difference is the environment.

Before timing, ``sign_request``'s signature is verified over the payload built independently
with the ``rfc8785`` package, the hand-written one over its own ``json.dumps`` bytes, and the
SDK's (typical body, which is ASCII and float-free) over the same bytes as ours.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks._data import APP_ID, IDEMPOTENCY_KEY, RPC_URL
from benchmarks._model import (
    BenchConfig,
    Section,
    Table,
    Unavailable,
    cost_row,
    fmt_delta,
    fmt_us,
    speedup_row,
)
from benchmarks._samples import Sample, samples
from benchmarks._timing import RoundHook, Timings, compare
from benchmarks._where import miss_note, profile

BENCH = "P1"
TITLE = "sign_request per sample class vs the hand-written minimum, and vs the official Python SDK"

ROOT = Path(__file__).resolve().parent.parent
TIMER = Path(__file__).resolve().parent / "_privy_sdk_timer.py"
FALLBACK_SDK_PIN = "privy-client==0.7.0"

OURS = "authsig sign_request"
OURS_B64 = "authsig load_private_key(b64) + sign_request"
HAND = "hand-written minimum"
SDK = "privy-client prepare_request"
SDK_HAND = "hand-written minimum (SDK venv)"
LOAD = "cryptography load_der_private_key"
SDK_LOAD = "cryptography load_der_private_key (SDK venv)"
PAYLOAD = "authsig signing_payload only"
HAND_PAYLOAD = "json.dumps payload only"
RAW_SIGN = "raw ECDSA sign only"
TARGET = 1.25
METRIC = f"P1 sign_request / minimum (<= {TARGET:g}x)"
FIXED_HEADERS = {
    "privy-app-id": APP_ID,
    "privy-idempotency-key": IDEMPOTENCY_KEY,
    "privy-request-expiry": "1764000000000",
}


def sdk_requirements() -> list[str]:
    """The requirement list of the ``privy-python`` venv, shared with the interop tests."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    try:
        from _interop import PYTHON_SDK  # type: ignore[import-not-found,unused-ignore]

        return [str(PYTHON_SDK)]
    except ImportError:
        return [FALLBACK_SDK_PIN]


def sdk_python() -> Path:
    """The SDK venv's Python (built and cached under .cache/ on first use)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from _envs import EnvUnavailable, python_env  # type: ignore[import-not-found,unused-ignore]

    try:
        python: Path = python_env("privy-python", sdk_requirements())
    except EnvUnavailable as exc:
        raise Unavailable(f"cannot build the privy-client venv: {exc}") from exc
    return python


class SdkTimer:
    """The helper process in the SDK venv (see ``_privy_sdk_timer.py``)."""

    def __init__(self, python: Path) -> None:
        self._proc = subprocess.Popen(
            [str(python), str(TIMER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Send one request line, read one answer line."""
        stdin: IO[str] | None = self._proc.stdin
        stdout: IO[str] | None = self._proc.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"SDK timer exited ({self._proc.wait(timeout=10)})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"SDK timer: {answer['error']}")
        return answer

    def close(self) -> None:
        """Ask the helper to quit and wait for it."""
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self._proc.stdin.close()
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()


def _payload_object(body: Any, headers: Mapping[str, str]) -> dict[str, Any]:
    return {"version": 1, "method": "POST", "url": RPC_URL, "body": body, "headers": headers}


def _hand_payload(body: Any, headers: Mapping[str, str]) -> bytes:
    payload = _payload_object(body, headers)
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The participating headers of a signer's result (the SDK leaves out the app id)."""
    return {
        "privy-app-id": headers.get("privy-app-id", APP_ID),
        "privy-idempotency-key": headers["privy-idempotency-key"],
        "privy-request-expiry": headers["privy-request-expiry"],
    }


def _check_signed(
    headers: Mapping[str, str],
    payload: Callable[[Mapping[str, str]], bytes],
    public: ec.EllipticCurvePublicKey,
    who: str,
) -> None:
    """The signature in ``headers`` verifies over ``payload(the signed headers)``."""
    signature = base64.b64decode(headers["privy-authorization-signature"], validate=True)
    try:
        public.verify(signature, payload(_signed_headers(headers)), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError(f"P1: {who} did not sign the expected payload") from exc


def _api() -> dict[str, Any]:
    """The public names P1 uses (``Unavailable`` when authsig or rfc8785 is missing)."""
    try:
        import rfc8785

        from authsig.keys import generate_private_key, load_private_key
        from authsig.privy import sign_request, signing_payload
    except ImportError as exc:
        raise Unavailable(f"authsig signing or rfc8785 is not importable: {exc}") from exc
    return {
        "rfc8785": rfc8785.dumps,
        "generate_private_key": generate_private_key,
        "load_private_key": load_private_key,
        "sign_request": sign_request,
        "signing_payload": signing_payload,
    }


def _class_cases(body: Any, key: Any, api: dict[str, Any]) -> dict[str, Callable[[], object]]:
    """sign_request, the hand-written minimum and their parts, on ``body``; checked first."""
    sign_request, signing_payload = api["sign_request"], api["signing_payload"]
    crypto_key = key.crypto
    ecdsa = ec.ECDSA(hashes.SHA256())

    def ours() -> dict[str, str]:
        headers: dict[str, str] = sign_request(
            method="POST",
            url=RPC_URL,
            body=body,
            app_id=APP_ID,
            keys=key,
            idempotency_key=IDEMPOTENCY_KEY,
        )
        return headers

    def hand() -> dict[str, str]:
        headers = {
            "privy-app-id": APP_ID,
            "privy-idempotency-key": IDEMPOTENCY_KEY,
            "privy-request-expiry": str(int(time.time() * 1000) + 900_000),
        }
        payload = {"version": 1, "method": "POST", "url": RPC_URL, "body": body, "headers": headers}
        data = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        signature = base64.b64encode(crypto_key.sign(data, ecdsa)).decode()
        return {**headers, "privy-authorization-signature": signature}

    exact = api["rfc8785"](_payload_object(body, FIXED_HEADERS))
    if signing_payload(method="POST", url=RPC_URL, body=body, headers=FIXED_HEADERS) != exact:
        raise AssertionError("P1: signing_payload differs from the rfc8785 payload")
    public = crypto_key.public_key()
    _check_signed(ours(), lambda h: api["rfc8785"](_payload_object(body, h)), public, "ours")
    _check_signed(hand(), lambda h: _hand_payload(body, h), public, "the hand-written code")
    return {
        OURS: ours,
        HAND: hand,
        PAYLOAD: lambda: signing_payload(
            method="POST", url=RPC_URL, body=body, headers=FIXED_HEADERS
        ),
        HAND_PAYLOAD: lambda: _hand_payload(body, FIXED_HEADERS),
        RAW_SIGN: lambda: crypto_key.sign(exact, ecdsa),
    }


class _Sdk:
    """The SDK side of the typical-body run: the helper process and what it found."""

    def __init__(
        self,
        key_b64: str,
        body: Any,
        public: ec.EllipticCurvePublicKey,
        config: BenchConfig,
        expected: Callable[[Mapping[str, str]], bytes],
    ) -> None:
        self.problem: str | None = None
        self.versions: dict[str, str] = {}
        self.timer: SdkTimer | None = None
        try:
            self.timer = SdkTimer(sdk_python())
            setup = self.timer.ask(
                {
                    "op": "setup",
                    "private_key": key_b64,
                    "app_id": APP_ID,
                    "url": RPC_URL,
                    "body": body,
                    "idempotency_key": IDEMPOTENCY_KEY,
                    "batch_seconds": config.timing.batch_seconds,
                    "fixed_number": config.timing.fixed_number,
                }
            )
            _check_signed(setup["headers"], expected, public, "privy-client prepare_request")
            self.versions = setup["versions"]
        except (Unavailable, RuntimeError, OSError, AssertionError) as exc:
            self.problem = str(exc)
            self.close()

    def hook(self) -> RoundHook | None:
        """Runs one SDK batch per round (None when the SDK is not available)."""
        timer = self.timer
        if timer is None:
            return None
        return lambda _index: timer.ask({"op": "round"})

    def close(self) -> None:
        if self.timer is not None:
            self.timer.close()
            self.timer = None


def _sdk_rows(section: Section, t: Timings, sdk: _Sdk, case: str) -> None:
    """The rows and notes against the official SDK (typical body only)."""
    if sdk.problem is not None:
        section.notes.append(f"Official SDK not measured: {sdk.problem}")
        return
    section.data["versions"] = sdk.versions
    section.rows.append(speedup_row(BENCH, case, t, OURS, SDK, target=1.5))
    section.rows.append(
        speedup_row(
            BENCH,
            case + " (key from base64 each call)",
            t,
            OURS_B64,
            SDK,
            note="both load the key from base64 on every call",
        )
    )
    section.rows.append(cost_row(BENCH, "same code, two venvs", t, SDK_HAND, HAND))
    section.rows.append(cost_row(BENCH, "same code, two venvs", t, SDK_LOAD, LOAD))
    env_ratio = t.ratio(SDK_HAND, HAND)
    section.notes.append(
        f"The same hand-written code runs {env_ratio:.2f}x as long in the SDK venv (other "
        "`cryptography` and OpenSSL builds) as here; the SDK ratio above includes that "
        f"difference. Normalised by it, authsig is {t.ratio(SDK, OURS) / env_ratio:.2f}x "
        "faster than the SDK's own code path."
    )
    section.notes.append(
        f"Loading the key from base64 on every call: `load_private_key` costs "
        f"{t.us(OURS_B64) - t.us(OURS):.1f} µs per call here, of which "
        f"`cryptography`'s `load_der_private_key` alone is {t.us(LOAD):.1f} µs in this venv "
        f"vs {t.us(SDK_LOAD):.1f} µs in the SDK venv (`cryptography` "
        f"{sdk.versions.get('cryptography (SDK venv)', '?')})."
    )


def _measure(
    smp: Sample, key: Any, api: dict[str, Any], config: BenchConfig, section: Section
) -> tuple[Timings, dict[str, Callable[[], object]]]:
    """Time one sample; on the typical body also against the SDK (its rows go in now)."""
    cases = _class_cases(smp.body, key, api)
    if (smp.cls, smp.size) != ("ascii", "small"):
        return compare(cases, config.timing), cases
    key_b64 = key.to_base64()
    load_private_key, sign_request = api["load_private_key"], api["sign_request"]
    cases[OURS_B64] = lambda: sign_request(
        method="POST",
        url=RPC_URL,
        body=smp.body,
        app_id=APP_ID,
        keys=load_private_key(key_b64),
        idempotency_key=IDEMPOTENCY_KEY,
    )
    cases[LOAD] = lambda: serialization.load_der_private_key(
        base64.b64decode(key_b64), password=None
    )
    expected = lambda h: api["rfc8785"](_payload_object(smp.body, h))  # noqa: E731
    sdk = _Sdk(key_b64, smp.body, key.crypto.public_key(), config, expected)
    try:
        t = compare(cases, config.timing, round_hook=sdk.hook())
    finally:
        sdk.close()
    _sdk_rows(section, t, sdk, smp.label)
    return t, cases


def _breakdown(smp: Sample, t: Timings) -> list[str]:
    """A line of the per-class table: the parts of both sides."""
    rest = t.us(OURS) - t.us(PAYLOAD) - t.us(RAW_SIGN)
    return [
        smp.label,
        fmt_us(t.us(OURS)),
        fmt_us(t.us(HAND)),
        f"{t.ratio(OURS, HAND):.2f}x",
        fmt_us(t.us(RAW_SIGN)),
        fmt_us(t.us(PAYLOAD)),
        fmt_us(t.us(HAND_PAYLOAD)),
        fmt_us(rest),
    ]


def run(config: BenchConfig) -> Section:
    """Measure and return the P1 section."""
    api = _api()
    key = api["generate_private_key"]()  # a throwaway key, never printed
    section = Section(BENCH, TITLE)
    breakdown: list[list[str]] = []
    for smp in samples():
        t, cases = _measure(smp, key, api, config, section)
        row = cost_row(
            BENCH, smp.label, t, OURS, HAND, target=TARGET, sample=smp.label, metric=METRIC
        )
        section.rows.insert(len(breakdown), row)
        breakdown.append(_breakdown(smp, t))
        if row.met is False:
            extra = t.us(PAYLOAD) - t.us(HAND_PAYLOAD)
            section.notes.append(
                miss_note(
                    [row],
                    profile(cases[OURS], config.profile_seconds),
                    f"`signing_payload` takes {fmt_us(t.us(PAYLOAD))} against "
                    f"{fmt_us(t.us(HAND_PAYLOAD))} for `json.dumps` of the payload "
                    f"({fmt_delta(extra)}: canonicalization, see P2 for this class); the ECDSA "
                    f"sign {fmt_us(t.us(RAW_SIGN))}.",
                )
            )
    section.tables.append(
        Table(
            "Per sample class: where the time of each side goes (medians)",
            [
                "sample",
                "sign_request",
                "minimum",
                "ratio",
                "ECDSA sign",
                "signing_payload",
                "json.dumps payload",
                "rest of sign_request",
            ],
            breakdown,
        )
    )
    section.notes.insert(
        0,
        "Before timing, `sign_request`'s signature was verified over the payload built by the "
        "`rfc8785` package, the hand-written one over its `json.dumps` bytes (which are not "
        "RFC 8785 where the P2 inputs table says so), and the SDK's over the same bytes as ours.",
    )
    return section
