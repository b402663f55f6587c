"""Generator and checker of the published test vectors (``vectors/``).

The vectors let an implementer in any language prove byte-compatibility with authsig and with
Privy's authorization-signature scheme (and Cobo WaaS 2.0's request and event signatures).
``vectors/README.md`` describes the format; ``vectors/schema/`` holds a JSON Schema per file.

:func:`generate` writes every file byte-identically on every run: keys are derived from fixed
labels (a SHA-256 of the label, reduced to a scalar), ECDSA signatures are deterministic
(RFC 6979 with SHA-256), Ed25519 is deterministic, the clock is the fixed :data:`NOW_MS`, and
the JSON is written with sorted keys, two-space indentation and a trailing newline (the files
hold no floating-point numbers: bodies are text as sent). The expected outcome of every case
is written by hand in the case definition below, never copied from the library's output.

:func:`check` runs the library against every case of a directory and returns a
:class:`CheckReport` (``authsig vectors check DIR``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from authsig.keys import PrivateKey, PublicKey, load_private_key, load_public_key
from authsig.privy.headers import format_signature_header, parse_signature_header
from authsig.privy.payload import signing_payload
from authsig.signatures import der_to_raw, raw_to_der, sign, verify_signature

__all__ = [
    "FILES",
    "FORMAT_VERSION",
    "NOW_MS",
    "SCHEMAS",
    "SCHEMA_FILES",
    "CheckReport",
    "check",
    "generate",
]

#: Version of the vector file format (the ``format_version`` member of every file).
FORMAT_VERSION = 1
#: The fixed "current time" of every case: 2026-01-01T00:00:00Z in milliseconds.
NOW_MS = 1_767_225_600_000
#: ``now + 15 minutes``: the expiry the SDKs would send.
EXPIRY_MS = NOW_MS + 15 * 60 * 1000

APP_ID = "cm4vectorsapp00000000000"
BASE_URL = "https://api.privy.io/v1"

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check`: how many cases passed and which failed (with why)."""

    passed: int
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of cases checked (plus file-level failures)."""
        return self.passed + len(self.failed)

    @property
    def ok(self) -> bool:
        """True when at least one case ran and none failed."""
        return not self.failed and self.passed > 0


# ------------------------------------------------------------------------------------------
# deterministic keys


def _scalar(label: str, order: int) -> int:
    digest = hashlib.sha256(f"authsig test vectors/{label}".encode()).digest()
    return int.from_bytes(digest, "big") % (order - 1) + 1


def _p256(label: str) -> PrivateKey:
    return PrivateKey.from_crypto(
        ec.derive_private_key(_scalar(label, _P256_ORDER), ec.SECP256R1())
    )


def _secp256k1(label: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_scalar(label, _K1_ORDER), ec.SECP256K1())


def _ed25519_seed(label: str) -> bytes:
    return hashlib.sha256(f"authsig test vectors/ed25519/{label}".encode()).digest()


def _spki_b64(key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> str:
    """SPKI DER (canonical: named curve, uncompressed point) of a key on another curve."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


# Key encodings are written here by hand (DER is canonical), so the files do not depend on how
# a version of `cryptography` or authsig's own encoders lay out PKCS#8, SEC1, PEM or JWK.
_OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
_OID_P256 = bytes.fromhex("06082a8648ce3d030107")
_OID_SECP256K1 = bytes.fromhex("06052b8104000a")


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([tag]) + length + content


@dataclass(frozen=True)
class _Der:
    """Hand-built encodings of one EC key pair (32-byte field)."""

    d: bytes
    point: bytes
    pkcs8: bytes
    sec1: bytes
    spki: bytes

    @classmethod
    def of(cls, key: ec.EllipticCurvePrivateKey, curve_oid: bytes = _OID_P256) -> _Der:
        numbers = key.private_numbers()
        d = numbers.private_value.to_bytes(32, "big")
        pub = numbers.public_numbers
        point = b"\x04" + pub.x.to_bytes(32, "big") + pub.y.to_bytes(32, "big")
        bits = _tlv(0x03, b"\x00" + point)
        algorithm = _tlv(0x30, _OID_EC_PUBLIC_KEY + curve_oid)
        inner = _tlv(0x30, b"\x02\x01\x01" + _tlv(0x04, d) + _tlv(0xA1, bits))
        return cls(
            d=d,
            point=point,
            pkcs8=_tlv(0x30, b"\x02\x01\x00" + algorithm + _tlv(0x04, inner)),
            sec1=_tlv(
                0x30, b"\x02\x01\x01" + _tlv(0x04, d) + _tlv(0xA0, curve_oid) + _tlv(0xA1, bits)
            ),
            spki=_tlv(0x30, algorithm + bits),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _pem(label: str, der: bytes) -> str:
    text = _b64(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _jwk(point: bytes) -> str:
    return json.dumps(
        {"crv": "P-256", "kty": "EC", "x": _b64url(point[1:33]), "y": _b64url(point[33:])},
        sort_keys=True,
    )


def _key_id(point: bytes) -> str:
    """RFC 7638 thumbprint of a P-256 point, computed here independently of keys.py."""
    members = (
        f'{{"crv":"P-256","kty":"EC","x":"{_b64url(point[1:33])}","y":"{_b64url(point[33:])}"}}'
    )
    return _b64url(hashlib.sha256(members.encode("ascii")).digest())


def _key_entry(key: PrivateKey) -> dict[str, Any]:
    der = _Der.of(key.crypto)
    return {
        "private_key": _b64(der.pkcs8),
        "private_scalar_hex": der.d.hex(),
        "public_key": _b64(der.spki),
        "key_id": _key_id(der.point),
    }


def _public_b64(label: str) -> str:
    return _b64(_Der.of(_p256(label).crypto).spki)


# ------------------------------------------------------------------------------------------
# small helpers


def _hex(data: bytes) -> str:
    return data.hex()


def _twin(signature: str) -> str:
    """The malleated twin (r, n - s) of a base64 DER signature."""
    raw = der_to_raw(base64.b64decode(signature))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return base64.b64encode(raw_to_der(r + (_P256_ORDER - s).to_bytes(32, "big"))).decode()


def _s_is_high(signature: str) -> bool:
    raw = der_to_raw(base64.b64decode(signature))
    return int.from_bytes(raw[32:], "big") > _P256_ORDER // 2


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _file(kind: str, description: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": f"authsig-vectors/{kind}",
        "format_version": FORMAT_VERSION,
        "description": description,
        "cases": cases,
    }


# ------------------------------------------------------------------------------------------
# keys.json


def _keys_cases() -> list[dict[str, Any]]:
    der = _Der.of(_p256("keys/main").crypto)
    spki = _b64(der.spki)
    pkcs8 = _b64(der.pkcs8)
    ok = {"public_key": spki, "key_id": _key_id(der.point)}
    k1 = _secp256k1("keys/secp256k1")
    p384 = ec.derive_private_key(_scalar("keys/p384", _P256_ORDER), ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(_ed25519_seed("keys/ed25519"))
    k1_pkcs8 = _Der.of(k1, _OID_SECP256K1).pkcs8
    truncated = _b64(der.spki[:-5])
    return [
        {"name": "public/base64-spki", "kind": "public", "input": spki, "expected": ok},
        {
            "name": "public/base64-spki-with-newline",
            "description": "Privy shows keys with a line break after 64 characters",
            "kind": "public",
            "input": spki[:64] + "\n" + spki[64:],
            "expected": ok,
        },
        {
            "name": "public/pem",
            "kind": "public",
            "input": _pem("PUBLIC KEY", der.spki),
            "expected": ok,
        },
        {
            "name": "public/jwk",
            "kind": "public",
            "input": _jwk(der.point),
            "expected": ok,
        },
        {"name": "private/base64-pkcs8", "kind": "private", "input": pkcs8, "expected": ok},
        {
            "name": "private/wallet-auth-prefix",
            "description": "the Privy dashboard shows private keys with a wallet-auth: prefix",
            "kind": "private",
            "input": "wallet-auth:" + pkcs8,
            "expected": ok,
        },
        {
            "name": "private/base64-sec1",
            "kind": "private",
            "input": _b64(der.sec1),
            "expected": ok,
        },
        {
            "name": "private/pem",
            "kind": "private",
            "input": _pem("PRIVATE KEY", der.pkcs8),
            "expected": ok,
        },
        {
            "name": "private/pem-sec1",
            "kind": "private",
            "input": _pem("EC PRIVATE KEY", der.sec1),
            "expected": ok,
        },
        {
            "name": "public/wrong-curve-secp256k1",
            "kind": "public",
            "input": _spki_b64(k1.public_key()),
            "expected": {"error": "wrong_curve"},
        },
        {
            "name": "public/wrong-curve-p384",
            "kind": "public",
            "input": _spki_b64(p384.public_key()),
            "expected": {"error": "wrong_curve"},
        },
        {
            "name": "private/wrong-curve-secp256k1",
            "kind": "private",
            "input": _b64(k1_pkcs8),
            "expected": {"error": "wrong_curve"},
        },
        {
            "name": "public/ed25519-is-not-p256",
            "kind": "public",
            "input": _spki_b64(ed.public_key()),
            "expected": {"error": "invalid_key"},
        },
        {
            "name": "public/truncated-der",
            "kind": "public",
            "input": truncated,
            "expected": {"error": "invalid_key"},
        },
        {
            "name": "public/not-base64",
            "kind": "public",
            "input": "not a key!",
            "expected": {"error": "invalid_key"},
        },
    ]


def _check_key_case(case: Mapping[str, Any]) -> str | None:
    expected = case["expected"]
    loader: Callable[[str], Any] = load_public_key if case["kind"] == "public" else load_private_key
    try:
        loaded = loader(case["input"])
    except AuthSigError as exc:
        if "error" in expected and exc.code == expected["error"]:
            return None
        return f"raised {exc.code}, expected {expected}"
    if "error" in expected:
        return f"loaded, expected error {expected['error']}"
    pub = loaded if isinstance(loaded, PublicKey) else loaded.public_key
    if pub.to_base64() != expected["public_key"]:
        return "public key differs"
    if pub.key_id != expected["key_id"]:
        return f"key id {pub.key_id} != {expected['key_id']}"
    return None


# ------------------------------------------------------------------------------------------
# canonicalization.json

_RFC8785_SAMPLE = (
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
    ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "literals": [null, true, false]}'
)

#: (name, input JSON text, description)
_CANON_OK: list[tuple[str, str, str]] = [
    ("rfc8785/sample", _RFC8785_SAMPLE, "the example of RFC 8785 section 3.2.2"),
    ("literals/top-level-null", "null", ""),
    ("literals/top-level-true", "true", ""),
    ("literals/array", "[true, false, null]", ""),
    ("strings/escapes", '"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\"', "short escapes"),
    ("strings/not-escaped", '"/ \\u007f \\u0080 \\u2028 \\u2029 \\ufeff"', "written raw"),
    ("strings/unicode", '"é 日本 €"', "raw UTF-8"),
    ("strings/non-bmp", '"\\ud83d\\ude00 𝄞"', "a surrogate pair is one character"),
    ("strings/empty", '""', ""),
    ("numbers/zero", "[0, -0, 0.0, -0.0]", "-0 is written 0"),
    ("numbers/integral-floats", "[1.0, 2.0, -3.0, 100.0]", "integral values lose .0"),
    ("numbers/plain", "[1.5, 0.1, -2.25, 123.456, 3.141592653589793]", ""),
    ("numbers/exponent-switch-high", "[1e20, 1e21, 1.2345678901234568e20, 1e23]", ">=1e21"),
    ("numbers/exponent-switch-low", "[0.000001, 0.0000001, 1e-7, 1.5e-10]", "<1e-6"),
    ("numbers/extremes", "[5e-324, 1.7976931348623157e308, 2.2250738585072014e-308]", ""),
    ("numbers/safe-integers", "[9007199254740991, -9007199254740991, 1, -1]", "+-(2^53-1)"),
    ("numbers/shortest-round-trip", "[0.30000000000000004, 1e-323, 9.999999999999999e22]", ""),
    ("numbers/rfc8785-examples", "[4.5, 0.002, 1e-27, 1e30, 333333333.3333333]", ""),
    ("keys/ascii-order", '{"b":1,"a":2,"B":3,"A":4,"1":5,"_":6,"":7}', "by UTF-16 code units"),
    ("keys/prefixes", '{"aa":1,"a":2,"a\\u0000":3,"ab":4}', "shorter prefix first"),
    ("keys/bmp", '{"é":1,"z":2,"ﬁ":3,"\\u0080":4,"日":5}', ""),
    (
        "keys/non-bmp-utf16-order",
        '{"\\ue000":1,"\\ud83d\\ude00":2,"\\uffff":3,"\\ud800\\udc00":4,"a":5}',
        "U+1F600 (D83D DE00) sorts before U+E000 in UTF-16 order, after it in code points",
    ),
    ("nesting/sorted-at-every-level", '{"b":{"d":1,"c":[{"f":1,"e":2}]},"a":[]}', ""),
    ("nesting/empty-containers", '{"o":{},"a":[],"s":"","n":null}', ""),
    ("nesting/deep", "[" * 32 + '{"z":1,"y":2}' + "]" * 32, "32 levels"),
    ("nesting/array-order-kept", '[3, 1, 2, ["b", "a"]]', ""),
    ("whitespace/removed", ' {\n "a" : [ 1 , 2 ] ,\t"b" : { } } ', ""),
]

#: (name, input JSON text, expected error path, description): refused by RFC 8785.
_CANON_ERRORS: list[tuple[str, str, str, str]] = [
    ("errors/lone-surrogate", '{"a":["\\ud800"]}', "/a/0", "a lone surrogate is not Unicode"),
    ("errors/integer-above-2^53", '{"n":9007199254740993}', "/n", "not exactly representable"),
    ("errors/number-overflows-double", "[1, 1e400]", "/1", "parses to Infinity"),
]

#: (name, input, options, description): the explicit options.
_CANON_OPTIONS: list[tuple[str, str, dict[str, str], str]] = [
    (
        "large-integers/javascript",
        "[9007199254740993, 12345678901234567890, -18446744073709551615]",
        {"large_integers": "javascript"},
        "rounded to the nearest double, as JSON.parse on Node would",
    ),
    (
        "canonicaljson/floats",
        "[2.0, 1e-7, 1e16, -0.0, 1.5]",
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: Python float repr",
    ),
    (
        "canonicaljson/key-order",
        '{"\\ud83d\\ude00":1,"ﬁ":2,"a":3}',
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: code point order",
    ),
    (
        "canonicaljson/big-integer",
        '{"n":123456789012345678901234567890}',
        {"profile": "canonicaljson"},
        "Python SDK compatibility profile: integers written exactly",
    ),
]


def _canon_options(options: Mapping[str, str]) -> dict[str, Any]:
    return {
        "profile": options.get("profile", "rfc8785"),
        "large_integers": options.get("large_integers", "error"),
    }


def _canonicalization_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for name, text, description in _CANON_OK:
        out = canonicalize(json.loads(text))
        cases.append(
            {
                "name": name,
                "description": description,
                "input": text,
                "options": _canon_options({}),
                "expected": {"utf8": out.decode("utf-8"), "hex": _hex(out)},
            }
        )
    for name, text, options, description in _CANON_OPTIONS:
        opts = _canon_options(options)
        out = canonicalize(json.loads(text), **opts)
        cases.append(
            {
                "name": name,
                "description": description,
                "input": text,
                "options": opts,
                "expected": {"utf8": out.decode("utf-8"), "hex": _hex(out)},
            }
        )
    for name, text, path, description in _CANON_ERRORS:
        cases.append(
            {
                "name": name,
                "description": description,
                "input": text,
                "options": _canon_options({}),
                "expected": {"error": "not_canonicalizable", "path": path},
            }
        )
    return cases


def _check_canon_case(case: Mapping[str, Any]) -> str | None:
    expected = case["expected"]
    try:
        out = canonicalize(json.loads(case["input"]), **case["options"])
    except AuthSigError as exc:
        if "error" not in expected:
            return f"raised {exc.code}: {exc.message}"
        if exc.code != expected["error"]:
            return f"raised {exc.code}, expected {expected['error']}"
        path = getattr(exc, "path", None)
        if path != expected["path"]:
            return f"error path {path!r}, expected {expected['path']!r}"
        return None
    if "error" in expected:
        return f"produced output, expected error {expected['error']}"
    if out.hex() != expected["hex"]:
        return f"got {out!r}"
    if out.decode("utf-8") != expected["utf8"]:
        return "utf8 and hex disagree"
    return None


# ------------------------------------------------------------------------------------------
# signing.json


def _request(
    method: str,
    path: str,
    body: str | None,
    *,
    expiry: bool = True,
    idempotency: str | None = None,
    extra: Mapping[str, str] | None = None,
    app_id: str = APP_ID,
) -> dict[str, Any]:
    headers: dict[str, str] = {"privy-app-id": app_id}
    if idempotency is not None:
        headers["privy-idempotency-key"] = idempotency
    if expiry:
        headers["privy-request-expiry"] = str(EXPIRY_MS)
    if extra:
        headers.update(extra)
    return {"method": method, "url": BASE_URL + path, "body": body, "headers": headers}


def _payload(request: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> bytes:
    opts = dict(options or {})
    return signing_payload(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        headers=request["headers"],
        empty_body=opts.get("empty_body", "string"),
        profile=opts.get("profile", "rfc8785"),
    )


_SIGNING_REQUESTS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    (
        "rpc/single-signer",
        "eth_sendTransaction through wallet RPC, one key, with expiry",
        _request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"method":"eth_sendTransaction","caip2":"eip155:8453","params":{"transaction":'
            '{"to":"0x742d35Cc6634C0532925a3b844Bc454e4438f44e","value":"0x2386f26fc10000",'
            '"chain_id":8453}}}',
        ),
        ["signer-a"],
    ),
    (
        "rpc/two-signers-idempotency",
        "two keys of a quorum, idempotency key and expiry",
        _request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"method":"personal_sign","params":{"message":"hello","encoding":"utf-8"}}',
            idempotency="idem-0001",
        ),
        ["signer-a", "signer-b"],
    ),
    (
        "headers/filtered-and-case-insensitive",
        "only privy-app-id, privy-idempotency-key and privy-request-expiry take part, "
        "whatever the case of their names",
        {
            "method": "PATCH",
            "url": BASE_URL + "/wallets/w1abc",
            "body": '{"owner":{"public_key":"MFkw..."}}',
            "headers": {
                "Privy-App-Id": APP_ID,
                "PRIVY-REQUEST-EXPIRY": str(EXPIRY_MS),
                "Content-Type": "application/json",
                "privy-client": "node:0.35.0",
                "Authorization": "Basic dGVzdDp0ZXN0",
            },
        },
        ["signer-a"],
    ),
    (
        "method/lower-case",
        "the method is upper-cased in the payload",
        _request("delete", "/policies/p1/rules/r1", None),
        ["signer-b"],
    ),
    (
        "url/query-string",
        "the URL is signed exactly as requested, query included",
        _request("PUT", "/key_quorums/q1?include=keys&x=%20y", '{"authorization_threshold":2}'),
        ["signer-c"],
    ),
    (
        "body/floats",
        "numbers in ECMAScript form: 2.0 -> 2, 1e21 -> 1e+21, 1e-7 stays, -0 -> 0",
        _request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"a":1.5,"b":2.0,"c":1e21,"d":1e-7,"e":-0,"f":0.000001,"g":1e20,"h":0.1}',
        ),
        ["signer-a"],
    ),
    (
        "body/unicode-keys",
        "keys sorted by UTF-16 code units, non-BMP included; strings as raw UTF-8",
        _request(
            "POST",
            "/wallets/w1abc/rpc",
            '{"\\ue000":"private use","😀":"grinning","ﬁ":"ligature","é":"é","z":"日本語"}',
        ),
        ["signer-b"],
    ),
    (
        "body/control-characters",
        "control characters escaped as in RFC 8785",
        _request("POST", "/wallets/w1abc/rpc", '{"s":"a\\u0000b\\u001fc\\n\\t\\"\\\\/\\u007f"}'),
        ["signer-c"],
    ),
    (
        "body/nested",
        "members sorted at every level; arrays keep their order",
        _request(
            "POST",
            "/policies",
            '{"rules":[{"name":"r","conditions":[{"value":"1","field":"to"}],"action":"ALLOW"}],'
            '"version":"1.0","chain_type":"ethereum","name":"policy"}',
        ),
        ["signer-a"],
    ),
    (
        "body/whitespace-as-sent",
        "the body is parsed; whitespace and member order as sent do not matter",
        _request("POST", "/wallets", ' {\n  "chain_type" : "solana",\n  "owner_id" : null\n} '),
        ["signer-a"],
    ),
    (
        "body/empty-object",
        "an empty object body is signed as the empty string",
        _request("POST", "/wallets/w1abc/export", "{}"),
        ["signer-b"],
    ),
    (
        "body/empty-array",
        "an empty array body is signed as the empty string",
        _request("POST", "/wallets/w1abc/export", "[]"),
        ["signer-b"],
    ),
    (
        "body/none",
        "no body at all is signed as null",
        _request("DELETE", "/wallets/w1abc", None, expiry=False),
        ["signer-c"],
    ),
    (
        "body/json-null",
        "a JSON null body is signed as null",
        _request("POST", "/wallets/w1abc/export", "null"),
        ["signer-c"],
    ),
    (
        "body/nested-empties-kept",
        "only a top-level empty body becomes the empty string",
        _request("POST", "/wallets/w1abc/rpc", '{"a":{},"b":[],"c":""}'),
        ["signer-a"],
    ),
    (
        "expiry/absent",
        "no privy-request-expiry header: H holds privy-app-id only",
        _request("POST", "/wallets/w1abc/rpc", '{"method":"eth_signTypedData_v4"}', expiry=False),
        ["signer-a", "signer-b", "signer-c"],
    ),
]


def _signing_cases() -> list[dict[str, Any]]:
    cases = []
    for name, description, request, labels in _SIGNING_REQUESTS:
        payload = _payload(request)
        signers = []
        for label in labels:
            key = _p256(label)
            signers.append({**_key_entry(key), "signature": sign(payload, key, deterministic=True)})
        cases.append(
            {
                "name": name,
                "description": description,
                "request": request,
                "payload": {
                    "utf8": payload.decode("utf-8"),
                    "hex": _hex(payload),
                    "sha256_hex": hashlib.sha256(payload).hexdigest(),
                },
                "signers": signers,
                "signature_header": format_signature_header(s["signature"] for s in signers),
            }
        )
    return cases


def _check_signing_case(case: Mapping[str, Any]) -> str | None:
    request = case["request"]
    payload = _payload(request)
    if payload.hex() != case["payload"]["hex"]:
        return f"payload differs: {payload!r}"
    if payload.decode("utf-8") != case["payload"]["utf8"]:
        return "payload utf8 and hex disagree"
    if hashlib.sha256(payload).hexdigest() != case["payload"]["sha256_hex"]:
        return "sha256 differs"
    sigs = []
    for i, signer in enumerate(case["signers"]):
        key = load_private_key(signer["private_key"])
        if key.crypto.private_numbers().private_value != int(signer["private_scalar_hex"], 16):
            return f"signer {i}: private scalar differs"
        if key.public_key.to_base64() != signer["public_key"]:
            return f"signer {i}: public key differs"
        if key.public_key.key_id != signer["key_id"]:
            return f"signer {i}: key id differs"
        if sign(payload, key, deterministic=True) != signer["signature"]:
            return f"signer {i}: RFC 6979 signature differs"
        if not verify_signature(
            payload, signer["signature"], load_public_key(signer["public_key"])
        ):
            return f"signer {i}: signature does not verify"
        sigs.append(signer["signature"])
    if format_signature_header(sigs) != case["signature_header"]:
        return "signature header differs"
    if parse_signature_header(case["signature_header"]) != sigs:
        return "signature header does not parse back"
    return _check_sign_request(case, payload)


def _check_sign_request(case: Mapping[str, Any], payload: bytes) -> str | None:
    """sign_request (the recipe) must produce the same headers."""
    from authsig.privy.signing import sign_request

    request = case["request"]
    lowered = {k.lower(): v for k, v in request["headers"].items()}
    expiry = lowered.get("privy-request-expiry")
    headers = sign_request(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        app_id=lowered["privy-app-id"],
        keys=[load_private_key(s["private_key"]) for s in case["signers"]],
        idempotency_key=lowered.get("privy-idempotency-key"),
        expires_in=None if expiry is None else timedelta(milliseconds=int(expiry) - NOW_MS),
        now_ms=NOW_MS,
        deterministic=True,
    )
    if headers.get("privy-authorization-signature") != case["signature_header"]:
        return "sign_request produced a different signature header"
    if headers.get("privy-request-expiry") != expiry:
        return "sign_request produced a different expiry"
    if _payload({**request, "headers": headers}) != payload:
        return "sign_request headers give a different payload"
    return None


# ------------------------------------------------------------------------------------------
# verification.json and quorum.json

_STATUS = {
    "approved": 200,
    "missing_signature": 401,
    "malformed_signature_header": 401,
    "empty_signature_entry": 401,
    "signature_header_too_large": 401,
    "duplicate_signature": 401,
    "malformed_signature": 401,
    "invalid_signature": 401,
    "missing_header": 401,
    "invalid_body": 400,
    "malformed_expiry": 401,
    "expiry_in_seconds": 401,
    "expired": 401,
    "expiry_too_far": 401,
    "expiry_required": 401,
    "threshold_not_met": 403,
}

_DEFAULT_OPTIONS: dict[str, Any] = {
    "allow_foreign_signatures": False,
    "require_expiry": False,
    "max_lifetime_ms": 3_600_000,
    "clock_skew_ms": 60_000,
    "empty_body": "string",
    "profile": "rfc8785",
}


def _quorum(
    labels: list[str],
    *,
    threshold: int | None = None,
    users: list[str] | None = None,
    nested: list[str] | None = None,
    qid: str = "q-main",
) -> dict[str, Any]:
    """A quorum in Privy's response shape."""
    out: dict[str, Any] = {
        "id": qid,
        "display_name": f"vectors {qid}",
        "authorization_threshold": threshold,
        "authorization_keys": [
            {"public_key": _public_b64(label), "display_name": label} for label in labels
        ],
        "user_ids": users or None,
    }
    if nested:
        out["key_quorum_ids"] = nested
    return out


_USER_KEYS: dict[str, list[str]] = {
    "user-alice": ["alice-phone", "alice-laptop"],
    "user-bob": ["bob-1"],
    "user-carol": [],
}


def _user_keys(users: list[str]) -> dict[str, list[str]]:
    return {u: [_public_b64(label) for label in _USER_KEYS[u]] for u in users}


@dataclass
class _Decide:
    """One verification case being built."""

    name: str
    description: str
    expected: str
    quorum: dict[str, Any]
    request: dict[str, Any]
    header: str | None
    nested: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    now_ms: int = NOW_MS

    def to_json(self) -> dict[str, Any]:
        headers = dict(self.request["headers"])
        if self.header is not None:
            headers["privy-authorization-signature"] = self.header
        return {
            "name": self.name,
            "description": self.description,
            "now_ms": self.now_ms,
            "quorum": self.quorum,
            "nested_quorums": self.nested,
            "user_keys": _user_keys(self.users),
            "options": {**_DEFAULT_OPTIONS, **self.options},
            "request": {**self.request, "headers": headers},
            "expected": {
                "approved": self.expected == "approved",
                "reason": self.expected,
                "http_status": _STATUS[self.expected],
            },
        }


def _sigs(request: Mapping[str, Any], labels: list[str], options: Any = None) -> list[str]:
    payload = _payload(request, options)
    return [sign(payload, _p256(label), deterministic=True) for label in labels]


def _hdr(request: Mapping[str, Any], labels: list[str], options: Any = None) -> str:
    return format_signature_header(_sigs(request, labels, options))


_RPC_BODY = '{"method":"eth_signTransaction","params":{"transaction":{"to":"0x42","value":1}}}'
_RPC_BODY_RESERIALIZED = (
    '{\n  "params": { "transaction": { "value": 1, "to": "0x42" } },\n'
    '  "method": "eth_signTransaction"\n}\n'
)


def _verification_cases() -> list[dict[str, Any]]:
    q1 = _quorum(["owner"], threshold=1)
    q2 = _quorum(["owner", "cosigner"], threshold=2)
    req = _request("POST", "/wallets/w1abc/rpc", _RPC_BODY, idempotency="idem-42")
    good = _hdr(req, ["owner"])
    good2 = _hdr(req, ["owner", "cosigner"])
    owner_sig = _sigs(req, ["owner"])[0]
    twin = _twin(owner_sig)
    high = twin if _s_is_high(twin) else owner_sig
    low = owner_sig if high == twin else twin
    foreign = _sigs(req, ["stranger"])[0]
    k1_sig = base64.b64encode(
        _secp256k1("keys/secp256k1").sign(
            _payload(req), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
        )
    ).decode()
    not_der = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01").decode()

    def tampered(**changes: Any) -> dict[str, Any]:
        out = {**req, "headers": dict(req["headers"])}
        for k, v in changes.items():
            if k == "headers":
                out["headers"] = v
            else:
                out[k] = v
        return out

    no_expiry = _request("POST", "/wallets/w1abc/rpc", _RPC_BODY, expiry=False)
    empty = _request("POST", "/wallets/w1abc/export", "{}")
    preserve = {"empty_body": "preserve"}
    floats = _request("POST", "/wallets/w1abc/rpc", '{"amount":2.0,"fee":1e-7}')
    cj = {"profile": "canonicaljson"}

    def with_expiry(value: str) -> dict[str, Any]:
        r = _request("POST", "/wallets/w1abc/rpc", _RPC_BODY, expiry=False)
        r["headers"]["privy-request-expiry"] = value
        return r

    expired_req = with_expiry(str(NOW_MS - 61_000))
    skew_req = with_expiry(str(NOW_MS - 30_000))
    far_req = with_expiry(str(NOW_MS + 3_600_000 + 60_001))
    edge_req = with_expiry(str(NOW_MS + 3_600_000 + 60_000))
    seconds_req = with_expiry(str(EXPIRY_MS // 1000))
    junk_req = with_expiry("17672256O0000")
    lower = _request("post", "/wallets/w1abc/rpc", _RPC_BODY)
    upper_of_lower = {**lower, "method": "POST"}
    missing_app = tampered(headers={k: v for k, v in req["headers"].items() if k != "privy-app-id"})

    d = _Decide
    cases = [
        d("valid/one-signer", "1-of-1, valid signature", "approved", q1, req, good),
        d("valid/two-signers", "2-of-2, both sign", "approved", q2, req, good2),
        d(
            "valid/order-does-not-matter",
            "the header's order carries no meaning",
            "approved",
            q2,
            req,
            format_signature_header(reversed(_sigs(req, ["owner", "cosigner"]))),
        ),
        d(
            "valid/spaces-after-commas",
            "spaces after commas are tolerated",
            "approved",
            q2,
            req,
            ", ".join(_sigs(req, ["owner", "cosigner"])),
        ),
        d(
            "valid/no-expiry",
            "expiry is optional by default",
            "approved",
            q1,
            no_expiry,
            _hdr(no_expiry, ["owner"]),
        ),
        d(
            "valid/body-reserialized",
            "the body is compared after canonicalization: whitespace and order as sent differ",
            "approved",
            q1,
            tampered(body=_RPC_BODY_RESERIALIZED),
            good,
        ),
        d(
            "valid/empty-object-body",
            "{} signed as the empty string",
            "approved",
            q1,
            empty,
            _hdr(empty, ["owner"]),
        ),
        d(
            "valid/empty-body-preserve",
            "signed and verified with empty_body=preserve (Rust SDK convention)",
            "approved",
            q1,
            empty,
            _hdr(empty, ["owner"], preserve),
            options=preserve,
        ),
        d(
            "tampered/empty-body-convention",
            "signed with {} preserved, verified with the default (empty string)",
            "invalid_signature",
            q1,
            empty,
            _hdr(empty, ["owner"], preserve),
        ),
        d(
            "valid/canonicaljson-profile",
            "signed by the Python SDK's canonicaljson form, verified with that profile",
            "approved",
            q1,
            floats,
            _hdr(floats, ["owner"], cj),
            options=cj,
        ),
        d(
            "tampered/canonicaljson-vs-rfc8785",
            "a canonicaljson signature over integral floats does not match RFC 8785 bytes",
            "invalid_signature",
            q1,
            floats,
            _hdr(floats, ["owner"], cj),
        ),
        d(
            "valid/lower-case-method",
            "the method is compared upper-cased",
            "approved",
            q1,
            lower,
            _hdr(upper_of_lower, ["owner"]),
        ),
        d(
            "valid/high-s",
            "high-S signatures are valid (SDKs do not normalize)",
            "approved",
            q1,
            req,
            high,
        ),
        d("valid/low-s", "the low-S twin is valid too", "approved", q1, req, low),
        d(
            "twin/counted-once",
            "a signature and its malleated twin (r, n-s) are one key's approval: 2-of-2 fails",
            "threshold_not_met",
            q2,
            req,
            format_signature_header([owner_sig, _twin(owner_sig)]),
        ),
        d(
            "duplicate/same-signature-twice",
            "the same signature twice in the header",
            "duplicate_signature",
            q2,
            req,
            ",".join([owner_sig, owner_sig]),
        ),
        d(
            "tampered/method",
            "signed as POST, sent as PUT",
            "invalid_signature",
            q1,
            tampered(method="PUT"),
            good,
        ),
        d(
            "tampered/url-trailing-slash",
            "the URL gained a trailing slash",
            "invalid_signature",
            q1,
            tampered(url=req["url"] + "/"),
            good,
        ),
        d(
            "tampered/url-host",
            "another host",
            "invalid_signature",
            q1,
            tampered(url=req["url"].replace("api.privy.io", "auth.privy.io")),
            good,
        ),
        d(
            "tampered/body-value",
            "one value of the body changed",
            "invalid_signature",
            q1,
            tampered(body=_RPC_BODY.replace('"value":1', '"value":2')),
            good,
        ),
        d(
            "tampered/idempotency-key",
            "privy-idempotency-key changed",
            "invalid_signature",
            q1,
            tampered(headers={**req["headers"], "privy-idempotency-key": "idem-43"}),
            good,
        ),
        d(
            "tampered/idempotency-key-removed",
            "signed with an idempotency key, sent without",
            "invalid_signature",
            q1,
            tampered(
                headers={k: v for k, v in req["headers"].items() if k != "privy-idempotency-key"}
            ),
            good,
        ),
        d(
            "tampered/expiry",
            "privy-request-expiry changed (still a valid time)",
            "invalid_signature",
            q1,
            tampered(headers={**req["headers"], "privy-request-expiry": str(EXPIRY_MS + 1)}),
            good,
        ),
        d(
            "tampered/app-id",
            "privy-app-id changed",
            "invalid_signature",
            q1,
            tampered(headers={**req["headers"], "privy-app-id": APP_ID + "x"}),
            good,
        ),
        d(
            "wrong-key/non-member",
            "signed by a key that is not a member",
            "invalid_signature",
            q1,
            req,
            foreign,
        ),
        d(
            "foreign/strict",
            "enough member signatures plus a foreign one: refused by default",
            "invalid_signature",
            q1,
            req,
            format_signature_header([owner_sig, foreign]),
        ),
        d(
            "foreign/allowed",
            "the same with allow_foreign_signatures",
            "approved",
            q1,
            req,
            format_signature_header([owner_sig, foreign]),
            options={"allow_foreign_signatures": True},
        ),
        d(
            "foreign/allowed-but-not-enough",
            "foreign signatures ignored, but the member's is missing",
            "threshold_not_met",
            q1,
            req,
            foreign,
            options={"allow_foreign_signatures": True},
        ),
        d(
            "wrong-curve/secp256k1-signature",
            "an ECDSA signature by a secp256k1 key matches no P-256 member",
            "invalid_signature",
            q1,
            req,
            k1_sig,
        ),
        d(
            "expiry/expired",
            "61 s in the past (skew 60 s)",
            "expired",
            q1,
            expired_req,
            _hdr(expired_req, ["owner"]),
        ),
        d(
            "expiry/within-skew",
            "30 s in the past, inside the 60 s skew",
            "approved",
            q1,
            skew_req,
            _hdr(skew_req, ["owner"]),
        ),
        d(
            "expiry/too-far",
            "1 h + 60 s + 1 ms ahead",
            "expiry_too_far",
            q1,
            far_req,
            _hdr(far_req, ["owner"]),
        ),
        d(
            "expiry/at-limit",
            "exactly 1 h + 60 s ahead",
            "approved",
            q1,
            edge_req,
            _hdr(edge_req, ["owner"]),
        ),
        d(
            "expiry/seconds",
            "an expiry in seconds",
            "expiry_in_seconds",
            q1,
            seconds_req,
            _hdr(seconds_req, ["owner"]),
        ),
        d(
            "expiry/malformed",
            "not decimal digits",
            "malformed_expiry",
            q1,
            junk_req,
            _hdr(junk_req, ["owner"]),
        ),
        d(
            "expiry/required",
            "require_expiry and no privy-request-expiry",
            "expiry_required",
            q1,
            no_expiry,
            _hdr(no_expiry, ["owner"]),
            options={"require_expiry": True},
        ),
        d("header/missing", "no signature header", "missing_signature", q1, req, None),
        d(
            "header/empty-entry",
            "two commas in a row",
            "empty_signature_entry",
            q2,
            req,
            ",,".join(_sigs(req, ["owner", "cosigner"])),
        ),
        d(
            "header/trailing-comma",
            "a trailing comma",
            "empty_signature_entry",
            q1,
            req,
            good + ",",
        ),
        d(
            "header/not-base64",
            "an entry that is not base64",
            "malformed_signature_header",
            q1,
            req,
            good + ",not*base64!",
        ),
        d(
            "header/base64-url-alphabet",
            "base64url instead of standard base64",
            "malformed_signature_header",
            q1,
            req,
            good + ",MEUCIQC-_w",
        ),
        d(
            "header/not-der",
            "base64 of something that is not a DER signature",
            "malformed_signature",
            q1,
            req,
            not_der,
        ),
        d(
            "header/too-many",
            "65 entries (limit 64)",
            "signature_header_too_large",
            q1,
            req,
            format_signature_header([good] + [_sigs(req, [f"filler-{i}"])[0] for i in range(64)]),
        ),
        d(
            "request/missing-app-id",
            "privy-app-id missing",
            "missing_header",
            q1,
            missing_app,
            good,
        ),
        d(
            "request/invalid-body",
            "the body is not JSON",
            "invalid_body",
            q1,
            tampered(body='{"method": eth_sign}'),
            good,
        ),
    ]
    out = [c.to_json() for c in cases]
    k1_pub = _spki_b64(_secp256k1("keys/secp256k1").public_key())
    bad_quorum = _quorum(["owner"], threshold=1)
    bad_quorum["authorization_keys"].append({"public_key": k1_pub, "display_name": "secp256k1 key"})
    wrong_curve = d(
        "wrong-curve/member-key",
        "a quorum member key on secp256k1 is refused when the quorum is loaded",
        "approved",
        bad_quorum,
        req,
        good,
    ).to_json()
    wrong_curve["expected"] = {"quorum_error": "invalid_quorum"}
    out.append(wrong_curve)
    return out


def _quorum_cases() -> list[dict[str, Any]]:
    req = _request("POST", "/wallets/w1abc/rpc", _RPC_BODY)
    d = _Decide

    def h(*labels: str) -> str:
        return _hdr(req, list(labels))

    q23 = _quorum(["k1", "k2", "k3"], threshold=2)
    qall = _quorum(["k1", "k2", "k3"], threshold=None)
    qusers = _quorum(["k1"], threshold=2, users=["user-alice", "user-bob"])
    users = ["user-alice", "user-bob"]
    inner = _quorum(["n1", "n2"], threshold=2, qid="q-inner")
    qnest = _quorum(["k1"], threshold=2, nested=["q-inner"])
    nest = {"q-inner": inner}
    mixed_a = _quorum(["m1"], threshold=1, users=["user-bob"], qid="q-a")
    mixed_b = _quorum(["m2", "m3"], threshold=2, qid="q-b")
    qmixed = _quorum(["k1"], threshold=3, users=["user-alice"], nested=["q-a", "q-b"])
    mixed = {"q-a": mixed_a, "q-b": mixed_b}
    qcarol = _quorum(["k1"], threshold=2, users=["user-carol"])
    cases = [
        d("threshold/1-of-1", "", "approved", _quorum(["k1"], threshold=1), req, h("k1")),
        d("threshold/2-of-3-one", "one of two needed", "threshold_not_met", q23, req, h("k2")),
        d("threshold/2-of-3-two", "", "approved", q23, req, h("k1", "k3")),
        d("threshold/2-of-3-three", "more than needed", "approved", q23, req, h("k3", "k2", "k1")),
        d(
            "threshold/all-two-of-three",
            "threshold null = all members",
            "threshold_not_met",
            qall,
            req,
            h("k1", "k2"),
        ),
        d("threshold/all-three", "", "approved", qall, req, h("k1", "k2", "k3")),
        d(
            "threshold/none-signed-by-members",
            "header present, no member signed",
            "threshold_not_met",
            q23,
            req,
            h("stranger"),
            options={"allow_foreign_signatures": True},
        ),
        d(
            "users/key-and-user",
            "a key member and one of alice's keys",
            "approved",
            qusers,
            req,
            h("k1", "alice-laptop"),
            users=users,
        ),
        d(
            "users/one-user-two-keys",
            "two keys of the same user count once",
            "threshold_not_met",
            qusers,
            req,
            h("alice-phone", "alice-laptop"),
            users=users,
        ),
        d("users/two-users", "", "approved", qusers, req, h("alice-phone", "bob-1"), users=users),
        d(
            "users/user-without-keys",
            "a user whose resolver gives no keys cannot approve",
            "threshold_not_met",
            qcarol,
            req,
            h("k1"),
            users=["user-carol"],
        ),
        d(
            "nested/inner-not-met",
            "the nested quorum needs both its keys",
            "threshold_not_met",
            qnest,
            req,
            h("k1", "n1"),
            nested=nest,
        ),
        d(
            "nested/inner-met",
            "k1 + the nested quorum (n1, n2)",
            "approved",
            qnest,
            req,
            h("k1", "n1", "n2"),
            nested=nest,
        ),
        d(
            "nested/counts-as-one",
            "a met nested quorum is one member of its parent",
            "threshold_not_met",
            qnest,
            req,
            h("n1", "n2"),
            nested=nest,
        ),
        d(
            "mixed/all-kinds",
            "alice + q-a (through bob) + q-b (m2, m3)",
            "approved",
            qmixed,
            req,
            h("alice-phone", "bob-1", "m2", "m3"),
            nested=mixed,
            users=["user-alice", "user-bob"],
        ),
        d(
            "mixed/key-user-nested",
            "k1 + alice + q-a (m1)",
            "approved",
            qmixed,
            req,
            h("k1", "alice-laptop", "m1"),
            nested=mixed,
            users=["user-alice", "user-bob"],
        ),
        d(
            "mixed/two-members",
            "k1 + q-b: 2 of 3",
            "threshold_not_met",
            qmixed,
            req,
            h("k1", "m2", "m3"),
            nested=mixed,
            users=["user-alice", "user-bob"],
        ),
        d(
            "mixed/partial-nested",
            "k1 + alice + one of q-b's two",
            "threshold_not_met",
            qmixed,
            req,
            h("k1", "alice-phone", "m2"),
            nested=mixed,
            users=["user-alice", "user-bob"],
        ),
    ]
    return [c.to_json() for c in cases]


def _check_decision_case(case: Mapping[str, Any]) -> str | None:
    from authsig.policy import Policy
    from authsig.privy.quorum import KeyQuorum
    from authsig.privy.verifier import verify_request

    expected = case["expected"]
    try:
        nested = {
            qid: KeyQuorum.from_privy(obj) for qid, obj in sorted(case["nested_quorums"].items())
        }
        quorum = KeyQuorum.from_privy(case["quorum"], nested)
    except AuthSigError as exc:
        if expected.get("quorum_error") == exc.code:
            return None
        return f"quorum refused ({exc.code}): {exc.message}"
    if "quorum_error" in expected:
        return f"quorum loaded, expected {expected['quorum_error']}"
    user_map = {u: list(keys) for u, keys in case["user_keys"].items()}

    def resolve(user_id: str) -> list[str]:
        return user_map.get(user_id, [])

    opts = case["options"]
    request = case["request"]
    decision = verify_request(
        method=request["method"],
        url=request["url"],
        body=request["body"],
        headers=request["headers"],
        quorum=quorum,
        now_ms=case["now_ms"],
        user_keys=resolve,
        policy=Policy(
            allow_foreign_signatures=opts["allow_foreign_signatures"],
            require_expiry=opts["require_expiry"],
            max_lifetime=timedelta(milliseconds=opts["max_lifetime_ms"]),
            clock_skew=timedelta(milliseconds=opts["clock_skew_ms"]),
            empty_body=opts["empty_body"],
            profile=opts["profile"],
        ),
    )
    got = (decision.approved, decision.reason, decision.http_status)
    want = (expected["approved"], expected["reason"], expected["http_status"])
    if got != want:
        return f"decision {got}, expected {want}: {decision.message}"
    return None


# ------------------------------------------------------------------------------------------
# cobo.json


def _cobo_cases() -> list[dict[str, Any]]:
    from authsig.cobo.events import event_digest, sign_event
    from authsig.cobo.signing import request_digest, sign_request, string_to_sign

    seed = _ed25519_seed("cobo/api")
    requests = [
        ("request/get-with-query", "GET", "/v2/wallets", "chain_ids=ETH,BTC&limit=10", ""),
        (
            "request/post-json",
            "POST",
            "/v2/transactions/transfer",
            "",
            '{"request_id":"r-1","source":{"source_type":"Asset","wallet_id":"w"},'
            '"token_id":"ETH","destination":{"destination_type":"Address",'
            '"account_output":{"address":"0x42","amount":"0.01"}}}',
        ),
        ("request/delete-no-body", "DELETE", "/v2/webhooks/endpoints/e1", "", ""),
        ("request/unicode-body", "PUT", "/v2/wallets/w1", "", '{"name":"钱包 ü 😀"}'),
    ]
    cases: list[dict[str, Any]] = []
    for i, (name, method, path, query, body) in enumerate(requests):
        nonce = NOW_MS + i
        text = string_to_sign(method=method, path=path, nonce=nonce, query=query, body=body)
        digest = request_digest(method=method, path=path, nonce=nonce, query=query, body=body)
        headers = sign_request(
            seed.hex(), method=method, path=path, query=query, body=body, nonce_ms=nonce
        )
        cases.append(
            {
                "name": name,
                "kind": "request",
                "api_secret_hex": seed.hex(),
                "api_key_hex": headers["Biz-Api-Key"],
                "request": {"method": method, "path": path, "query": query, "body": body},
                "nonce_ms": nonce,
                "string_to_sign": text.decode("utf-8"),
                "digest_hex": digest.hex(),
                "signature_hex": headers["Biz-Api-Signature"],
                "headers": headers,
            }
        )
    event_seed = _ed25519_seed("cobo/events")
    events = [
        ("event/webhook", '{"event_id":"e1","type":"wallets.transaction.succeeded","data":{}}'),
        ("event/empty-body", ""),
        ("event/unicode", '{"note":"über 😀"}'),
    ]
    for i, (name, body) in enumerate(events):
        ts = NOW_MS + 100 + i
        headers = sign_event(body, event_seed.hex(), timestamp_ms=ts)
        pub = ed25519.Ed25519PrivateKey.from_private_bytes(event_seed).public_key()
        cases.append(
            {
                "name": name,
                "kind": "event",
                "private_key_hex": event_seed.hex(),
                "public_key_hex": pub.public_bytes_raw().hex(),
                "body": body,
                "timestamp_ms": ts,
                "content": f"{body}|{ts}",
                "digest_hex": event_digest(body, ts).hex(),
                "signature_hex": headers["Biz-Resp-Signature"],
                "headers": headers,
            }
        )
    return cases


def _check_cobo_case(case: Mapping[str, Any]) -> str | None:
    from authsig.cobo.events import event_digest, sign_event, verify_event
    from authsig.cobo.signing import request_digest, sign_request, string_to_sign, verify_request

    if case["kind"] == "request":
        r = case["request"]
        nonce = case["nonce_ms"]
        parts = {
            "method": r["method"],
            "path": r["path"],
            "query": r["query"],
            "body": r["body"],
        }
        if string_to_sign(nonce=nonce, **parts).decode("utf-8") != case["string_to_sign"]:
            return "string to sign differs"
        if request_digest(nonce=nonce, **parts).hex() != case["digest_hex"]:
            return "digest differs"
        headers = sign_request(case["api_secret_hex"], nonce_ms=nonce, **parts)
        if headers["Biz-Api-Signature"] != case["signature_hex"]:
            return "signature differs (Ed25519 is deterministic)"
        if headers != case["headers"]:
            return f"headers differ: {headers}"
        decision = verify_request(
            case["headers"], api_keys=case["api_key_hex"], now_ms=nonce, **parts
        )
        if not decision.approved:
            return f"verify_request refused: {decision.reason}"
        tampered = {**parts, "body": r["body"] + " "}
        if verify_request(
            case["headers"], api_keys=case["api_key_hex"], now_ms=nonce, **tampered
        ).approved:
            return "a tampered body verified"
        return None
    ts = case["timestamp_ms"]
    if event_digest(case["body"], ts).hex() != case["digest_hex"]:
        return "event digest differs"
    headers = sign_event(case["body"], case["private_key_hex"], timestamp_ms=ts)
    if headers["Biz-Resp-Signature"] != case["signature_hex"]:
        return "event signature differs (Ed25519 is deterministic)"
    if headers != case["headers"]:
        return "event headers differ"
    decision = verify_event(
        case["body"], case["headers"], public_key=case["public_key_hex"], now_ms=ts
    )
    if not decision.approved:
        return f"verify_event refused: {decision.reason}"
    if verify_event(
        case["body"] + "x", case["headers"], public_key=case["public_key_hex"], now_ms=ts
    ).approved:
        return "a tampered event verified"
    return None


# ------------------------------------------------------------------------------------------
# JSON Schemas

_NAME = {"type": "string", "minLength": 1}
_TEXT = {"type": "string"}
_HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
_B64 = {"type": "string", "pattern": "^[A-Za-z0-9+/]+={0,2}$"}
_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}


def _envelope(kind: str, case: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://authsig.invalid/vectors/schema/{kind}.schema.json",
        "title": f"authsig test vectors: {kind}",
        "type": "object",
        "required": ["format", "format_version", "description", "cases"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": f"authsig-vectors/{kind}"},
            "format_version": {"const": FORMAT_VERSION},
            "description": _TEXT,
            "cases": {"type": "array", "minItems": 1, "items": case},
        },
    }


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "additionalProperties": False,
        "properties": {**required, **(optional or {})},
    }


_REQUEST = _obj(
    {
        "method": _NAME,
        "url": _NAME,
        "body": {"type": ["string", "null"]},
        "headers": _HEADERS,
    }
)

_PRIVY_QUORUM = _obj(
    {
        "id": _NAME,
        "display_name": {"type": ["string", "null"], "maxLength": 50},
        "authorization_threshold": {"type": ["integer", "null"], "minimum": 1},
        "authorization_keys": {
            "type": "array",
            "items": _obj({"public_key": _TEXT, "display_name": {"type": ["string", "null"]}}),
        },
        "user_ids": {"type": ["array", "null"], "items": _NAME},
    },
    {"key_quorum_ids": {"type": "array", "maxItems": 5, "items": _NAME}},
)

_REASONS = sorted(_STATUS)

#: The JSON Schema (draft 2020-12) of each vector file, by kind (written to ``schema/``).
SCHEMAS: dict[str, dict[str, Any]] = {
    "keys": _envelope(
        "keys",
        _obj(
            {
                "name": _NAME,
                "kind": {"enum": ["public", "private"]},
                "input": _TEXT,
                "expected": {
                    "oneOf": [
                        _obj({"public_key": _B64, "key_id": _NAME}),
                        _obj({"error": {"enum": ["invalid_key", "wrong_curve"]}}),
                    ]
                },
            },
            {"description": _TEXT},
        ),
    ),
    "canonicalization": _envelope(
        "canonicalization",
        _obj(
            {
                "name": _NAME,
                "description": _TEXT,
                "input": _TEXT,
                "options": _obj(
                    {
                        "profile": {"enum": ["rfc8785", "canonicaljson"]},
                        "large_integers": {"enum": ["error", "javascript"]},
                    }
                ),
                "expected": {
                    "oneOf": [
                        _obj({"utf8": _TEXT, "hex": _HEX}),
                        _obj({"error": {"const": "not_canonicalizable"}, "path": _TEXT}),
                    ]
                },
            }
        ),
    ),
    "signing": _envelope(
        "signing",
        _obj(
            {
                "name": _NAME,
                "description": _TEXT,
                "request": _REQUEST,
                "payload": _obj({"utf8": _TEXT, "hex": _HEX, "sha256_hex": _HEX}),
                "signers": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(
                        {
                            "private_key": _B64,
                            "private_scalar_hex": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "public_key": _B64,
                            "key_id": _NAME,
                            "signature": _B64,
                        }
                    ),
                },
                "signature_header": _TEXT,
            }
        ),
    ),
}

_DECISION_CASE = _obj(
    {
        "name": _NAME,
        "description": _TEXT,
        "now_ms": {"type": "integer"},
        "quorum": _PRIVY_QUORUM,
        "nested_quorums": {"type": "object", "additionalProperties": _PRIVY_QUORUM},
        "user_keys": {"type": "object", "additionalProperties": {"type": "array", "items": _B64}},
        "options": _obj(
            {
                "allow_foreign_signatures": {"type": "boolean"},
                "require_expiry": {"type": "boolean"},
                "max_lifetime_ms": {"type": "integer", "minimum": 0},
                "clock_skew_ms": {"type": "integer", "minimum": 0},
                "empty_body": {"enum": ["string", "preserve"]},
                "profile": {"enum": ["rfc8785", "canonicaljson"]},
            }
        ),
        "request": _REQUEST,
        "expected": {
            "oneOf": [
                _obj(
                    {
                        "approved": {"type": "boolean"},
                        "reason": {"enum": _REASONS},
                        "http_status": {"type": "integer"},
                    }
                ),
                _obj({"quorum_error": {"const": "invalid_quorum"}}),
            ]
        },
    }
)
SCHEMAS["verification"] = _envelope("verification", _DECISION_CASE)
SCHEMAS["quorum"] = _envelope("quorum", _DECISION_CASE)
SCHEMAS["cobo"] = _envelope(
    "cobo",
    {
        "oneOf": [
            _obj(
                {
                    "name": _NAME,
                    "kind": {"const": "request"},
                    "api_secret_hex": _HEX,
                    "api_key_hex": _HEX,
                    "request": _obj(
                        {"method": _NAME, "path": _NAME, "query": _TEXT, "body": _TEXT}
                    ),
                    "nonce_ms": {"type": "integer"},
                    "string_to_sign": _TEXT,
                    "digest_hex": _HEX,
                    "signature_hex": _HEX,
                    "headers": _HEADERS,
                }
            ),
            _obj(
                {
                    "name": _NAME,
                    "kind": {"const": "event"},
                    "private_key_hex": _HEX,
                    "public_key_hex": _HEX,
                    "body": _TEXT,
                    "timestamp_ms": {"type": "integer"},
                    "content": _TEXT,
                    "digest_hex": _HEX,
                    "signature_hex": _HEX,
                    "headers": _HEADERS,
                }
            ),
        ]
    },
)

# ------------------------------------------------------------------------------------------
# files

_Spec = tuple[str, str, Callable[[], list[dict[str, Any]]], Callable[[Mapping[str, Any]], Any]]

_SPECS: list[_Spec] = [
    (
        "keys",
        "Loading P-256 keys in Privy's formats; keys on other curves are refused.",
        _keys_cases,
        _check_key_case,
    ),
    (
        "canonicalization",
        "RFC 8785 canonical JSON: parse `input`, canonicalize, compare bytes.",
        _canonicalization_cases,
        _check_canon_case,
    ),
    (
        "signing",
        "Privy authorization signatures: request -> payload -> RFC 6979 signatures.",
        _signing_cases,
        _check_signing_case,
    ),
    (
        "verification",
        "Verifier decisions on signed, tampered and malformed requests.",
        _verification_cases,
        _check_decision_case,
    ),
    (
        "quorum",
        "Key quorum thresholds with keys, users and nested quorums.",
        _quorum_cases,
        _check_decision_case,
    ),
    (
        "cobo",
        "Cobo WaaS 2.0 request (Biz-Api-*) and event (Biz-Resp-Signature) signatures.",
        _cobo_cases,
        _check_cobo_case,
    ),
]

#: Files written by :func:`generate` (relative to the target directory).
FILES: tuple[str, ...] = tuple(f"{kind}.json" for kind, *_ in _SPECS)
#: Schema files written by :func:`generate`.
SCHEMA_FILES: tuple[str, ...] = tuple(f"schema/{kind}.schema.json" for kind, *_ in _SPECS)


def generate(directory: Path) -> list[Path]:
    """Write every vector file and its JSON Schema into ``directory``; returns the paths.

    The output is byte-identical on every run and platform.
    """
    directory = Path(directory)
    (directory / "schema").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind, description, build, _ in _SPECS:
        path = directory / f"{kind}.json"
        path.write_bytes(_dump(_file(kind, description, build())))
        written.append(path)
        schema_path = directory / "schema" / f"{kind}.schema.json"
        schema_path.write_bytes(_dump(SCHEMAS[kind]))
        written.append(schema_path)
    return written


def check(directory: Path) -> CheckReport:
    """Run the library against every case in ``directory``.

    A failure is ``"FILE:CASE: why"``; a missing or unreadable file is one failure.
    """
    directory = Path(directory)
    passed = 0
    failed: list[str] = []
    for kind, _, _, checker in _SPECS:
        name = f"{kind}.json"
        try:
            data = json.loads((directory / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            failed.append(f"{name}: cannot read ({type(exc).__name__}: {exc})")
            continue
        if not isinstance(data, dict) or data.get("format") != f"authsig-vectors/{kind}":
            failed.append(f"{name}: not an authsig-vectors/{kind} file")
            continue
        if data.get("format_version") != FORMAT_VERSION:
            failed.append(f"{name}: format_version {data.get('format_version')!r} unsupported")
            continue
        for index, case in enumerate(data.get("cases") or []):
            label = case.get("name", f"#{index}") if isinstance(case, dict) else f"#{index}"
            try:
                problem = checker(case)
            except Exception as exc:  # a broken case or a library bug: report, do not stop
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                passed += 1
            else:
                failed.append(f"{name}:{label}: {problem}")
    return CheckReport(passed=passed, failed=failed)
