"""Key quorums: who may approve a request, and how many of them must.

A :class:`KeyQuorum` has three kinds of members:

- P-256 public keys (``public_keys``);
- user ids (``user_ids``): a user's current keys come from the application's
  :data:`UserKeyResolver` (or :data:`AsyncUserKeyResolver`) at verification time;
- nested quorums (``key_quorums``): each counts as **one** member of its parent once its own
  threshold is met. Nesting goes only one level deep.

``authorization_threshold`` is the number of members that must approve (``None`` = all).

Rules enforced at construction (each a :class:`~authsig.errors.QuorumError` whose message says
which value is wrong, the limit and how to fix it): at least one member; threshold from 1 to the
number of members; ``display_name`` (of the quorum and of each key) at most 50 characters; at
most 5 nested quorums; nested quorums contain no quorums; no key listed twice in one quorum (the
same key in two encodings is one key); no user or nested quorum listed twice.

A key may appear both directly in a quorum and inside one of its nested quorums, or in two
nested quorums (Privy allows it). A key still approves only one member of the whole tree (the
verifier assigns keys to members so that as many members as possible approve:
:func:`authsig.privy._match.approves`), so such a quorum needs distinct signers as any other.
:attr:`KeyQuorum.overlaps` lists the keys listed more than once, and building such a quorum
emits a :class:`QuorumOverlapWarning`. A configuration warning rather than a log line: it
concerns the quorum as written, Python shows it once per place that builds quorums (a resolver
that builds one per request does not flood the log), ``pytest.warns`` and ``-W error`` see it,
and ``logging.captureWarnings(True)`` sends it to the log. Overlaps through users' keys are
known only when the keys are resolved: the :class:`~authsig.privy.decision.Decision` reports
them (``overlap_capped``), and so does ``explain``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from authsig.errors import AuthSigError, KeyFormatError, QuorumError, UserResolutionError
from authsig.keys import PublicKey, load_public_key

__all__ = [
    "MAX_DISPLAY_NAME",
    "MAX_NESTED_QUORUMS",
    "AsyncUserKeyResolver",
    "AnyUserKeyResolver",
    "KeyQuorum",
    "QuorumOverlapWarning",
    "UserKeyResolver",
    "aload_user_keys",
    "load_user_keys",
]

MAX_DISPLAY_NAME = 50
"""Maximum length of a quorum's or an authorization key's ``display_name``."""
MAX_NESTED_QUORUMS = 5
"""Maximum number of nested quorums (``key_quorum_ids``) in one quorum."""

UserKeyResolver: TypeAlias = Callable[[str], Iterable[PublicKey | str]]
"""Gives the current P-256 keys of a user id (PublicKey objects or base64 SPKI DER text)."""
AsyncUserKeyResolver: TypeAlias = Callable[[str], Awaitable[Iterable[PublicKey | str]]]
"""The async form of :data:`UserKeyResolver`."""
AnyUserKeyResolver: TypeAlias = UserKeyResolver | AsyncUserKeyResolver
"""Either form (accepted by :func:`authsig.privy.verifier.verify_request_async`)."""

_T = TypeVar("_T")


class QuorumOverlapWarning(UserWarning):
    """A key is listed as more than one member of a quorum tree; it approves only one of them."""


def _distinct(own: Iterable[_T], nested: Iterable[Iterable[_T]]) -> tuple[_T, ...]:
    """``own`` then each of ``nested``, every item once, in first-seen order (serves
    :attr:`KeyQuorum.all_keys` and :attr:`KeyQuorum.all_user_ids`)."""
    seen: dict[_T, None] = dict.fromkeys(own)
    for items in nested:
        seen.update(dict.fromkeys(items))
    return tuple(seen)


def _check_display_name(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuorumError(f"{what} must be a string or None, not {type(value).__name__}")
    if len(value) > MAX_DISPLAY_NAME:
        raise QuorumError(
            f"{what} is {len(value)} characters long, more than the limit of {MAX_DISPLAY_NAME}; "
            "shorten it"
        )
    return value


def _load_member_key(value: object, index: int, label: str) -> PublicKey:
    # A quorum often comes from JSON configuration: a member key of the wrong type is a bad
    # configuration (QuorumError) like an unusable key text.
    try:
        return load_public_key(value)  # type: ignore[arg-type]
    except (KeyFormatError, TypeError) as exc:
        reason = exc.message if isinstance(exc, KeyFormatError) else str(exc)
        raise QuorumError(
            f"public key #{index + 1} of {label} cannot be used: {reason}; give a P-256 "
            "public key as base64 SPKI DER (it begins with MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE)"
        ) from None


def _as_sequence(value: object, what: str) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise QuorumError(f"{what} must be a list, not {type(value).__name__}")
    return tuple(value)


def _member_keys(value: object, label: str) -> tuple[PublicKey, ...]:
    keys = tuple(
        _load_member_key(k, i, label) for i, k in enumerate(_as_sequence(value, "public_keys"))
    )
    seen: dict[PublicKey, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            raise QuorumError(
                f"public key #{i + 1} of {label} is the same key as public key "
                f"#{seen[key] + 1} (key id {key.key_id}); list each key once"
            )
        seen[key] = i
    return keys


def _key_names(value: object, keys: tuple[PublicKey, ...], label: str) -> tuple[str | None, ...]:
    names = tuple(_as_sequence(value, "key_display_names"))
    if len(names) > len(keys):
        raise QuorumError(
            f"{label} has {len(names)} key display names for {len(keys)} public keys; "
            "give at most one name per key"
        )
    names = names + (None,) * (len(keys) - len(names))
    for i, name in enumerate(names):
        _check_display_name(name, f"display_name of public key #{i + 1} of {label}")
    return names


def _user_ids(value: object, label: str) -> tuple[str, ...]:
    users = tuple(_as_sequence(value, "user_ids"))
    seen: set[str] = set()
    for user in users:
        if not isinstance(user, str) or not user:
            raise QuorumError(f"user ids of {label} must be non-empty strings, got {user!r}")
        if user in seen:
            raise QuorumError(f"user {user!r} is listed twice in {label}; list each user once")
        seen.add(user)
    return users


def _nested_quorums(value: object, label: str) -> tuple[KeyQuorum, ...]:
    nested = tuple(_as_sequence(value, "key_quorums"))
    if len(nested) > MAX_NESTED_QUORUMS:
        raise QuorumError(
            f"{label} has {len(nested)} nested quorums, more than the limit of "
            f"{MAX_NESTED_QUORUMS}; merge some of them"
        )
    seen: list[KeyQuorum] = []
    for q in nested:
        if not isinstance(q, KeyQuorum):
            raise QuorumError(
                f"nested quorums of {label} must be KeyQuorum objects, not {type(q).__name__}"
            )
        if q.key_quorums:
            raise QuorumError(
                f"nested quorum {q.label} of {label} itself contains quorums; nesting goes "
                "only 1 level deep: list those quorums' members directly"
            )
        if any(q == other or (q.id is not None and q.id == other.id) for other in seen):
            raise QuorumError(f"nested quorum {q.label} is listed twice in {label}; list it once")
        seen.append(q)
    return nested


def _check_threshold(t: object, keys: int, users: int, nested: int, label: str) -> None:
    count = keys + users + nested
    if count == 0:
        raise QuorumError(
            f"{label} has no members; give at least one public key, user id or nested quorum"
        )
    if t is None:
        return
    if isinstance(t, bool) or not isinstance(t, int):
        raise QuorumError(
            f"authorization_threshold of {label} must be an integer, not {type(t).__name__}"
        )
    if not 1 <= t <= count:
        raise QuorumError(
            f"authorization_threshold of {label} is {t}, but it must be from 1 to the "
            f"number of members ({count}: {keys} keys, {users} users, "
            f"{nested} nested quorums); lower it or add members"
        )


@dataclass(frozen=True)
class KeyQuorum:
    """A key quorum: its members and the number of them that must approve.

    ``public_keys`` accepts :class:`~authsig.keys.PublicKey` objects or anything
    :func:`~authsig.keys.load_public_key` loads; they are stored as ``PublicKey``.
    ``key_display_names`` (optional) gives the ``display_name`` of each key, in order.
    Instances are immutable and hashable; the key index used by the verifier is computed once
    and cached on the object.
    """

    public_keys: tuple[PublicKey, ...] = ()
    user_ids: tuple[str, ...] = ()
    key_quorums: tuple[KeyQuorum, ...] = ()
    authorization_threshold: int | None = None
    display_name: str | None = None
    id: str | None = None
    key_display_names: tuple[str | None, ...] = field(default=(), compare=False)

    if TYPE_CHECKING:
        # The constructor as users call it (a list, a generator; keys or key text): the
        # dataclass's own __init__ at run time, where __post_init__ stores the tuples above.
        def __init__(
            self,
            public_keys: Iterable[PublicKey | str | bytes | Mapping[str, Any]] = (),
            user_ids: Iterable[str] = (),
            key_quorums: Iterable[KeyQuorum] = (),
            authorization_threshold: int | None = None,
            display_name: str | None = None,
            id: str | None = None,
            key_display_names: Iterable[str | None] = (),
        ) -> None: ...

    def __post_init__(self) -> None:
        label = self.label
        keys = _member_keys(self.public_keys, label)
        object.__setattr__(self, "public_keys", keys)
        object.__setattr__(
            self, "key_display_names", _key_names(self.key_display_names, keys, label)
        )
        users = _user_ids(self.user_ids, label)
        object.__setattr__(self, "user_ids", users)
        nested = _nested_quorums(self.key_quorums, label)
        object.__setattr__(self, "key_quorums", nested)
        _check_display_name(self.display_name, f"display_name of {label}")
        if self.id is not None and (not isinstance(self.id, str) or not self.id):
            raise QuorumError("quorum id must be a non-empty string or None")
        _check_threshold(self.authorization_threshold, len(keys), len(users), len(nested), label)
        if self.overlaps:
            warnings.warn(self._overlap_text(), QuorumOverlapWarning, stacklevel=3)

    def _overlap_text(self) -> str:
        nested = self.key_quorums
        parts = []
        for key, places in self.overlaps.items():
            where = ", ".join(
                "directly" if qi < 0 else f"in nested {nested[qi].label}" for qi, _ in places
            )
            parts.append(f"key {key.key_id} ({where})")
        return (
            f"{self.label} lists {'; '.join(parts)}: each key approves only one member of the "
            "tree, so one signature does not count for several of them"
        )

    # --- derived values ----------------------------------------------------------------

    @cached_property
    def label(self) -> str:
        """A short human label: ``quorum 'id'`` or ``quorum 'display name'``."""
        if self.id:
            return f"quorum {self.id!r}"
        if self.display_name:
            return f"quorum {self.display_name!r}"
        return "the quorum"

    @cached_property
    def member_count(self) -> int:
        """Number of members: keys + users + nested quorums."""
        return len(self.public_keys) + len(self.user_ids) + len(self.key_quorums)

    @cached_property
    def threshold(self) -> int:
        """The effective threshold (``authorization_threshold``, or all members when None)."""
        t = self.authorization_threshold
        return self.member_count if t is None else t

    @cached_property
    def all_keys(self) -> tuple[PublicKey, ...]:
        """Every distinct public key of this quorum and its nested quorums (users excluded)."""
        return _distinct(self.public_keys, (q.public_keys for q in self.key_quorums))

    @cached_property
    def key_index(self) -> Mapping[bytes, PublicKey]:
        """Uncompressed SEC1 point (65 bytes) -> key, for every key of :attr:`all_keys`."""
        return {k.point: k for k in self.all_keys}

    @cached_property
    def key_positions(self) -> Mapping[PublicKey, tuple[tuple[int, int], ...]]:
        """Key -> where it is listed: ``(quorum, position)`` pairs, ``quorum`` being -1 for this
        quorum and ``i`` for ``key_quorums[i]``; ``position`` indexes ``public_keys``."""
        out: dict[PublicKey, list[tuple[int, int]]] = {}
        for ki, k in enumerate(self.public_keys):
            out.setdefault(k, []).append((-1, ki))
        for qi, q in enumerate(self.key_quorums):
            for ki, k in enumerate(q.public_keys):
                out.setdefault(k, []).append((qi, ki))
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def overlaps(self) -> Mapping[PublicKey, tuple[tuple[int, int], ...]]:
        """The keys listed more than once in this quorum and its nested quorums, with where
        (as in :attr:`key_positions`). Each still approves one member only."""
        return {k: places for k, places in self.key_positions.items() if len(places) > 1}

    @cached_property
    def all_user_ids(self) -> tuple[str, ...]:
        """Every distinct user id of this quorum and its nested quorums."""
        return _distinct(self.user_ids, (q.user_ids for q in self.key_quorums))

    # --- Privy shapes --------------------------------------------------------------------

    @classmethod
    def from_privy(
        cls, obj: Mapping[str, Any], quorums: Mapping[str, KeyQuorum] | None = None
    ) -> KeyQuorum:
        """Build a quorum from a Privy request body or response object.

        Request body: ``public_keys`` (base64 SPKI DER strings; embedded newlines are fine),
        ``user_ids``, ``key_quorum_ids``, ``authorization_threshold``, ``display_name``.
        Response: ``id``, ``authorization_keys`` (``[{"public_key", "display_name"}]``),
        ``user_ids`` (may be null), ``key_quorum_ids``, ... . Nested quorum ids are resolved
        through ``quorums`` (id -> :class:`KeyQuorum`); an unknown id is a
        :class:`~authsig.errors.QuorumError` naming it.
        """
        if not isinstance(obj, Mapping):
            raise QuorumError(f"a Privy key quorum must be a JSON object, not {type(obj).__name__}")
        keys: list[Any] = []
        names: list[str | None] = []
        if obj.get("authorization_keys") is not None:
            for i, entry in enumerate(
                _as_sequence(obj["authorization_keys"], "authorization_keys")
            ):
                if not isinstance(entry, Mapping) or "public_key" not in entry:
                    raise QuorumError(
                        f"authorization_keys[{i}] must be an object with a public_key member"
                    )
                keys.append(entry["public_key"])
                names.append(entry.get("display_name"))
        if obj.get("public_keys") is not None:
            extra = _as_sequence(obj["public_keys"], "public_keys")
            keys.extend(extra)
            names.extend([None] * len(extra))
        users = _as_sequence(obj.get("user_ids"), "user_ids")
        nested: list[KeyQuorum] = []
        ids = _as_sequence(obj.get("key_quorum_ids"), "key_quorum_ids")
        for qid in ids:
            if not isinstance(qid, str):
                raise QuorumError(f"key_quorum_ids must be strings, got {qid!r}")
            found = None if quorums is None else quorums.get(qid)
            if found is None:
                raise QuorumError(
                    f"nested key quorum {qid!r} is unknown; pass it in quorums={{{qid!r}: "
                    "KeyQuorum(...)}"
                )
            nested.append(found)
        threshold = obj.get("authorization_threshold")
        if isinstance(threshold, float) and threshold.is_integer():
            threshold = int(threshold)
        qid_value = obj.get("id")
        return cls(
            public_keys=tuple(keys),
            user_ids=tuple(users),
            key_quorums=tuple(nested),
            authorization_threshold=threshold,
            display_name=obj.get("display_name"),
            id=qid_value,
            key_display_names=tuple(names),
        )

    def to_privy(self) -> dict[str, Any]:
        """The Privy response shape (``id``, ``display_name``, ``authorization_threshold``,
        ``authorization_keys``, ``user_ids``, and ``key_quorum_ids`` when there are nested
        quorums, which must then have ids)."""
        out: dict[str, Any] = {
            "id": self.id,
            "display_name": self.display_name,
            "authorization_threshold": self.authorization_threshold,
            "authorization_keys": [
                {"public_key": k.to_base64(), "display_name": n}
                for k, n in zip(self.public_keys, self.key_display_names, strict=True)
            ],
            "user_ids": list(self.user_ids) if self.user_ids else None,
        }
        if self.key_quorums:
            missing = [q.label for q in self.key_quorums if q.id is None]
            if missing:
                raise QuorumError(
                    f"nested {', '.join(missing)} of {self.label} has no id; Privy refers to "
                    "nested quorums by id: give each one an id"
                )
            out["key_quorum_ids"] = [q.id for q in self.key_quorums]
        return out


def _coerce_user_keys(user_id: str, result: object) -> tuple[PublicKey, ...]:
    if isinstance(result, str | bytes | Mapping | PublicKey) or not isinstance(result, Iterable):
        raise UserResolutionError(
            f"the user key resolver returned {type(result).__name__} for user {user_id!r}; "
            "it must return a list of public keys"
        )
    keys: list[PublicKey] = []
    try:
        for item in result:
            keys.append(load_public_key(item))
    except (KeyFormatError, TypeError) as exc:  # fail closed on anything unusable
        reason = exc.message if isinstance(exc, KeyFormatError) else str(exc)
        raise UserResolutionError(
            f"the user key resolver returned an unusable key for user {user_id!r}: {reason}"
        ) from None
    return tuple(keys)


def load_user_keys(resolver: UserKeyResolver, user_id: str) -> tuple[PublicKey, ...]:
    """Call a synchronous resolver and load what it returns.

    Any failure (the resolver raises, returns an awaitable, or returns something that is not
    a list of P-256 keys) becomes :class:`~authsig.errors.UserResolutionError`.
    """
    try:
        result: object = resolver(user_id)
    except AuthSigError as exc:
        raise UserResolutionError(
            f"the user key resolver failed for user {user_id!r}: {exc.message}"
        ) from None
    except Exception as exc:
        raise UserResolutionError(
            f"the user key resolver failed for user {user_id!r} ({type(exc).__name__})"
        ) from None
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()
        raise UserResolutionError(
            "the user key resolver is asynchronous; use verify_request_async with it"
        )
    return _coerce_user_keys(user_id, result)


async def aload_user_keys(resolver: AnyUserKeyResolver, user_id: str) -> tuple[PublicKey, ...]:
    """Like :func:`load_user_keys`, awaiting the resolver's result when it is awaitable."""
    try:
        result: object = resolver(user_id)
        if inspect.isawaitable(result):
            result = await result
    except AuthSigError as exc:
        raise UserResolutionError(
            f"the user key resolver failed for user {user_id!r}: {exc.message}"
        ) from None
    except Exception as exc:
        raise UserResolutionError(
            f"the user key resolver failed for user {user_id!r} ({type(exc).__name__})"
        ) from None
    return _coerce_user_keys(user_id, result)
