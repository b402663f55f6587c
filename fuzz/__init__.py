"""Coverage-guided fuzz harnesses for authsig (atheris).

Run one with ``python -m fuzz HARNESS [--runs N] [--max-time S] [libFuzzer flags...]``; see
``fuzz/README.md``. Each harness module defines ``test_one_input(data: bytes) -> None`` that
raises only when an invariant is broken: an exception other than an
:class:`~authsig.errors.AuthSigError` subclass escaped, a parse did not round-trip, or a
request without a valid signature was approved. The same functions are called on the saved
regression inputs by ``tests/test_fuzz_regressions.py`` (no atheris needed there).
"""

from __future__ import annotations

HARNESSES: dict[str, str] = {
    "headers": "fuzz.h_headers",
    "keys": "fuzz.h_keys",
    "jcs": "fuzz.h_jcs",
    "body": "fuzz.h_body",
    "middleware": "fuzz.h_middleware",
    "httpsig": "fuzz.h_httpsig",
    "turnkey": "fuzz.h_turnkey",
}
"""Harness name -> module defining ``test_one_input``."""

__all__ = ["HARNESSES", "InvariantBroken"]


class InvariantBroken(AssertionError):
    """A harness invariant does not hold (a finding, as opposed to a typed refusal)."""
