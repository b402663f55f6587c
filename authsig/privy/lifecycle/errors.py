"""The errors of the key-quorum lifecycle: a request body that breaks Privy's documented rules,
a change the lints refuse, and an update the current quorum did not approve.

Every body error carries ``path``, a JSON Pointer (RFC 6901) to the offending value of the
request body (``""`` is the body itself), so that a tool can point at the field to change. They
are :class:`~authsig.errors.QuorumError` subclasses: code that catches invalid quorums catches
invalid quorum bodies too. None of them is an HTTP refusal of a signed request, so none is a
:class:`~authsig.reasons.Reason`.
"""

from __future__ import annotations

from typing import Any

from authsig.errors import AuthSigError, QuorumError

__all__ = [
    "DisplayNameTooLongError",
    "DuplicateKeyError",
    "DuplicateUserError",
    "EmptyQuorumError",
    "LintRefusedError",
    "NestingTooDeepError",
    "QuorumBodyError",
    "QuorumKeyError",
    "SimulationTooLargeError",
    "ThresholdRangeError",
    "TooManyNestedQuorumsError",
    "UnknownQuorumError",
    "UpdateNotApprovedError",
]


class QuorumBodyError(QuorumError):
    """A create/update body breaks a documented rule; also its shape (not an object, a field of
    the wrong type, a field the API does not take). ``path`` points at the value."""

    code = "invalid_quorum_body"

    def __init__(self, message: str, *, path: str = "") -> None:
        shown = path if path else "(body)"
        super().__init__(f"{shown}: {message}")
        self.path = path


class QuorumKeyError(QuorumBodyError):
    """An entry of ``public_keys`` is not a P-256 public key in base64 SPKI DER."""

    code = "quorum_key_invalid"


class DuplicateKeyError(QuorumBodyError):
    """``public_keys`` lists one key twice (the same key in two encodings is one key)."""

    code = "quorum_key_duplicate"


class DuplicateUserError(QuorumBodyError):
    """``user_ids`` lists one user twice."""

    code = "quorum_user_duplicate"


class EmptyQuorumError(QuorumBodyError):
    """The quorum would have no member at all."""

    code = "quorum_empty"


class ThresholdRangeError(QuorumBodyError):
    """``authorization_threshold`` is below 1 or above the member count."""

    code = "quorum_threshold_out_of_range"


class DisplayNameTooLongError(QuorumBodyError):
    """``display_name`` is longer than 50 characters."""

    code = "quorum_display_name_too_long"


class TooManyNestedQuorumsError(QuorumBodyError):
    """``key_quorum_ids`` has more than 5 entries."""

    code = "quorum_too_many_nested"


class NestingTooDeepError(QuorumBodyError):
    """Nesting would go deeper than one level (a nested quorum that holds quorums, a quorum
    nested in itself, or quorums added to a quorum that is itself nested)."""

    code = "quorum_nesting_too_deep"


class UnknownQuorumError(QuorumBodyError):
    """``key_quorum_ids`` names a quorum the caller did not describe: its nesting and members
    cannot be checked, so nothing is signed."""

    code = "quorum_unknown_nested"


class LintRefusedError(AuthSigError):
    """A planned change failed a lint that refuses (lockout, a single person's keys meeting the
    threshold, overlapping members); ``lints`` holds them. Forcing the change is explicit."""

    code = "quorum_change_refused"

    def __init__(self, message: str, *, lints: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.lints = lints


class UpdateNotApprovedError(AuthSigError):
    """A combined update request is not approved by the quorum as it is now (before the
    change); ``decision`` is the verifier's refusal."""

    code = "update_not_approved"


class SimulationTooLargeError(AuthSigError):
    """The quorum has too many signers for an exhaustive simulation within its budget."""

    code = "simulation_too_large"
