"""The official Privy SDKs against authsig.testing's stand-in, served by its pytest fixture.

Each SDK runs in its own environment (tests/_interop.py) and signs with its own code path and
its own keys' text; the stand-in, under uvicorn on 127.0.0.1, decides. Scenarios per SDK: a
key quorum update that is approved, one refused for too few signatures, one refused for expiry.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _interop import SdkDriver, node_driver, python_driver, server_auth_driver

from authsig._clock import now_ms
from authsig.keys import generate_private_key
from authsig.policy import Policy
from authsig.testing import PrivyStandIn
from authsig.testing.privy_wallets import FAKE_SIGNATURE_MARKER

if TYPE_CHECKING:  # imported by pytest_plugins below; importing it first stops its rewrite
    from authsig.testing.pytest_plugin import RunningStandIn

pytest_plugins = ["authsig.testing.pytest_plugin"]

STANDIN_SCRIPT = Path(__file__).resolve().parent / "interop" / "privy_standin.cjs"
KEYS = [generate_private_key() for _ in range(3)]
PUBLIC = [k.public_key.to_base64() for k in KEYS]
SDKS = ["privy-client", "@privy-io/node", "@privy-io/server-auth"]
TOO_FEW = "insufficient_correct_authorization_signatures"


def _driver(sdk: str) -> SdkDriver:
    if sdk == "privy-client":
        return python_driver()
    # The Node SDKs' environments, driven by the stand-in script (async: real HTTP calls).
    base, which = (
        (node_driver(), "node")
        if sdk == "@privy-io/node"
        else (server_auth_driver(), "server-auth")
    )
    return SdkDriver((base.argv[0], str(STANDIN_SCRIPT), base.argv[2], which), base.name,
                     base.version)  # fmt: skip


def _private(sdk: str, index: int) -> str:
    # privy-client takes bare base64 PKCS#8; the Node SDKs also take the dashboard's prefix.
    text = KEYS[index].to_base64()
    return text if sdk == "privy-client" else "wallet-auth:" + text


def update(
    sdk: str, stand_in: RunningStandIn, qid: str, keys: list[int], expiry: int | None = None
) -> dict[str, Any]:
    """A signed ``display_name`` update of quorum ``qid`` by ``sdk`` with ``keys``."""
    case = {
        "op": "update_quorum",
        "app_id": stand_in.app_id,
        "quorum_id": qid,
        "body": {"display_name": "treasury"},
        "private_keys": [_private(sdk, i) for i in keys],
        "request_expiry": expiry,
    }
    case["base_url" if sdk == "privy-client" else "url"] = stand_in.url
    [result] = _driver(sdk).run_ok([case])
    return result


@pytest.fixture
def lenient_stand_in() -> Iterator[RunningStandIn]:
    """The stand-in verifying server-auth's dialect (docs/dialects.md), with the one named
    loosening that dialect needs: it never signs an expiry, so none can be required."""
    from authsig.testing.pytest_plugin import DEFAULT_APP_ID, serve

    policy = Policy(dialect="privy-server-auth", require_expiry=False)
    app = PrivyStandIn(app_id=DEFAULT_APP_ID, policy=policy)
    with serve(app) as running:
        yield running


def _stand_in_for(sdk: str, request: pytest.FixtureRequest) -> RunningStandIn:
    name = "lenient_stand_in" if sdk == "@privy-io/server-auth" else "privy_stand_in"
    found: RunningStandIn = request.getfixturevalue(name)
    return found


@pytest.mark.parametrize("sdk", SDKS)
def test_an_update_signed_by_the_quorum_is_approved(
    sdk: str, request: pytest.FixtureRequest
) -> None:
    stand_in = _stand_in_for(sdk, request)
    qid = stand_in.add_quorum(PUBLIC, threshold=2)
    result = update(sdk, stand_in, qid, [0, 2])
    assert result["status"] == 200, result
    assert result["body"]["display_name"] == "treasury"
    assert stand_in.quorum(qid).display_name == "treasury"


@pytest.mark.parametrize("sdk", SDKS)
def test_an_update_with_too_few_signatures_is_refused(
    sdk: str, request: pytest.FixtureRequest
) -> None:
    stand_in = _stand_in_for(sdk, request)
    qid = stand_in.add_quorum(PUBLIC, threshold=2)
    result = update(sdk, stand_in, qid, [1])
    assert (result["status"], result["body"]["code"]) == (401, TOO_FEW), result
    assert stand_in.quorum(qid).display_name is None


@pytest.mark.parametrize("sdk", ["privy-client", "@privy-io/node"])
def test_an_expired_update_is_refused(sdk: str, privy_stand_in: RunningStandIn) -> None:
    qid = privy_stand_in.add_quorum(PUBLIC, threshold=2)
    # Both SDKs sign the expiry they are given; one a minute ago is past any clock skew.
    result = update(sdk, privy_stand_in, qid, [0, 1], now_ms() - 60_000)
    assert (result["status"], result["body"]["code"]) == (401, "request_expired"), result
    assert privy_stand_in.quorum(qid).display_name is None


def test_server_auth_without_an_expiry_is_refused_by_the_strict_stand_in(
    privy_stand_in: RunningStandIn,
) -> None:
    # server-auth never signs privy-request-expiry, so no expiry of its can have passed; the
    # strict stand-in (replay-protected: an expiry is required) refuses its requests instead.
    qid = privy_stand_in.add_quorum(PUBLIC, threshold=2)
    result = update("@privy-io/server-auth", privy_stand_in, qid, [0, 1])
    assert result["status"] == 401, result
    assert result["body"]["code"] == "expiry_required"
    assert privy_stand_in.quorum(qid).display_name is None


@pytest.mark.parametrize(("threshold", "status"), [(1, 200), (2, 401)])
def test_server_auth_wallet_rpc(
    threshold: int, status: int, lenient_stand_in: RunningStandIn
) -> None:
    # server-auth's walletApi (apiURL pointed at the stand-in) signs its RPC calls with the one
    # authorization key it is configured with: enough for a 1-of-2 owner, too few for 2-of-2.
    qid = lenient_stand_in.add_quorum(PUBLIC[:2], threshold=threshold)
    wid = lenient_stand_in.add_wallet(qid)
    case = {"op": "rpc", "url": lenient_stand_in.url, "app_id": lenient_stand_in.app_id,
            "wallet_id": wid, "private_key": _private("@privy-io/server-auth", 0)}  # fmt: skip
    [result] = _driver("@privy-io/server-auth").run_ok([case])
    assert result["status"] == status, result
    if status == 200:
        signature = bytes.fromhex(result["body"]["data"]["signature"][2:])
        assert signature.startswith(FAKE_SIGNATURE_MARKER)
    else:
        assert result["body"]["code"] == TOO_FEW
