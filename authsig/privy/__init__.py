"""Privy authorization signatures: ECDSA P-256 over the RFC 8785 form of the request.

The signing side is :func:`sign_request` (and its async twin); the verifying side is a
:class:`Verifier` bound to a :class:`KeyQuorum` and a :class:`~authsig.policy.Policy`, with
:func:`verify_request` as a one-call convenience and :func:`explain` for refusals. The
submodules hold the parts: ``headers``, ``payload``, ``expiry``, ``quorum``, ``verifier``
(with ``decision``: the :class:`Decision` and how it is reached), ``explain``, ``client``
(httpx/requests auth) and ``http`` (the scheme the HTTP layer runs).
"""

from __future__ import annotations

from authsig.privy.expiry import check_expiry, make_expiry
from authsig.privy.explain import Explanation, explain, explain_async
from authsig.privy.headers import (
    APP_ID_HEADER,
    EXPIRY_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    format_signature_header,
    parse_signature_header,
)
from authsig.privy.payload import signing_payload
from authsig.privy.quorum import KeyQuorum
from authsig.privy.signing import sign_request, sign_request_async
from authsig.privy.verifier import Decision, Verifier, verify_request, verify_request_async

__all__ = [
    "APP_ID_HEADER",
    "EXPIRY_HEADER",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "Decision",
    "Explanation",
    "KeyQuorum",
    "Verifier",
    "check_expiry",
    "explain",
    "explain_async",
    "format_signature_header",
    "make_expiry",
    "parse_signature_header",
    "sign_request",
    "sign_request_async",
    "signing_payload",
    "verify_request",
    "verify_request_async",
]
