"""The Turnkey rows of the bad-input catalogue (``tests/test_catalogue.py`` builds its cases
from :data:`ROWS`).

Each row runs the stamp parser (it must raise the listed error), then the way a server meets
the input: ``turnkey Gate`` is the shared Gate running
:class:`~authsig.turnkey.scheme.TurnkeyScheme` on a POST whose ``X-Stamp`` (or body) is the
input, and must refuse it with the listed reason and status.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from authsig.errors import AuthSigError
from authsig.http import Gate
from authsig.turnkey import P256, TurnkeyPrivateKey, TurnkeyScheme, stamp, verify_stamp
from authsig.turnkey import errors as TE

__all__ = ["ROWS"]

Outcome = tuple[AuthSigError, str, int]
NOW = 1_760_000_000_000
BODY = json.dumps({"organizationId": "o", "timestampMs": str(NOW)}).encode()
KEY = TurnkeyPrivateKey.from_hex("5a" * 32, P256)
GOOD = stamp(BODY, KEY, deterministic=True)


def _members(header: str) -> dict[str, str]:
    value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    assert isinstance(value, dict)
    return value


MEMBERS = _members(GOOD)
#: A valid signature by KEY, of another body.
OTHER_SIGNATURE = _members(stamp(b"{}", KEY, deterministic=True))["signature"]
GATE = Gate(TurnkeyScheme(keys=[KEY.public_key]), replay_store=None, clock=lambda: NOW)


def _raises(call: Callable[[], object]) -> AuthSigError:
    try:
        call()
    except AuthSigError as exc:
        return exc
    raise AssertionError("no AuthSigError raised")


def _gate(header: str, body: bytes = BODY) -> tuple[str, int]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_STAMP": header}
    info = GATE.urls.from_wsgi(environ)
    outcome = GATE.check(info, body, True)
    assert outcome.problem is not None
    return outcome.problem.reason, outcome.problem.status


def _stamp_row(header: str, body: bytes = BODY) -> Callable[[], Outcome]:
    def run() -> Outcome:
        return (_raises(lambda: verify_stamp(body, header)), *_gate(header, body))

    return run


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _with(**changes: Any) -> str:
    value = {**MEMBERS, **changes}
    return _b64url(json.dumps({k: v for k, v in value.items() if v is not None}))


_S, _K, _C = TE.TurnkeyStampError, TE.TurnkeyKeyError, TE.TurnkeySchemeError
_G = TE.TurnkeySignatureError
_AREA, _WHERE = "Turnkey X-Stamp", "turnkey Gate"


def _row(shown: str, error: type[AuthSigError], run: Callable[[], Outcome]) -> tuple[Any, ...]:
    return (_AREA, shown, error, error.code, error.code, 401, run, _WHERE)


ROWS: list[tuple[Any, ...]] = [
    _row("padded base64url (`...=`)", _S, _stamp_row(GOOD + "=")),
    _row("standard base64 alphabet (`+`, `/`)", _S, _stamp_row("ab+/")),
    _row("base64url of text that is not JSON", _S, _stamp_row(_b64url("stamp"))),
    _row("JSON array instead of an object", _S, _stamp_row(_b64url("[]"))),
    _row("a fourth member", _S, _stamp_row(_with(extra="x"))),
    _row("`scheme` missing", _S, _stamp_row(_with(scheme=None))),
    _row("`publicKey` repeated", _S, _stamp_row(_b64url('{"publicKey":"a","publicKey":"b"}'))),
    _row("`signature` a number", _S, _stamp_row(_with(signature=1))),
    _row("over 1024 characters", _S, _stamp_row("A" * 1025)),
    _row(
        "`SIGNATURE_SCHEME_TK_WEBAUTHN`",
        _C,
        _stamp_row(_with(scheme="SIGNATURE_SCHEME_TK_WEBAUTHN")),
    ),
    _row(
        "`publicKey` in upper-case hex",
        _K,
        _stamp_row(_with(publicKey=MEMBERS["publicKey"].upper())),
    ),
    _row("`publicKey` an uncompressed point", _K, _stamp_row(_with(publicKey="04" + "11" * 64))),
    _row("`signature` raw `r‖s` (64 bytes)", _G, _stamp_row(_with(signature="01" * 64))),
    _row(
        "`signature` with trailing bytes",
        _G,
        _stamp_row(_with(signature=MEMBERS["signature"] + "00")),
    ),
    _row("a valid stamp of another body", _G, _stamp_row(_with(signature=OTHER_SIGNATURE))),
]
