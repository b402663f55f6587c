"""The RFC 9421 rows of the bad-input catalogue (``tests/test_catalogue.py`` builds its cases
from :data:`ROWS`).

Each row runs the parser of that kind of input (it must raise the listed error), then the way a
server meets it: ``httpsig verify`` is :func:`authsig.httpsig.verify_request` on a request
signed by an accepted key whose field was replaced; ``httpsig Gate`` is the shared Gate running
:class:`~authsig.httpsig.scheme.HttpSigScheme` whose key resolver returns the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authsig.errors import AuthSigError
from authsig.http import Gate
from authsig.httpsig import errors as HE
from authsig.httpsig.algorithms import load_verifying_key
from authsig.httpsig.components import HttpMessage, component, component_value
from authsig.httpsig.digest import check_content_digest
from authsig.httpsig.fields import parse_signatures
from authsig.httpsig.scheme import HttpSigScheme
from authsig.httpsig.signing import sign_request
from authsig.httpsig.verify import verify_request
from authsig.keys import generate_private_key

__all__ = ["ROWS"]

Outcome = tuple[AuthSigError, str, int]
NOW = 1_760_000_000
URL = "https://api.example.com/v1/pay?a=1&a=2"
BODY = b'{"amount":1}'
KEY = generate_private_key()
SIGNED = sign_request("POST", URL, [], BODY, key=KEY, keyid="k", created=NOW, nonce="n")
GOOD_INPUT, GOOD_SIG = SIGNED["Signature-Input"], SIGNED["Signature"]


def _raises(call: Callable[[], object]) -> AuthSigError:
    try:
        call()
    except AuthSigError as exc:
        return exc
    raise AssertionError("no AuthSigError raised")


def _verify(fields: dict[str, str]) -> tuple[str, int]:
    headers = {**SIGNED, **fields}
    message = HttpMessage.build("POST", URL, headers.items())
    decision = verify_request(message, BODY, keys={"k": KEY.public_key}, now_ms=NOW * 1000)
    assert not decision.decision.approved
    return decision.decision.reason, decision.decision.http_status


def fields(sig_input: str, signature: str = GOOD_SIG) -> Callable[[], Outcome]:
    def run() -> Outcome:
        exc = _raises(lambda: parse_signatures([sig_input], [signature]))
        fields = {"Signature-Input": sig_input, "Signature": signature}
        return (exc, *_verify(fields))

    return run


def covered(spec: str, headers: tuple[tuple[str, str], ...] = ()) -> Callable[[], Outcome]:
    def run() -> Outcome:
        message = HttpMessage.build("POST", URL, headers)
        exc = _raises(lambda: component_value(message, component(spec)))
        sig_input = f'sig1=({spec} "content-digest");created={NOW};keyid="k";nonce="n"'
        return (exc, *_verify({"Signature-Input": sig_input, "Signature": "sig1=:AAAA:"}))

    return run


def digest(value: str) -> Callable[[], Outcome]:
    def run() -> Outcome:
        exc = _raises(lambda: check_content_digest([value], BODY))
        return (exc, *_verify({"Content-Digest": value}))

    return run


def resolved_key(data: Any) -> Callable[[], Outcome]:
    """Load directly; then return it from the scheme's key resolver behind the Gate."""

    def run() -> Outcome:
        exc = _raises(lambda: load_verifying_key(data))
        gate = Gate(
            HttpSigScheme(keys=lambda keyid: data),
            replay_store=None,
            public_base_url="https://api.example.com",
            clock=lambda: NOW * 1000,
        )
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/v1/pay",
            "QUERY_STRING": "a=1&a=2",
            **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in SIGNED.items()},
        }
        outcome = gate.check(gate.urls.from_wsgi(environ), BODY, gate.scheme.resolve(None))  # type: ignore[arg-type]
        assert outcome.problem is not None
        return exc, outcome.problem.reason, outcome.problem.status

    return run


_F = HE.HttpSigFieldError
_C = HE.HttpSigComponentError
_D = HE.HttpSigDigestError
_LABEL = 'sig1=("@method")'


def _f(sig_input: str, shown: str, signature: str = GOOD_SIG) -> tuple[Any, ...]:
    code = _F.code
    return ("RFC 9421 fields", shown, _F, code, code, 400, fields(sig_input, signature))


def _c(spec: str, shown: str, headers: tuple[tuple[str, str], ...] = ()) -> tuple[Any, ...]:
    code = _C.code
    return ("RFC 9421 components", shown, _C, code, code, 400, covered(spec, headers))


def _d(value: str, shown: str) -> tuple[Any, ...]:
    code = _D.code
    return ("Content-Digest", shown, _D, code, code, 400, digest(value))


ROWS: list[tuple[Any, ...]] = [
    _f("sig1=(", "`Signature-Input` not a dictionary (`sig1=(`)"),
    _f(_LABEL.replace("sig1", "other"), "labels differ between the two fields"),
    _f(GOOD_INPUT, "`Signature` member a string, not bytes", 'sig1="abc"'),
    _f("sig1=(@method)", "component as a token (`(@method)`)"),
    _f(_LABEL + ';created="1"', "`created` a string"),
    _f(_LABEL + ";keyid=k", "`keyid` a token"),
    _f(_LABEL + ';nonce=""', "empty `nonce`"),
    _f('sig1=("@status")', "`@status` (a response component)"),
    _f('sig1=("Content-Type")', "upper-case field name"),
    _f('sig1=("é")', "non-ASCII `Signature-Input`"),
    _f(
        ", ".join(f'l{i}=("@method")' for i in range(65)),
        "65 signatures (limit 64)",
        ", ".join(f"l{i}=:AAAA:" for i in range(65)),
    ),
    _f('sig1=("' + "x" * 8200 + '")', "8212 characters (limit 8192)"),
    _c('"x-absent"', "covered header field absent"),
    _c('"@query-param";name="a"', "`@query-param` of a repeated parameter"),
    _c('"accept";sf', "unsupported component parameter `sf`", (("Accept", "x"),)),
    _c('"accept";key="b"', "`key` of a member the field lacks", (("Accept", "a=1"),)),
    _d("sha-256=(", "not a dictionary"),
    _d("md5=:AAAA:", "no sha-256 or sha-512 member"),
    _d("sha-256=1", "`sha-256` an integer, not bytes"),
    (
        "RFC 9421 keys",
        "Ed25519 key of 31 bytes",
        HE.HttpSigKeyError,
        HE.HttpSigKeyError.code,
        "internal_error",
        500,
        resolved_key(b"\x01" * 31),
        "httpsig Gate",
    ),
    (
        "RFC 9421 keys",
        "not a key",
        HE.HttpSigKeyError,
        HE.HttpSigKeyError.code,
        "internal_error",
        500,
        resolved_key("not a key"),
        "httpsig Gate",
    ),
]
"""(area, shown input, error class, code, reason, status, runner[, where]) per row; ``where``
defaults to ``httpsig verify``."""
ROWS = [row if len(row) == 8 else (*row, "httpsig verify") for row in ROWS]
