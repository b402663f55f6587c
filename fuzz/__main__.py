"""Run one fuzz harness: ``python -m fuzz HARNESS [options] [libFuzzer flags / corpus dirs]``.

Examples::

    python -m fuzz headers --runs 1000000 --max-time 1800 .cache/fuzz-corpus/headers
    python -m fuzz middleware -runs=5000
    python -m fuzz --list

``--runs N`` and ``--max-time S`` are shorthands for libFuzzer's ``-runs=N`` and
``-max_total_time=S``; anything else is passed to libFuzzer unchanged (a directory is a
corpus: read at start, new inputs written to it). Each seed of the harness (its ``SEEDS``)
is written into the first corpus directory given. Exit status is non-zero on a finding; the
crashing input is saved as ``crash-*`` in the working directory (or ``-artifact_prefix``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import sys
from collections.abc import Sequence

from fuzz import HARNESSES


def _parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("harness", nargs="?", choices=sorted(HARNESSES))
    parser.add_argument("--runs", type=int, help="stop after N executions")
    parser.add_argument("--max-time", type=int, help="stop after S seconds")
    parser.add_argument("--list", action="store_true", help="list the harnesses and exit")
    return parser.parse_known_args(argv)


def _seed(corpus: str, seeds: Sequence[bytes]) -> None:
    os.makedirs(corpus, exist_ok=True)
    for seed in seeds:
        name = os.path.join(corpus, "seed-" + hashlib.sha256(seed).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as fh:
                fh.write(seed)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the harness under atheris (does not return on success
    of libFuzzer's own exit, which calls ``sys.exit``)."""
    args, rest = _parse(sys.argv[1:] if argv is None else argv)
    if args.list or args.harness is None:
        for name, module_name in sorted(HARNESSES.items()):
            print(f"{name:12} {module_name}")
        return 0
    import atheris

    with atheris.instrument_imports(include=["authsig", "fuzz"]):
        module = importlib.import_module(HARNESSES[args.harness])
    flags = [a for a in rest if a.startswith("-")]
    corpora = [a for a in rest if not a.startswith("-")]
    if corpora:
        _seed(corpora[0], getattr(module, "SEEDS", ()))
    if args.runs is not None:
        flags.append(f"-runs={args.runs}")
    if args.max_time is not None:
        flags.append(f"-max_total_time={args.max_time}")
    if not any(f.startswith("-max_len=") for f in flags):
        flags.append("-max_len=8192")
    if not any(f.startswith("-print_final_stats=") for f in flags):
        flags.append("-print_final_stats=1")
    atheris.Setup([sys.argv[0], *flags, *corpora], module.test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
