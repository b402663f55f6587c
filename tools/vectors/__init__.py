"""Generator of the published test vectors (``vectors/``); not part of the wheel.

``python -m tools.vectors generate DIR`` writes the files (``make vectors``);
``python -m tools.vectors check DIR`` validates them against the committed schemas and runs
the library's checker (:func:`authsig.conformance.check`) on them. One module per file:
``keys``, ``canonicalization``, ``signing``, ``verification`` and ``quorum`` (sharing
``decisions``), ``cobo``; ``der`` holds the deterministic keys and their hand-built encodings.
"""

from __future__ import annotations

from .generator import COMMITTED, generate

__all__ = ["COMMITTED", "generate"]
