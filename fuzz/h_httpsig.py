"""Harness ``httpsig``: RFC 9421 ``Signature-Input``/``Signature``, ``Content-Digest``, covered
components and whole requests.

Invariants: only AuthSigError subclasses escape; an accepted signature's ``@signature-params``
text parses back to the same components and parameters; an accepted digest is the body's own;
a signature base is ASCII with one line per covered component plus the params line; a request
signed by a key nobody holds is never approved, and a validly signed request with a fuzzed
header, method, URL or body is approved only when what it covers is unchanged.
"""

from __future__ import annotations

import hashlib

from authsig.errors import AuthSigError
from authsig.httpsig import _sfv as sfv
from authsig.httpsig.components import HttpMessage, component, signature_base
from authsig.httpsig.digest import check_content_digest, content_digest
from authsig.httpsig.fields import parse_signatures
from authsig.httpsig.signing import sign_request
from authsig.httpsig.verify import verify_request
from authsig.keys import generate_private_key
from authsig.policy import Policy
from fuzz import InvariantBroken
from fuzz._data import Reader

NOW = 1_800_000_000
SIGNER = generate_private_key()
NOBODY = generate_private_key().public_key  # its private key is discarded
URL = "https://api.example.com/v1/pay?a=1"
BODY = b'{"amount":1}'
SIGNED = sign_request(
    "POST",
    URL,
    [("Content-Type", "application/json")],
    BODY,
    key=SIGNER,
    keyid="k",
    created=NOW,
    nonce="n",
)
TEMPLATE = [("Content-Type", "application/json"), *SIGNED.items()]
_NAMES = ("signature-input", "signature", "content-digest", "content-type", "host", "x-other")


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(what)


def _fields(r: Reader) -> None:
    inputs = [r.text(600) for _ in range(r.int_in(0, 3))]
    signatures = [r.text(600) for _ in range(r.int_in(0, 3))]
    policy = Policy(max_signatures=r.int_in(1, 8), max_header_length=r.int_in(1, 2000))
    try:
        entries = parse_signatures(inputs, signatures, policy=policy)
    except AuthSigError:
        return
    _check(0 < len(entries) <= policy.max_signatures, "signature count outside the limit")
    for entry in entries:
        again = sfv.InnerList()
        again.parse(entry.params_text.encode("ascii"))
        _check([str(i) for i in again] == [str(i) for i in entry.covered], "components differ")
        _check(str(again) == entry.params_text, "@signature-params does not round-trip")


def _digest(r: Reader) -> None:
    lines = [r.text(300) for _ in range(r.int_in(0, 3))]
    body = r.sized_bytes(300)
    try:
        result = check_content_digest(lines, body)
    except AuthSigError:
        return
    if result.matches:
        own = content_digest(body, result.checked)
        _check(check_content_digest([own], body).matches, "own digest refused")
        _check(bool(result.checked), "a match with nothing checked")


def _components(r: Reader) -> None:
    specs = [r.text(60) for _ in range(r.int_in(0, 4))]
    headers = [(_NAMES[r.byte() % len(_NAMES)], r.text(100)) for _ in range(r.int_in(0, 4))]
    url = ("https://h.example", "http://H.example:80", "https://h.example:8443")[r.int_in(0, 2)]
    message = HttpMessage.build("GET", url + "/" + r.text(80), headers)
    try:
        covered = [component(spec) for spec in specs]
        base = signature_base(message, covered, "()")
    except AuthSigError:
        return
    _check(base.isascii(), "non-ASCII signature base")
    _check(base.count(b"\n") == len(covered), "a value added a line to the base")


def _unsigned(r: Reader) -> None:
    headers = [(_NAMES[r.byte() % len(_NAMES)], r.text(400)) for _ in range(r.int_in(0, 6))]
    message = HttpMessage.build("POST", URL, headers)
    decision = verify_request(
        message, r.sized_bytes(200), keys={"k": NOBODY}, now_ms=NOW * 1000
    ).decision
    _check(not decision.approved, "a request approved without the signer's key")


def _mutated(r: Reader) -> None:
    headers = list(TEMPLATE)
    method, url, body = "POST", URL, BODY
    what = r.byte() % 4
    if what == 0 and headers:
        index = r.int_in(0, len(headers) - 1)
        headers[index] = (headers[index][0], r.text(400))
    elif what == 1:
        method = r.text(10)
    elif what == 2:
        url = URL + r.text(40)
    else:
        body = r.sized_bytes(100)
    message = HttpMessage.build(method, url, headers)
    decision = verify_request(message, body, keys={"k": SIGNER.public_key}, now_ms=NOW * 1000)
    if decision.decision.approved:
        original = HttpMessage.build("POST", URL, TEMPLATE)
        (entry,) = parse_signatures(original.field_lines("signature-input"), ["sig1=:AA==:"])
        same = signature_base(message, entry.covered, entry.params_text) == signature_base(
            original, entry.covered, entry.params_text
        )
        same_body = hashlib.sha256(body).digest() == hashlib.sha256(BODY).digest()
        _check(same and same_body, "approved a request whose covered content changed")


def test_one_input(data: bytes) -> None:
    """One fuzz case (see the module docstring for the invariants)."""
    r = Reader(data)
    mode = r.byte() % 5
    (_fields, _digest, _components, _unsigned, _mutated)[mode](r)


SEEDS = [
    b"\x00\x01\x01\x04\x00\x40" + b'a=("@method");created=1' + b"\x0aa=:AAAA:",
    b"\x01\x01\x30sha-256=:47DEQpj8HBSa+/TZIwb4iTQkNtbCKT62z3X2aRx9q6A=:\x00",
    b"\x02\x01\x07@method\x00\x00\x03foo",
    b"\x03\x01\x00\x20" + b'a=("@method");keyid="k";created=1',
    b"\x04\x00\x00\x05hello",
]
"""Starting corpus: one case per mode."""
