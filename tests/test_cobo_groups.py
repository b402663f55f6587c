"""Cobo key share holder groups: parsing, validation, approvals, vault rules, UpgradeToMainGroup."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from authsig.cobo import (
    KeyShareHolder,
    KeyShareHolderGroup,
    main_group,
    upgrade_to_main_group,
    validate_vault_groups,
)
from authsig.cobo.errors import CoboGroupError

# The example response object of the WaaS 2.0 API reference (a key share holder group).
SEED_GROUP: dict[str, Any] = {
    "key_share_holder_group_id": "b33130a9-6e18-44a9-9e48-8b3b41921f0e",
    "type": "MainGroup",
    "tss_key_share_groups": [
        {
            "tss_key_share_group_id": "mMedDioOKhTlhGyQRzMv",
            "curve": "SECP256K1",
            "root_pubkey": "xpub661MyMwAqRbcG4vPNi58VQJrXW8D9VzmauuRq2rTY3oUVnKGuLTxQxvvoEXgLvZ7N9"
            "GQXQkWVgKn1rzEUUEm4NdvrBKUqjpNJEnn2UL4rYq",
        }
    ],
    "key_share_holders": [
        {
            "name": "Key share holder name",
            "type": "API",
            "tss_node_id": "coboAbCdEfGhIjKlMnOpQrStUvWxYz1234567890abcdefghi",
            "online": True,
            "signer": True,
            "status": "Valid",
            "account_id": "auth0|cobo|839305394802991371",
        }
    ],
    "participants": 3,
    "threshold": 2,
    "status": "Valid",
    "created_timestamp": 1718619403933,
}


def holder(
    node: str, *, type_: str = "API", signer: bool = True, status: str = "Valid"
) -> dict[str, Any]:
    return {
        "name": f"holder {node}",
        "type": type_,
        "tss_node_id": node,
        "online": True,
        "signer": signer,
        "status": status,
        "account_id": None,
    }


def group(
    gid: str,
    type_: str = "SigningGroup",
    *,
    threshold: int = 2,
    participants: int = 3,
    status: str = "Valid",
    holders: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if holders is None:
        holders = [
            holder(f"{gid}-cobo", type_="Cobo"),
            holder(f"{gid}-api"),
            holder(f"{gid}-mobile", type_="Mobile"),
        ]
    return {
        "key_share_holder_group_id": gid,
        "type": type_,
        "tss_key_share_groups": [],
        "key_share_holders": holders,
        "participants": participants,
        "threshold": threshold,
        "status": status,
        "created_timestamp": 1718619403933,
    }


def test_seed_example_parses() -> None:
    g = KeyShareHolderGroup.from_cobo(SEED_GROUP)
    assert g.key_share_holder_group_id == SEED_GROUP["key_share_holder_group_id"]
    assert (g.type, g.threshold, g.participants, g.status) == ("MainGroup", 2, 3, "Valid")
    assert g.created_timestamp == 1718619403933
    assert g.tss_key_share_groups[0].curve == "SECP256K1"
    (h,) = g.key_share_holders
    assert h == KeyShareHolder(
        name="Key share holder name",
        type="API",
        tss_node_id="coboAbCdEfGhIjKlMnOpQrStUvWxYz1234567890abcdefghi",
        online=True,
        signer=True,
        status="Valid",
        account_id="auth0|cobo|839305394802991371",
    )
    assert not g.is_complete
    assert not g.has_cobo_holder
    # One Valid signer of a 2-of-3 group cannot approve alone, even if listed twice.
    assert not g.approvals_meet_threshold([h.tss_node_id])
    assert not g.approvals_meet_threshold([h.tss_node_id, h.tss_node_id])


@pytest.mark.parametrize(("threshold", "participants"), [(2, 2), (2, 3), (3, 3)])
def test_documented_combinations(threshold: int, participants: int) -> None:
    holders = [holder(f"n{i}") for i in range(participants)]
    g = KeyShareHolderGroup.from_cobo(
        group("g", threshold=threshold, participants=participants, holders=holders)
    )
    assert g.is_complete
    ids = [h["tss_node_id"] for h in holders]
    assert g.approvals_meet_threshold(ids[:threshold])
    assert not g.approvals_meet_threshold(ids[: threshold - 1])


@pytest.mark.parametrize(
    ("threshold", "participants"), [(1, 1), (1, 2), (1, 3), (3, 2), (2, 4), (0, 3), (4, 4)]
)
def test_undocumented_combinations_refused(threshold: int, participants: int) -> None:
    with pytest.raises(CoboGroupError, match="not a documented combination"):
        KeyShareHolderGroup.from_cobo(
            group("g", threshold=threshold, participants=participants, holders=[])
        )


def test_only_valid_signers_count_once() -> None:
    g = KeyShareHolderGroup.from_cobo(
        group(
            "g",
            holders=[
                holder("cobo", type_="Cobo"),
                holder("api"),
                holder("mobile", type_="Mobile", status="NotActivated"),
            ],
        )
    )
    assert g.approvals_meet_threshold(["cobo", "api"])
    assert g.approvals_meet_threshold(("api", "cobo", "stranger"))
    assert not g.approvals_meet_threshold(["cobo", "mobile"])  # mobile not Valid
    assert not g.approvals_meet_threshold(["api", "api", "api"])
    assert not g.approvals_meet_threshold(["api", "unknown-node"])
    assert not g.approvals_meet_threshold([])
    observer = KeyShareHolderGroup.from_cobo(
        group("h", holders=[holder("a"), holder("b", signer=False), holder("c", status="Changed")])
    )
    assert not observer.approvals_meet_threshold(["a", "b", "c"])
    with pytest.raises(CoboGroupError):
        g.approvals_meet_threshold("cobo")


@pytest.mark.parametrize("status", ["New", "Unavailable"])
def test_group_that_is_not_valid_cannot_approve(status: str) -> None:
    g = KeyShareHolderGroup.from_cobo(group("g", status=status, holders=[holder("a"), holder("b")]))
    assert not g.approvals_meet_threshold(["a", "b"])


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda o: o.pop("type"), "'type' is missing"),
        (lambda o: o.update(type="BackupGroup"), "expected one of"),
        (lambda o: o.update(status="Deleted"), "'status'"),
        (lambda o: o.update(participants="3"), "'participants' has the wrong type"),
        (lambda o: o.update(threshold=True), "'threshold' has the wrong type"),
        (lambda o: o.update(created_timestamp="today"), "created_timestamp"),
        (lambda o: o.update(key_share_holders={}), "arrays"),
        (lambda o: o["key_share_holders"][0].update(type="Robot"), r"key_share_holders\[0\]"),
        (lambda o: o["key_share_holders"][0].update(status="Valid?"), "status"),
        (lambda o: o["key_share_holders"][0].update(signer="yes"), "signer"),
        (lambda o: o["key_share_holders"][0].update(tss_node_id=""), "empty"),
        (lambda o: o["key_share_holders"][0].pop("online"), "'online' is missing"),
        (lambda o: o["tss_key_share_groups"][0].update(curve="P256"), "curve"),
        (lambda o: o["key_share_holders"].append(o["key_share_holders"][0]), "appears twice"),
        (
            lambda o: o["key_share_holders"].extend([holder("x"), holder("y"), holder("z")]),
            "participants is 3",
        ),
        (lambda o: o["tss_key_share_groups"].append(o["tss_key_share_groups"][0]), "more than one"),
    ],
)
def test_invalid_objects_name_the_problem(mutate: Any, match: str) -> None:
    obj = copy.deepcopy(SEED_GROUP)
    mutate(obj)
    with pytest.raises(CoboGroupError, match=match):
        KeyShareHolderGroup.from_cobo(obj)


def test_not_an_object() -> None:
    with pytest.raises(CoboGroupError):
        KeyShareHolderGroup.from_cobo([])  # type: ignore[arg-type]


def _vault() -> list[KeyShareHolderGroup]:
    return [
        KeyShareHolderGroup.from_cobo(group("main", "MainGroup")),
        KeyShareHolderGroup.from_cobo(group("sign", "SigningGroup")),
        KeyShareHolderGroup.from_cobo(group("new-sign", "SigningGroup", status="New")),
        KeyShareHolderGroup.from_cobo(
            group(
                "recovery",
                "RecoveryGroup",
                threshold=2,
                participants=2,
                holders=[holder("r1"), holder("r2")],
            )
        ),
    ]


def test_vault_needs_exactly_one_main_group() -> None:
    vault = _vault()
    assert main_group(vault).key_share_holder_group_id == "main"
    assert validate_vault_groups(vault) is vault[0]
    with pytest.raises(CoboGroupError, match="found 0"):
        validate_vault_groups(vault[1:])
    second_main = KeyShareHolderGroup.from_cobo(group("main2", "MainGroup"))
    with pytest.raises(CoboGroupError, match="found 2"):
        validate_vault_groups([*vault, second_main])
    with pytest.raises(CoboGroupError, match="appears twice"):
        validate_vault_groups([*vault, vault[1]])


def test_upgrade_invalidates_original_main_by_default() -> None:
    vault = _vault()
    result = upgrade_to_main_group(vault, "sign")
    assert [g.key_share_holder_group_id for g in result.groups] == ["sign", "new-sign", "recovery"]
    assert result.main_group.key_share_holder_group_id == "sign"
    assert result.main_group.type == "MainGroup"
    assert result.main_group.key_share_holders == vault[1].key_share_holders
    assert result.invalidated_group is vault[0]
    assert result.converted_group is None
    assert main_group(result.groups) is result.main_group
    # Pure: the input is untouched.
    assert vault[1].type == "SigningGroup"
    assert vault[0].type == "MainGroup"


def test_upgrade_can_convert_original_main_to_signing_group() -> None:
    vault = _vault()
    result = upgrade_to_main_group(
        vault, "sign", original_main_group_handling="ConvertToSigningGroup"
    )
    types = {g.key_share_holder_group_id: g.type for g in result.groups}
    assert types == {
        "main": "SigningGroup",
        "sign": "MainGroup",
        "new-sign": "SigningGroup",
        "recovery": "RecoveryGroup",
    }
    assert result.invalidated_group is None
    assert result.converted_group is not None
    assert result.converted_group.key_share_holders == vault[0].key_share_holders


@pytest.mark.parametrize(
    ("gid", "match"),
    [
        ("new-sign", "only a Valid Signing Group"),
        ("recovery", "RecoveryGroup"),
        ("main", "MainGroup"),
        ("missing", "not in this vault"),
    ],
)
def test_upgrade_refusals(gid: str, match: str) -> None:
    with pytest.raises(CoboGroupError, match=match):
        upgrade_to_main_group(_vault(), gid)


def test_upgrade_refuses_unknown_handling_and_invalid_vault() -> None:
    with pytest.raises(CoboGroupError, match="original_main_group_handling"):
        upgrade_to_main_group(_vault(), "sign", original_main_group_handling="Delete")  # type: ignore[arg-type]
    with pytest.raises(CoboGroupError, match="exactly one Main Group"):
        upgrade_to_main_group(_vault()[1:], "sign")
