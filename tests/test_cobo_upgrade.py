"""UpgradeToMainGroup: the plan (each invalid transition refused with its own error), the
request, and ``authsig cobo group plan`` / ``upgrade`` (byte identity with cobo-waas2 is in
test_cobo_client_interop.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_cli import AUTHSIG, assert_one_line_error, err, out
from test_cobo_groups import group, holder

from authsig.cobo import (
    load_api_secret,
    load_vault_groups,
    plan_upgrade,
    sign_upgrade_request,
    upgrade_request,
    verify_request,
)
from authsig.cobo.errors import (
    CoboGroupError,
    CoboGroupNotFoundError,
    CoboGroupNotValidError,
    CoboHolderMissingError,
    CoboNotSigningGroupError,
    CoboRequestError,
    CoboThresholdUnreachableError,
)

SECRET = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
NOW = 1_795_519_976_869


def vault(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [group("main", "MainGroup"), group("sign"), group("rec", "RecoveryGroup"), *extra]


def test_plan_of_a_valid_upgrade() -> None:
    plan = plan_upgrade(load_vault_groups({"data": vault()}), "sign")
    assert not plan.refused
    plan.raise_if_refused()
    assert (plan.new_main_group_id, plan.previous_main_group_id) == ("sign", "main")
    assert plan.previous_main_becomes.startswith("invalidated")
    assert plan.combination == "2-of-3"
    assert plan.complete
    assert plan.cobo_holder_present
    assert plan.approving_holders == 3
    assert plan.holders_not_valid == ()
    converted = plan_upgrade(
        load_vault_groups(vault()), "sign", original_main_group_handling="ConvertToSigningGroup"
    )
    assert converted.previous_main_becomes == "a Signing Group"
    assert "ok" in str(converted).splitlines()[0]


UNREACHABLE = [
    holder("c", type_="Cobo"),
    holder("a", status="NotActivated"),
    holder("m", type_="Mobile", status="Changed"),
]
NO_COBO = [holder("a"), holder("b"), holder("m", type_="Mobile")]


@pytest.mark.parametrize(
    ("groups", "target", "error"),
    [
        (vault(), "nope", CoboGroupNotFoundError),
        (vault(), "main", CoboNotSigningGroupError),
        (vault(), "rec", CoboNotSigningGroupError),
        (vault(group("new", status="New")), "new", CoboGroupNotValidError),
        (vault(group("gone", status="Unavailable")), "gone", CoboGroupNotValidError),
        (vault(group("weak", holders=UNREACHABLE)), "weak", CoboThresholdUnreachableError),
        (vault(group("alone", holders=NO_COBO)), "alone", CoboHolderMissingError),
    ],
)
def test_each_invalid_transition_is_refused(
    groups: list[dict[str, Any]], target: str, error: type[CoboGroupError]
) -> None:
    plan = plan_upgrade(load_vault_groups(groups), target)
    assert plan.refused
    assert isinstance(plan.refusals[0], error)
    assert plan.to_dict()["refusals"][0]["code"] == error.code
    with pytest.raises(error):
        plan.raise_if_refused()
    assert f"refused [{error.code}]" in str(plan)


def test_codes_are_distinct() -> None:
    errors = [
        CoboGroupNotFoundError,
        CoboNotSigningGroupError,
        CoboGroupNotValidError,
        CoboThresholdUnreachableError,
        CoboHolderMissingError,
        CoboGroupError,
    ]
    assert len({e.code for e in errors}) == len(errors)


def test_warnings_do_not_refuse() -> None:
    partial = group("part", holders=[holder("c", type_="Cobo"), holder("a")])
    not_valid = group(
        "nv",
        holders=[holder("c", type_="Cobo"), holder("a"), holder("m", status="NotConfigured")],
    )
    plan = plan_upgrade(load_vault_groups(vault(partial)), "part")
    assert not plan.refused
    assert not plan.complete
    assert "lists 2 of 3 holders" in plan.warnings[0]
    plan = plan_upgrade(load_vault_groups(vault(not_valid)), "nv")
    assert not plan.refused
    assert plan.holders_not_valid == (
        {"name": "holder m", "tss_node_id": "m", "type": "API", "status": "NotConfigured"},
    )


def test_invalid_vaults_and_arguments_raise() -> None:
    with pytest.raises(CoboGroupError, match="exactly one Main Group"):
        plan_upgrade(load_vault_groups([group("sign")]), "sign")
    with pytest.raises(CoboGroupError, match="not a documented combination"):
        load_vault_groups(vault(group("odd", threshold=1, participants=3)))
    with pytest.raises(CoboGroupError, match="original_main_group_handling"):
        plan_upgrade(load_vault_groups(vault()), "sign", original_main_group_handling="Keep")  # type: ignore[arg-type]
    with pytest.raises(CoboGroupError):
        load_vault_groups({"groups": []})
    with pytest.raises(CoboRequestError):
        upgrade_request("", "g")
    with pytest.raises(CoboRequestError):
        upgrade_request("v", "g", original_main_group_handling="Keep")  # type: ignore[arg-type]


def test_signed_request_verifies() -> None:
    request = upgrade_request("v 1", "g/2", original_main_group_handling="Invalidate")
    assert request.path == "/v2/wallets/mpc/vaults/v%201/key_share_holder_groups/g%2F2"
    assert request.body == (
        b'{"update_key_share_holder_group_action": "UpgradeToMainGroup", '
        b'"original_main_group_handling": "Invalidate"}'
    )
    headers = sign_upgrade_request(SECRET, request, nonce_ms=NOW)
    assert headers["Content-Type"] == "application/json"
    decision = verify_request(
        headers,
        method="PUT",
        path=request.path,
        query="",
        body=request.body,
        api_keys=[load_api_secret(SECRET).api_key],
        now_ms=NOW,
    )
    assert decision.approved


# --- the command line ------------------------------------------------------------------


def cli(*args: str, stdin: bytes | None = None) -> Any:
    return subprocess.run(
        [AUTHSIG, "cobo", "group", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"data": vault(group("new", status="New"))}))
    secret = tmp_path / "cobo.secret"
    secret.write_text(SECRET)
    return {"groups": str(groups), "secret": str(secret)}


def test_cli_plan_exit_codes(files: dict[str, str], tmp_path: Path) -> None:
    ok = cli("plan", "--groups", files["groups"], "--group", "sign", "--json")
    assert ok.returncode == 0, err(ok)
    assert json.loads(out(ok))["new_main_group_id"] == "sign"
    refused = cli("plan", "--groups", files["groups"], "--group", "new")
    assert refused.returncode == 1
    assert "refused [cobo_group_not_valid]" in out(refused)
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    assert_one_line_error(cli("plan", "--groups", str(broken), "--group", "sign"))
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps([group("sign")]))
    assert_one_line_error(cli("plan", "--groups", str(invalid), "--group", "sign"))


def test_cli_upgrade(files: dict[str, str]) -> None:
    common = ["--groups", files["groups"], "--vault-id", "v1", "--key", files["secret"]]
    proc = cli(
        "upgrade", *common, "--group", "sign", "--now", str(NOW), "--json",
        "--original-main-group-handling", "ConvertToSigningGroup",
    )  # fmt: skip
    assert proc.returncode == 0, err(proc)
    result = json.loads(out(proc))
    request = result["request"]
    assert (
        request["url"]
        == "https://api.dev.cobo.com/v2/wallets/mpc/vaults/v1/key_share_holder_groups/sign"
    )
    expected = upgrade_request("v1", "sign", original_main_group_handling="ConvertToSigningGroup")
    assert request["body"].encode() == expected.body
    assert request["headers"] == sign_upgrade_request(SECRET, expected, nonce_ms=NOW)
    assert result["plan"]["previous_main_becomes"] == "a Signing Group"
    curl = cli(
        "upgrade", *common, "--group", "sign", "--curl", "--base-url", "https://api.cobo.com/v2"
    )
    assert curl.returncode == 0, err(curl)
    assert "curl -X PUT https://api.cobo.com/v2/wallets/mpc/vaults/v1/" in out(curl)
    assert out(curl).lower().count("content-type") == 1
    assert "UpgradeToMainGroup of sign: ok" in err(curl)
    refused = cli("upgrade", *common, "--group", "new")
    assert refused.returncode == 1
    assert out(refused) == ""
    assert "cobo_group_not_valid" in err(refused)
    assert_one_line_error(cli("upgrade", *common, "--group", "sign", "--base-url", "ftp://x"))
