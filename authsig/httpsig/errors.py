"""RFC 9421 errors and reason codes: every error an :class:`~authsig.errors.AuthSigError` with
its own stable code, and the refusal reasons this scheme adds to :class:`~authsig.reasons.Reason`
(registered here, from the scheme's own package: the HTTP layer only looks them up)."""

from __future__ import annotations

from authsig.errors import AuthSigError, KeyFormatError
from authsig.reasons import Reason

__all__ = [
    "HttpSigComponentError",
    "HttpSigDigestError",
    "HttpSigError",
    "HttpSigFieldError",
    "HttpSigKeyError",
    "HttpSigQuorumError",
]


class HttpSigError(AuthSigError):
    """Base class of RFC 9421 (HTTP Message Signatures) errors (see ``authsig.httpsig``)."""

    code = "httpsig_error"


class HttpSigFieldError(HttpSigError):
    """``Signature-Input`` or ``Signature`` is not the structured field RFC 9421 defines."""

    code = "httpsig_malformed_field"


class HttpSigComponentError(HttpSigError):
    """A covered component cannot be built from the message (absent, unsupported, not ASCII)."""

    code = "httpsig_missing_component"


class HttpSigDigestError(HttpSigError):
    """A ``Content-Digest`` field is malformed or names no algorithm authsig accepts."""

    code = "httpsig_malformed_digest"


class HttpSigKeyError(HttpSigError, KeyFormatError):
    """A key cannot be used with RFC 9421 (not P-256 or Ed25519, or unreadable)."""

    code = "httpsig_invalid_key"


class HttpSigQuorumError(HttpSigError):
    """A quorum definition is unusable (threshold out of range, no members, too deep)."""

    code = "httpsig_invalid_quorum"


# Reasons the shared table lacks. Statuses follow the table's rule: 400 when the request cannot
# be read as a signed request, 401 when its signatures, digest or freshness fail.
_REASONS = (
    (
        "httpsig_malformed_field",
        400,
        "Malformed signature field",
        "Signature-Input or Signature is not a valid RFC 9421 structured field.",
    ),
    (
        "httpsig_missing_component",
        400,
        "Covered component missing",
        "A component the signature covers is absent from the request or cannot be signed.",
    ),
    (
        "httpsig_malformed_digest",
        400,
        "Malformed Content-Digest",
        "The Content-Digest field is malformed or uses no accepted algorithm (sha-256, sha-512).",
    ),
    (
        "httpsig_digest_mismatch",
        401,
        "Content digest mismatch",
        "The body does not match its Content-Digest; send the body that was signed.",
    ),
    (
        "httpsig_digest_not_covered",
        401,
        "Body not signed",
        "The request has a body, but a signature does not cover its content-digest.",
    ),
    (
        "httpsig_unknown_key",
        401,
        "Unknown key",
        "A signature names a keyid this server does not accept.",
    ),
    (
        "httpsig_unsupported_algorithm",
        401,
        "Unsupported algorithm",
        "A signature uses an algorithm that does not match its key or is not supported.",
    ),
    (
        "httpsig_not_yet_valid",
        401,
        "Signature created in the future",
        "A signature's created time is ahead of the server's clock; check the signer's clock.",
    ),
    (
        "httpsig_created_required",
        401,
        "Creation time required",
        "Every signature must carry a created parameter.",
    ),
    (
        "httpsig_too_old",
        401,
        "Signature too old",
        "A signature was created too long ago; sign the request again.",
    ),
    (
        "httpsig_nonce_required",
        401,
        "Nonce required",
        "Every signature must carry the same nonce parameter, new for each request.",
    ),
    (
        "httpsig_nonce_mismatch",
        401,
        "Nonces differ",
        "The signatures of one request must carry the same nonce.",
    ),
)

for _row in _REASONS:
    Reason.register(*_row)
