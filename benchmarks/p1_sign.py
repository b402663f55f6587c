"""P1: ``sign_request`` on a typical body vs the hand-written minimum and vs the official
Python SDK's ``prepare_request``.

- *hand-written minimum*: ``json.dumps`` (sorted keys, compact separators,
  ``ensure_ascii=False``) of the payload object, one ``cryptography`` ECDSA P-256 sign with
  an already loaded key, base64; it also computes the expiry and returns the header dict,
  as ``sign_request`` does. Target: ``sign_request`` <= 1.15x its time.
- *official SDK*: ``privy.lib.authorization.prepare_request`` from ``privy-client`` (the
  same pin as the interop tests), in its own venv (the SDK pins ``cryptography<47``). A
  helper process there (``_privy_sdk_timer.py``) runs one batch of its cases whenever we
  ask, at the start of each of our rounds, while this process waits: the ratios are paired
  by round like the local ones. Target: authsig at least 1.5x faster.

The SDK takes the private key as base64 text and loads it on every call, so we also time
``load_private_key(base64) + sign_request`` (same inputs as the SDK). And since the SDK
venv has another ``cryptography`` (46 vs ours), the same hand-written code is timed in both
processes: the ratio between the two shows how much of the difference is the environment.

Before timing, the SDK's signature and ``sign_request``'s are both verified against the
payload built independently (``json.dumps``) here: all sides sign the same bytes.
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

from benchmarks._data import APP_ID, IDEMPOTENCY_KEY, RPC_URL, small_body
from benchmarks._model import BenchConfig, Section, Unavailable, cost_row, speedup_row
from benchmarks._timing import compare

BENCH = "P1"
TITLE = "sign_request vs hand-written minimum and the official Python SDK"

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


def _hand_payload(body: Any, headers: Mapping[str, str]) -> bytes:
    payload = {"version": 1, "method": "POST", "url": RPC_URL, "body": body, "headers": headers}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _check_signed(
    headers: Mapping[str, str], body: Any, public: ec.EllipticCurvePublicKey, who: str
) -> None:
    """The signature in ``headers`` verifies over the independently built payload."""
    signed = {
        "privy-app-id": headers.get("privy-app-id", APP_ID),
        "privy-idempotency-key": headers["privy-idempotency-key"],
        "privy-request-expiry": headers["privy-request-expiry"],
    }
    signature = base64.b64decode(headers["privy-authorization-signature"], validate=True)
    try:
        public.verify(signature, _hand_payload(body, signed), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError(f"P1: {who} did not sign the expected payload") from exc


def run(config: BenchConfig) -> Section:
    """Measure and return the P1 section."""
    try:
        from authsig.keys import generate_private_key, load_private_key
        from authsig.privy.payload import signing_payload
        from authsig.privy.signing import sign_request
    except ImportError as exc:
        raise Unavailable(f"authsig signing is not importable yet: {exc}") from exc

    body = small_body()
    key = generate_private_key()  # a throwaway key, never printed
    key_b64 = key.to_base64()
    crypto_key = key.crypto
    public = crypto_key.public_key()

    def ours() -> object:
        return sign_request(
            method="POST",
            url=RPC_URL,
            body=body,
            app_id=APP_ID,
            keys=key,
            idempotency_key=IDEMPOTENCY_KEY,
        )

    def ours_b64() -> object:
        return sign_request(
            method="POST",
            url=RPC_URL,
            body=body,
            app_id=APP_ID,
            keys=load_private_key(key_b64),
            idempotency_key=IDEMPOTENCY_KEY,
        )

    def hand() -> object:
        headers = {
            "privy-app-id": APP_ID,
            "privy-idempotency-key": IDEMPOTENCY_KEY,
            "privy-request-expiry": str(int(time.time() * 1000) + 900_000),
        }
        payload = {"version": 1, "method": "POST", "url": RPC_URL, "body": body, "headers": headers}
        data = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        signature = base64.b64encode(crypto_key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()
        return {**headers, "privy-authorization-signature": signature}

    fixed_headers = {
        "privy-app-id": APP_ID,
        "privy-idempotency-key": IDEMPOTENCY_KEY,
        "privy-request-expiry": "1764000000000",
    }
    fixed_payload = _hand_payload(body, fixed_headers)

    def payload_only() -> object:
        return signing_payload(method="POST", url=RPC_URL, body=body, headers=fixed_headers)

    def hand_payload() -> object:
        obj = {"version": 1, "method": "POST", "url": RPC_URL, "body": body}
        obj["headers"] = fixed_headers
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def raw_sign() -> object:
        return crypto_key.sign(fixed_payload, ec.ECDSA(hashes.SHA256()))

    def load_der() -> object:
        return serialization.load_der_private_key(base64.b64decode(key_b64), password=None)

    if payload_only() != fixed_payload:
        raise AssertionError("P1: signing_payload differs from the hand-written payload")
    _check_signed(ours(), body, public, "sign_request")  # type: ignore[arg-type]
    _check_signed(hand(), body, public, "the hand-written code")  # type: ignore[arg-type]

    cases: dict[str, Callable[[], object]] = {
        OURS: ours,
        OURS_B64: ours_b64,
        HAND: hand,
        PAYLOAD: payload_only,
        HAND_PAYLOAD: hand_payload,
        RAW_SIGN: raw_sign,
        LOAD: load_der,
    }
    section = Section(BENCH, TITLE)
    sdk_problem: str | None = None
    timer: SdkTimer | None = None
    try:
        timer = SdkTimer(sdk_python())
        setup = timer.ask(
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
        _check_signed(setup["headers"], body, public, "privy-client prepare_request")
        section.data["versions"] = setup["versions"]
    except (Unavailable, RuntimeError, OSError) as exc:
        sdk_problem = str(exc)
        if timer is not None:
            timer.close()
            timer = None

    sdk_timer = timer

    def sdk_round(_index: int) -> Mapping[str, float]:
        assert sdk_timer is not None
        return sdk_timer.ask({"op": "round"})

    try:
        t = compare(cases, config.timing, round_hook=sdk_round if sdk_timer else None)
    finally:
        if sdk_timer is not None:
            sdk_timer.close()

    case = f"POST, {len(json.dumps(body, separators=(',', ':')))} B body, 1 key"
    section.rows.append(cost_row(BENCH, case, t, OURS, HAND, target=1.15))
    if sdk_problem is None:
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
    else:
        section.notes.append(f"Official SDK not measured: {sdk_problem}")
    section.rows.append(cost_row(BENCH, "payload bytes only", t, PAYLOAD, HAND_PAYLOAD))
    section.notes.append(
        "Before timing, the signatures of `sign_request`, of the hand-written code and of the "
        "SDK were each verified over the payload built independently with `json.dumps`: all "
        "sides sign the same bytes."
    )
    overhead = t.us(OURS) - t.us(HAND)
    payload_extra = t.us(PAYLOAD) - t.us(HAND_PAYLOAD)
    section.notes.append(
        f"Where the time goes: the hand-written minimum is {t.us(HAND):.1f} µs, of which the "
        f"ECDSA sign is {t.us(RAW_SIGN):.1f} µs and `json.dumps` of the payload "
        f"{t.us(HAND_PAYLOAD):.1f} µs. `sign_request` is {t.us(OURS):.1f} µs "
        f"({overhead:+.1f} µs): `signing_payload` accounts for {payload_extra:+.1f} µs over "
        f"`json.dumps` (exact RFC 8785 checks), the remaining {overhead - payload_extra:+.1f} µs "
        "is the recipe around it (argument checks, key list, expiry, header formatting)."
    )
    if section.rows[0].met is False:
        budget = 0.15 * t.us(HAND)
        section.notes.append(
            f"To close the P1 miss: the 1.15x target leaves {budget:.1f} µs per call for "
            f"everything authsig adds to the minimum; it spends {overhead:.1f} µs (payload "
            f"{payload_extra:+.1f} µs, recipe {overhead - payload_extra:+.1f} µs). Candidates "
            "seen in a profile: re-checking what authsig itself just produced (the signature "
            "header entries), per-call argument normalisation, the exactness pre-scan."
        )
    if sdk_problem is None:
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
            f"{section.data['versions'].get('cryptography (SDK venv)', '?')})."
        )
    return section
