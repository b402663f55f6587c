"""authsig: signing keys and authorization signatures, verified against quorums.

One screen of names; everything else lives in a package per concern:

- keys and canonicalization (the scheme-neutral core): :class:`PrivateKey`,
  :class:`PublicKey`, :func:`generate_private_key`, :func:`load_private_key`,
  :func:`load_public_key`, :func:`canonicalize`; errors in :mod:`authsig.errors`;
- Privy key quorums, the first scheme: :mod:`authsig.privy`. Its everyday names are repeated
  here: :func:`sign_request`, :class:`KeyQuorum`, :class:`Verifier`, :func:`verify_request`,
  :class:`Decision`, :func:`explain`;
- verification options as one value: :class:`Policy`;
- Cobo WaaS 2.0: :mod:`authsig.cobo`;
- servers: :mod:`authsig.asgi`, :mod:`authsig.wsgi` (on the scheme-neutral :mod:`authsig.http`),
  replay stores in :mod:`authsig.replay`; clients: :mod:`authsig.privy.client`;
- the ``authsig`` command: :mod:`authsig.cli`.
"""

from __future__ import annotations

from authsig import privy
from authsig.errors import AuthSigError
from authsig.jcs import canonicalize
from authsig.keys import (
    PrivateKey,
    PublicKey,
    generate_private_key,
    load_private_key,
    load_public_key,
)
from authsig.policy import Policy
from authsig.privy import (
    Decision,
    KeyQuorum,
    Verifier,
    explain,
    sign_request,
    sign_request_async,
    verify_request,
    verify_request_async,
)

__version__ = "0.2.0.dev0"

__all__ = [
    "AuthSigError",
    "Decision",
    "KeyQuorum",
    "Policy",
    "PrivateKey",
    "PublicKey",
    "Verifier",
    "__version__",
    "canonicalize",
    "explain",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "privy",
    "sign_request",
    "sign_request_async",
    "verify_request",
    "verify_request_async",
]
