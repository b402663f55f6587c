"""ECDSA P-256 public-key recovery: which keys *could* have made a signature.

Given a signature ``(r, s)`` over a message with SHA-256 digest ``z``, every public key ``Q``
for which it verifies satisfies ``Q = r^-1 (s R - z G)`` where ``R`` is a curve point whose x
coordinate is ``r`` (or ``r + n``, when that is below ``p``) and either of its two y values.
That gives at most four candidates (two in practice), which the verifier looks up in a dict of
member keys instead of trying every member key with a full verification.

This module only **selects** candidates. It never decides: the verifier always confirms a
candidate with ``cryptography``'s own ECDSA verify of that signature with that key.

The scalar multiplications run inside OpenSSL through ``cryptography``'s primitives:

- ``A = (s/r) R``: ECDH between a private key with scalar ``s/r`` and the point ``R`` gives the
  x coordinate of ``A`` (its y is recovered by point decompression; the sign does not matter,
  both are tried, which also covers the two parities of ``R``);
- ``B = -(z/r) G``: the public key of a private key with scalar ``-z/r``;
- ``Q = +-A + B``: one affine point addition in Python integers (one modular inversion shared by
  both signs).

The modular inverses and the square roots use ``gmpy2`` when it is installed (about 50 us less
per signature): ``R`` is then loaded as an uncompressed point after a gmpy2 square root, which is
cheaper than OpenSSL's decompression. Without it, Python's ``pow`` and OpenSSL's point
decompression do the same work.

Degenerate inputs (``A = +-B``) return ``None`` so that the caller falls back to trying keys
directly; they never happen for honest signatures.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from authsig.signatures import P256_N

__all__ = ["P256_P", "recover_points"]

P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
"""The field prime p of P-256."""

_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_SQRT_EXP = (P256_P + 1) // 4

_CURVE = ec.SECP256R1()
_ECDH = ec.ECDH()
_from_encoded_point = ec.EllipticCurvePublicKey.from_encoded_point
_derive = ec.derive_private_key


def _load_gmpy2() -> Any:
    try:
        return importlib.import_module("gmpy2")
    except ImportError:
        return None


_gmpy2 = _load_gmpy2()


def _py_invert(a: int, m: int) -> int:
    return pow(a, -1, m)


def _decompress_openssl(x: int) -> tuple[int, int] | None:
    """A point with x coordinate ``x``, or None when there is none (OpenSSL decompression)."""
    try:
        key = _from_encoded_point(_CURVE, b"\x02" + x.to_bytes(32, "big"))
    except ValueError:
        return None
    numbers = key.public_numbers()
    return numbers.x, numbers.y


def _lift_x_openssl(x: int) -> ec.EllipticCurvePublicKey | None:
    """The curve point with x coordinate ``x`` (either y) as a key, or None (OpenSSL)."""
    try:
        return _from_encoded_point(_CURVE, b"\x02" + x.to_bytes(32, "big"))
    except ValueError:
        return None


_invert: Callable[[int, int], int]
_decompress: Callable[[int], tuple[int, int] | None]
_lift_x: Callable[[int], ec.EllipticCurvePublicKey | None]

if _gmpy2 is not None:
    _gmpy_invert = _gmpy2.invert
    _gmpy_powmod = _gmpy2.powmod
    _mpz_p = _gmpy2.mpz(P256_P)
    _mpz_exp = _gmpy2.mpz(_SQRT_EXP)

    def _gmpy_inv(a: int, m: int) -> int:
        return int(_gmpy_invert(a, m))

    def _gmpy_decompress(x: int) -> tuple[int, int] | None:
        """A point with x coordinate ``x`` (square root with gmpy2), or None."""
        p = P256_P
        rhs = (x * x * x - 3 * x + _P256_B) % p
        y = int(_gmpy_powmod(rhs, _mpz_exp, _mpz_p))
        if y * y % p != rhs:
            return None
        return x, y

    def _gmpy_lift_x(x: int) -> ec.EllipticCurvePublicKey | None:
        """The curve point with x coordinate ``x`` as a key, or None: the square root with
        gmpy2, then an uncompressed point (OpenSSL's own decompression is slower)."""
        point = _gmpy_decompress(x)
        if point is None:
            return None
        return _from_encoded_point(
            _CURVE, b"\x04" + x.to_bytes(32, "big") + point[1].to_bytes(32, "big")
        )

    _invert = _gmpy_inv
    _decompress = _gmpy_decompress
    _lift_x = _gmpy_lift_x
else:  # pragma: no cover - depends on the environment
    _invert = _py_invert
    _decompress = _decompress_openssl
    _lift_x = _lift_x_openssl


def recover_points(z: int, r: int, s: int) -> list[bytes] | None:
    """Candidate public keys (65-byte uncompressed SEC1 points) for signature ``(r, s)``.

    ``z`` is the message digest as an integer (SHA-256, not reduced). Returns ``[]`` when
    ``r``/``s`` are out of range or no point has x = ``r``; ``None`` for a degenerate case in
    which the caller must try its keys directly. The malleated twin ``(r, n - s)`` gives the
    same candidates.
    """
    n, p = P256_N, P256_P
    if not (0 < r < n and 0 < s < n):
        return []
    invert = _invert
    r_inv = invert(r, n)
    k2 = -z * r_inv % n
    scalar = _derive(s * r_inv % n, _CURVE)
    xb = yb = 0
    if k2:
        numbers = _derive(k2, _CURVE).public_key().public_numbers()
        xb, yb = numbers.x, numbers.y
    out: list[bytes] = []
    for x in (r, r + n) if r + n < p else (r,):
        r_key = _lift_x(x)
        if r_key is None:
            continue
        xa = int.from_bytes(scalar.exchange(_ECDH, r_key), "big")
        a_point = _decompress(xa)
        if a_point is None:  # pragma: no cover - xa is always on the curve
            return None
        ya = a_point[1]
        if not k2:  # B is the point at infinity: Q = +-A
            out.append(b"\x04" + xa.to_bytes(32, "big") + ya.to_bytes(32, "big"))
            out.append(b"\x04" + xa.to_bytes(32, "big") + (p - ya).to_bytes(32, "big"))
            continue
        if xa == xb:
            return None
        inv = invert((xa - xb) % p, p)
        for y1 in (ya, p - ya):
            lam = (y1 - yb) * inv % p
            x3 = (lam * lam - xa - xb) % p
            y3 = (lam * (xa - x3) - y1) % p
            out.append(b"\x04" + x3.to_bytes(32, "big") + y3.to_bytes(32, "big"))
    return out
