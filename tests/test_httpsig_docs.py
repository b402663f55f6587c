"""docs/httpsig.md: its sign-and-verify example runs as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "httpsig.md"


def test_the_sign_and_verify_example_runs() -> None:
    first = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    namespace: dict[str, Any] = {"__name__": "doc_example"}
    exec(compile(first, str(DOC), "exec"), namespace)  # our own documentation
    assert namespace["checked"].decision.approved
