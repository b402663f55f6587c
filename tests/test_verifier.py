"""verify_request / verify_request_async: every rule of the quorum issue."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from authsig.errors import QuorumError
from authsig.keys import PrivateKey, PublicKey, generate_private_key
from authsig.policy import POLICY_FIELDS, Policy
from authsig.privy import _match
from authsig.privy.headers import format_signature_header
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request
from authsig.privy.verifier import REASON_STATUS, Decision, verify_request, verify_request_async
from authsig.signatures import P256_N, sign

NOW = 1_800_000_000_000
URL = "https://api.privy.io/v1/wallets/w1/rpc"
BODY = {"method": "eth_sendTransaction", "params": {"transaction": {"to": "0xabc", "value": 1}}}
SIG = "privy-authorization-signature"


@pytest.fixture(scope="module")
def keys() -> list[PrivateKey]:
    return [generate_private_key() for _ in range(12)]


def signed(
    signers: Sequence[PrivateKey], *, body: Any = BODY, url: str = URL, **kw: Any
) -> dict[str, str]:
    kw.setdefault("now_ms", NOW)
    return sign_request(method="POST", url=url, body=body, app_id="app-1", keys=signers, **kw)


def check(headers: dict[str, str], quorum: KeyQuorum, *, body: Any = BODY, **kw: Any) -> Decision:
    """verify_request with the Policy fields among ``kw`` gathered into a Policy."""
    kw.setdefault("now_ms", NOW)
    fields = {name: kw.pop(name) for name in list(kw) if name in POLICY_FIELDS}
    return verify_request(
        method="POST",
        url=URL,
        body=body,
        headers=headers,
        quorum=quorum,
        policy=Policy(**fields),
        **kw,
    )


def pubs(ks: Sequence[PrivateKey]) -> tuple[PublicKey, ...]:
    return tuple(k.public_key for k in ks)


def twin(signature: str) -> str:
    """The malleated twin (r, n - s) of a base64 DER signature."""
    r, s = decode_dss_signature(base64.b64decode(signature))
    return base64.b64encode(encode_dss_signature(r, P256_N - s)).decode()


# --- approval and threshold ----------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 4, 10, 40])
def test_each_member_key_is_found_small_and_large(keys: list[PrivateKey], size: int) -> None:
    """Direct matching (<= 3 keys) and recovery (more) both find the signer, wherever it is."""
    pool = [generate_private_key() for _ in range(size)] if size > len(keys) else keys[:size]
    q = KeyQuorum(public_keys=pubs(pool), authorization_threshold=1)
    for signer in {pool[0], pool[-1], pool[size // 2]}:
        d = check(signed([signer]), q)
        assert d.approved, d.message
        assert d.reason == "approved"
        assert d.http_status == 200
        assert d.signatures[0].status == "matched"
        assert d.signatures[0].key_id == signer.key_id
        assert [m.id for m in d.approved_members] == [signer.key_id]


def test_threshold_two_of_three(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:3]), authorization_threshold=2)
    one = check(signed(keys[:1]), q)
    assert not one.approved
    assert one.reason == "threshold_not_met"
    assert one.http_status == 403
    assert one.missing == 1
    assert one.threshold == 2
    assert "1 more member" in one.message
    two = check(signed([keys[2], keys[0]]), q)
    assert two.approved
    assert two.missing == 0
    assert {m.id for m in two.approved_members} == {keys[0].key_id, keys[2].key_id}


def test_threshold_none_requires_all(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:3]))
    assert check(signed(keys[:2]), q).missing == 1
    assert check(signed(keys[:3]), q).approved


def test_recovery_and_direct_agree(keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:6]), authorization_threshold=3)
    h = signed([keys[1], keys[4], keys[5], keys[8]])
    results = []
    for limit in (0, 100):
        monkeypatch.setattr(_match, "DIRECT_MATCH_LIMIT", limit)
        d = check(h, q, allow_foreign_signatures=True)
        results.append((d.approved, [s.key_id for s in d.signatures]))
    assert results[0] == results[1]
    assert results[0][0] is True
    assert results[0][1] == [keys[1].key_id, keys[4].key_id, keys[5].key_id, None]


def test_degenerate_recovery_falls_back_to_direct(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:6]), authorization_threshold=1)
    monkeypatch.setattr(_match, "recover_points", lambda z, r, s: None)
    d = check(signed([keys[5]]), q)
    assert d.approved
    assert d.signatures[0].key_id == keys[5].key_id


# --- one key counts once -----------------------------------------------------------------


def test_same_key_signing_twice_counts_once(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:3]), authorization_threshold=2)
    h = signed([keys[0]])
    again = signed([keys[0]])[SIG]  # another randomized signature by the same key
    h[SIG] = h[SIG] + "," + again
    a, b = h[SIG].split(",")
    assert a != b
    d = check(h, q)
    assert not d.approved
    assert d.reason == "threshold_not_met"
    assert d.missing == 1
    assert [s.status for s in d.signatures] == ["matched", "matched"]
    assert len(d.approved_members) == 1


@pytest.mark.parametrize("size", [2, 8])
def test_malleated_twin_counts_once(keys: list[PrivateKey], size: int) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:size]), authorization_threshold=2)
    h = signed([keys[0]])
    h[SIG] = h[SIG] + "," + twin(h[SIG])
    d = check(h, q)
    assert not d.approved
    assert d.missing == 1
    assert d.signatures[1].status == "duplicate"
    assert d.signatures[1].duplicate_of == 0
    assert d.signatures[1].key_id == keys[0].key_id
    # And with threshold 1 the pair is accepted (the twin is a valid signature, not foreign).
    q1 = KeyQuorum(public_keys=pubs(keys[:size]), authorization_threshold=1)
    assert check(h, q1).approved


def test_duplicate_identical_signature_refused(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:2]), authorization_threshold=1)
    h = signed([keys[0]])
    h[SIG] = h[SIG] + "," + h[SIG]
    d = check(h, q)
    assert d.reason == "duplicate_signature"
    assert d.http_status == 401
    assert not d.approved


# --- foreign signatures ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 8])
def test_foreign_signature_strict_and_allowed(keys: list[PrivateKey], size: int) -> None:
    outsider = keys[11]
    q = KeyQuorum(public_keys=pubs(keys[:size]), authorization_threshold=1)
    h = signed([keys[0], outsider])
    strict = check(h, q)
    assert not strict.approved
    assert strict.reason == "invalid_signature"
    assert strict.http_status == 401
    assert "signature #2 of 2" in strict.message
    assert strict.signatures[1].status == "no_match"
    relaxed = check(h, q, allow_foreign_signatures=True)
    assert relaxed.approved
    only_foreign = check(signed([outsider]), q, allow_foreign_signatures=True)
    assert only_foreign.reason == "threshold_not_met"
    assert "1 foreign signature(s) ignored" in only_foreign.message


def test_tampered_request_is_invalid_signature(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:4]), authorization_threshold=1)
    h = signed([keys[0]])
    tampered = {**BODY, "params": {"transaction": {"to": "0xevil", "value": 1}}}
    d = check(h, q, body=tampered)
    assert d.reason == "invalid_signature"
    d2 = verify_request(method="POST", url=URL + "/x", body=BODY, headers=h, quorum=q, now_ms=NOW)
    assert d2.reason == "invalid_signature"


# --- nested quorums, users, keys ------------------------------------------------------------


def test_nested_quorum_counts_once_when_its_threshold_is_met(keys: list[PrivateKey]) -> None:
    a, b, c, d_ = keys[:4]
    inner = KeyQuorum(public_keys=pubs([b, c, d_]), authorization_threshold=2, id="inner")
    outer = KeyQuorum(public_keys=(a.public_key,), key_quorums=(inner,), authorization_threshold=2)
    assert not check(signed([a, b]), outer).approved  # inner has 1 of 2
    assert check(signed([a, b]), outer).missing == 1
    ok = check(signed([a, b, c]), outer)
    assert ok.approved
    kinds = [(m.kind, m.quorum_id) for m in ok.approved_members]
    assert ("quorum", None) in kinds
    assert kinds.count(("key", "inner")) == 2
    # All three inner keys still count as one member: outer threshold 2 is not met without a.
    assert not check(signed([b, c, d_]), outer).approved
    assert check(signed([b, c, d_]), outer).missing == 1


def test_nested_mixed_with_users_and_keys(keys: list[PrivateKey]) -> None:
    a, b, c, u_key, v_key = keys[:5]
    inner = KeyQuorum(
        public_keys=pubs([b, c]), user_ids=("user-v",), authorization_threshold=2, id="ops"
    )
    outer = KeyQuorum(
        public_keys=(a.public_key,),
        user_ids=("user-u",),
        key_quorums=(inner,),
        authorization_threshold=2,
    )
    directory: dict[str, list[Any]] = {
        "user-u": [u_key.public_key.to_base64()],
        "user-v": [v_key.public_key],
    }

    def resolve(uid: str) -> list[Any]:
        return directory[uid]

    cases = {
        (a,): False,
        (a, u_key): True,
        (u_key, b): False,  # inner 1 of 2
        (u_key, b, v_key): True,  # inner met via key + user
        (b, c, v_key): False,  # inner met, but one member only
        (a, b, c): True,
    }
    for signers, expected in cases.items():
        d = check(signed(list(signers)), outer, user_keys=resolve)
        assert d.approved is expected, (signers, d.message)
    d = check(signed([u_key, b, v_key]), outer, user_keys=resolve)
    members = {(m.kind, m.id, m.quorum_id) for m in d.approved_members}
    assert ("user", "user-u", None) in members
    assert ("user", "user-v", "ops") in members
    assert ("quorum", "ops", None) in members


def test_user_with_several_keys_counts_once(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(user_ids=("u",), public_keys=(keys[0].public_key,), authorization_threshold=2)
    resolve = {"u": [keys[1].public_key, keys[2].public_key]}.__getitem__
    assert not check(signed([keys[1], keys[2]]), q, user_keys=resolve).approved
    assert check(signed([keys[1], keys[0]]), q, user_keys=resolve).approved


def test_user_resolution_failure_is_503_not_traceback(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(user_ids=("u",), authorization_threshold=1)

    def broken(uid: str) -> list[str]:
        raise ConnectionError("db down")

    d = check(signed([keys[0]]), q, user_keys=broken)
    assert d.reason == "user_resolution_failed"
    assert d.http_status == 503
    assert not d.approved
    bad = check(signed([keys[0]]), q, user_keys=lambda uid: ["garbage"])
    assert bad.reason == "user_resolution_failed"


def test_user_without_resolver(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(user_ids=("u",), public_keys=(keys[0].public_key,), authorization_threshold=1)
    d = check(signed([keys[1]]), q)
    assert d.reason == "invalid_signature"
    assert "no user_keys resolver" in d.message
    assert check(signed([keys[0]]), q).approved


def test_async_twin_with_async_and_sync_resolvers(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(user_ids=("u",), public_keys=(keys[0].public_key,), authorization_threshold=2)

    async def resolve(uid: str) -> list[PublicKey]:
        await asyncio.sleep(0)
        return [keys[1].public_key]

    h = signed([keys[0], keys[1]])

    async def run() -> tuple[Decision, Decision]:
        d1 = await verify_request_async(
            method="POST", url=URL, body=BODY, headers=h, quorum=q, now_ms=NOW, user_keys=resolve
        )
        d2 = await verify_request_async(
            method="POST",
            url=URL,
            body=BODY,
            headers=h,
            quorum=q,
            now_ms=NOW,
            user_keys=lambda uid: [keys[1].public_key],
        )
        return d1, d2

    d1, d2 = asyncio.run(run())
    assert d1.approved
    assert d2.approved
    # The sync verifier refuses an async resolver with a clear reason, no coroutine warning.
    d3 = check(h, q, user_keys=resolve)  # type: ignore[arg-type]
    assert d3.reason == "user_resolution_failed"
    assert "verify_request_async" in d3.message


# --- request-level refusals -----------------------------------------------------------------


def test_missing_signature_header(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])
    del h[SIG]
    d = check(h, q)
    assert d.reason == "missing_signature"
    assert d.http_status == 401
    assert SIG in d.message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty_signature_entry"),
        ("abc,", "empty_signature_entry"),
        ("not base64!", "malformed_signature_header"),
        (base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "malformed_signature"),
        (base64.b64encode(b"hello world!").decode(), "malformed_signature"),
    ],
)
def test_header_and_signature_format(keys: list[PrivateKey], value: str, reason: str) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])
    h[SIG] = value
    d = check(h, q)
    assert d.reason == reason
    assert d.http_status == REASON_STATUS[reason] == 401


def test_header_limits(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:3]), authorization_threshold=1)
    h = signed(keys[:3])
    assert check(h, q).approved
    assert check(h, q, max_signatures=2).reason == "signature_header_too_large"
    assert check(h, q, max_header_length=100).reason == "signature_header_too_large"


def test_signature_header_sent_twice(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:2]), authorization_threshold=1)
    h = signed([keys[0]])
    pairs = [*h.items(), ("Privy-Authorization-Signature", signed([keys[1]])[SIG])]
    d = verify_request(method="POST", url=URL, body=BODY, headers=pairs, quorum=q, now_ms=NOW)
    assert d.reason == "malformed_signature_header"


def test_headers_case_insensitive_and_pairs(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]], idempotency_key="idem-1")
    shouted = [(k.upper(), v) for k, v in h.items()] + [("Content-Type", "application/json")]
    d = verify_request(method="post", url=URL, body=BODY, headers=shouted, quorum=q, now_ms=NOW)
    assert d.approved


def test_expiry_rules(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])  # expires NOW + 15 min
    assert check(h, q).approved
    assert check(h, q, now_ms=NOW + 16 * 60_000 + 60_000).reason == "expired"
    assert check(h, q, now_ms=NOW - 2 * 3600_000).reason == "expiry_too_far"
    assert check(h, q, max_lifetime=timedelta(minutes=5)).reason == "expiry_too_far"
    plain = signed([keys[0]], expires_in=None)
    assert check(plain, q).approved
    required = check(plain, q, require_expiry=True)
    assert required.reason == "expiry_required"
    assert required.http_status == 401
    # An expiry in seconds, signed as such: refused with its own reason.
    payload_headers = {"privy-app-id": "app-1", "privy-request-expiry": str(NOW // 1000 + 900)}
    payload = signing_payload(method="POST", url=URL, body=BODY, headers=payload_headers)
    secs = {**payload_headers, SIG: sign(payload, keys[0])}
    d = check(secs, q)
    assert d.reason == "expiry_in_seconds"
    assert "milliseconds" in d.message
    bad = {**plain, "privy-request-expiry": "soon"}
    assert check(bad, q).reason == "malformed_expiry"


def test_body_and_app_id_errors(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])
    d = check(h, q, body=b"{not json")
    assert d.reason == "invalid_body"
    assert d.http_status == 400
    nan = check(h, q, body={"x": float("nan")})
    assert nan.reason == "invalid_body"
    no_app = {k: v for k, v in h.items() if k != "privy-app-id"}
    d2 = check(no_app, q)
    assert d2.reason == "missing_header"
    assert d2.http_status == 401


def test_raw_body_bytes_and_empty_body_options(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]], body=b"{}")
    assert check(h, q, body=b"{}").approved
    assert check(h, q, body=b"{}", empty_body="preserve").reason == "invalid_signature"
    hp = signed([keys[0]], body={}, empty_body="preserve")
    assert check(hp, q, body="{}", empty_body="preserve").approved


def test_canonicaljson_profile(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    body = {"amount": 2.0, "tiny": 1e-7}
    headers = {"privy-app-id": "app-1"}
    payload = signing_payload(
        method="POST", url=URL, body=body, headers=headers, profile="canonicaljson"
    )
    h = {**headers, SIG: sign(payload, keys[0])}
    assert check(h, q, body=json.dumps(body)).reason == "invalid_signature"
    assert check(h, q, body=json.dumps(body), profile="canonicaljson").approved


def test_programmer_errors_raise(keys: list[PrivateKey]) -> None:
    h = signed([keys[0]])
    with pytest.raises(TypeError, match="KeyQuorum"):
        verify_request(method="POST", url=URL, body=BODY, headers=h, quorum=[keys[0]])  # type: ignore[arg-type]
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    with pytest.raises(TypeError, match="now_ms"):
        verify_request(method="POST", url=URL, body=BODY, headers=h, quorum=q, now_ms="1")  # type: ignore[arg-type]
    with pytest.raises(QuorumError):
        KeyQuorum(public_keys=pubs(keys[:1]), authorization_threshold=2)


# --- the Decision object --------------------------------------------------------------------


def test_decision_object(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:3]), authorization_threshold=2, id="q-main")
    d = check(signed([keys[0], keys[11]]), q, allow_foreign_signatures=True)
    assert not d
    assert str(d) == d.message
    assert d.message.count(".") >= 1
    assert "q-main" in d.message
    data = d.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["reason"] == "threshold_not_met"
    assert data["missing"] == 1
    assert data["signatures"][0]["key_id"] == keys[0].key_id
    assert data["signatures"][1]["status"] == "no_match"
    with pytest.raises(AttributeError):
        d.approved = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.signatures[0].status = "matched"  # type: ignore[misc]
    ok = check(signed(keys[:2]), q)
    assert ok
    assert ok.message.startswith("Approved")


def test_reason_table_is_complete() -> None:
    assert REASON_STATUS["approved"] == 200
    assert REASON_STATUS["threshold_not_met"] == 403
    assert REASON_STATUS["invalid_body"] == 400
    assert REASON_STATUS["replayed"] == 409
    assert REASON_STATUS["body_too_large"] == 413
    assert REASON_STATUS["user_resolution_failed"] == 503


def test_no_private_material_in_decision(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    d = check(signed([keys[0]]), q)
    text = json.dumps(d.to_dict()) + str(d) + repr(d)
    secret = keys[0].to_base64()
    assert secret not in text
    assert keys[0].to_jwk()["d"] not in text


def test_signatures_from_format_header(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:2]), authorization_threshold=2)
    payload = signing_payload(method="POST", url=URL, body=BODY, headers={"privy-app-id": "a"})
    header = format_signature_header([sign(payload, keys[1]), sign(payload, keys[0])])
    d = verify_request(
        method="POST",
        url=URL,
        body=BODY,
        headers={"privy-app-id": "a", SIG: header},
        quorum=q,
    )
    assert d.approved


def test_participating_header_sent_twice_is_a_bad_request(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])
    pairs = [*h.items(), ("Privy-App-Id", "app-2")]
    d = verify_request(method="POST", url=URL, body=BODY, headers=pairs, quorum=q, now_ms=NOW)
    assert not d.approved
    assert d.reason == "invalid_payload"
    assert d.http_status == 400
    assert "privy-app-id" in d.message
    pairs2 = [*h.items(), ("PRIVY-REQUEST-EXPIRY", h["privy-request-expiry"])]
    d2 = verify_request(method="POST", url=URL, body=BODY, headers=pairs2, quorum=q, now_ms=NOW)
    assert d2.reason == "invalid_payload"


def test_out_of_range_scalar_is_malformed(keys: list[PrivateKey]) -> None:
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    h = signed([keys[0]])
    r, _ = decode_dss_signature(base64.b64decode(h[SIG]))
    h[SIG] = base64.b64encode(encode_dss_signature(r, P256_N + 5)).decode()
    d = check(h, q)
    assert d.reason == "malformed_signature"
    assert "signature #1" in d.message


def test_dict_headers_take_the_same_decisions_as_header_pairs(keys: list[PrivateKey]) -> None:
    """A dict of headers and the same headers as (name, value) pairs give identical decisions,
    including every refusal about the headers."""
    q = KeyQuorum(public_keys=pubs(keys[:4]), authorization_threshold=1)
    good = signed([keys[0]], expires_in=timedelta(minutes=5))
    variants: list[dict[Any, Any]] = [
        good,
        {k.upper(): v for k, v in good.items()},
        {**good, "Privy-App-Id": "app-1"},  # the app id twice (two spellings)
        {**good, SIG.upper(): good[SIG]},  # the signature header twice
        {**good, "PRIVY-REQUEST-EXPIRY": good["privy-request-expiry"]},
        {k: v for k, v in good.items() if k != "privy-app-id"},
        {k: v for k, v in good.items() if k != SIG},
        {**good, "privy-idempotency-key": "changed"},
        {**good, "privy-request-expiry": "1"},
        {**good, "x-other": "y"},
    ]
    for headers in variants:
        as_dict = check(headers, q)
        as_pairs = check(list(headers.items()), q)  # type: ignore[arg-type]
        assert as_dict.to_dict() == as_pairs.to_dict()
        assert as_dict == as_pairs
    assert check(good, q).approved


@pytest.mark.parametrize(
    "bad",
    [{"privy-request-expiry": 5}, {SIG: 5}, {"privy-app-id": b"app-1"}, {7: "x"}],
)
def test_headers_of_the_wrong_type_are_a_programmer_error(
    keys: list[PrivateKey], bad: dict[Any, Any]
) -> None:
    """The headers argument holds text: anything else is a TypeError, not a refusal."""
    q = KeyQuorum(public_keys=pubs(keys[:1]))
    with pytest.raises(TypeError):
        check({**signed([keys[0]]), **bad}, q)
    with pytest.raises(TypeError):
        check(5, q)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check([("privy-app-id",)], q)  # type: ignore[arg-type, list-item]


def test_recovery_without_gmpy2_approves_the_same_requests(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the plain fallbacks of key recovery (no ``fast`` extra), large quorums still find
    the signer, and a foreign signature is still refused."""
    from authsig import _recover

    monkeypatch.setattr(_recover, "_invert", _recover._py_invert)
    monkeypatch.setattr(_recover, "_decompress", _recover._decompress_openssl)
    monkeypatch.setattr(_recover, "_lift_x", _recover._lift_x_openssl)
    q = KeyQuorum(public_keys=pubs(keys[:10]), authorization_threshold=2)
    d = check(signed([keys[9], keys[4]]), q)
    assert d.approved, d.message
    assert {m.id for m in d.approved_members} == {keys[9].key_id, keys[4].key_id}
    refused = check(signed([keys[9], generate_private_key()]), q)
    assert refused.reason == "invalid_signature"
