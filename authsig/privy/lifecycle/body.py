"""Create, update and delete requests for Privy key quorums, checked before anything is signed.

The endpoints are ``POST /v1/key_quorums`` (create), ``PATCH /v1/key_quorums/{id}`` (update)
and ``DELETE /v1/key_quorums/{id}``. A body is checked against the rules the API documents
(Privy's "Update key quorum" page), each violation a typed error of
:mod:`authsig.privy.lifecycle.errors` with the JSON Pointer of the offending value:

- ``public_keys``: P-256 public keys as base64 SPKI DER, no key twice;
- ``authorization_threshold``: at least 1, at most the member count (keys + users + nested
  quorums) of the quorum as it will be;
- ``display_name``: at most 50 characters;
- ``key_quorum_ids``: at most 5, each a quorum the caller describes, nested one level only;
- ``user_ids``: no user twice.

An update is a PATCH: the fields it leaves out keep their current values, so its threshold is
checked against the members the quorum will have, and a threshold left out must still fit them.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from authsig.errors import KeyFormatError, QuorumError
from authsig.keys import PublicKey, load_public_key
from authsig.privy.lifecycle.errors import (
    DisplayNameTooLongError,
    DuplicateKeyError,
    DuplicateUserError,
    EmptyQuorumError,
    NestingTooDeepError,
    QuorumBodyError,
    QuorumKeyError,
    ThresholdRangeError,
    TooManyNestedQuorumsError,
    UnknownQuorumError,
)
from authsig.privy.quorum import (
    MAX_DISPLAY_NAME,
    MAX_NESTED_QUORUMS,
    KeyQuorum,
    QuorumOverlapWarning,
)

__all__ = [
    "BODY_FIELDS",
    "DEFAULT_BASE_URL",
    "KEY_QUORUMS_PATH",
    "QuorumRequest",
    "create_request",
    "delete_request",
    "quorum_url",
    "update_request",
    "validate_body",
]

DEFAULT_BASE_URL = "https://api.privy.io"
KEY_QUORUMS_PATH = "/v1/key_quorums"
BODY_FIELDS = (
    "display_name",
    "public_keys",
    "authorization_threshold",
    "user_ids",
    "key_quorum_ids",
)
"""The fields a create or update body may hold."""

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# Quorum ids are cuid2 strings; anything that could change the URL's path or query is refused.
_QUORUM_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

Kind = Literal["create", "update"]


@dataclass(frozen=True)
class QuorumRequest:
    """A request on the key-quorum endpoint: ``method``, ``url``, ``body`` (None for DELETE),
    the quorum as it is (``before``, None for a create) and as it will be (``after``, None for
    a delete). The quorum that must sign it is ``before`` (a create needs no quorum)."""

    method: str
    url: str
    body: dict[str, Any] | None
    before: KeyQuorum | None = None
    after: KeyQuorum | None = None


def _list(body: Mapping[str, Any], name: str) -> Sequence[Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise QuorumBodyError(f"must be a list, not {type(value).__name__}", path=f"/{name}")
    return value


def _keys(body: Mapping[str, Any]) -> tuple[PublicKey, ...] | None:
    items = _list(body, "public_keys")
    if items is None:
        return None
    keys: list[PublicKey] = []
    for i, item in enumerate(items):
        path = f"/public_keys/{i}"
        text = re.sub(r"\s+", "", item) if isinstance(item, str) else ""
        if not _BASE64.fullmatch(text):
            raise QuorumKeyError(
                "must be a P-256 public key as base64 SPKI DER (it begins with "
                "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE), not PEM, JWK or another type",
                path=path,
            )
        try:
            key = load_public_key(base64.b64decode(text, validate=True))
        except (KeyFormatError, binascii.Error) as exc:
            reason = exc.message if isinstance(exc, KeyFormatError) else "bad base64"
            raise QuorumKeyError(f"cannot be used: {reason}", path=path) from None
        if key in keys:
            first = keys.index(key)
            raise DuplicateKeyError(
                f"is the same key as /public_keys/{first} (key id {key.key_id}); list it once",
                path=path,
            )
        keys.append(key)
    return tuple(keys)


def _ids(body: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    items = _list(body, name)
    if items is None:
        return None
    seen: list[str] = []
    for i, item in enumerate(items):
        path = f"/{name}/{i}"
        if not isinstance(item, str) or not item:
            raise QuorumBodyError("must be a non-empty string", path=path)
        if item in seen:
            error = DuplicateUserError if name == "user_ids" else QuorumBodyError
            raise error(f"repeats /{name}/{seen.index(item)}; list it once", path=path)
        seen.append(item)
    return tuple(seen)


def _display_name(body: Mapping[str, Any]) -> str | None:
    name = body.get("display_name")
    if name is not None and not isinstance(name, str):
        raise QuorumBodyError("must be a string", path="/display_name")
    if name is not None and len(name) > MAX_DISPLAY_NAME:
        raise DisplayNameTooLongError(
            f"is {len(name)} characters long, more than the limit of {MAX_DISPLAY_NAME}",
            path="/display_name",
        )
    return name


def _nested(
    ids: tuple[str, ...], quorums: Mapping[str, KeyQuorum], own_id: str | None
) -> tuple[KeyQuorum, ...]:
    if len(ids) > MAX_NESTED_QUORUMS:
        raise TooManyNestedQuorumsError(
            f"has {len(ids)} entries, more than the limit of {MAX_NESTED_QUORUMS}",
            path="/key_quorum_ids",
        )
    nested: list[KeyQuorum] = []
    for i, qid in enumerate(ids):
        path = f"/key_quorum_ids/{i}"
        if own_id is not None and qid == own_id:
            raise NestingTooDeepError("a quorum cannot be nested in itself", path=path)
        found = quorums.get(qid)
        if found is None:
            raise UnknownQuorumError(
                f"names quorum {qid!r}, which was not described: give its current state so "
                "that its nesting and members can be checked",
                path=path,
            )
        if found.key_quorums:
            raise NestingTooDeepError(
                f"quorum {qid!r} itself contains quorums; nesting goes only 1 level deep",
                path=path,
            )
        nested.append(found)
    if own_id is not None and ids:
        parents = [q for q in quorums.values() if any(n.id == own_id for n in q.key_quorums)]
        if parents:
            raise NestingTooDeepError(
                f"quorum {own_id!r} is nested in {parents[0].label}; a nested quorum cannot "
                "contain quorums (nesting goes only 1 level deep)",
                path="/key_quorum_ids",
            )
    return tuple(nested)


def _threshold(body: Mapping[str, Any], count: int, current: int | None) -> int | None:
    if "authorization_threshold" not in body or body["authorization_threshold"] is None:
        if current is not None and current > count:
            raise ThresholdRangeError(
                f"is left out, but the current threshold {current} exceeds the {count} "
                "members the quorum will have: set it to at most that",
                path="/authorization_threshold",
            )
        return current
    t = body["authorization_threshold"]
    if isinstance(t, bool) or not isinstance(t, int):
        raise QuorumBodyError("must be an integer", path="/authorization_threshold")
    if not 1 <= t <= count:
        raise ThresholdRangeError(
            f"is {t}, but it must be from 1 to the member count ({count}: keys + users + "
            "nested quorums)",
            path="/authorization_threshold",
        )
    return t


def validate_body(
    body: object,
    *,
    kind: Kind,
    current: KeyQuorum | None = None,
    quorums: Mapping[str, KeyQuorum] | None = None,
) -> KeyQuorum:
    """Check a create or update ``body``; returns the quorum as it will be.

    ``current`` is the quorum an update changes (required for ``kind="update"``); ``quorums``
    maps the id of every quorum the body may nest (and of any quorum that nests ``current``)
    to its current state. Raises a :class:`~authsig.privy.lifecycle.errors.QuorumBodyError`
    subclass naming the offending field.
    """
    if kind not in ("create", "update"):
        raise ValueError("kind must be 'create' or 'update'")
    if kind == "update" and not isinstance(current, KeyQuorum):
        raise TypeError("an update needs the current KeyQuorum")
    if not isinstance(body, Mapping):
        raise QuorumBodyError(f"must be a JSON object, not {type(body).__name__}")
    for name in body:
        if name not in BODY_FIELDS:
            raise QuorumBodyError(
                f"is not a field of the request (fields: {', '.join(BODY_FIELDS)})", path=f"/{name}"
            )
    if kind == "update" and not body:
        raise QuorumBodyError("an update must change at least one field")
    base = current if kind == "update" else None
    display_name = (
        _display_name(body) if "display_name" in body else getattr(base, "display_name", None)
    )
    keys = _keys(body)
    users = _ids(body, "user_ids")
    nested_ids = _ids(body, "key_quorum_ids")
    own_id = base.id if base is not None else None
    nested = None if nested_ids is None else _nested(nested_ids, quorums or {}, own_id)
    if base is not None:
        names = dict(zip(base.public_keys, base.key_display_names, strict=True))
        keys = base.public_keys if keys is None else keys
        users = base.user_ids if users is None else users
        nested = base.key_quorums if nested is None else nested
    keys, users, nested = keys or (), users or (), nested or ()
    count = len(keys) + len(users) + len(nested)
    if count == 0:
        raise EmptyQuorumError(
            "the quorum would have no member: give public_keys, user_ids or key_quorum_ids"
        )
    current_t = base.authorization_threshold if base is not None else None
    threshold = _threshold(body, count, current_t)
    try:
        # Overlapping members are the plan's "overlap" lint: no warning a second time here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuorumOverlapWarning)
            return KeyQuorum(
                public_keys=keys,
                user_ids=users,
                key_quorums=nested,
                authorization_threshold=threshold,
                display_name=display_name,
                id=own_id,
                key_display_names=tuple(names.get(k) for k in keys) if base is not None else (),
            )
    except QuorumError as exc:  # a rule KeyQuorum adds; the body is where it comes from
        raise QuorumBodyError(exc.message) from None


def _base(base_url: str) -> str:
    if not isinstance(base_url, str):
        raise TypeError("base_url must be a str")
    if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", base_url):
        raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
    return base_url.rstrip("/")


def quorum_url(quorum_id: str | None = None, *, base_url: str = DEFAULT_BASE_URL) -> str:
    """The endpoint URL: the collection, or one quorum's (its id checked to be URL-safe)."""
    url = _base(base_url) + KEY_QUORUMS_PATH
    if quorum_id is None:
        return url
    if not isinstance(quorum_id, str) or not _QUORUM_ID.fullmatch(quorum_id):
        raise QuorumError(f"quorum id {quorum_id!r} is not a Privy key quorum id")
    return f"{url}/{quorum_id}"


def _plain(body: Mapping[str, Any]) -> dict[str, Any]:
    # What is signed and sent: the caller's values, exactly (keys keep their own base64 text).
    return {name: body[name] for name in BODY_FIELDS if name in body}


def create_request(
    body: object,
    *,
    base_url: str = DEFAULT_BASE_URL,
    quorums: Mapping[str, KeyQuorum] | None = None,
) -> QuorumRequest:
    """``POST /v1/key_quorums`` with ``body``, checked first (see :func:`validate_body`)."""
    after = validate_body(body, kind="create", quorums=quorums)
    assert isinstance(body, Mapping)  # validate_body refused anything else
    return QuorumRequest("POST", quorum_url(base_url=base_url), _plain(body), None, after)


def update_request(
    current: KeyQuorum,
    body: object,
    *,
    base_url: str = DEFAULT_BASE_URL,
    quorums: Mapping[str, KeyQuorum] | None = None,
) -> QuorumRequest:
    """``PATCH /v1/key_quorums/{id}`` of ``current`` with ``body``, checked first. ``current``
    must have its id; it is the quorum whose threshold must sign the request."""
    if not isinstance(current, KeyQuorum):
        raise TypeError("current must be a KeyQuorum")
    url = quorum_url(current.id, base_url=base_url) if current.id else None
    if url is None:
        raise QuorumError(f"{current.label} has no id; an update names the quorum by its id")
    after = validate_body(body, kind="update", current=current, quorums=quorums)
    assert isinstance(body, Mapping)
    return QuorumRequest("PATCH", url, _plain(body), current, after)


def delete_request(current: KeyQuorum, *, base_url: str = DEFAULT_BASE_URL) -> QuorumRequest:
    """``DELETE /v1/key_quorums/{id}``, to be signed by ``current``."""
    if not isinstance(current, KeyQuorum):
        raise TypeError("current must be a KeyQuorum")
    if not current.id:
        raise QuorumError(f"{current.label} has no id; a delete names the quorum by its id")
    return QuorumRequest("DELETE", quorum_url(current.id, base_url=base_url), None, current, None)
