"""Cobo's errors: every one an :class:`~authsig.errors.AuthSigError`, with its own stable code."""

from __future__ import annotations

from authsig.errors import AuthSigError, KeyFormatError

__all__ = [
    "CoboError",
    "CoboGroupError",
    "CoboGroupNotFoundError",
    "CoboGroupNotValidError",
    "CoboHolderMissingError",
    "CoboKeyError",
    "CoboNonceError",
    "CoboNotSigningGroupError",
    "CoboRedirectError",
    "CoboRequestError",
    "CoboSignatureError",
    "CoboThresholdUnreachableError",
]


class CoboError(AuthSigError):
    """Base class of Cobo WaaS 2.0 signature and group errors (see ``authsig.cobo``)."""

    code = "cobo_error"


class CoboKeyError(CoboError, KeyFormatError):
    """A Cobo API secret or API key cannot be loaded (bad hex, wrong length, not on the curve)."""

    code = "cobo_invalid_key"


class CoboRequestError(CoboError):
    """The parts of a request to sign or verify are unusable (path, method, query, body type)."""

    code = "cobo_invalid_request"


class CoboRedirectError(CoboRequestError):
    """A signed request was redirected to another origin with its ``Biz-Api-*`` headers."""

    code = "cobo_cross_origin_redirect"


class CoboSignatureError(CoboError):
    """A Cobo request or event signature is missing, malformed or does not verify."""

    code = "cobo_invalid_signature"


class CoboNonceError(CoboError):
    """A ``Biz-Api-Nonce`` or ``Biz-Timestamp`` is malformed, stale or too far in the future."""

    code = "cobo_stale_nonce"


class CoboGroupError(CoboError):
    """A key share holder group, a vault's set of groups, or a group transition is invalid."""

    code = "cobo_invalid_group"


# The transitions UpgradeToMainGroup refuses, one class (and code) each, so that a plan's
# refusals can be told apart by code.


class CoboGroupNotFoundError(CoboGroupError):
    """The group to upgrade is not one of the vault's groups."""

    code = "cobo_group_not_found"


class CoboNotSigningGroupError(CoboGroupError):
    """Only a Signing Group can become the Main Group (not a Main or Recovery Group)."""

    code = "cobo_not_signing_group"


class CoboGroupNotValidError(CoboGroupError):
    """Only a group whose status is Valid can become the Main Group (not New or Unavailable)."""

    code = "cobo_group_not_valid"


class CoboThresholdUnreachableError(CoboGroupError):
    """The group's Valid signer holders cannot reach its threshold: as Main it approves nothing."""

    code = "cobo_threshold_unreachable"


class CoboHolderMissingError(CoboGroupError):
    """The group lists all its holders and none is Cobo's (Cobo adds its own to Main and
    Signing Groups)."""

    code = "cobo_holder_missing"
