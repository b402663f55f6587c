"""Cobo WaaS 2.0: Ed25519 (and secp256k1) request signatures, Cobo's event signatures, and
key share holder groups.

- :func:`sign_request` / :func:`verify_request`: ``Biz-Api-Key``, ``Biz-Api-Nonce``,
  ``Biz-Api-Signature`` over ``METHOD|PATH|NONCE|PARAMS|BODY`` (double SHA-256), identical to
  the official ``cobo-waas2`` SDK.
- :func:`verify_event` / :func:`sign_event`: ``Biz-Timestamp`` and ``Biz-Resp-Signature`` on
  webhooks, callbacks and API responses, with Cobo's published keys built in.
- :class:`CoboEventASGIMiddleware` / :class:`CoboEventWSGIMiddleware`: refuse unsigned, forged
  or replayed events before the handler runs; :class:`CoboRequestASGIMiddleware` /
  :class:`CoboRequestWSGIMiddleware` do the same for requests signed with Cobo's request scheme.
- :class:`KeyShareHolderGroup`, :func:`validate_vault_groups`, :func:`upgrade_to_main_group`.
- :func:`plan_upgrade`, :func:`upgrade_request`, :func:`sign_upgrade_request`: the
  ``UpgradeToMainGroup`` call, planned (refusing invalid transitions) and signed.
- :func:`explain_request` / :func:`explain_event`: why a signature is refused.
- ``authsig.cobo.client`` (imported on its own: it needs httpx or requests): ``CoboAuth``,
  ``CoboRequestsAuth``.
"""

from __future__ import annotations

from authsig.cobo.decision import CoboDecision, ReplayStoreLike
from authsig.cobo.events import (
    COBO_EVENT_PUBLIC_KEYS,
    DEFAULT_EVENT_TOLERANCE_MS,
    RESP_SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    event_digest,
    sign_event,
    verify_event,
)
from authsig.cobo.explain import CoboExplanation, explain_event, explain_request
from authsig.cobo.groups import (
    KeyShareHolder,
    KeyShareHolderGroup,
    TssKeyShareGroup,
    VaultUpgrade,
    main_group,
    upgrade_to_main_group,
    validate_vault_groups,
)
from authsig.cobo.keys import (
    CoboPrivateKey,
    CoboPublicKey,
    ed25519_verify,
    generate_api_key_pair,
    generate_api_secret,
    load_api_key,
    load_api_secret,
)
from authsig.cobo.middleware import (
    CoboEventASGIMiddleware,
    CoboEventWSGIMiddleware,
    CoboRequestASGIMiddleware,
    CoboRequestWSGIMiddleware,
)
from authsig.cobo.signing import (
    API_KEY_HEADER,
    DEFAULT_NONCE_WINDOW_MS,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    encode_query,
    request_digest,
    sdk_json_body,
    sign_request,
    string_to_sign,
    verify_request,
)
from authsig.cobo.upgrade import (
    UpgradePlan,
    UpgradeRequest,
    load_vault_groups,
    plan_upgrade,
    sign_upgrade_request,
    upgrade_request,
)

__all__ = [
    "API_KEY_HEADER",
    "COBO_EVENT_PUBLIC_KEYS",
    "DEFAULT_EVENT_TOLERANCE_MS",
    "DEFAULT_NONCE_WINDOW_MS",
    "NONCE_HEADER",
    "RESP_SIGNATURE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CoboDecision",
    "CoboExplanation",
    "CoboEventASGIMiddleware",
    "CoboEventWSGIMiddleware",
    "CoboRequestASGIMiddleware",
    "CoboRequestWSGIMiddleware",
    "CoboPrivateKey",
    "CoboPublicKey",
    "KeyShareHolder",
    "KeyShareHolderGroup",
    "ReplayStoreLike",
    "TssKeyShareGroup",
    "UpgradePlan",
    "UpgradeRequest",
    "VaultUpgrade",
    "ed25519_verify",
    "encode_query",
    "event_digest",
    "explain_event",
    "explain_request",
    "generate_api_key_pair",
    "generate_api_secret",
    "load_api_key",
    "load_api_secret",
    "load_vault_groups",
    "main_group",
    "plan_upgrade",
    "request_digest",
    "sdk_json_body",
    "sign_event",
    "sign_request",
    "sign_upgrade_request",
    "string_to_sign",
    "upgrade_request",
    "upgrade_to_main_group",
    "validate_vault_groups",
    "verify_event",
    "verify_request",
]
