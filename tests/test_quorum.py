"""KeyQuorum: validation rules, Privy shapes (the key quorum API example), user key resolvers."""

from __future__ import annotations

import asyncio
import base64
import copy
import re
from typing import Any

import pytest

from authsig.errors import QuorumError, UserResolutionError
from authsig.keys import PublicKey, generate_private_key, load_public_key
from authsig.privy.quorum import (
    MAX_DISPLAY_NAME,
    MAX_NESTED_QUORUMS,
    KeyQuorum,
    QuorumOverlapWarning,
    aload_user_keys,
    load_user_keys,
)

# The example of Privy's "Update key quorum" API reference (PATCH /v1/key_quorums/{id}): its
# request body and its response object, as printed there (the keys wrap with an embedded "\n").
PRIVY_PATCH_REQUEST: dict[str, Any] = {
    "display_name": "Prod key quorum",
    "public_keys": [
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx4aoeD72yykviK+f/ckqE2CItVIG\n"
        "1rCnvC3/XZ1HgpOcMEMialRmTrqIK4oZlYd1RfxU3za/C9yjhboIuoPD3g=="
    ],
    "authorization_threshold": 1,
}
PRIVY_RESPONSE: dict[str, Any] = {
    "id": "tb54eps4z44ed0jepousxi4n",
    "display_name": "Prod key quorum",
    "authorization_threshold": 1,
    "authorization_keys": [
        {
            "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx4aoeD72yykviK+f/ckqE2CItVIG\n"
            "1rCnvC3/XZ1HgpOcMEMialRmTrqIK4oZlYd1RfxU3za/C9yjhboIuoPD3g==",
            "display_name": None,
        },
        {
            "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErzZtQr/bMIh3Y8f9ZqseB9i/AfjQ\n"
            "hu+agbNqXcJy/TfoNqvc/Y3Mh7gIZ8ZLXQEykycx4mYSpqrxp1lBKqsZDQ==",
            "display_name": None,
        },
    ],
    "user_ids": None,
}


def _pub() -> PublicKey:
    return generate_private_key().public_key


def _documented_json() -> tuple[dict[str, Any], dict[str, Any]]:
    """Deep copies of the documented request body and response object."""
    return copy.deepcopy(PRIVY_PATCH_REQUEST), copy.deepcopy(PRIVY_RESPONSE)


def test_documented_request_body_shape() -> None:
    request, _ = _documented_json()
    q = KeyQuorum.from_privy(request)
    assert q.display_name == "Prod key quorum"
    assert q.authorization_threshold == 1
    assert len(q.public_keys) == 1
    # The documented key has an embedded "\n"; it loads to the same key as its one-line form.
    raw = request["public_keys"][0]
    assert "\n" in raw
    assert q.public_keys[0] == load_public_key(raw.replace("\n", ""))
    assert q.threshold == 1
    assert q.member_count == 1


def test_documented_response_shape_and_round_trip() -> None:
    _, response = _documented_json()
    q = KeyQuorum.from_privy(response)
    assert q.id == "tb54eps4z44ed0jepousxi4n"
    assert q.user_ids == ()
    assert len(q.public_keys) == 2
    assert q.key_display_names == (None, None)
    out = q.to_privy()
    assert out["id"] == response["id"]
    assert out["display_name"] == response["display_name"]
    assert out["authorization_threshold"] == 1
    assert out["user_ids"] is None
    assert "key_quorum_ids" not in out
    # to_privy writes one-line base64 of the same keys.
    got = [e["public_key"] for e in out["authorization_keys"]]
    want = [e["public_key"].replace("\n", "") for e in response["authorization_keys"]]
    assert got == want
    assert KeyQuorum.from_privy(out) == q


def test_nested_ids_resolved_through_mapping() -> None:
    inner = KeyQuorum(public_keys=(_pub(), _pub()), authorization_threshold=2, id="inner1")
    outer = KeyQuorum.from_privy(
        {
            "public_keys": [_pub().to_base64()],
            "user_ids": ["did:privy:alice"],
            "key_quorum_ids": ["inner1"],
            "authorization_threshold": 2,
        },
        quorums={"inner1": inner},
    )
    assert outer.key_quorums == (inner,)
    assert outer.member_count == 3
    assert outer.to_privy()["key_quorum_ids"] == ["inner1"]
    assert outer.to_privy()["user_ids"] == ["did:privy:alice"]
    assert set(outer.all_keys) == {*outer.public_keys, *inner.public_keys}


def test_unknown_nested_id_is_named() -> None:
    with pytest.raises(QuorumError, match="'q-missing'"):
        KeyQuorum.from_privy({"public_keys": [_pub().to_base64()], "key_quorum_ids": ["q-missing"]})
    with pytest.raises(QuorumError, match="'q-missing'"):
        KeyQuorum.from_privy(
            {"public_keys": [_pub().to_base64()], "key_quorum_ids": ["q-missing"]},
            quorums={"other": KeyQuorum(public_keys=(_pub(),))},
        )


def test_threshold_none_means_all_members() -> None:
    q = KeyQuorum(public_keys=(_pub(), _pub()), user_ids=("u1",))
    assert q.authorization_threshold is None
    assert q.threshold == 3


@pytest.mark.parametrize("threshold", [0, -1, 4])
def test_threshold_out_of_range(threshold: int) -> None:
    with pytest.raises(QuorumError, match=r"from 1 to the number of members \(3"):
        KeyQuorum(public_keys=(_pub(), _pub()), user_ids=("u1",), authorization_threshold=threshold)


@pytest.mark.parametrize("threshold", [1.5, "2", True])
def test_threshold_type(threshold: object) -> None:
    with pytest.raises(QuorumError, match="must be an integer"):
        KeyQuorum(public_keys=(_pub(), _pub()), authorization_threshold=threshold)  # type: ignore[arg-type]


def test_threshold_integral_float_from_json_accepted() -> None:
    q = KeyQuorum.from_privy({"public_keys": [_pub().to_base64()], "authorization_threshold": 1.0})
    assert q.authorization_threshold == 1


def test_no_members() -> None:
    with pytest.raises(QuorumError, match="no members"):
        KeyQuorum()


def test_display_name_limit() -> None:
    KeyQuorum(public_keys=(_pub(),), display_name="x" * MAX_DISPLAY_NAME)
    with pytest.raises(QuorumError, match=r"51 characters long, more than the limit of 50"):
        KeyQuorum(public_keys=(_pub(),), display_name="x" * (MAX_DISPLAY_NAME + 1))
    with pytest.raises(QuorumError, match="display_name of public key #1"):
        KeyQuorum.from_privy(
            {"authorization_keys": [{"public_key": _pub().to_base64(), "display_name": "y" * 51}]}
        )


def test_nested_limit() -> None:
    inner = [KeyQuorum(public_keys=(_pub(),), id=f"q{i}") for i in range(MAX_NESTED_QUORUMS + 1)]
    KeyQuorum(key_quorums=tuple(inner[:MAX_NESTED_QUORUMS]))
    with pytest.raises(QuorumError, match="6 nested quorums, more than the limit of 5"):
        KeyQuorum(key_quorums=tuple(inner))


def test_nesting_one_level_only() -> None:
    leaf = KeyQuorum(public_keys=(_pub(),), id="leaf")
    middle = KeyQuorum(public_keys=(_pub(),), key_quorums=(leaf,), id="middle")
    with pytest.raises(QuorumError, match="only 1 level deep"):
        KeyQuorum(public_keys=(_pub(),), key_quorums=(middle,))


def test_same_key_in_two_encodings_is_one_key() -> None:
    key = _pub()
    pem = key.to_pem()
    b64_wrapped = key.to_base64()[:64] + "\n" + key.to_base64()[64:]
    with pytest.raises(QuorumError, match=r"public key #2 .* same key as public key #1"):
        KeyQuorum(public_keys=(key.to_base64(), pem))
    with pytest.raises(QuorumError, match="same key"):
        KeyQuorum(public_keys=(b64_wrapped, key.to_jwk()))  # type: ignore[arg-type]


def test_duplicate_user_and_nested() -> None:
    with pytest.raises(QuorumError, match="listed twice"):
        KeyQuorum(user_ids=("u1", "u1"))
    inner = KeyQuorum(public_keys=(_pub(),), id="q1")
    with pytest.raises(QuorumError, match="listed twice"):
        KeyQuorum(key_quorums=(inner, inner))


def test_key_in_parent_and_nested_is_allowed_with_a_warning() -> None:
    """Privy allows the configuration; the quorum warns that the key approves one member only
    (tests/test_distinct_keys.py covers what the verifier makes of it)."""
    shared = _pub()
    inner = KeyQuorum(public_keys=(shared, _pub()), id="q1")
    with pytest.warns(QuorumOverlapWarning, match="approves only one member"):
        outer = KeyQuorum(public_keys=(shared,), key_quorums=(inner,))
    assert outer.all_keys.count(shared) == 1
    assert outer.key_positions[shared] == ((-1, 0), (0, 0))
    assert outer.overlaps == {shared: ((-1, 0), (0, 0))}


def test_bad_key_message_names_position() -> None:
    with pytest.raises(QuorumError, match=r"public key #2 .* base64 SPKI DER"):
        KeyQuorum(public_keys=(_pub().to_base64(), "not a key"))
    # A key on another curve is refused with the curve named.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    der = k1.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(QuorumError, match="P-256"):
        KeyQuorum(public_keys=(base64.b64encode(der).decode(),))


def test_to_privy_needs_nested_ids() -> None:
    inner = KeyQuorum(public_keys=(_pub(),))
    outer = KeyQuorum(public_keys=(_pub(),), key_quorums=(inner,))
    with pytest.raises(QuorumError, match="has no id"):
        outer.to_privy()


def test_from_privy_rejects_bad_shapes() -> None:
    with pytest.raises(QuorumError, match="JSON object"):
        KeyQuorum.from_privy([])  # type: ignore[arg-type]
    with pytest.raises(QuorumError, match="must be a list"):
        KeyQuorum.from_privy({"public_keys": _pub().to_base64()})
    with pytest.raises(QuorumError, match=r"authorization_keys\[0\]"):
        KeyQuorum.from_privy({"authorization_keys": ["x"]})


def test_immutable_and_hashable() -> None:
    q = KeyQuorum(public_keys=(_pub(),))
    with pytest.raises(AttributeError):
        q.authorization_threshold = 2  # type: ignore[misc]
    assert {q: 1}[KeyQuorum(public_keys=q.public_keys)] == 1
    assert q.key_index == {q.public_keys[0].point: q.public_keys[0]}


def test_load_user_keys_sync_and_failures() -> None:
    k = _pub()
    assert load_user_keys(lambda uid: [k.to_base64()], "u") == (k,)

    def boom(uid: str) -> list[str]:
        raise RuntimeError("database secret password")

    with pytest.raises(UserResolutionError) as info:
        load_user_keys(boom, "u")
    assert "RuntimeError" in str(info.value)
    assert "password" not in str(info.value)
    with pytest.raises(UserResolutionError, match="list of public keys"):
        load_user_keys(lambda uid: k.to_base64(), "u")  # type: ignore[arg-type,return-value]
    with pytest.raises(UserResolutionError, match="unusable key"):
        load_user_keys(lambda uid: ["nope"], "u")

    async def coro(uid: str) -> list[PublicKey]:
        return [k]

    with pytest.raises(UserResolutionError, match="verify_request_async"):
        load_user_keys(coro, "u")  # type: ignore[arg-type]


def test_aload_user_keys_accepts_both() -> None:
    k = _pub()

    async def coro(uid: str) -> list[PublicKey]:
        return [k]

    assert asyncio.run(aload_user_keys(coro, "u")) == (k,)
    assert asyncio.run(aload_user_keys(lambda uid: [k], "u")) == (k,)


def test_error_messages_are_actionable() -> None:
    with pytest.raises(QuorumError) as info:
        KeyQuorum(public_keys=(_pub(),), authorization_threshold=2)
    msg = str(info.value)
    assert re.search(r"is 2", msg)
    assert "lower it or add members" in msg
