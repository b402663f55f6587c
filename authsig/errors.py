"""The one error hierarchy of authsig.

Every failure that authsig raises because of bad input is an :class:`AuthSigError`.
Each class carries a stable machine-readable ``code`` (a reason code shared with
:class:`authsig.privy.verifier.Decision` and the HTTP problem documents of the middleware).
Messages never contain private key material.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthSigError",
    "KeyFormatError",
    "WrongCurveError",
    "EncryptedKeyError",
    "WrongPassphraseError",
    "CanonicalizationError",
    "PayloadError",
    "InvalidBodyError",
    "MissingHeaderError",
    "ForwardedHeaderError",
    "SignatureFormatError",
    "SignatureHeaderError",
    "HeaderTooLargeError",
    "EmptySignatureEntryError",
    "DuplicateSignatureError",
    "ExpiryError",
    "ExpiryFormatError",
    "ExpiryInSecondsError",
    "ExpiredError",
    "ExpiryTooFarError",
    "ExpiryRequiredError",
    "SignerError",
    "QuorumError",
    "UserResolutionError",
    "ReplayError",
    "ReplayDetectedError",
    "ReplayStoreUnavailableError",
    "ReplayQuotaExceededError",
]


class AuthSigError(Exception):
    """Root of every error authsig raises on bad input or a refused operation."""

    code: str = "authsig_error"
    decision: Any = None
    """The refusal decision this error was raised for (``Decision.raise_for_refusal``), if any."""

    def __init__(self, message: str) -> None:
        # One stable code per class: an instance never carries another (the refusal's precise
        # reason, where it differs, travels on ``decision``).
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- keys -------------------------------------------------------------------------------


class KeyFormatError(AuthSigError):
    """A key could not be loaded: bad base64, bad DER/PEM/JWK, or an unsupported key type."""

    code = "invalid_key"


class WrongCurveError(KeyFormatError):
    """The key is an elliptic-curve key, but not on the curve this scheme requires."""

    code = "wrong_curve"


class EncryptedKeyError(KeyFormatError):
    """The private key is encrypted and no passphrase was given for it."""

    code = "passphrase_required"


class WrongPassphraseError(KeyFormatError):
    """The passphrase does not decrypt the encrypted private key (or the key is damaged)."""

    code = "wrong_passphrase"


# --- canonicalization and payload --------------------------------------------------------


class CanonicalizationError(AuthSigError):
    """A value cannot be canonicalized (NaN, Infinity, lone surrogate, non-string key, ...).

    ``path`` is a JSON Pointer (RFC 6901) to the offending value; ``""`` is the root.
    """

    code = "not_canonicalizable"

    def __init__(self, message: str, *, path: str = "") -> None:
        shown = path if path else "(root)"
        super().__init__(f"{message} at {shown}")
        self.path = path


class PayloadError(AuthSigError):
    """The request parts cannot form a signing payload."""

    code = "invalid_payload"


class InvalidBodyError(PayloadError):
    """The request body is not valid JSON (or uses a construct authsig refuses)."""

    code = "invalid_body"


class MissingHeaderError(PayloadError):
    """A header the payload needs (``privy-app-id``) is missing."""

    code = "missing_header"


# --- signatures and the signature header -------------------------------------------------


class SignatureFormatError(AuthSigError):
    """A signature is not strict base64 of a DER (or 64-byte raw) ECDSA signature."""

    code = "malformed_signature"


class SignatureHeaderError(AuthSigError):
    """The ``privy-authorization-signature`` header is malformed."""

    code = "malformed_signature_header"


class HeaderTooLargeError(SignatureHeaderError):
    """The signature header exceeds the configured count or length limit."""

    code = "signature_header_too_large"


class EmptySignatureEntryError(SignatureHeaderError):
    """The signature header has an empty entry (``a,,b``, a trailing comma, or nothing)."""

    code = "empty_signature_entry"


class DuplicateSignatureError(SignatureHeaderError):
    """The same signature appears twice in the header."""

    code = "duplicate_signature"


class ForwardedHeaderError(PayloadError):
    """A forwarding header written (or posing as written) by a trusted proxy is malformed."""

    code = "malformed_forwarded"


# --- expiry ------------------------------------------------------------------------------


class ExpiryError(AuthSigError):
    """The request expiry is missing, malformed, expired or too far ahead."""

    code = "invalid_expiry"


class ExpiryFormatError(ExpiryError):
    """The expiry is not a plain decimal count of milliseconds since the epoch."""

    code = "malformed_expiry"


class ExpiryInSecondsError(ExpiryFormatError):
    """The expiry looks like seconds since the epoch; Privy wants milliseconds."""

    code = "expiry_in_seconds"


class ExpiredError(ExpiryError):
    """The request expiry lies in the past (beyond the allowed clock skew)."""

    code = "expired"


class ExpiryTooFarError(ExpiryError):
    """The request expiry lies further ahead than the maximum request lifetime."""

    code = "expiry_too_far"


class ExpiryRequiredError(ExpiryError):
    """The verifier requires ``privy-request-expiry`` and the request has none."""

    code = "expiry_required"


# --- signing with external signers -------------------------------------------------------


class SignerError(AuthSigError):
    """A signer callable (KMS/HSM) failed or returned something that is not a signature."""

    code = "signer_failed"


# --- quorums -----------------------------------------------------------------------------


class QuorumError(AuthSigError):
    """A key quorum definition is invalid (threshold, nesting, duplicates, unknown ids)."""

    code = "invalid_quorum"


class UserResolutionError(AuthSigError):
    """The application's user-key resolver failed or returned something unusable."""

    code = "user_resolution_failed"


# --- replay ------------------------------------------------------------------------------


class ReplayError(AuthSigError):
    """Base class of replay-protection failures."""

    code = "replay_error"


class ReplayDetectedError(ReplayError):
    """The request was already seen inside its expiry window."""

    code = "replayed"


class ReplayStoreUnavailableError(ReplayError):
    """The replay store is full or unreachable; authsig fails closed."""

    code = "replay_store_unavailable"


class ReplayQuotaExceededError(ReplayError):
    """One tenant (a quorum, an API key) holds its whole share of the replay store.

    Its own requests are refused until some of its entries expire; other tenants are not
    affected. Distinct from :class:`ReplayStoreUnavailableError` (the whole store is full or
    unreachable), because the cause and the remedy lie with the tenant.
    """

    code = "replay_quota_exceeded"
