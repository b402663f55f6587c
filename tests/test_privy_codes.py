"""Privy's refusal codes (authsig.privy.codes): each refusal carries the code Privy's API would
answer, the reverse lookup lists authsig's reasons, and docs/privy-codes.md is the same table."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from authsig import (
    Decision,
    KeyQuorum,
    Policy,
    PrivateKey,
    generate_private_key,
    sign_request,
    verify_request,
)
from authsig.privy.codes import (
    PRIVY_CODE_BY_REASON,
    PRIVY_CODES,
    REVERSE_ONLY,
    privy_code,
    reasons_for_privy_code,
)
from authsig.reasons import Reason

DOC = Path(__file__).resolve().parent.parent / "docs" / "privy-codes.md"
URL = "https://api.privy.io/v1/wallets/w1"
NOW = 1_700_000_000_000
BODY = b'{"a": 1}'


def _table(name: str) -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split(f"<!-- {name} -->", 1)[1].split(f"<!-- /{name} -->", 1)[0]
    rows = [line for line in block.strip().splitlines()[2:] if line.startswith("|")]
    out: dict[str, list[str]] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        out[cells[0].strip("`")] = re.findall(r"`([a-z_]+)`", cells[1])
    return out


def test_the_doc_tables_are_the_code_tables() -> None:
    assert _table("reason-table") == {r: list(c) for r, c in PRIVY_CODE_BY_REASON.items()}
    assert _table("code-table") == {c: list(reasons_for_privy_code(c)) for c in PRIVY_CODES}


def test_every_mapped_reason_is_registered_and_every_code_documented() -> None:
    for reason, codes in PRIVY_CODE_BY_REASON.items():
        assert Reason.get(reason) is not None, reason
        assert set(codes) <= set(PRIVY_CODES)
    for code, reasons in REVERSE_ONLY.items():
        assert code in PRIVY_CODES
        assert all(Reason.get(r) is not None for r in reasons)
    # Every Privy code leads to at least one reason.
    assert all(reasons_for_privy_code(code) for code in PRIVY_CODES)
    assert reasons_for_privy_code("policy_violation") == ()
    with pytest.raises(TypeError):
        reasons_for_privy_code(None)  # type: ignore[arg-type]


@pytest.fixture
def keys() -> list[PrivateKey]:
    return [generate_private_key() for _ in range(3)]


def _verify(keys: list[PrivateKey], headers: dict[str, str], **kw: Any) -> Decision:
    quorum = KeyQuorum(public_keys=tuple(k.public_key for k in keys), authorization_threshold=2)
    return verify_request(
        method="POST", url=URL, body=BODY, headers=headers, quorum=quorum, now_ms=NOW, **kw
    )


def _sign(*signers: PrivateKey, expires_in: timedelta = timedelta(minutes=5)) -> dict[str, str]:
    return sign_request(
        method="POST", url=URL, body=BODY, app_id="app", keys=list(signers),
        expires_in=expires_in, now_ms=NOW,
    )  # fmt: skip


def test_refusals_carry_privy_codes(keys: list[PrivateKey]) -> None:
    a, b, _ = keys
    outsider = generate_private_key()
    cases = [
        ({"privy-app-id": "app"}, "missing_signature", "missing_or_empty_authorization_header"),
        (
            {"privy-app-id": "app", "privy-authorization-signature": ""},
            "empty_signature_entry",
            "missing_or_empty_authorization_header",
        ),
        (_sign(outsider), "invalid_signature", "zero_correct_authorization_signatures"),
        (_sign(a, outsider), "invalid_signature", "insufficient_correct_authorization_signatures"),
        (
            _sign(a, b, outsider),
            "invalid_signature",
            "incorrect_quantity_of_authorization_signatures",
        ),
        (_sign(a), "threshold_not_met", "insufficient_correct_authorization_signatures"),
    ]
    for headers, reason, code in cases:
        decision = _verify(keys, headers)
        assert (decision.reason, decision.privy_code) == (reason, code)
        assert decision.to_dict()["privy_code"] == code
        assert reason in reasons_for_privy_code(code)
    allowed = Policy(allow_foreign_signatures=True)
    decision = _verify(keys, _sign(outsider), policy=allowed)
    assert (decision.reason, decision.privy_code) == (
        "threshold_not_met",
        "zero_correct_authorization_signatures",
    )
    assert _verify(keys, _sign(a, b)).privy_code is None  # approved


def test_expiry_refusals(keys: list[PrivateKey]) -> None:
    a, b, _ = keys
    old = sign_request(
        method="POST", url=URL, body=BODY, app_id="app", keys=[a, b],
        expires_in=timedelta(minutes=1), now_ms=NOW - 3_600_000,
    )  # fmt: skip
    decision = _verify(keys, old)
    assert (decision.reason, decision.privy_code) == ("expired", "request_expired")
    seconds = {**_sign(a, b), "privy-request-expiry": str(NOW // 1000 + 300)}
    decision = _verify(keys, seconds)
    assert (decision.reason, decision.privy_code) == ("expiry_in_seconds", "request_expired")
    far = _sign(a, b, expires_in=timedelta(days=3))
    decision = _verify(keys, far)
    assert (decision.reason, decision.privy_code) == ("expiry_too_far", None)


def test_privy_code_reads_only_what_a_decision_has() -> None:
    class D:
        approved = False
        reason = "replayed"
        missing = 0
        signatures = ()

    assert privy_code(D()) is None
