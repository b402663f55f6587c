"""The plan of a quorum change: what changes, who approves it, and what could go wrong.

:func:`plan_change` compares the quorum before and after a change and runs the lints:

- ``lockout`` (refuses): the signers the team says it holds cannot approve the new quorum (by
  default: all of its signers, which fail when overlapping members cap what they approve);
- ``single_person`` (refuses): one person's signers alone meet the new threshold (``owners``
  maps signers to people; a signer without an owner is a person of its own);
- ``overlap`` (refuses): a key or user could fill several places of the tree (a direct key also
  in a nested quorum, a user in two places, a key that is also a user's key); under the
  distinct-key rule it approves only one of them;
- ``no_spare`` (warning): the threshold equals the member count, so losing any one member
  locks the quorum out.

:meth:`Plan.check` raises :class:`~authsig.privy.lifecycle.errors.LintRefusedError` when a
refusing lint fired, unless ``force=True``. Approvals follow the distinct-key rule
(:mod:`authsig.privy.lifecycle.simulate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from authsig.keys import PublicKey
from authsig.privy.lifecycle.errors import LintRefusedError
from authsig.privy.lifecycle.simulate import ApprovingSet, Lockout, Simulation, signer_token
from authsig.privy.quorum import KeyQuorum

__all__ = ["KeyChange", "Lint", "Plan", "plan_change"]

Severity = Literal["refuse", "warning"]


@dataclass(frozen=True)
class Lint:
    """One finding: a stable ``code``, whether it refuses the change, and a sentence."""

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class KeyChange:
    """A key added or removed: its key id and display name."""

    key_id: str
    display_name: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {"key_id": self.key_id, "display_name": self.display_name}


@dataclass(frozen=True)
class Plan:
    """What a change does (``before`` is None for a create) and its lints."""

    before: KeyQuorum | None
    after: KeyQuorum
    keys_added: tuple[KeyChange, ...]
    keys_removed: tuple[KeyChange, ...]
    users_added: tuple[str, ...]
    users_removed: tuple[str, ...]
    quorums_added: tuple[str, ...]
    quorums_removed: tuple[str, ...]
    threshold_before: int | None
    threshold_after: int
    approve_this: tuple[ApprovingSet, ...]
    approve_after: tuple[ApprovingSet, ...]
    truncated: bool
    lockout_after: Lockout
    lints: tuple[Lint, ...]

    @property
    def refusals(self) -> tuple[Lint, ...]:
        """The lints that refuse the change."""
        return tuple(lint for lint in self.lints if lint.severity == "refuse")

    def check(self, *, force: bool = False) -> None:
        """Raise :class:`LintRefusedError` when a refusing lint fired and ``force`` is False."""
        if self.refusals and not force:
            codes = ", ".join(lint.code for lint in self.refusals)
            raise LintRefusedError(
                f"the change is refused by the lints ({codes}); fix it, or force it knowingly",
                lints=self.refusals,
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "keys_added": [k.to_dict() for k in self.keys_added],
            "keys_removed": [k.to_dict() for k in self.keys_removed],
            "users_added": list(self.users_added),
            "users_removed": list(self.users_removed),
            "quorums_added": list(self.quorums_added),
            "quorums_removed": list(self.quorums_removed),
            "threshold": {"before": self.threshold_before, "after": self.threshold_after},
            "approve_this_change": [s.to_dict() for s in self.approve_this],
            "approve_changes_after": [s.to_dict() for s in self.approve_after],
            "approving_sets_truncated": self.truncated,
            "lockout_after": self.lockout_after.to_dict(),
            "lints": [lint.to_dict() for lint in self.lints],
            "refused": bool(self.refusals),
        }

    def render(self) -> str:
        """The plan as text for a person."""
        lines = [f"plan for {self.after.label}:"]
        for sign, keys in (("+", self.keys_added), ("-", self.keys_removed)):
            for k in keys:
                name = f" ({k.display_name})" if k.display_name else ""
                lines.append(f"  {sign} key {k.key_id}{name}")
        for sign, items, what in (
            ("+", self.users_added, "user"),
            ("-", self.users_removed, "user"),
            ("+", self.quorums_added, "nested quorum"),
            ("-", self.quorums_removed, "nested quorum"),
        ):
            lines += [f"  {sign} {what} {item}" for item in items]
        before = "-" if self.threshold_before is None else str(self.threshold_before)
        lines.append(
            f"  threshold: {before} -> {self.threshold_after} of {self.after.member_count}"
        )
        if self.before is not None:
            lines.append("who can approve this change (the current quorum):")
            lines += [_set_line(s, _names(self.before)) for s in self.approve_this]
        lines.append("who can approve changes after it (the new quorum):")
        lines += [_set_line(s, _names(self.after)) for s in self.approve_after]
        if self.truncated:
            lines.append("  ... (more sets not listed)")
        lines.append(f"keys that must be lost to lock it out: {self.lockout_after.distance}")
        for lint in self.lints:
            lines.append(f"{lint.severity}: {lint.code}: {lint.message}")
        if not self.lints:
            lines.append("lints: none")
        return "\n".join(lines)


def _set_line(s: ApprovingSet, names: Mapping[str, str | None]) -> str:
    shown = [f"{x} ({names[x]})" if names.get(x) else x for x in s.signers]
    return f"  {{{', '.join(shown)}}} -> {', '.join(s.members)}"


def _names(q: KeyQuorum) -> dict[str, str | None]:
    """Key id -> display name, over the whole tree."""
    out: dict[str, str | None] = {}
    for member in (q, *q.key_quorums):
        for key, name in zip(member.public_keys, member.key_display_names, strict=True):
            out[key.key_id] = out.get(key.key_id) or name
    return out


def _keys(q: KeyQuorum | None) -> dict[str, str | None]:
    if q is None:
        return {}
    return {k.key_id: n for k, n in zip(q.public_keys, q.key_display_names, strict=True)}


def _nested_ids(q: KeyQuorum | None) -> list[str]:
    if q is None:
        return []
    return [n.id or n.display_name or f"#{i + 1}" for i, n in enumerate(q.key_quorums)]


def _lints(
    sim: Simulation, held: tuple[str, ...] | None, owners: Mapping[str, str] | None
) -> list[Lint]:
    q = sim.quorum
    lints: list[Lint] = []
    have = sim.signers if held is None else held
    approval = sim.approval(have)
    if not approval.approved:
        who = "all of its signers together" if held is None else "the signers held"
        lints.append(
            Lint(
                "lockout",
                "refuse",
                f"{who} approve {approval.count} of the {approval.threshold} members needed: "
                "nobody could approve a request or a change afterwards",
            )
        )
    people: dict[str, list[str]] = {}
    for s in sim.signers:
        people.setdefault((owners or {}).get(s, s), []).append(s)
    for person, signers in people.items():
        if sim.approves(signers):
            lints.append(
                Lint(
                    "single_person",
                    "refuse",
                    f"{person} alone ({len(signers)} signer(s)) meets the threshold of "
                    f"{q.threshold}: one compromised person approves everything",
                )
            )
            break
    for signer, places in sim.overlaps().items():
        lints.append(
            Lint(
                "overlap",
                "refuse",
                f"{signer} could approve {len(places)} places ({'; '.join(places)}) but "
                "approves only one of them: the quorum is weaker than it reads",
            )
        )
    if q.threshold == q.member_count and q.member_count > 1:
        lints.append(
            Lint(
                "no_spare",
                "warning",
                f"the threshold equals the member count ({q.member_count}): losing any one "
                "member locks the quorum out",
            )
        )
    return lints


def plan_change(
    before: KeyQuorum | None,
    after: KeyQuorum,
    *,
    held: Iterable[PublicKey | str] | None = None,
    owners: Mapping[str, str] | None = None,
    user_keys: Mapping[str, Iterable[PublicKey | str]] | None = None,
    limit: int = 50,
) -> Plan:
    """The plan of changing ``before`` into ``after`` (``before`` None: a create).

    ``held`` lists the signers the team holds (key ids, keys or ``user:ID``); ``owners`` maps
    a signer to the person who holds it; ``user_keys`` gives users' keys; ``limit`` caps each
    list of approving sets.
    """
    if before is not None and not isinstance(before, KeyQuorum):
        raise TypeError("before must be a KeyQuorum or None")
    if not isinstance(after, KeyQuorum):
        raise TypeError("after must be a KeyQuorum")
    sim_after = Simulation(after, user_keys=user_keys)
    old_keys, new_keys = _keys(before), _keys(after)
    old_users = set(before.user_ids) if before is not None else set()
    old_nested, new_nested = _nested_ids(before), _nested_ids(after)
    this: tuple[ApprovingSet, ...] = ()
    cut = False
    if before is not None:
        this, cut = Simulation(before, user_keys=user_keys).minimal_sets(limit=limit)
    later, cut_after = sim_after.minimal_sets(limit=limit)
    kept = None if held is None else tuple(dict.fromkeys(signer_token(s) for s in held))
    return Plan(
        before=before,
        after=after,
        keys_added=tuple(KeyChange(k, n) for k, n in new_keys.items() if k not in old_keys),
        keys_removed=tuple(KeyChange(k, n) for k, n in old_keys.items() if k not in new_keys),
        users_added=tuple(u for u in after.user_ids if u not in old_users),
        users_removed=tuple(
            u for u in (before.user_ids if before else ()) if u not in after.user_ids
        ),
        quorums_added=tuple(n for n in new_nested if n not in old_nested),
        quorums_removed=tuple(n for n in old_nested if n not in new_nested),
        threshold_before=None if before is None else before.threshold,
        threshold_after=after.threshold,
        approve_this=this,
        approve_after=later,
        truncated=cut or cut_after,
        lockout_after=sim_after.lockout(kept),
        lints=tuple(_lints(sim_after, kept, owners)),
    )
