"""``UpgradeToMainGroup``: the plan before the call, and the signed ``PUT`` itself.

:func:`plan_upgrade` states what the change does to a vault's groups (which group becomes
Main, what happens to the previous Main, whether the Signing Group is Valid and complete,
whether Cobo's holder is present, which holders are not Valid) and refuses the transitions
that cannot work, each with its own typed error. :func:`upgrade_request` builds the request
exactly as cobo-waas2's ``WalletsMPCWalletsApi.update_key_share_holder_group_by_id`` sends it,
and :func:`sign_upgrade_request` signs it with :func:`~authsig.cobo.signing.sign_request`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from authsig.cobo.errors import (
    CoboGroupError,
    CoboGroupNotFoundError,
    CoboGroupNotValidError,
    CoboHolderMissingError,
    CoboNotSigningGroupError,
    CoboRequestError,
    CoboThresholdUnreachableError,
)
from authsig.cobo.groups import (
    KeyShareHolder,
    KeyShareHolderGroup,
    OriginalMainGroupHandling,
    upgrade_to_main_group,
    validate_vault_groups,
)
from authsig.cobo.keys import CoboPrivateKey
from authsig.cobo.signing import sign_request

__all__ = [
    "UPGRADE_ACTION",
    "UpgradePlan",
    "UpgradeRequest",
    "load_vault_groups",
    "plan_upgrade",
    "sign_upgrade_request",
    "upgrade_request",
]

UPGRADE_ACTION = "UpgradeToMainGroup"
_HANDLINGS = ("Invalidate", "ConvertToSigningGroup")


def load_vault_groups(obj: Any) -> tuple[KeyShareHolderGroup, ...]:
    """A vault's groups from the list endpoint's JSON (``{"data": [...]}``) or a plain list."""
    if isinstance(obj, Mapping) and "data" in obj:
        obj = obj["data"]
    if not isinstance(obj, list):
        raise CoboGroupError("want a JSON list of key share holder groups (or {'data': [...]})")
    return tuple(KeyShareHolderGroup.from_cobo(item) for item in obj)


def _holder(h: KeyShareHolder) -> dict[str, Any]:
    return {"name": h.name, "tss_node_id": h.tss_node_id, "type": h.type, "status": h.status}


@dataclass(frozen=True)
class UpgradePlan:
    """What ``UpgradeToMainGroup`` would do, and why it is refused (``refusals``) if it is.

    ``warnings`` do not refuse: they name what the listing cannot confirm.
    """

    new_main_group_id: str
    previous_main_group_id: str
    previous_main_becomes: str
    handling: OriginalMainGroupHandling
    group_status: str | None = None
    combination: str | None = None
    complete: bool = False
    cobo_holder_present: bool = False
    holders_not_valid: tuple[dict[str, Any], ...] = ()
    approving_holders: int = 0
    refusals: tuple[CoboGroupError, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """True when at least one rule refuses the transition."""
        return bool(self.refusals)

    def raise_if_refused(self) -> None:
        """Raise the first refusal (a :class:`~authsig.cobo.errors.CoboGroupError` subclass)."""
        if self.refusals:
            raise self.refusals[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; each refusal as ``{"code", "message"}``."""
        return {
            "refused": self.refused,
            "new_main_group_id": self.new_main_group_id,
            "previous_main_group_id": self.previous_main_group_id,
            "previous_main_becomes": self.previous_main_becomes,
            "original_main_group_handling": self.handling,
            "group_status": self.group_status,
            "combination": self.combination,
            "complete": self.complete,
            "cobo_holder_present": self.cobo_holder_present,
            "holders_not_valid": list(self.holders_not_valid),
            "approving_holders": self.approving_holders,
            "refusals": [{"code": e.code, "message": e.message} for e in self.refusals],
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        lines = [
            f"UpgradeToMainGroup of {self.new_main_group_id}: "
            + ("REFUSED" if self.refused else "ok"),
            f"  new Main Group:      {self.new_main_group_id} "
            f"({self.combination or '?'}, status {self.group_status or '?'})",
            f"  previous Main Group: {self.previous_main_group_id or '?'} -> "
            f"{self.previous_main_becomes} ({self.handling})",
            f"  holders listed:      {'all' if self.complete else 'not all'} participants; "
            f"Cobo's holder {'present' if self.cobo_holder_present else 'absent'}; "
            f"{self.approving_holders} can approve",
        ]
        for h in self.holders_not_valid:
            lines.append(f"  holder not Valid:    {h['name']} ({h['tss_node_id']}): {h['status']}")
        lines += [f"  refused [{e.code}]: {e.message}" for e in self.refusals]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _target_refusals(group: KeyShareHolderGroup) -> list[CoboGroupError]:
    gid = group.key_share_holder_group_id
    refusals: list[CoboGroupError] = []
    if group.type != "SigningGroup":
        refusals.append(
            CoboNotSigningGroupError(
                f"only a Signing Group can become Main; {gid} is a {group.type}"
            )
        )
    if group.status != "Valid":
        refusals.append(
            CoboGroupNotValidError(f"only a Valid group can become Main; {gid} is {group.status}")
        )
    approving = sum(1 for h in group.key_share_holders if h.can_approve)
    if group.is_complete and approving < group.threshold:
        refusals.append(
            CoboThresholdUnreachableError(
                f"{gid} needs {group.threshold} approvals but only {approving} of its holders are "
                "Valid signers: as Main it could approve nothing"
            )
        )
    if group.is_complete and not group.has_cobo_holder:
        refusals.append(
            CoboHolderMissingError(
                f"{gid} lists all {group.participants} holders and none is Cobo's, which Cobo adds "
                "to every Main and Signing Group"
            )
        )
    return refusals


def _warnings(group: KeyShareHolderGroup) -> list[str]:
    gid = group.key_share_holder_group_id
    warnings = []
    if not group.is_complete:
        warnings.append(
            f"{gid} lists {len(group.key_share_holders)} of {group.participants} holders: "
            "fetch the group by id to check every holder and Cobo's"
        )
    not_valid = [h.name for h in group.key_share_holders if h.status != "Valid"]
    if not_valid and group.status == "Valid":
        warnings.append(f"holders not Valid will not approve as Main: {', '.join(not_valid)}")
    return warnings


def plan_upgrade(
    groups: Iterable[KeyShareHolderGroup],
    key_share_holder_group_id: str,
    *,
    original_main_group_handling: OriginalMainGroupHandling = "Invalidate",
) -> UpgradePlan:
    """Plan ``UpgradeToMainGroup`` of one group of a vault (a pure function).

    Raises :class:`~authsig.cobo.errors.CoboGroupError` when the vault itself is invalid (its
    groups do not follow the rules of :func:`~authsig.cobo.groups.validate_vault_groups`) or
    ``original_main_group_handling`` is unknown; the transition's own problems are returned in
    ``refusals``, each a typed error.
    """
    if original_main_group_handling not in _HANDLINGS:
        raise CoboGroupError(
            f"original_main_group_handling {original_main_group_handling!r} is not one of "
            f"{list(_HANDLINGS)}"
        )
    groups = tuple(groups)
    old_main = validate_vault_groups(groups)
    becomes = (
        "a Signing Group"
        if original_main_group_handling == "ConvertToSigningGroup"
        else "invalidated (it leaves the vault)"
    )
    target = next(
        (g for g in groups if g.key_share_holder_group_id == key_share_holder_group_id), None
    )
    facts: dict[str, Any] = {
        "new_main_group_id": key_share_holder_group_id,
        "previous_main_group_id": old_main.key_share_holder_group_id,
        "previous_main_becomes": becomes,
        "handling": original_main_group_handling,
    }
    if target is None:
        missing = CoboGroupNotFoundError(f"group {key_share_holder_group_id} is not in this vault")
        return UpgradePlan(**facts, refusals=(missing,))
    refusals = _target_refusals(target)
    if not refusals:
        # The pure transition must agree: it re-validates the vault as it would be afterwards.
        upgrade_to_main_group(
            groups,
            key_share_holder_group_id,
            original_main_group_handling=original_main_group_handling,
        )
    return UpgradePlan(
        **facts,
        group_status=target.status,
        combination=f"{target.threshold}-of-{target.participants}",
        complete=target.is_complete,
        cobo_holder_present=target.has_cobo_holder,
        holders_not_valid=tuple(
            _holder(h) for h in target.key_share_holders if h.status != "Valid"
        ),
        approving_holders=sum(1 for h in target.key_share_holders if h.can_approve),
        refusals=tuple(refusals),
        warnings=tuple(_warnings(target)),
    )


@dataclass(frozen=True)
class UpgradeRequest:
    """The ``PUT`` to send: method, path (with ``/v2``), body bytes and the content headers."""

    method: str
    path: str
    body: bytes
    headers: Mapping[str, str]


def upgrade_request(
    vault_id: str,
    key_share_holder_group_id: str,
    *,
    original_main_group_handling: OriginalMainGroupHandling | None = None,
    base_path: str = "/v2",
) -> UpgradeRequest:
    """The request cobo-waas2 sends for ``UpdateKeyShareHolderGroupByIdRequest``.

    The ids are percent-encoded with no safe characters and the body is ``json.dumps`` of the
    model's dict (``original_main_group_handling`` only when given), as the SDK does.
    """
    for name, value in (
        ("vault_id", vault_id),
        ("key_share_holder_group_id", key_share_holder_group_id),
    ):
        if not isinstance(value, str) or not value:
            raise CoboRequestError(f"{name} must be a non-empty string")
    body: dict[str, str] = {"update_key_share_holder_group_action": UPGRADE_ACTION}
    if original_main_group_handling is not None:
        if original_main_group_handling not in _HANDLINGS:
            raise CoboRequestError(
                f"original_main_group_handling must be one of {list(_HANDLINGS)}"
            )
        body["original_main_group_handling"] = original_main_group_handling
    path = (
        f"{base_path.rstrip('/')}/wallets/mpc/vaults/{quote(vault_id, safe='')}"
        f"/key_share_holder_groups/{quote(key_share_holder_group_id, safe='')}"
    )
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    return UpgradeRequest("PUT", path, json.dumps(body).encode("utf-8"), headers)


def sign_upgrade_request(
    api_secret: str | bytes | CoboPrivateKey,
    request: UpgradeRequest,
    *,
    nonce_ms: int | None = None,
) -> dict[str, str]:
    """The request's content headers plus the ``Biz-Api-*`` headers that sign it."""
    signed = sign_request(
        api_secret,
        method=request.method,
        path=request.path,
        query="",
        body=request.body,
        nonce_ms=nonce_ms,
    )
    return {**request.headers, **signed}
