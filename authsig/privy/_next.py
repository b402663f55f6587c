"""Who else would approve: the smallest sets of further signers that complete a refused request.

``explain`` adds this to a refusal with too few approvals ("1 of 2 approvals; any one of: key
k2 (bob), key k3 (carol) would complete it"). The sets come from the lifecycle simulation
(:class:`~authsig.privy.lifecycle.simulate.Simulation`), whose approvals are the verifier's own
distinct-key matching (:func:`authsig.privy._match.approves`): a key that stands for a member
already approved by the same key is never offered as completing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from authsig.keys import PublicKey
from authsig.privy.lifecycle.simulate import Simulation
from authsig.privy.quorum import KeyQuorum

__all__ = ["COMPLETION_BUDGET", "COMPLETION_LIMIT", "Completion", "completion", "completion_note"]

COMPLETION_LIMIT = 10
"""Most completing sets listed (the note says when there are more)."""
COMPLETION_BUDGET = 20_000
"""Most approval checks spent looking for them: an explanation must stay cheap on big trees."""


@dataclass(frozen=True)
class Completion:
    """The approvals so far (``count`` of ``threshold``), and the smallest sets of further
    signers (key ids, or ``user:ID`` for a user whose keys are unknown) that would complete
    them: every set in ``sets`` has the same, smallest size; ``more`` when the list was cut."""

    count: int
    threshold: int
    sets: tuple[tuple[str, ...], ...]
    more: bool


def completion(
    quorum: KeyQuorum,
    signed: Iterable[PublicKey | str],
    users: Mapping[str, Sequence[PublicKey]] | None = None,
    *,
    limit: int = COMPLETION_LIMIT,
    budget: int = COMPLETION_BUDGET,
) -> Completion | None:
    """The smallest completions of the approval of ``signed`` (keys or key ids), or None when
    finding them would take more than ``budget`` approval checks. ``sets`` is empty when the
    approval is already complete or when no further signers can complete it."""
    # A user with no known key is still a member who could sign: it is offered as "user ID".
    known = {u: ks for u, ks in (users or {}).items() if ks}
    sim = Simulation(quorum, user_keys=known)
    have = tuple(dict.fromkeys(k.key_id if isinstance(k, PublicKey) else k for k in signed))
    now = sim.approval(have)
    # In member order (keys, then users' keys, then users), so that the report is stable.
    order = [k.key_id for k in quorum.all_keys] + [k.key_id for ks in known.values() for k in ks]
    order += [f"user:{u}" for u in quorum.all_user_ids]
    rank = {s: i for i, s in reversed(list(enumerate(order)))}
    rest = sorted((s for s in sim.signers if s not in have), key=lambda s: rank.get(s, len(rank)))
    if now.approved or not sim.approves(have + tuple(rest)):
        return Completion(now.count, now.threshold, (), False)
    spent = 0
    # Smallest sizes first: the first size with a hit holds exactly the minimal completions
    # of that size (no smaller set completes, so no proper subset of one of them does).
    for size in range(1, len(rest) + 1):
        found: list[tuple[str, ...]] = []
        for extra in combinations(rest, size):
            spent += 1
            if spent > budget:
                return None
            if sim.approves(have + extra):
                found.append(extra)
                if len(found) > limit:
                    return Completion(now.count, now.threshold, tuple(found[:limit]), True)
        if found:
            return Completion(now.count, now.threshold, tuple(found), False)
    raise AssertionError("unreachable: the whole rest approves")  # pragma: no cover


def _names(quorum: KeyQuorum, users: Mapping[str, Sequence[PublicKey]]) -> dict[str, str]:
    """Signer -> how a person recognises it: ``key ID (display name)``, ``key ID (user U)``,
    ``user U``."""
    names: dict[str, str] = {}
    for q in (quorum, *quorum.key_quorums):
        for key, name in zip(q.public_keys, q.key_display_names, strict=True):
            if name or key.key_id not in names:
                names[key.key_id] = f"key {key.key_id}" + (f" ({name})" if name else "")
    for uid in quorum.all_user_ids:
        names[f"user:{uid}"] = f"user {uid}"
        for key in users.get(uid, ()):
            names.setdefault(key.key_id, f"key {key.key_id} (user {uid})")
    return names


def completion_note(
    quorum: KeyQuorum,
    signed: Iterable[PublicKey | str],
    users: Mapping[str, Sequence[PublicKey]] | None = None,
) -> str | None:
    """The sentence ``explain`` shows for a refusal with too few approvals, or None (approved,
    or too large a tree to search within :data:`COMPLETION_BUDGET`)."""
    users = users or {}
    found = completion(quorum, signed, users)
    if found is None or found.count >= found.threshold:
        return None
    head = f"{found.count} of {found.threshold} approvals"
    if not found.sets:
        return f"{head}; no further member key can complete it (a key approves one member only)"
    names = _names(quorum, users)
    more = ", or others" if found.more else ""
    if len(found.sets[0]) == 1:
        listed = ", ".join(names.get(s[0], s[0]) for s in found.sets)
        return f"{head}; any one of: {listed}{more} would complete it"
    listed = "; ".join(" + ".join(names.get(x, x) for x in s) for s in found.sets)
    return f"{head}; any one of these sets would complete it: {listed}{more}"
