"""``Policy``: how strict a verifier is, as one immutable value.

Verifiers, ``explain``, the middleware and the CLI take a ``policy=`` instead of a dozen
keywords, so that an option is spelled once and checked once (when the policy is built).
Loosening a default is always a named field here; SECURITY.md says what each default protects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from authsig._clock import to_ms

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_MAX_HEADER_LENGTH",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_MAX_SIGNATURES",
    "DEFAULT_POLICY",
    "INTENT_LIFETIME",
    "INTENT_POLICY",
    "POLICY_FIELDS",
    "EmptyBody",
    "Policy",
    "Profile",
]

DEFAULT_MAX_LIFETIME = timedelta(hours=1)
"""Longest accepted distance between now and a request's expiry."""
INTENT_LIFETIME = timedelta(hours=72)
"""The expiry Privy's intents use (a change signed over days by several people). A verifier
accepts it only under :meth:`Policy.for_intents`; the default lifetime stays one hour."""
DEFAULT_CLOCK_SKEW = timedelta(seconds=60)
"""Tolerance for clocks that disagree (applied to both ends of the validity window)."""
DEFAULT_MAX_SIGNATURES = 64
"""Most signatures one request may carry."""
DEFAULT_MAX_HEADER_LENGTH = 8192
"""Longest accepted signature header (characters)."""

Profile = Literal["rfc8785", "canonicaljson"]
EmptyBody = Literal["string", "preserve"]

_PROFILES = ("rfc8785", "canonicaljson")
_EMPTY_BODY = ("string", "preserve")


def _check_bool(name: str, value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, bool):
        raise TypeError(f"Policy.{name} must be a bool, not {type(value).__name__}")


def _check_delta(name: str, value: object) -> None:
    if not isinstance(value, timedelta):
        raise TypeError(f"Policy.{name} must be a datetime.timedelta, not {type(value).__name__}")
    if value < timedelta(0):
        raise ValueError(f"Policy.{name} must not be negative")


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Policy.{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"Policy.{name} must be at least 1")


def _check_dialect(dialect: object, empty_body: str, profile: str) -> None:
    if dialect is None:
        return
    if not isinstance(dialect, str):
        raise TypeError(f"Policy.dialect must be a str or None, not {type(dialect).__name__}")
    if not dialect:
        raise ValueError("Policy.dialect must not be empty (None means no dialect)")
    # One source of truth per request: a dialect fixes both, so a second value would be ignored.
    if empty_body != "string" or profile != "rfc8785":
        raise ValueError("Policy.dialect sets empty_body and profile; give one or the other")


@dataclass(frozen=True)
class Policy:
    """The verification options.

    - ``allow_foreign_signatures``: when False (the default) a signature that verifies with no
      member key refuses the whole request; when True such signatures are ignored.
    - ``require_expiry``: refuse requests without an expiry. ``None`` (the default) means
      "required when a replay store is in use": the middleware then requires one, a bare
      verifier does not.
    - ``max_lifetime``: refuse an expiry further ahead than this.
    - ``clock_skew``: tolerance for disagreeing clocks, at both ends of the window.
    - ``empty_body``: ``"string"`` signs an empty ``{}``/``[]`` body as ``""`` (the Node SDK's
      rule); ``"preserve"`` keeps it as sent.
    - ``profile``: ``"rfc8785"`` (the Node SDK) or ``"canonicaljson"`` (the Python SDK).
    - ``dialect``: the name of a scheme's SDK dialect (Privy: ``authsig.privy.dialects``, e.g.
      ``"privy-server-auth"``); it sets the whole payload rule (canonicalization, empty and
      missing bodies, signed headers), so it excludes non-default ``empty_body``/``profile``.
      ``None`` (the default) keeps the strict rules above. The scheme checks the name.
    - ``max_signatures`` / ``max_header_length``: limits on the signature header, checked
      before any per-signature work.
    """

    allow_foreign_signatures: bool = False
    require_expiry: bool | None = None
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    empty_body: EmptyBody = "string"
    profile: Profile = "rfc8785"
    dialect: str | None = None
    max_signatures: int = DEFAULT_MAX_SIGNATURES
    max_header_length: int = DEFAULT_MAX_HEADER_LENGTH

    def __post_init__(self) -> None:
        _check_bool("allow_foreign_signatures", self.allow_foreign_signatures)
        _check_bool("require_expiry", self.require_expiry, optional=True)
        _check_delta("max_lifetime", self.max_lifetime)
        _check_delta("clock_skew", self.clock_skew)
        if self.empty_body not in _EMPTY_BODY:
            raise ValueError(f"Policy.empty_body must be one of {_EMPTY_BODY}")
        if self.profile not in _PROFILES:
            raise ValueError(f"Policy.profile must be one of {_PROFILES}")
        _check_dialect(self.dialect, self.empty_body, self.profile)
        _check_positive_int("max_signatures", self.max_signatures)
        _check_positive_int("max_header_length", self.max_header_length)

    def replace(self, **changes: Any) -> Policy:
        """A copy with ``changes`` applied (validated like a new policy)."""
        return dataclasses.replace(self, **changes)

    def for_intents(self) -> Policy:
        """This policy, accepting expiries up to :data:`INTENT_LIFETIME` (72 hours) ahead: the
        one named way to verify intents, whose signatures are gathered over days."""
        return self.replace(max_lifetime=INTENT_LIFETIME)

    def expiry_required(self, *, replay_protected: bool) -> bool:
        """Whether a request must carry an expiry (``require_expiry``, or its default)."""
        if self.require_expiry is None:
            return replay_protected
        return self.require_expiry

    @property
    def max_lifetime_ms(self) -> int:
        """``max_lifetime`` in whole milliseconds."""
        return to_ms(self.max_lifetime)

    @property
    def clock_skew_ms(self) -> int:
        """``clock_skew`` in whole milliseconds."""
        return to_ms(self.clock_skew)


POLICY_FIELDS = frozenset(field.name for field in dataclasses.fields(Policy))
"""The names of the policy's fields."""

DEFAULT_POLICY = Policy()
"""The strict defaults."""

INTENT_POLICY = DEFAULT_POLICY.for_intents()
"""The strict defaults, except that an expiry may lie up to 72 hours ahead (intents)."""
