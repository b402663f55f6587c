"""ECDSA public-key recovery selects the signer's key among at most four candidates."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authsig import _recover
from authsig._recover import recover_points
from authsig.keys import generate_private_key
from authsig.signatures import P256_N, sign


def _rs(payload: bytes, key: object) -> tuple[int, int, int]:
    der = base64.b64decode(sign(payload, key))  # type: ignore[arg-type]
    r, s = decode_dss_signature(der)
    return int.from_bytes(hashlib.sha256(payload).digest(), "big"), r, s


def test_recovers_signer_for_many_random_keys() -> None:
    for i in range(150):
        key = generate_private_key()
        payload = f"payload {i}".encode()
        z, r, s = _rs(payload, key)
        points = recover_points(z, r, s)
        assert points is not None
        assert 1 <= len(points) <= 4
        assert key.public_key.point in points
        # The malleated twin (r, n - s) recovers the same key.
        twin = recover_points(z, r, P256_N - s)
        assert twin is not None
        assert key.public_key.point in twin


def test_wrong_message_does_not_recover_signer() -> None:
    key = generate_private_key()
    _z, r, s = _rs(b"signed", key)
    other = int.from_bytes(hashlib.sha256(b"other").digest(), "big")
    points = recover_points(other, r, s)
    assert points is not None
    assert key.public_key.point not in points


def test_out_of_range_scalars() -> None:
    assert recover_points(1, 0, 1) == []
    assert recover_points(1, 1, 0) == []
    assert recover_points(1, P256_N, 1) == []


def test_r_not_an_x_coordinate() -> None:
    # Find an r for which x^3 - 3x + b is not a square: no point, no candidates.
    r = 1
    while _recover._decompress_openssl(r) is not None:
        r += 1
    assert recover_points(12345, r, 777) == []


def test_python_fallback_matches_gmpy2(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_private_key()
    z, r, s = _rs(b"fallback", key)
    fast = recover_points(z, r, s)
    monkeypatch.setattr(_recover, "_invert", _recover._py_invert)
    monkeypatch.setattr(_recover, "_decompress", _recover._decompress_openssl)
    slow = recover_points(z, r, s)
    assert fast is not None
    assert slow is not None
    assert key.public_key.point in slow
    assert set(fast) == set(slow)


def test_zero_digest_component() -> None:
    # z = 0 mod n makes B the point at infinity: candidates are +-A and still contain the key.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    key = generate_private_key()
    digest = P256_N.to_bytes(32, "big")  # z = n, so z mod n = 0
    der = key.crypto.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    r, s = decode_dss_signature(der)
    points = recover_points(P256_N, r, s)
    assert points is not None
    assert key.public_key.point in points


def test_without_gmpy2_every_step_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """With all the gmpy2 helpers replaced by the plain fallbacks (as on a machine without the
    ``fast`` extra), recovery finds the same candidates, for both signature twins."""
    monkeypatch.setattr(_recover, "_invert", _recover._py_invert)
    monkeypatch.setattr(_recover, "_decompress", _recover._decompress_openssl)
    monkeypatch.setattr(_recover, "_lift_x", _recover._lift_x_openssl)
    for i in range(10):
        key = generate_private_key()
        z, r, s = _rs(f"no gmpy2 {i}".encode(), key)
        for s_value in (s, P256_N - s):
            points = recover_points(z, r, s_value)
            assert points is not None
            assert key.public_key.point in points
    r = 1
    while _recover._lift_x_openssl(r) is not None:
        r += 1
    assert recover_points(12345, r, 777) == []


def test_lift_x_helpers_agree() -> None:
    """Both ways of turning an x coordinate into a key give a point with that x (or none)."""
    for x in range(1, 40):
        a = _recover._lift_x(x)
        b = _recover._lift_x_openssl(x)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a.public_numbers().x == b.public_numbers().x == x
