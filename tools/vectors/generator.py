"""Write the vector files, byte-identical on every run and platform.

Keys are derived from fixed labels, ECDSA signatures are deterministic (RFC 6979 with
SHA-256), Ed25519 is deterministic, the clock is the fixed ``NOW_MS``, and the JSON is written
with sorted keys, two-space indentation and a trailing newline (the files hold no
floating-point numbers: bodies are text as sent).

The JSON Schemas are not generated: the committed ``vectors/schema/*.schema.json`` are the
source of truth. Every generated file is validated against its committed schema before
anything is written, and a target other than ``vectors/`` receives a copy of the schemas and
of ``vectors/README.md``, so that it is a complete copy of the published directory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from authsig.conformance import FORMAT_VERSION, KINDS

from . import (
    canonicalization,
    cobo,
    dialects,
    httpsig,
    keys,
    quorum,
    signing,
    turnkey,
    verification,
)

#: The committed vectors directory of the source repository.
COMMITTED = Path(__file__).resolve().parents[2] / "vectors"

_Module = Callable[[], list[dict[str, Any]]]
#: kind -> (the file's description, its case builder), in the order of ``KINDS``.
BUILDERS: dict[str, tuple[str, _Module]] = {
    "keys": (keys.DESCRIPTION, keys.cases),
    "canonicalization": (canonicalization.DESCRIPTION, canonicalization.cases),
    "signing": (signing.DESCRIPTION, signing.cases),
    "verification": (verification.DESCRIPTION, verification.cases),
    "quorum": (quorum.DESCRIPTION, quorum.cases),
    "cobo": (cobo.DESCRIPTION, cobo.cases),
    "dialects": (dialects.DESCRIPTION, dialects.cases),
    "httpsig": (httpsig.DESCRIPTION, httpsig.cases),
    "turnkey": (turnkey.DESCRIPTION, turnkey.cases),
}


def dump(obj: Any) -> bytes:
    """The bytes of a vector file: sorted keys, two-space indentation, a trailing newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build(kind: str) -> dict[str, Any]:
    """The content of ``<kind>.json``."""
    description, cases = BUILDERS[kind]
    return {
        "format": f"authsig-vectors/{kind}",
        "format_version": FORMAT_VERSION,
        "description": description,
        "cases": cases(),
    }


def schema_path(kind: str) -> Path:
    """The committed JSON Schema of ``<kind>.json``."""
    return COMMITTED / "schema" / f"{kind}.schema.json"


def schema_errors(kind: str, data: Any) -> list[str]:
    """Where ``data`` breaks the committed schema of ``kind`` (empty when it conforms)."""
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(data)
    ]


def static_files() -> list[str]:
    """The committed files that are copied, not generated (relative to ``vectors/``)."""
    return ["README.md", *(f"schema/{kind}.schema.json" for kind in KINDS)]


def generate(directory: Path) -> list[Path]:
    """Write every vector file into ``directory`` (and copy the committed static files when
    ``directory`` is not ``vectors/`` itself); returns the paths written.

    Raises ``ValueError`` before writing anything when a file breaks its committed schema.
    """
    directory = Path(directory)
    contents = {kind: build(kind) for kind in KINDS}
    for kind, data in contents.items():
        errors = schema_errors(kind, data)
        if errors:
            raise ValueError(
                f"{kind}.json does not match schema/{kind}.schema.json: " + "; ".join(errors[:5])
            )
    (directory / "schema").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind, data in contents.items():
        path = directory / f"{kind}.json"
        path.write_bytes(dump(data))
        written.append(path)
    if directory.resolve() != COMMITTED:
        for name in static_files():
            shutil.copyfile(COMMITTED / name, directory / name)
            written.append(directory / name)
    return written
