"""Turnkey's errors, each an :class:`~authsig.errors.AuthSigError` with its own stable code, and
the reasons the HTTP layer answers them with (registered here, not in the HTTP layer)."""

from __future__ import annotations

from authsig.errors import AuthSigError, KeyFormatError
from authsig.reasons import Reason

__all__ = [
    "TurnkeyApprovalError",
    "TurnkeyError",
    "TurnkeyKeyError",
    "TurnkeySchemeError",
    "TurnkeySignatureError",
    "TurnkeyStampError",
    "TurnkeyTimestampError",
    "TurnkeyUnknownKeyError",
]


class TurnkeyError(AuthSigError):
    """Base class of Turnkey stamp and approval errors (see ``authsig.turnkey``)."""

    code = "turnkey_error"


class TurnkeyStampError(TurnkeyError):
    """An ``X-Stamp`` value is not base64url (unpadded) of a JSON object with exactly the
    string members ``publicKey``, ``scheme`` and ``signature``."""

    code = "turnkey_malformed_stamp"


class TurnkeyKeyError(TurnkeyError, KeyFormatError):
    """A stamp's public key (or a key given to authsig) is not a valid key of its scheme:
    not lower-case hex, not a compressed point, not on the curve."""

    code = "turnkey_invalid_key"


class TurnkeySchemeError(TurnkeyError):
    """A stamp names a signature scheme authsig does not verify (or the endpoint refuses)."""

    code = "turnkey_unsupported_scheme"


class TurnkeySignatureError(TurnkeyError):
    """A stamp's signature is malformed (not lower-case hex of a strict DER ECDSA signature, or
    of a 64-byte Ed25519 signature) or does not verify over the body."""

    code = "turnkey_invalid_signature"


class TurnkeyApprovalError(TurnkeyError):
    """A stamped body is not usable as an approval of the activity (not JSON, wrong activity
    type, another fingerprint or organization)."""

    code = "turnkey_invalid_approval"


class TurnkeyUnknownKeyError(TurnkeyError):
    """A valid stamp by a key this check does not accept (no user of the quorum holds it)."""

    code = "unknown_api_key"


class TurnkeyTimestampError(TurnkeyError):
    """A stamped body has no usable ``timestampMs``, or it lies outside the accepted window."""

    code = "turnkey_stale_timestamp"


_ROWS: tuple[tuple[str, int, str, str], ...] = (
    (
        "turnkey_malformed_stamp",
        401,
        "Malformed stamp",
        "The X-Stamp header is not unpadded base64url of the stamp's JSON object.",
    ),
    (
        "turnkey_invalid_key",
        401,
        "Invalid stamp key",
        "The stamp's public key is not a valid key of its signature scheme.",
    ),
    (
        "turnkey_unsupported_scheme",
        401,
        "Unsupported stamp scheme",
        "The stamp's signature scheme is not accepted here.",
    ),
    (
        "turnkey_invalid_signature",
        401,
        "Invalid stamp",
        "The stamp's signature does not verify over the body as received; stamp the exact "
        "bytes you send.",
    ),
    (
        "turnkey_invalid_approval",
        400,
        "Invalid approval",
        "The stamped body is not an approval of the activity this endpoint expects.",
    ),
    (
        "turnkey_stale_timestamp",
        401,
        "Stale stamped body",
        "The body's timestampMs is missing, malformed or outside the accepted window; stamp "
        "a body with the current time.",
    ),
)

for _row in _ROWS:
    Reason.register(*_row)
del _row
