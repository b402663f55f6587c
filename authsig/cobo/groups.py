"""Cobo key share holder groups (MPC vaults): model, validation and the vault rules.

Pure functions over immutable values: nothing here talks to Cobo. Shapes follow the WaaS 2.0
API (``KeyShareHolderGroup`` / ``KeyShareHolder`` objects as returned by the API).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from authsig.cobo.errors import (
    CoboGroupError,
    CoboGroupNotFoundError,
    CoboGroupNotValidError,
    CoboNotSigningGroupError,
)

__all__ = [
    "ALLOWED_COMBINATIONS",
    "GroupStatus",
    "GroupType",
    "HolderStatus",
    "HolderType",
    "KeyShareHolder",
    "KeyShareHolderGroup",
    "OriginalMainGroupHandling",
    "TssKeyShareGroup",
    "VaultUpgrade",
    "main_group",
    "upgrade_to_main_group",
    "validate_vault_groups",
]

GroupType = Literal["MainGroup", "SigningGroup", "RecoveryGroup"]
GroupStatus = Literal["New", "Valid", "Unavailable"]
HolderType = Literal["Cobo", "Mobile", "API"]
HolderStatus = Literal["Valid", "NotConfigured", "NotActivated", "Changed"]
TssCurve = Literal["SECP256K1", "ED25519"]
OriginalMainGroupHandling = Literal["Invalidate", "ConvertToSigningGroup"]

_GROUP_TYPES = ("MainGroup", "SigningGroup", "RecoveryGroup")
_GROUP_STATUSES = ("New", "Valid", "Unavailable")
_HOLDER_TYPES = ("Cobo", "Mobile", "API")
_HOLDER_STATUSES = ("Valid", "NotConfigured", "NotActivated", "Changed")
_CURVES = ("SECP256K1", "ED25519")

#: Documented (threshold, participants) combinations: 2-of-2, 2-of-3, 3-of-3.
ALLOWED_COMBINATIONS: frozenset[tuple[int, int]] = frozenset({(2, 2), (2, 3), (3, 3)})


def _field(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in obj:
        raise CoboGroupError(f"{where}: '{name}' is missing")
    value = obj[name]
    if isinstance(value, bool) and kind is not bool:
        raise CoboGroupError(f"{where}: '{name}' has the wrong type")
    if not isinstance(value, kind):
        raise CoboGroupError(f"{where}: '{name}' has the wrong type ({type(value).__name__})")
    return value


def _enum(obj: Mapping[str, Any], name: str, allowed: tuple[str, ...], where: str) -> str:
    value = _field(obj, name, str, where)
    if value not in allowed:
        raise CoboGroupError(f"{where}: '{name}' is {value!r}, expected one of {list(allowed)}")
    return cast(str, value)


def _mapping(obj: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise CoboGroupError(f"{where} must be a JSON object")
    return obj


@dataclass(frozen=True)
class KeyShareHolder:
    """One key share holder (a TSS node) of a group."""

    name: str
    type: HolderType
    tss_node_id: str
    online: bool
    signer: bool
    status: HolderStatus
    account_id: str | None = None

    @classmethod
    def from_cobo(
        cls, obj: Mapping[str, Any], *, where: str = "key_share_holder"
    ) -> KeyShareHolder:
        """Build from the API's JSON object; raises :class:`~authsig.errors.CoboGroupError`."""
        obj = _mapping(obj, where)
        account = obj.get("account_id")
        if account is not None and not isinstance(account, str):
            raise CoboGroupError(f"{where}: 'account_id' has the wrong type")
        node = _field(obj, "tss_node_id", str, where)
        if not node:
            raise CoboGroupError(f"{where}: 'tss_node_id' is empty")
        return cls(
            name=_field(obj, "name", str, where),
            type=cast(HolderType, _enum(obj, "type", _HOLDER_TYPES, where)),
            tss_node_id=node,
            online=_field(obj, "online", bool, where),
            signer=_field(obj, "signer", bool, where),
            status=cast(HolderStatus, _enum(obj, "status", _HOLDER_STATUSES, where)),
            account_id=account,
        )

    @property
    def can_approve(self) -> bool:
        """True when this holder's approval counts: a signer whose status is Valid."""
        return self.signer and self.status == "Valid"


@dataclass(frozen=True)
class TssKeyShareGroup:
    """A TSS key share group of a holder group (one per curve)."""

    tss_key_share_group_id: str
    curve: TssCurve
    root_pubkey: str

    @classmethod
    def from_cobo(
        cls, obj: Mapping[str, Any], *, where: str = "tss_key_share_group"
    ) -> TssKeyShareGroup:
        """Build from the API's JSON object."""
        obj = _mapping(obj, where)
        return cls(
            tss_key_share_group_id=_field(obj, "tss_key_share_group_id", str, where),
            curve=cast(TssCurve, _enum(obj, "curve", _CURVES, where)),
            root_pubkey=_field(obj, "root_pubkey", str, where),
        )


@dataclass(frozen=True)
class KeyShareHolderGroup:
    """A key share holder group: a threshold of its signer holders approves each operation.

    Built and validated by :meth:`from_cobo` (or the constructor followed by
    :meth:`validate`). ``key_share_holders`` may list fewer holders than ``participants``
    (API examples do); :attr:`is_complete` says whether all are listed.
    """

    key_share_holder_group_id: str
    type: GroupType
    participants: int
    threshold: int
    status: GroupStatus
    key_share_holders: tuple[KeyShareHolder, ...] = ()
    tss_key_share_groups: tuple[TssKeyShareGroup, ...] = ()
    created_timestamp: int | None = None

    @classmethod
    def from_cobo(cls, obj: Mapping[str, Any]) -> KeyShareHolderGroup:
        """Build from the API's ``KeyShareHolderGroup`` JSON object and validate it.

        Raises :class:`~authsig.errors.CoboGroupError` naming the offending field.
        """
        where = "key_share_holder_group"
        obj = _mapping(obj, where)
        holders_raw = obj.get("key_share_holders", [])
        tss_raw = obj.get("tss_key_share_groups", [])
        if not isinstance(holders_raw, list) or not isinstance(tss_raw, list):
            raise CoboGroupError(f"{where}: key_share_holders and tss_key_share_groups are arrays")
        created = obj.get("created_timestamp")
        if created is not None and (isinstance(created, bool) or not isinstance(created, int)):
            raise CoboGroupError(f"{where}: 'created_timestamp' must be an integer (ms)")
        group = cls(
            key_share_holder_group_id=_field(obj, "key_share_holder_group_id", str, where),
            type=cast(GroupType, _enum(obj, "type", _GROUP_TYPES, where)),
            participants=_field(obj, "participants", int, where),
            threshold=_field(obj, "threshold", int, where),
            status=cast(GroupStatus, _enum(obj, "status", _GROUP_STATUSES, where)),
            key_share_holders=tuple(
                KeyShareHolder.from_cobo(h, where=f"key_share_holders[{i}]")
                for i, h in enumerate(holders_raw)
            ),
            tss_key_share_groups=tuple(
                TssKeyShareGroup.from_cobo(t, where=f"tss_key_share_groups[{i}]")
                for i, t in enumerate(tss_raw)
            ),
            created_timestamp=created,
        )
        group.validate()
        return group

    def validate(self) -> None:
        """Check the documented rules; raises :class:`~authsig.errors.CoboGroupError`.

        threshold-of-participants is one of 2-of-2, 2-of-3, 3-of-3; no more holders than
        participants; tss_node_ids unique; at most one TSS key share group per curve.
        """
        gid = self.key_share_holder_group_id
        if not gid:
            raise CoboGroupError("key_share_holder_group_id is empty")
        if (self.threshold, self.participants) not in ALLOWED_COMBINATIONS:
            raise CoboGroupError(
                f"group {gid}: threshold {self.threshold} of {self.participants} participants is "
                "not a documented combination (2-of-2, 2-of-3, 3-of-3)"
            )
        if len(self.key_share_holders) > self.participants:
            raise CoboGroupError(
                f"group {gid}: {len(self.key_share_holders)} key share holders but "
                f"participants is {self.participants}"
            )
        seen: set[str] = set()
        for holder in self.key_share_holders:
            if holder.tss_node_id in seen:
                raise CoboGroupError(f"group {gid}: tss_node_id {holder.tss_node_id} appears twice")
            seen.add(holder.tss_node_id)
        curves = [t.curve for t in self.tss_key_share_groups]
        if len(curves) != len(set(curves)):
            raise CoboGroupError(f"group {gid}: more than one TSS key share group for a curve")

    @property
    def is_complete(self) -> bool:
        """True when every participant is listed in ``key_share_holders``."""
        return len(self.key_share_holders) == self.participants

    @property
    def has_cobo_holder(self) -> bool:
        """True when Cobo's own holder is listed (Cobo adds it to Main and Signing groups)."""
        return any(h.type == "Cobo" for h in self.key_share_holders)

    def approvals_meet_threshold(self, tss_node_ids: Iterable[str]) -> bool:
        """True when the approving TSS nodes reach the threshold.

        Only signer holders of this group with status Valid count, each once; unknown ids are
        ignored. A group whose own status is not Valid (New, Unavailable) cannot approve.
        """
        if isinstance(tss_node_ids, str | bytes):
            raise CoboGroupError("tss_node_ids must be a collection of ids, not a single string")
        if self.status != "Valid":
            return False
        eligible = {h.tss_node_id for h in self.key_share_holders if h.can_approve}
        approved = {node for node in tss_node_ids if isinstance(node, str)} & eligible
        return len(approved) >= self.threshold


def validate_vault_groups(groups: Iterable[KeyShareHolderGroup]) -> KeyShareHolderGroup:
    """Check a vault's groups; returns its Main Group.

    Exactly one Main Group; group ids unique; each group valid on its own.
    """
    groups = tuple(groups)
    ids = [g.key_share_holder_group_id for g in groups]
    if len(ids) != len(set(ids)):
        raise CoboGroupError("a key_share_holder_group_id appears twice in the vault")
    for group in groups:
        group.validate()
    mains = [g for g in groups if g.type == "MainGroup"]
    if len(mains) != 1:
        raise CoboGroupError(f"a vault has exactly one Main Group; found {len(mains)}")
    return mains[0]


def main_group(groups: Iterable[KeyShareHolderGroup]) -> KeyShareHolderGroup:
    """The vault's Main Group (validating the vault first)."""
    return validate_vault_groups(groups)


@dataclass(frozen=True)
class VaultUpgrade:
    """Result of :func:`upgrade_to_main_group`.

    ``groups``: the vault's groups afterwards (order kept; an invalidated Main Group is
    removed). ``main_group``: the new Main Group. ``invalidated_group``: the former Main Group
    when it was invalidated, else None. ``converted_group``: the former Main Group as a
    Signing Group when ``ConvertToSigningGroup`` was asked, else None.
    """

    groups: tuple[KeyShareHolderGroup, ...]
    main_group: KeyShareHolderGroup
    invalidated_group: KeyShareHolderGroup | None
    converted_group: KeyShareHolderGroup | None


def upgrade_to_main_group(
    groups: Iterable[KeyShareHolderGroup],
    key_share_holder_group_id: str,
    *,
    original_main_group_handling: OriginalMainGroupHandling = "Invalidate",
) -> VaultUpgrade:
    """Apply ``UpgradeToMainGroup`` to a vault's groups (a pure function).

    Only a Signing Group whose status is Valid can be upgraded. The original Main Group is
    invalidated (``Invalidate``, Cobo's default: it leaves the vault) or becomes a Signing
    Group (``ConvertToSigningGroup``). Raises :class:`~authsig.errors.CoboGroupError`.
    """
    groups = tuple(groups)
    old_main = validate_vault_groups(groups)
    if original_main_group_handling not in ("Invalidate", "ConvertToSigningGroup"):
        raise CoboGroupError(
            f"original_main_group_handling {original_main_group_handling!r} is not "
            "'Invalidate' or 'ConvertToSigningGroup'"
        )
    target = next(
        (g for g in groups if g.key_share_holder_group_id == key_share_holder_group_id), None
    )
    if target is None:
        raise CoboGroupNotFoundError(f"group {key_share_holder_group_id} is not in this vault")
    if target.type != "SigningGroup":
        raise CoboNotSigningGroupError(
            f"only a Signing Group can be upgraded to the Main Group; {key_share_holder_group_id} "
            f"is a {target.type}"
        )
    if target.status != "Valid":
        raise CoboGroupNotValidError(
            f"only a Valid Signing Group can be upgraded; {key_share_holder_group_id} is "
            f"{target.status}"
        )
    new_main = replace(target, type="MainGroup")
    converted = (
        replace(old_main, type="SigningGroup")
        if original_main_group_handling == "ConvertToSigningGroup"
        else None
    )
    result: list[KeyShareHolderGroup] = []
    for group in groups:
        if group is target:
            result.append(new_main)
        elif group is old_main:
            if converted is not None:
                result.append(converted)
        else:
            result.append(group)
    validate_vault_groups(result)
    return VaultUpgrade(
        groups=tuple(result),
        main_group=new_main,
        invalidated_group=old_main if converted is None else None,
        converted_group=converted,
    )
