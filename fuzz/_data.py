"""A tiny deterministic reader over fuzz bytes (no atheris dependency).

The harnesses use this instead of ``atheris.FuzzedDataProvider`` so that regression inputs
replay identically in plain pytest, with or without atheris installed.
"""

from __future__ import annotations


class Reader:
    """Consume typed values from the front of a byte string; empty input gives zeros."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        """Bytes not yet consumed."""
        return len(self.data) - self.pos

    def byte(self) -> int:
        """One byte (0 when exhausted)."""
        if self.pos >= len(self.data):
            return 0
        value = self.data[self.pos]
        self.pos += 1
        return value

    def int_in(self, low: int, high: int) -> int:
        """An integer in ``[low, high]`` from up to 8 bytes."""
        span = high - low + 1
        width = max(1, min(8, (span.bit_length() + 7) // 8))
        raw = self.take(width)
        return low + int.from_bytes(raw.ljust(width, b"\0"), "big") % span

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes."""
        chunk = self.data[self.pos : self.pos + max(0, n)]
        self.pos += len(chunk)
        return chunk

    def sized_bytes(self, limit: int = 4096) -> bytes:
        """A length-prefixed chunk (length from one or two bytes, capped at ``limit``)."""
        n = self.byte()
        if n == 255:
            n = self.int_in(0, limit)
        return self.take(min(n, limit))

    def text(self, limit: int = 4096) -> str:
        """A length-prefixed chunk as text: UTF-8 (lone surrogates kept), else latin-1."""
        return _decode(self.sized_bytes(limit))

    def rest(self) -> bytes:
        """Everything not yet consumed."""
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


def _decode(raw: bytes) -> str:
    """UTF-8 (lone surrogates allowed via surrogatepass), else latin-1 for anything else."""
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
