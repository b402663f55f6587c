"""RFC 9421 HTTP Message Signatures, with quorums (``pip install authsig[httpsig]``).

- :func:`sign_request` / :func:`verify_request`: ``ecdsa-p256-sha256`` (raw ``r || s``) and
  ``ed25519`` signatures over covered components (:mod:`~authsig.httpsig.components` builds the
  signature base of RFC 9421 section 2.5), ``Signature-Input``/``Signature`` as RFC 9651
  dictionaries (``http-sfv``), ``Content-Digest`` (RFC 9530) checked against the body received;
- :class:`Quorum`: several labelled signatures counted against a threshold, nested, one key one
  approval;
- :class:`HttpSigScheme` and its ASGI/WSGI middleware on the shared Gate (replay by ``nonce``),
  :mod:`~authsig.httpsig.client` auth classes for httpx and requests, and
  :mod:`~authsig.httpsig.explain` (which component differed).
"""

from __future__ import annotations

from authsig.httpsig.algorithms import (
    Algorithm,
    SigningKey,
    VerifyingKey,
    algorithm_of,
    load_signing_key,
    load_verifying_key,
)
from authsig.httpsig.components import HttpMessage, component, component_value, signature_base
from authsig.httpsig.decision import HttpSigDecision
from authsig.httpsig.digest import check_content_digest, content_digest
from authsig.httpsig.errors import (
    HttpSigComponentError,
    HttpSigDigestError,
    HttpSigError,
    HttpSigFieldError,
    HttpSigKeyError,
    HttpSigQuorumError,
)
from authsig.httpsig.fields import SignatureEntry, parse_signatures
from authsig.httpsig.quorum import Quorum, satisfied
from authsig.httpsig.signing import DEFAULT_COMPONENTS, sign_request
from authsig.httpsig.verify import HttpSigChecked, KeyResolver, verify_request

__all__ = [
    "DEFAULT_COMPONENTS",
    "Algorithm",
    "HttpMessage",
    "HttpSigChecked",
    "HttpSigComponentError",
    "HttpSigDecision",
    "HttpSigDigestError",
    "HttpSigError",
    "HttpSigFieldError",
    "HttpSigKeyError",
    "HttpSigQuorumError",
    "KeyResolver",
    "Quorum",
    "SignatureEntry",
    "SigningKey",
    "VerifyingKey",
    "algorithm_of",
    "check_content_digest",
    "component",
    "component_value",
    "content_digest",
    "load_signing_key",
    "load_verifying_key",
    "parse_signatures",
    "satisfied",
    "sign_request",
    "signature_base",
    "verify_request",
]
