"""Fuzzing in the test suite: saved findings replay clean, and each harness runs briefly.

``tests/fuzz_regressions/HARNESS/*`` are inputs the fuzzer once flagged (see
``fuzz/README.md`` for what each was); they are replayed through the harness's
``test_one_input`` (plain Python, no atheris). Each harness's seed corpus must pass too.
The smoke test runs every harness under atheris for a few thousand executions in a
subprocess (``python -m fuzz HARNESS -runs=N``), the same command as a long campaign.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fuzz package lives next to authsig, outside tests/

from fuzz import HARNESSES  # noqa: E402

REGRESSIONS = ROOT / "tests" / "fuzz_regressions"
SMOKE_RUNS = {
    "headers": 4000,
    "keys": 4000,
    "jcs": 4000,
    "body": 4000,
    "middleware": 1500,
    "httpsig": 4000,
    "turnkey": 4000,
}


def _saved_inputs() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for harness in sorted(HARNESSES):
        folder = REGRESSIONS / harness
        if folder.is_dir():
            found.extend((harness, p) for p in sorted(folder.iterdir()) if p.is_file())
    return found


def test_there_are_saved_regressions() -> None:
    assert len(_saved_inputs()) >= 2


@pytest.mark.parametrize(
    ("harness", "path"), _saved_inputs(), ids=lambda v: v if isinstance(v, str) else v.name
)
def test_saved_input_replays_clean(harness: str, path: Path) -> None:
    module = importlib.import_module(HARNESSES[harness])
    module.test_one_input(path.read_bytes())


@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_seeds_pass(harness: str) -> None:
    module = importlib.import_module(HARNESSES[harness])
    seeds = list(getattr(module, "SEEDS", ()))
    assert seeds, f"{harness} has no SEEDS"
    for seed in seeds:
        module.test_one_input(seed)


def test_middleware_harness_detects_an_accepted_forgery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness is not vacuous: if nothing was signed, an approved template is a finding."""
    from fuzz import InvariantBroken

    module = importlib.import_module(HARNESSES["middleware"])
    monkeypatch.setattr(module, "SIGNED_PAYLOADS", set())
    with pytest.raises(InvariantBroken, match="nobody signed"):
        module.test_one_input(module.SEEDS[0])


def test_body_harness_detects_a_refused_signed_body(monkeypatch: pytest.MonkeyPatch) -> None:
    from fuzz import InvariantBroken

    module = importlib.import_module(HARNESSES["body"])
    monkeypatch.setattr(module, "SIGNED", b"something else")
    with pytest.raises(InvariantBroken, match="approved a body"):
        module.test_one_input(module.SEEDS[0])


@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_smoke_run_under_atheris(harness: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris (the [fuzz] extra) is not installed")
    runs = SMOKE_RUNS[harness]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fuzz",
            harness,
            f"-runs={runs}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    assert f"Done {runs} runs" in proc.stderr, tail
    assert not list(tmp_path.glob("crash-*")), tail
