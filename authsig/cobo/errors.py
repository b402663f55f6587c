"""Cobo's errors: every one an :class:`~authsig.errors.AuthSigError`, with its own stable code."""

from __future__ import annotations

from authsig.errors import AuthSigError, KeyFormatError

__all__ = [
    "CoboError",
    "CoboGroupError",
    "CoboKeyError",
    "CoboNonceError",
    "CoboRequestError",
    "CoboSignatureError",
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


class CoboSignatureError(CoboError):
    """A Cobo request or event signature is missing, malformed or does not verify."""

    code = "cobo_invalid_signature"


class CoboNonceError(CoboError):
    """A ``Biz-Api-Nonce`` or ``Biz-Timestamp`` is malformed, stale or too far in the future."""

    code = "cobo_stale_nonce"


class CoboGroupError(CoboError):
    """A key share holder group, a vault's set of groups, or a group transition is invalid."""

    code = "cobo_invalid_group"
