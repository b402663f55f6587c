"""The key-quorum lifecycle for Privy: build, check, plan, simulate, sign and verify changes.

- :mod:`~authsig.privy.lifecycle.body`: create/update/delete requests, their bodies checked
  against the documented rules before anything is signed;
- :mod:`~authsig.privy.lifecycle.simulate`: what a set of signers approves under the
  distinct-key rule, minimal approving sets, the lockout distance;
- :mod:`~authsig.privy.lifecycle.plan`: the diff of a change and its lints;
- :mod:`~authsig.privy.lifecycle.flow`: the payload to sign, intents (72-hour expiry), the
  check against the *current* quorum, key rotation;
- :mod:`~authsig.privy.lifecycle.errors`: the typed errors.
"""

from __future__ import annotations

from authsig.privy.lifecycle.body import (
    DEFAULT_BASE_URL,
    QuorumRequest,
    create_request,
    delete_request,
    quorum_url,
    update_request,
    validate_body,
)
from authsig.privy.lifecycle.errors import (
    DisplayNameTooLongError,
    DuplicateKeyError,
    DuplicateUserError,
    EmptyQuorumError,
    LintRefusedError,
    NestingTooDeepError,
    QuorumBodyError,
    QuorumKeyError,
    SimulationTooLargeError,
    ThresholdRangeError,
    TooManyNestedQuorumsError,
    UnknownQuorumError,
    UpdateNotApprovedError,
)
from authsig.privy.lifecycle.flow import (
    expires_in_for,
    rotate_key,
    sign_change,
    update_payload,
    verify_update,
)
from authsig.privy.lifecycle.plan import KeyChange, Lint, Plan, plan_change
from authsig.privy.lifecycle.simulate import (
    Approval,
    ApprovingSet,
    Lockout,
    Simulation,
    signer_token,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Approval",
    "ApprovingSet",
    "DisplayNameTooLongError",
    "DuplicateKeyError",
    "DuplicateUserError",
    "EmptyQuorumError",
    "KeyChange",
    "Lint",
    "LintRefusedError",
    "Lockout",
    "NestingTooDeepError",
    "Plan",
    "QuorumBodyError",
    "QuorumKeyError",
    "QuorumRequest",
    "Simulation",
    "SimulationTooLargeError",
    "ThresholdRangeError",
    "TooManyNestedQuorumsError",
    "UnknownQuorumError",
    "UpdateNotApprovedError",
    "create_request",
    "delete_request",
    "expires_in_for",
    "plan_change",
    "quorum_url",
    "rotate_key",
    "sign_change",
    "signer_token",
    "update_payload",
    "update_request",
    "validate_body",
    "verify_update",
]
