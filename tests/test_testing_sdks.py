"""The official Privy SDKs against authsig.testing's stand-in, served by its pytest fixture.

Each SDK runs in its own environment (tests/_interop.py) and signs with its own code path and
its own keys' text; the stand-in, under uvicorn on 127.0.0.1, decides. Scenarios per SDK: a
key quorum update that is approved, one refused for too few signatures, one refused for expiry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _interop import python_driver

from authsig._clock import now_ms
from authsig.keys import generate_private_key

if TYPE_CHECKING:  # imported by pytest_plugins below; importing it first stops its rewrite
    from authsig.testing.pytest_plugin import RunningStandIn

pytest_plugins = ["authsig.testing.pytest_plugin"]

KEYS = [generate_private_key() for _ in range(3)]
PUBLIC = [k.public_key.to_base64() for k in KEYS]
PRIVATE = [k.to_base64() for k in KEYS]
TOO_FEW = {"insufficient_correct_authorization_signatures"}


def _python_update(
    stand_in: RunningStandIn, qid: str, body: Any, keys: list[str], expiry: int | None = None
) -> dict[str, Any]:
    [result] = python_driver().run_ok(
        [
            {
                "op": "update_quorum",
                "base_url": stand_in.url,
                "app_id": stand_in.app_id,
                "quorum_id": qid,
                "body": body,
                "private_keys": keys,
                "request_expiry": expiry,
            }
        ]
    )
    return result


def test_privy_client_update_approved(privy_stand_in: RunningStandIn) -> None:
    qid = privy_stand_in.add_quorum(PUBLIC, threshold=2)
    # privy-client takes bare base64 PKCS#8 (no wallet-auth: prefix); any two of the three.
    keys = [PRIVATE[0], PRIVATE[2]]
    result = _python_update(privy_stand_in, qid, {"display_name": "treasury"}, keys)
    assert result["status"] == 200, result
    assert result["body"]["display_name"] == "treasury"
    assert privy_stand_in.quorum(qid).display_name == "treasury"


def test_privy_client_update_refused_for_too_few_signatures(
    privy_stand_in: RunningStandIn,
) -> None:
    qid = privy_stand_in.add_quorum(PUBLIC, threshold=2)
    result = _python_update(privy_stand_in, qid, {"display_name": "x"}, PRIVATE[:1])
    assert result["status"] == 401, result
    assert result["body"]["code"] in TOO_FEW
    assert privy_stand_in.quorum(qid).display_name is None


def test_privy_client_update_refused_for_expiry(privy_stand_in: RunningStandIn) -> None:
    qid = privy_stand_in.add_quorum(PUBLIC, threshold=2)
    # privy-client signs the expiry it is given; one a minute ago is past any clock skew.
    past = now_ms() - 60_000
    result = _python_update(privy_stand_in, qid, {"display_name": "x"}, PRIVATE[:2], past)
    assert result["status"] == 401, result
    assert result["body"]["code"] == "request_expired"
    assert privy_stand_in.quorum(qid).display_name is None
