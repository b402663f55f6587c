"""The vendored third-party data (``tests/conformance``) is what its README says it is: every
file listed in ``SHA256SUMS`` is there with that content, nothing unlisted sits beside it, and
each upstream directory keeps its license next to the data."""

from __future__ import annotations

import gzip
import hashlib

from conftest import CONFORMANCE

# The uncompressed ES6 number file, as README.md records it (the .gz is compressed here).
ES6_TEXT_SHA256 = "c37cdeebbdc8fc23f17c4e4e4a83b7a1f30872be760bf511551b69063a59bc0f"


def _listed() -> dict[str, str]:
    lines = (CONFORMANCE / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def test_every_file_matches_its_checksum() -> None:
    listed = _listed()
    assert len(listed) >= 20
    for name, digest in listed.items():
        got = hashlib.sha256((CONFORMANCE / name).read_bytes()).hexdigest()
        assert got == digest, f"{name} differs from the copy recorded in SHA256SUMS"


def test_nothing_unlisted() -> None:
    present = {
        str(path.relative_to(CONFORMANCE))
        for path in CONFORMANCE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    paperwork = {"README.md", "SHA256SUMS", "jcs/LICENSE", "wycheproof/LICENSE"}
    assert present - paperwork == set(_listed())


def test_licenses_sit_next_to_the_data() -> None:
    for upstream in ("jcs", "wycheproof"):
        text = (CONFORMANCE / upstream / "LICENSE").read_text()
        assert "Apache License" in text, upstream
    readme = (CONFORMANCE / "README.md").read_text()
    assert "dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166" in readme  # the Wycheproof commit


def test_es6_numbers_decompress_to_the_upstream_text() -> None:
    text = gzip.decompress((CONFORMANCE / "jcs" / "es6-numbers-100k.txt.gz").read_bytes())
    assert hashlib.sha256(text).hexdigest() == ES6_TEXT_SHA256
    assert ES6_TEXT_SHA256 in (CONFORMANCE / "README.md").read_text()
    assert text.count(b"\n") == 100_000
