"""Verify a signed request against the key quorum that owns the resource.

A :class:`Verifier` (and the conveniences :func:`verify_request` and
:func:`verify_request_async`) never raises because a request is bad: it returns a
:class:`Decision` whose ``reason`` is one of the reason codes of ``docs/architecture.md`` and
whose ``message`` is a sentence a person can act on. It raises only for programmer errors
(arguments of the wrong type or value: :class:`TypeError`/:class:`ValueError`) and for an
invalid quorum (:class:`~authsig.errors.QuorumError`, raised when the quorum is built).

Rules:

- every signature in the header must verify with a member key (a direct key, a key of a nested
  quorum, or a current key of a user member), else the request is refused with
  ``invalid_signature``; ``Policy(allow_foreign_signatures=True)`` ignores such signatures
  instead;
- a key counts once however many signatures it made, including the malleated twin
  ``(r, n - s)`` of its own signature (signatures are de-duplicated on ``(r, min(s, n - s))``
  and approvals are counted per key, not per signature);
- a member counts once: a key member when its key signed, a user member when any of its
  current keys signed, a nested quorum when its own threshold is met;
- a key approves at most one member of the whole quorum tree, even when it is listed directly
  and inside a nested quorum, in two nested quorums, as the key of two users, or as a key and a
  user's key: keys are assigned to members so that as many members as possible approve
  (:func:`authsig.privy._match.approves`), so overlap never counts one key twice and never
  refuses what distinct signers satisfy;
- a signature is attributed to one key only (the member key with which ``cryptography``
  verifies it);
- the request expiry is checked when present; ``Policy(require_expiry=True)`` refuses requests
  without one.

The payload is canonicalized once, and every check that needs no signature verification (header
limits, DER structure, expiry) runs before the first one.
"""

from __future__ import annotations

import binascii
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from authsig.errors import (
    AuthSigError,
    ExpiryRequiredError,
    SignatureFormatError,
    UserResolutionError,
)
from authsig.keys import PublicKey
from authsig.policy import DEFAULT_POLICY, Policy
from authsig.privy._match import DIRECT_MATCH_LIMIT, MemberKeys, approves
from authsig.privy.decision import (
    REASON_STATUS,
    Decision,
    Match,
    Member,
    SignatureOutcome,
    decide,
    refuse,
    refuse_for,
)
from authsig.privy.dialects import get_dialect
from authsig.privy.expiry import check_expiry
from authsig.privy.headers import (
    EXPIRY_HEADER,
    SIGNATURE_HEADER,
    Headers,
    PrivyHeaders,
    parse_signature_header,
    read_headers,
)
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import (
    AnyUserKeyResolver,
    KeyQuorum,
    UserKeyResolver,
    aload_user_keys,
    load_user_keys,
)
from authsig.signatures import P256_N, parse_der_signature

if TYPE_CHECKING:  # pragma: no cover - typing only (explain imports this module)
    from authsig.privy.explain import Explanation

__all__ = [
    "DIRECT_MATCH_LIMIT",
    "REASON_STATUS",
    "Decision",
    "Member",
    "SignatureOutcome",
    "Verifier",
    "verify_request",
    "verify_request_async",
]

_HALF_N = P256_N // 2


class _Checked(NamedTuple):
    """A request that passed every check before signature verification."""

    payload: bytes
    signatures: list[tuple[bytes, int, int]]  # (DER, r, s) of each header entry


def _check_policy(policy: object) -> Policy:
    if policy is None:
        return DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be an authsig Policy, not {type(policy).__name__}")
    if policy.dialect is not None:
        get_dialect(policy.dialect)  # an unknown name fails here, not on the first request
    return policy


def _check_now(now_ms: object) -> None:
    if now_ms is not None and (isinstance(now_ms, bool) or not isinstance(now_ms, int)):
        raise TypeError("now_ms must be an int (milliseconds since the epoch) or None")


def _resolver(user_keys: object) -> AnyUserKeyResolver | None:
    """``user_keys`` as a resolver: a mapping answers with the keys it lists (none for a user it
    does not list)."""
    if user_keys is None or callable(user_keys):
        return user_keys
    if isinstance(user_keys, Mapping):
        return lambda user_id: user_keys.get(user_id, ())
    raise TypeError("user_keys must be a callable, a mapping or None")


class Verifier:
    """Verifies requests against one key quorum under one :class:`~authsig.policy.Policy`.

    ``user_keys`` gives a user id's current public keys: a resolver (``user_id -> keys``; an
    async resolver works with the ``_async`` methods only) or a mapping. ``replay_protected``
    tells the verifier that the caller records approved requests in a replay store: a policy
    whose ``require_expiry`` is None then requires an expiry (the middleware sets it).
    """

    __slots__ = ("_resolver", "policy", "quorum", "replay_protected", "user_keys")

    def __init__(
        self,
        quorum: KeyQuorum,
        *,
        user_keys: AnyUserKeyResolver | Mapping[str, Iterable[PublicKey | str]] | None = None,
        policy: Policy | None = None,
        replay_protected: bool = False,
    ) -> None:
        if not isinstance(quorum, KeyQuorum):
            raise TypeError(f"quorum must be an authsig KeyQuorum, not {type(quorum).__name__}")
        self.quorum = quorum
        self.user_keys = user_keys
        self._resolver = _resolver(user_keys)
        self.policy = _check_policy(policy)
        self.replay_protected = bool(replay_protected)

    def __repr__(self) -> str:
        return f"Verifier(quorum={self.quorum.label!r}, policy={self.policy!r})"

    # --- verifying -----------------------------------------------------------------------

    def verify(
        self, *, method: str, url: str, body: Any, headers: Headers, now_ms: int | None = None
    ) -> Decision:
        """Decide whether a signed request is approved.

        ``method``, ``url`` (the public URL the client signed), ``body`` (raw bytes/str as
        received, or an already parsed value) and ``headers`` (a mapping or (name, value)
        pairs, case-insensitive) describe the request. ``now_ms`` fixes the clock for the
        expiry check.
        """
        checked = self._check(method, url, body, headers, now_ms)
        if isinstance(checked, Decision):
            return checked
        matcher = _Matcher(self, checked)
        try:
            while matcher.wants_users():
                matcher.give(_user_keys(self.quorum, self._resolver))  # type: ignore[arg-type]
        except UserResolutionError as exc:
            return refuse_for(exc, self.quorum)
        return matcher.decision

    async def verify_async(
        self, *, method: str, url: str, body: Any, headers: Headers, now_ms: int | None = None
    ) -> Decision:
        """The async twin of :meth:`verify`: an async ``user_keys`` resolver is awaited."""
        checked = self._check(method, url, body, headers, now_ms)
        if isinstance(checked, Decision):
            return checked
        matcher = _Matcher(self, checked)
        try:
            while matcher.wants_users():
                matcher.give(await _user_keys_async(self.quorum, self._resolver))
        except UserResolutionError as exc:
            return refuse_for(exc, self.quorum)
        return matcher.decision

    # --- explaining ----------------------------------------------------------------------

    def explain(
        self,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Headers,
        now_ms: int | None = None,
        alternative_urls: Iterable[str] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> Explanation:
        """:meth:`verify`, and which near miss each signature matches (see
        :func:`authsig.privy.explain.explain`)."""
        pairs = _pairs(headers)
        decision = self.verify(method=method, url=url, body=body, headers=pairs, now_ms=now_ms)
        users = _user_keys(self.quorum, self._resolver, tolerant=True)  # type: ignore[arg-type]
        request = (method, url, body, pairs)
        return self._explanation(decision, users, request, alternative_urls, extra_headers)

    async def explain_async(
        self,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Headers,
        now_ms: int | None = None,
        alternative_urls: Iterable[str] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> Explanation:
        """The async twin of :meth:`explain`: an async ``user_keys`` resolver is awaited."""
        pairs = _pairs(headers)
        decision = await self.verify_async(
            method=method, url=url, body=body, headers=pairs, now_ms=now_ms
        )
        users = await _user_keys_async(self.quorum, self._resolver, tolerant=True)
        request = (method, url, body, pairs)
        return self._explanation(decision, users, request, alternative_urls, extra_headers)

    def _explanation(
        self,
        decision: Decision,
        users: Mapping[str, Sequence[PublicKey]],
        request: tuple[str, str, Any, list[tuple[str, str]]],
        alternative_urls: Iterable[str],
        extra_headers: Mapping[str, str] | None,
    ) -> Explanation:
        from authsig.privy._next import completion_note
        from authsig.privy.explain import explanation, overlap_note  # it imports this module

        keys = MemberKeys.of(self.quorum, users)
        result = explanation(
            decision,
            keys,
            self.policy,
            request=request,
            alternative_urls=alternative_urls,
            extra_headers=extra_headers,
        )
        signers = [s.key_id for s in decision.signatures if s.key_id is not None]
        note = overlap_note(self.quorum, approves(self.quorum, signers, users))
        more = None
        if decision.reason == "threshold_not_met":
            more = completion_note(self.quorum, signers, users)
        return dataclasses.replace(result, overlap=note, completion=more)

    # --- the steps -----------------------------------------------------------------------

    def _check(
        self, method: str, url: str, body: Any, headers: Headers, now_ms: int | None
    ) -> _Checked | Decision:
        """Everything before signature verification, in the order the refusals are reported:
        the headers, the signature header, the payload, the expiry, each signature's DER."""
        _check_now(now_ms)
        quorum, policy = self.quorum, self.policy
        found = read_headers(headers)
        if found.header_error is not None:
            return refuse_for(found.header_error, quorum)
        if found.signature is None:
            return refuse(
                "missing_signature",
                f"Refused: the request has no {SIGNATURE_HEADER} header; sign it with "
                f"{quorum.threshold} member key(s) of {quorum.label}.",
                quorum,
            )
        try:
            entries = parse_signature_header(
                found.signature,
                max_signatures=policy.max_signatures,
                max_length=policy.max_header_length,
            )
            payload = signing_payload(
                method=method,
                url=url,
                body=body,
                headers=found,
                empty_body=policy.empty_body,
                profile=policy.profile,
                dialect=policy.dialect,
            )
            self._check_expiry(found, now_ms)
        except AuthSigError as exc:
            return refuse_for(exc, quorum)
        signatures: list[tuple[bytes, int, int]] = []
        for i, entry in enumerate(entries):
            der = binascii.a2b_base64(entry)  # canonical base64: checked with the header
            try:
                r, s = parse_der_signature(der)
            except SignatureFormatError as exc:
                return refuse_for(exc, quorum, f"signature #{i + 1} is malformed: ")
            signatures.append((der, r, s))
        return _Checked(payload, signatures)

    def _check_expiry(self, found: PrivyHeaders, now_ms: int | None) -> None:
        policy = self.policy
        if found.expiry is not None:
            check_expiry(
                found.expiry,
                now_ms=now_ms,
                max_lifetime=policy.max_lifetime,
                clock_skew=policy.clock_skew,
            )
        elif policy.expiry_required(replay_protected=self.replay_protected):
            raise ExpiryRequiredError(
                f"the request has no {EXPIRY_HEADER} header and this endpoint requires one; "
                "sign the request with an expiry (milliseconds since the epoch)"
            )


class _Matcher:
    """Matches the signatures of one request in header order, and decides.

    The users' keys are asked for only when a signature needs them: when one verifies with no
    key listed in the quorum, or when the listed keys that signed fall short of the threshold
    (a user member might be the better place for one of them). In strict mode (foreign
    signatures refused) matching stops at the first signature that verifies with no member
    key: the request is refused whatever the others are, so they are not verified. The cost of
    a request with junk signatures is then one signature's matching plus, when the quorum has
    user members, one resolver call per user, whatever the number of signatures."""

    def __init__(self, verifier: Verifier, checked: _Checked) -> None:
        self.verifier = verifier
        self.checked = checked
        quorum = verifier.quorum
        self.resolvable = verifier._resolver is not None and bool(quorum.all_user_ids)
        self.strict = not verifier.policy.allow_foreign_signatures
        self.users: Mapping[str, Sequence[PublicKey]] | None = None  # None: not asked yet
        self.keys = MemberKeys.of(quorum, {})
        self.matches: list[Match] = []
        self.first_seen: dict[tuple[int, int], int] = {}
        self.signed: dict[PublicKey, None] = {}  # the keys that made a signature, in order
        self.stopped = False
        # Set by wants_users() before anyone reads it (the verifier loops until False); not
        # built here, where it would cost a Decision per request for nothing.
        self.decision: Decision

    def give(self, users: Mapping[str, Sequence[PublicKey]]) -> None:
        """The users' keys, once asked for."""
        self.users = users
        self.keys = MemberKeys.of(self.verifier.quorum, users)

    def wants_users(self) -> bool:
        """Match and decide; True when the users' keys are needed first (then :meth:`give`
        them and call again), False when :attr:`decision` is final."""
        if not self._match():
            return True
        verifier = self.verifier
        self.decision = decide(
            verifier.quorum,
            self.matches,
            self.users or {},
            payload=self.checked.payload,
            allow_foreign=not self.strict,
            have_resolver=verifier._resolver is not None,
            entries=len(self.checked.signatures),
        )
        return (
            self.users is None and self.resolvable and self.decision.reason == "threshold_not_met"
        )

    def _match(self) -> bool:
        """Continue matching; False when a signature needs the users' keys. A signature that
        repeats an earlier one, possibly as its malleated twin ``(r, n - s)``, is a duplicate
        and is not verified again."""
        signatures, payload = self.checked.signatures, self.checked.payload
        while not self.stopped and len(self.matches) < len(signatures):
            i = len(self.matches)
            der, r, s = signatures[i]
            first = self.first_seen.setdefault((r, s if s <= _HALF_N else P256_N - s), i)
            if first != i:
                self.matches.append(("duplicate", self.matches[first][1], first))
                continue
            key = self.keys.signer(payload, der, r, s, self.signed)
            if key is None and self.users is None and self.resolvable:
                return False
            if key is None:
                self.matches.append(("no_match", None, None))
                self.stopped = self.strict  # refused whatever the other signatures are
            else:
                self.signed[key] = None
                self.matches.append(("matched", key, None))
        return True


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    """The headers as a list of pairs (read more than once by ``explain``)."""
    return list(headers.items() if isinstance(headers, Mapping) else headers)


def _user_keys(
    quorum: KeyQuorum, resolver: UserKeyResolver | None, *, tolerant: bool = False
) -> dict[str, tuple[PublicKey, ...]]:
    """Each user member's current keys. A failure is raised, or with ``tolerant`` that user is
    left out (``explain`` reports what it can)."""
    users: dict[str, tuple[PublicKey, ...]] = {}
    if resolver is None:
        return users
    for uid in quorum.all_user_ids:
        try:
            users[uid] = load_user_keys(resolver, uid)
        except UserResolutionError:
            if not tolerant:
                raise
    return users


async def _user_keys_async(
    quorum: KeyQuorum, resolver: AnyUserKeyResolver | None, *, tolerant: bool = False
) -> dict[str, tuple[PublicKey, ...]]:
    """The async twin of :func:`_user_keys`: the resolver's answers are awaited."""
    users: dict[str, tuple[PublicKey, ...]] = {}
    if resolver is None:
        return users
    for uid in quorum.all_user_ids:
        try:
            users[uid] = await aload_user_keys(resolver, uid)
        except UserResolutionError:
            if not tolerant:
                raise
    return users


def verify_request(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers,
    quorum: KeyQuorum,
    user_keys: UserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
) -> Decision:
    """Decide whether a signed request is approved by ``quorum``.

    A convenience for ``Verifier(quorum, user_keys=..., policy=...).verify(...)``: see
    :meth:`Verifier.verify`. ``user_keys`` is synchronous here (see
    :func:`verify_request_async`); ``policy`` holds the options (strict defaults when None).
    """
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return verifier.verify(method=method, url=url, body=body, headers=headers, now_ms=now_ms)


async def verify_request_async(
    *,
    method: str,
    url: str,
    body: Any,
    headers: Headers,
    quorum: KeyQuorum,
    user_keys: AnyUserKeyResolver | None = None,
    policy: Policy | None = None,
    now_ms: int | None = None,
) -> Decision:
    """The async twin of :func:`verify_request`: ``user_keys`` may be sync or async (awaited)."""
    verifier = Verifier(quorum, user_keys=user_keys, policy=policy)
    return await verifier.verify_async(
        method=method, url=url, body=body, headers=headers, now_ms=now_ms
    )
