"""Runs inside the cobo-waas2 SDK's own venv: reads {"ops": [...]} as JSON on stdin and
writes {"results": [...]} on stdout. Every operation uses the SDK's own code paths."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from urllib.parse import urlencode


def _signer(curve: str, secret: str):  # type: ignore[no-untyped-def]
    from cobo_waas2.crypto.local_ed25519_signer import LocalEd25519Signer
    from cobo_waas2.crypto.local_secp256k1_signer import LocalSecp256k1Signer

    return LocalEd25519Signer(secret) if curve == "ED25519" else LocalSecp256k1Signer(secret)


def op_sign(op: dict) -> dict:
    from cobo_waas2.crypto.signing_helper import SignHelper

    params = dict(op["params"]) if op.get("params") is not None else None
    body = op["body"].encode("utf-8") if op.get("body") is not None else None
    signer = _signer(op["curve"], op["secret"])
    signature, api_key = SignHelper.sign(
        signer, op["method"], op["path"], str(op["timestamp"]), params=params, body=body
    )
    digest = SignHelper._build_unsigned_digest(
        op["method"], op["path"], str(op["timestamp"]), params=params, body=body
    )
    return {
        "signature": signature,
        "api_key": api_key,
        "digest": digest.hex(),
        "query": urlencode(params or {}),
    }


def op_verify_ed25519(op: dict) -> dict:
    """The SDK's SignHelper.verify: used for responses, and Cobo's documented event check."""
    from cobo_waas2.crypto.signing_helper import SignHelper

    return {"valid": SignHelper.verify(op["public_key"], op["signature"], op["content"])}


def op_verify_secp256k1(op: dict) -> dict:
    signer = _signer("SECP256K1", op["secret"])
    with contextlib.redirect_stdout(io.StringIO()):
        valid = signer.verify(op["signature"], bytes.fromhex(op["digest"]))
    return {"valid": valid}


def op_keypair(op: dict) -> dict:
    from cobo_waas2.crypto.local_ed25519_signer import LocalEd25519Signer
    from cobo_waas2.crypto.local_secp256k1_signer import LocalSecp256k1Signer

    cls = LocalEd25519Signer if op["curve"] == "ED25519" else LocalSecp256k1Signer
    secret, public = cls.generate_key_pair()
    return {"secret": secret, "api_key": public}


def op_resp_pubkeys(op: dict) -> dict:
    import cobo_waas2

    hosts = {
        "prod": "https://api.cobo.com/v2",
        "sandbox": "https://api.sandbox.cobo.com/v2",
        "dev": "https://api.dev.cobo.com/v2",
    }
    return {env: cobo_waas2.Configuration(host=h).resp_pubkey for env, h in hosts.items()}


def op_call_api(op: dict) -> dict:
    """A real HTTP request through the SDK's ApiClient.call_api (signs, then sends)."""
    import cobo_waas2

    config = cobo_waas2.Configuration(
        api_private_key=op["secret"], host=op["host"], curve_type=op["curve"]
    )
    with cobo_waas2.ApiClient(config) as client:
        response = client.call_api(
            op["method"],
            op["host"] + op["url"],
            header_params={"Content-Type": "application/json"},
            body=op.get("body"),
        )
        response.read()
        return {"status": response.status, "data": json.loads(response.data.decode("utf-8"))}


def op_upgrade(op: dict) -> dict:
    """UpgradeToMainGroup through the SDK's generated API method (a real HTTP request)."""
    import cobo_waas2
    from cobo_waas2.api.wallets_mpc_wallets_api import WalletsMPCWalletsApi
    from cobo_waas2.models.update_key_share_holder_group_by_id_request import (
        UpdateKeyShareHolderGroupByIdRequest,
    )

    fields = {"update_key_share_holder_group_action": "UpgradeToMainGroup"}
    if op.get("handling"):
        fields["original_main_group_handling"] = op["handling"]
    config = cobo_waas2.Configuration(api_private_key=op["secret"], host=op["host"])
    with cobo_waas2.ApiClient(config) as client:
        api = WalletsMPCWalletsApi(client)
        response = api.update_key_share_holder_group_by_id_without_preload_content(
            op["vault_id"], op["group_id"], UpdateKeyShareHolderGroupByIdRequest(**fields)
        )
        data = response.read()  # not preloaded: read() returns the body
        return {"status": response.status, "data": json.loads(data.decode("utf-8"))}


def op_load_secret(op: dict) -> dict:
    """The API key the SDK derives from a secret read from a file as it is."""
    import cobo_waas2

    with open(op["path"], encoding="utf-8") as handle:
        config = cobo_waas2.Configuration(api_private_key=handle.read())
    return {"api_key": config.signer.get_public_key()}


OPS = {
    "upgrade": op_upgrade,
    "load_secret": op_load_secret,
    "sign": op_sign,
    "verify_ed25519": op_verify_ed25519,
    "verify_secp256k1": op_verify_secp256k1,
    "keypair": op_keypair,
    "resp_pubkeys": op_resp_pubkeys,
    "call_api": op_call_api,
}


def main() -> None:
    request = json.load(sys.stdin)
    results = [OPS[op["op"]](op) for op in request["ops"]]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
