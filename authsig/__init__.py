"""authsig: P-256 signing keys and authorization signatures (Privy key quorums, Cobo WaaS 2.0).

The names here are the pure core: keys, RFC 8785 canonicalization, the signing payload,
signatures, the signature header, expiry, quorums and the verifier. Adapters live in their own
modules: :mod:`authsig.asgi`, :mod:`authsig.wsgi`, :mod:`authsig.client`, :mod:`authsig.replay`,
:mod:`authsig.cobo`, and the ``authsig`` command (:mod:`authsig.cli`).
"""

from __future__ import annotations

from authsig.errors import (
    AuthSigError,
    CanonicalizationError,
    DuplicateSignatureError,
    EmptySignatureEntryError,
    ExpiredError,
    ExpiryError,
    ExpiryFormatError,
    ExpiryInSecondsError,
    ExpiryRequiredError,
    ExpiryTooFarError,
    HeaderTooLargeError,
    InvalidBodyError,
    KeyFormatError,
    MissingHeaderError,
    PayloadError,
    QuorumError,
    ReplayDetectedError,
    ReplayError,
    ReplayStoreUnavailableError,
    SignatureFormatError,
    SignatureHeaderError,
    SignerError,
    UserResolutionError,
    WrongCurveError,
)
from authsig.expiry import check_expiry, make_expiry
from authsig.explain import Explanation, explain
from authsig.headers import format_signature_header, parse_signature_header
from authsig.jcs import canonicalize
from authsig.keys import (
    PrivateKey,
    PublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
)
from authsig.payload import signing_payload
from authsig.quorum import KeyQuorum
from authsig.signatures import (
    der_to_raw,
    raw_to_der,
    sign,
    verify_raw_signature,
    verify_signature,
)
from authsig.signing import sign_request, sign_request_async
from authsig.verifier import Decision, verify_request, verify_request_async

__version__ = "0.1.0"

__all__ = [
    # keys
    "PrivateKey",
    "PublicKey",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    # canonicalization and payload
    "canonicalize",
    "signing_payload",
    # signatures and the header
    "sign",
    "verify_signature",
    "verify_raw_signature",
    "der_to_raw",
    "raw_to_der",
    "format_signature_header",
    "parse_signature_header",
    # expiry
    "make_expiry",
    "check_expiry",
    # signing requests
    "sign_request",
    "sign_request_async",
    # quorums and verification
    "KeyQuorum",
    "Decision",
    "verify_request",
    "verify_request_async",
    "Explanation",
    "explain",
    # errors
    "AuthSigError",
    "KeyFormatError",
    "WrongCurveError",
    "CanonicalizationError",
    "PayloadError",
    "InvalidBodyError",
    "MissingHeaderError",
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
    "__version__",
]
