"""The published test vectors (``vectors/``): no drift, schema-valid, the library passes every
case, the checker notices broken cases, and the official Node SDK reproduces every signing case.

The checker ships in the wheel (``authsig.conformance``); the generator does not
(``tools/vectors``, run as ``python -m tools.vectors``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _interop import b64, node_driver, unb64

from authsig.conformance import KINDS, CheckReport, check

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the tools package lives next to authsig, outside tests/
    sys.path.insert(0, str(ROOT))

from tools.vectors import generate, generator  # noqa: E402

VECTORS = ROOT / "vectors"
FILES = [f"{kind}.json" for kind in KINDS]
SCHEMA_FILES = [f"schema/{kind}.schema.json" for kind in KINDS]
PUBLISHED = [*FILES, *SCHEMA_FILES, "README.md"]


def _load(name: str) -> dict[str, Any]:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _cases(kind: str) -> list[dict[str, Any]]:
    cases = _load(f"{kind}.json")["cases"]
    assert isinstance(cases, list)
    return cases


def _tools(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tools.vectors ARGS`` from the repository root, on this checkout's authsig."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "tools.vectors", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# --- drift ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("vectors")
    written = generate(target)
    assert sorted(p.relative_to(target).as_posix() for p in written) == sorted(PUBLISHED)
    return target


def test_generate_command_reproduces_the_committed_directory(tmp_path: Path) -> None:
    """`python -m tools.vectors generate DIR` then `diff -r DIR vectors` is empty."""
    target = tmp_path / "out"
    proc = _tools("generate", str(target))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {len(PUBLISHED)} file(s)" in proc.stdout
    generated, committed = _tree(target), _tree(VECTORS)
    assert sorted(generated) == sorted(committed)
    differing = [name for name in committed if generated[name] != committed[name]]
    assert differing == [], "run `make vectors` and review the diff"


@pytest.mark.parametrize("name", FILES)
def test_committed_file_does_not_drift(regenerated: Path, name: str) -> None:
    committed = VECTORS / name
    assert committed.exists(), f"{name} is missing from vectors/: run `make vectors`"
    assert (regenerated / name).read_bytes() == committed.read_bytes(), (
        f"vectors/{name} differs from the generator's output: run `make vectors` and review"
    )


def test_no_stray_files_in_vectors() -> None:
    present = {p.relative_to(VECTORS).as_posix() for p in VECTORS.rglob("*") if p.is_file()}
    assert present == set(PUBLISHED)


def test_generation_is_byte_identical_across_runs(regenerated: Path, tmp_path: Path) -> None:
    generate(tmp_path)
    assert _tree(tmp_path) == _tree(regenerated)


def test_generator_refuses_a_case_its_committed_schema_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    description, build = generator.BUILDERS["keys"]

    def with_unknown_member() -> list[dict[str, Any]]:
        cases = build()
        cases[0]["unexpected_member"] = 1
        return cases

    monkeypatch.setitem(generator.BUILDERS, "keys", (description, with_unknown_member))
    with pytest.raises(ValueError, match=r"keys\.json does not match schema/keys\.schema\.json"):
        generate(tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_tools_check_passes_the_committed_vectors() -> None:
    proc = _tools("check", "vectors")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    total = sum(len(_cases(kind)) for kind in KINDS)
    assert proc.stdout.splitlines()[-1] == f"{total} passed, 0 failed, {total} total"


def test_tools_check_reports_a_schema_violation(tmp_path: Path) -> None:
    shutil.copytree(VECTORS, tmp_path, dirs_exist_ok=True)
    data = _load("cobo.json")
    data["cases"][0]["unexpected_member"] = 1
    (tmp_path / "cobo.json").write_text(json.dumps(data), encoding="utf-8")
    proc = _tools("check", str(tmp_path))
    assert proc.returncode == 1
    assert any(line.startswith("FAIL cobo.json: schema: ") for line in proc.stdout.splitlines()), (
        proc.stdout
    )


def test_files_are_canonical_text() -> None:
    for name in [*FILES, *SCHEMA_FILES]:
        raw = (VECTORS / name).read_bytes()
        assert raw.endswith(b"\n")
        assert not raw.endswith(b"\n\n")
        assert b"\r" not in raw
        data = json.loads(raw)
        assert (
            raw.decode("utf-8")
            == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        )


# --- schema -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_file_validates_against_its_schema(kind: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _load(f"schema/{kind}.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(_load(f"{kind}.json")))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("kind", KINDS)
def test_schema_rejects_a_case_without_its_expected_result(kind: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(_load(f"schema/{kind}.schema.json"))
    data = _load(f"{kind}.json")
    victim = data["cases"][0]
    for member in ("expected", "signature_header", "signature_hex"):
        if member in victim:
            del victim[member]
            break
    else:  # pragma: no cover - every kind has one of them
        pytest.fail(f"no expected-result member in {kind} cases")
    assert not validator.is_valid(data)
    data = _load(f"{kind}.json")
    data["cases"][0]["unexpected_member"] = 1
    assert not validator.is_valid(data)


# --- the library passes every case --------------------------------------------------------


def test_check_passes_every_case() -> None:
    report = check(VECTORS)
    assert isinstance(report, CheckReport)
    assert report.failed == []
    total = sum(len(_cases(kind)) for kind in KINDS)
    assert report.passed == total
    assert report.total == total
    assert report.ok


def test_vectors_cover_the_issue_list() -> None:
    names = {kind: {c["name"] for c in _cases(kind)} for kind in KINDS}
    verification = names["verification"]
    for wanted in (
        "tampered/method",
        "tampered/url-trailing-slash",
        "tampered/body-value",
        "tampered/idempotency-key",
        "wrong-key/non-member",
        "valid/high-s",
        "twin/counted-once",
        "duplicate/same-signature-twice",
        "foreign/strict",
        "expiry/expired",
        "expiry/too-far",
        "header/empty-entry",
        "header/not-base64",
        "wrong-curve/member-key",
    ):
        assert wanted in verification, wanted
    reasons = {c["expected"].get("reason") for c in _cases("verification")}
    assert {"approved", "invalid_signature", "threshold_not_met", "expired"} <= reasons
    quorum = names["quorum"]
    assert any(n.startswith("users/") for n in quorum)
    assert any(n.startswith("nested/") for n in quorum)
    assert any(n.startswith("mixed/") for n in quorum)
    kinds = {c["kind"] for c in _cases("cobo")}
    assert kinds == {"request", "event"}


def test_high_s_case_really_has_high_s() -> None:
    from authsig.signatures import decode_signature, der_to_raw

    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    case = next(c for c in _cases("verification") if c["name"] == "valid/high-s")
    raw = der_to_raw(decode_signature(case["request"]["headers"]["privy-authorization-signature"]))
    assert int.from_bytes(raw[32:], "big") > order // 2
    twin = next(c for c in _cases("verification") if c["name"] == "twin/counted-once")
    a, b = twin["request"]["headers"]["privy-authorization-signature"].split(",")
    ra, rb = der_to_raw(decode_signature(a)), der_to_raw(decode_signature(b))
    assert ra[:32] == rb[:32]
    assert int.from_bytes(ra[32:], "big") + int.from_bytes(rb[32:], "big") == order


def test_rfc8785_sample_is_the_rfc_output() -> None:
    """RFC 8785 section 3.2.2 prints this exact output for its example input."""
    case = next(c for c in _cases("canonicalization") if c["name"] == "rfc8785/sample")
    rfc_output = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert case["expected"]["utf8"] == rfc_output
    assert bytes.fromhex(case["expected"]["hex"]) == rfc_output.encode("utf-8")


def _mutate(directory: Path, kind: str, index: int) -> str:
    path = directory / f"{kind}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    case = data["cases"][index]
    if kind == "signing":
        sig = case["signers"][0]["signature"]
        case["signers"][0]["signature"] = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    elif kind == "cobo":
        case["signature_hex"] = ("0" if case["signature_hex"][0] != "0" else "1") + case[
            "signature_hex"
        ][1:]
    elif kind == "canonicalization":
        case["expected"] = {"utf8": "[]", "hex": "5b5d"}
    elif kind == "keys":
        case["expected"] = {"error": "invalid_key"}
    elif kind == "turnkey":
        sig = case["signature_hex"]
        case["signature_hex"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    else:
        exp = case["expected"]
        exp["approved"] = not exp["approved"]
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(case["name"])


@pytest.mark.parametrize("kind", KINDS)
def test_check_reports_a_broken_case_by_name(tmp_path: Path, kind: str) -> None:
    shutil.copytree(VECTORS, tmp_path, dirs_exist_ok=True)
    name = _mutate(tmp_path, kind, 0)
    report = check(tmp_path)
    assert not report.ok
    assert len(report.failed) == 1
    assert report.failed[0].startswith(f"{kind}.json:{name}:")
    assert report.total == sum(len(_cases(k)) for k in KINDS)


def test_check_reports_a_missing_file(tmp_path: Path) -> None:
    shutil.copytree(VECTORS, tmp_path, dirs_exist_ok=True)
    (tmp_path / "quorum.json").unlink()
    report = check(tmp_path)
    assert not report.ok
    assert any(f.startswith("quorum.json: cannot read") for f in report.failed)


def test_check_of_an_empty_directory_is_not_ok(tmp_path: Path) -> None:
    report = check(tmp_path)
    assert not report.ok
    assert report.passed == 0
    assert len(report.failed) == len(FILES)


# --- the official Node SDK reproduces every signing case ------------------------------------

_PARTICIPATING = ("privy-app-id", "privy-idempotency-key", "privy-request-expiry")


def _node_input(request: dict[str, Any]) -> dict[str, Any]:
    """What a Node app hands the SDK: upper-case method (the SDK's type), the privy headers."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return {
        "version": 1,
        "method": request["method"].upper(),
        "url": request["url"],
        "headers": {k: headers[k] for k in _PARTICIPATING if k in headers},
    }


@pytest.fixture(scope="module")
def node_results() -> dict[str, list[dict[str, Any]]]:
    driver = node_driver()
    ops: list[dict[str, Any]] = []
    tags: list[tuple[str, str]] = []
    for case in _cases("signing"):
        request = case["request"]
        body = request["body"]
        ops.append(
            {
                "op": "format",
                "input": _node_input(request),
                "body_json": body if body is not None and body.strip() else None,
            }
        )
        tags.append((case["name"], "format"))
        payload_b64 = b64(bytes.fromhex(case["payload"]["hex"]))
        for signer in case["signers"]:
            ops.append(
                {"op": "sign", "private_key": signer["private_key"], "payload_b64": payload_b64}
            )
            tags.append((case["name"], "sign"))
            ops.append(
                {
                    "op": "verify",
                    "public_key": signer["public_key"],
                    "signature": signer["signature"],
                    "payload_b64": payload_b64,
                }
            )
            tags.append((case["name"], "verify"))
            ops.append({"op": "public_key", "private_key": signer["private_key"]})
            tags.append((case["name"], "public_key"))
    for case in _cases("canonicalization"):
        if "hex" in case["expected"] and case["options"]["profile"] == "rfc8785":
            ops.append({"op": "canonicalize", "json": case["input"]})
            tags.append((case["name"], "canonicalize"))
    results: dict[str, list[dict[str, Any]]] = {}
    for (name, tag), result in zip(tags, driver.run_ok(ops), strict=True):
        results.setdefault(f"{name}/{tag}", []).append(result)
    return results


SIGNING_NAMES = [c["name"] for c in _cases("signing")]


@pytest.mark.interop
@pytest.mark.parametrize("name", SIGNING_NAMES)
def test_node_sdk_reproduces_signing_case(
    node_results: dict[str, list[dict[str, Any]]], name: str
) -> None:
    case = next(c for c in _cases("signing") if c["name"] == name)
    (formatted,) = node_results[f"{name}/format"]
    assert unb64(formatted["payload_b64"]).hex() == case["payload"]["hex"]
    signed = node_results[f"{name}/sign"]
    verified = node_results[f"{name}/verify"]
    derived = node_results[f"{name}/public_key"]
    assert len(signed) == len(verified) == len(derived) == len(case["signers"])
    for signer, s, v, p in zip(case["signers"], signed, verified, derived, strict=True):
        # The SDK signs with RFC 6979 nonces, as the vectors do: identical signatures.
        assert s["signature"] == signer["signature"]
        assert v == {"node_crypto": True, "noble": True}
        assert p["public_key"] == signer["public_key"]


@pytest.mark.interop
def test_node_canonicalize_reproduces_canonicalization_cases(
    node_results: dict[str, list[dict[str, Any]]],
) -> None:
    checked = 0
    for case in _cases("canonicalization"):
        got = node_results.get(f"{case['name']}/canonicalize")
        if got is None:
            continue
        assert unb64(got[0]["canonical_b64"]).hex() == case["expected"]["hex"], case["name"]
        checked += 1
    assert checked >= 20


# --- independent recomputation (cryptography and hashlib only, not authsig) -------------------


def test_signing_cases_recomputed_independently() -> None:
    import base64
    import hashlib

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for case in _cases("signing"):
        payload = bytes.fromhex(case["payload"]["hex"])
        assert payload.decode("utf-8") == case["payload"]["utf8"]
        assert hashlib.sha256(payload).hexdigest() == case["payload"]["sha256_hex"]
        assert case["signature_header"] == ",".join(s["signature"] for s in case["signers"])
        for signer in case["signers"]:
            private = serialization.load_der_private_key(
                base64.b64decode(signer["private_key"]), password=None
            )
            assert isinstance(private, ec.EllipticCurvePrivateKey)
            assert private.private_numbers().private_value == int(signer["private_scalar_hex"], 16)
            public = serialization.load_der_public_key(base64.b64decode(signer["public_key"]))
            assert isinstance(public, ec.EllipticCurvePublicKey)
            assert public.public_numbers() == private.public_key().public_numbers()
            sig = base64.b64decode(signer["signature"])
            public.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
            with pytest.raises(InvalidSignature):
                public.verify(sig, payload + b" ", ec.ECDSA(hashes.SHA256()))
            again = private.sign(payload, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
            assert again == sig


def test_cobo_cases_recomputed_independently() -> None:
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import ed25519

    def dsha(data: bytes) -> bytes:
        return hashlib.sha256(hashlib.sha256(data).digest()).digest()

    for case in _cases("cobo"):
        if case["kind"] == "request":
            r = case["request"]
            text = f"{r['method']}|{r['path']}|{case['nonce_ms']}|{r['query']}|{r['body']}"
            assert case["string_to_sign"] == text
            secret = ed25519.Ed25519PrivateKey.from_private_bytes(
                bytes.fromhex(case["api_secret_hex"])
            )
            assert secret.public_key().public_bytes_raw().hex() == case["api_key_hex"]
            assert case["headers"] == {
                "Biz-Api-Key": case["api_key_hex"],
                "Biz-Api-Nonce": str(case["nonce_ms"]),
                "Biz-Api-Signature": case["signature_hex"],
            }
        else:
            text = f"{case['body']}|{case['timestamp_ms']}"
            assert case["content"] == text
            secret = ed25519.Ed25519PrivateKey.from_private_bytes(
                bytes.fromhex(case["private_key_hex"])
            )
            assert secret.public_key().public_bytes_raw().hex() == case["public_key_hex"]
            assert case["headers"] == {
                "Biz-Timestamp": str(case["timestamp_ms"]),
                "Biz-Resp-Signature": case["signature_hex"],
            }
        digest = dsha(text.encode("utf-8"))
        assert digest.hex() == case["digest_hex"]
        assert secret.sign(digest).hex() == case["signature_hex"]
        secret.public_key().verify(bytes.fromhex(case["signature_hex"]), digest)
