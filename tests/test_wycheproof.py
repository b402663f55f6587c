"""Wycheproof conformance for keys and ECDSA (C2SP/wycheproof testvectors_v1).

The vectors are vendored in ``tests/conformance/wycheproof`` (``conftest.vectors_path``). One
loader turns each file into pytest parameters (one case per tcId); the per-file totals are
asserted so a truncated or filtered file cannot pass silently.

Verdicts: ``valid`` must verify/load, ``invalid`` must fail. The ECDSA files have no
``acceptable`` cases. In the SPKI file (``ecdh_secp256r1_test.json``) every ``acceptable``
case is refused (explicit curve parameters, compressed points, non-canonical DER), as
decided in :mod:`authsig.keys`.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from functools import cache
from typing import Any

import pytest
from conftest import vectors_path
from cryptography.hazmat.primitives.asymmetric import ec

from authsig.errors import KeyFormatError, SignatureFormatError, WrongCurveError
from authsig.keys import PublicKey, load_public_key
from authsig.signatures import (
    decode_signature,
    der_to_raw,
    raw_to_der,
    verify_raw_signature,
    verify_signature,
)

ECDSA_DER = "ecdsa_secp256r1_sha256_test.json"
ECDSA_P1363 = "ecdsa_secp256r1_sha256_p1363_test.json"
ECDH = "ecdh_secp256r1_test.json"
EXPECTED_COUNTS = {ECDSA_DER: 484, ECDSA_P1363: 262, ECDH: 612}


@cache
def _load(name: str) -> dict[str, Any]:
    with vectors_path("wycheproof", name).open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _cases(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    data = _load(name)
    return [(group, test) for group in data["testGroups"] for test in group["tests"]]


def wycheproof(name: str) -> Any:
    """Parametrize a test over every (group, test) of a Wycheproof file, ids ``tc<N>``."""
    cases = _cases(name)
    return pytest.mark.parametrize(
        ("group", "test"), [pytest.param(g, t, id=f"tc{t['tcId']}") for g, t in cases]
    )


_keys: dict[str, PublicKey] = {}


def _group_key(group: dict[str, Any]) -> PublicKey:
    der_hex = group["publicKeyDer"]
    if der_hex not in _keys:
        key = load_public_key(bytes.fromhex(der_hex))
        # The same key through the uncompressed point and the PEM must be equal.
        assert key == load_public_key(bytes.fromhex(group["publicKey"]["uncompressed"]))
        assert key == load_public_key(group["publicKeyPem"])
        _keys[der_hex] = key
    return _keys[der_hex]


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        (ECDSA_DER, "ecdsa_verify_schema_v1.json"),
        (ECDSA_P1363, "ecdsa_p1363_verify_schema_v1.json"),
        (ECDH, "ecdh_test_schema_v1.json"),
    ],
)
def test_file_totals(name: str, schema: str) -> None:
    data = _load(name)
    cases = _cases(name)
    assert data["schema"] == schema
    assert len(cases) == data["numberOfTests"] == EXPECTED_COUNTS[name]
    assert len({t["tcId"] for _, t in cases}) == EXPECTED_COUNTS[name]


@wycheproof(ECDSA_DER)
def test_ecdsa_der(group: dict[str, Any], test: dict[str, Any]) -> None:
    assert group["publicKey"]["curve"] == "secp256r1"
    assert group["sha"] == "SHA-256"
    assert test["result"] in ("valid", "invalid")  # the file has no "acceptable" cases
    key = _group_key(group)
    msg, sig = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    expected = test["result"] == "valid"
    assert verify_signature(msg, sig, key) is expected
    # The base64 text path (what travels in the header) gives the same verdict.
    assert verify_signature(msg, base64.b64encode(sig).decode(), key) is expected
    # The strict decoder agrees: every valid signature decodes; whatever it refuses is invalid.
    text = base64.b64encode(sig).decode()
    try:
        der = decode_signature(text)
    except SignatureFormatError:
        assert not expected
    else:
        assert der == sig
        assert raw_to_der(der_to_raw(der)) == der
        assert verify_raw_signature(msg, der_to_raw(der), key) is expected


@wycheproof(ECDSA_P1363)
def test_ecdsa_p1363(group: dict[str, Any], test: dict[str, Any]) -> None:
    assert test["result"] in ("valid", "invalid")
    key = _group_key(group)
    if "publicKeyJwk" in group:
        assert load_public_key(group["publicKeyJwk"]) == key
    msg, sig = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    expected = test["result"] == "valid"
    assert verify_raw_signature(msg, sig, key) is expected
    if expected:
        der = raw_to_der(sig)
        assert der_to_raw(der) == sig
        assert verify_signature(msg, der, key)


_P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
# Flags whose keys are not P-256 points: another named curve, a point off the curve (also
# compressed x coordinates on the twist). authsig reports all of them as WrongCurveError.
_NOT_ON_P256 = {
    "WrongCurve",
    "ModifiedGroup",
    "InvalidCurveAttack",
    "ModifiedPublicPoint",
    "InvalidCompressedPublic",
}


def _off_curve_canonical(der: bytes) -> bool:
    """Independent check: canonical P-256 SPKI framing around a point cryptography refuses."""
    if len(der) != 91 or not der.startswith(_P256_SPKI_PREFIX):
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), der[26:])
    except ValueError:
        return True
    return False


def _spki_outcome(test: dict[str, Any]) -> str:
    """Our decision per Wycheproof verdict and flags: 'load', 'wrong_curve' or 'format'."""
    if test["result"] == "valid":
        return "load"
    if set(test["flags"]) & _NOT_ON_P256 or _off_curve_canonical(bytes.fromhex(test["public"])):
        return "wrong_curve"
    # invalid, and every "acceptable" case: explicit parameters (UnnamedCurve),
    # compressed points, non-canonical ASN.1.
    return "format"


@wycheproof(ECDH)
def test_spki(group: dict[str, Any], test: dict[str, Any]) -> None:
    der = bytes.fromhex(test["public"])
    outcome = _spki_outcome(test)
    if outcome == "load":
        key = load_public_key(der)
        assert key.spki_der == der  # valid keys are canonical: we keep the exact bytes
        assert load_public_key(key.to_base64()) == key
        assert load_public_key(key.to_jwk()) == key
        return
    with pytest.raises(KeyFormatError) as info:
        load_public_key(der)
    if outcome == "wrong_curve":
        assert type(info.value) is WrongCurveError
    else:
        assert type(info.value) is KeyFormatError
    if test["public"]:
        assert test["public"] not in str(info.value)


def test_spki_decision_table() -> None:
    """The acceptable cases are refused for the documented reasons (counted per flag)."""
    decided: Counter[tuple[str, str]] = Counter()
    for _, test in _cases(ECDH):
        if test["result"] != "acceptable":
            continue
        der = bytes.fromhex(test["public"])
        with pytest.raises(KeyFormatError) as info:
            load_public_key(der)
        flags = set(test["flags"])
        if "UnnamedCurve" in flags:
            assert "explicit" in str(info.value)
            decided["explicit-params", type(info.value).__name__] += 1
        elif "CompressedPoint" in flags:
            assert "compressed" in str(info.value)
            decided["compressed", type(info.value).__name__] += 1
        else:
            assert flags == {"InvalidAsn"}
            decided["invalid-asn", type(info.value).__name__] += 1
    assert decided == {
        ("explicit-params", "KeyFormatError"): 7,
        ("compressed", "KeyFormatError"): 1,
        ("invalid-asn", "KeyFormatError"): 221,
        # tc605 "modifying last byte of bit string": canonical framing, point off the curve
        ("invalid-asn", "WrongCurveError"): 1,
    }


def test_verdict_totals() -> None:
    """All cases in one pass: the number of matching verdicts equals the file's total."""
    matched = Counter[str]()
    for group, test in _cases(ECDSA_DER):
        key = _group_key(group)
        ok = verify_signature(bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]), key)
        matched[ECDSA_DER] += ok is (test["result"] == "valid")
    for group, test in _cases(ECDSA_P1363):
        key = _group_key(group)
        ok = verify_raw_signature(bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]), key)
        matched[ECDSA_P1363] += ok is (test["result"] == "valid")
    for _, test in _cases(ECDH):
        outcome = _spki_outcome(test)
        try:
            load_public_key(bytes.fromhex(test["public"]))
            got = "load"
        except WrongCurveError:
            got = "wrong_curve"
        except KeyFormatError:
            got = "format"
        matched[ECDH] += got == outcome
    assert matched == {ECDSA_DER: 484, ECDSA_P1363: 262, ECDH: 612}
