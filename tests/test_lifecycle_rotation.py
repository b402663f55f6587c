"""A full key rotation on a local stand-in of Privy's key-quorum endpoint, over a real server.

The stand-in (authsig.testing.PrivyStandIn under uvicorn on 127.0.0.1) accepts an update only
when the quorum as it is *now* signed it. The walk: create a 2-of-3 quorum, rotate one key with
the CLI (quorum request -> sign --payload twice -> combine), PATCH it, then check that the old
key no longer approves and the new one does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import uvicorn_thread
from test_cli import err, keygen, out, run

from authsig.keys import load_private_key
from authsig.privy.lifecycle import (
    UpdateNotApprovedError,
    sign_change,
    update_request,
    verify_update,
)
from authsig.privy.quorum import KeyQuorum
from authsig.testing import PrivyStandIn

APP = "app-rotation"
# A request with a non-member's signature: Privy's code depends on the signatures it counted.
SIGNATURE_CODES = {
    "zero_correct_authorization_signatures",
    "insufficient_correct_authorization_signatures",
}


def _ok(proc: Any) -> str:
    assert proc.returncode == 0, (out(proc), err(proc))
    return out(proc)


@pytest.fixture
def people(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Four key holders, each with a key file from `authsig keygen`."""
    found = {}
    for name in ("alice", "bob", "carol", "dave"):
        home = tmp_path / name
        home.mkdir()
        info = keygen(home / "key")
        info["key"] = load_private_key((home / "key").read_text())
        (home / "key.pub").write_text(info["public_key"])
        found[name] = info
    return found


def _patch(base: str, qid: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.patch(
        f"{base}/v1/key_quorums/{qid}",
        content=json.dumps(body).encode(),
        headers={**headers, "content-type": "application/json"},
    )


def _signed_patch(base: str, current: KeyQuorum, body: Any, *signers: Any) -> httpx.Response:
    request = update_request(current, body, base_url=base)
    headers = sign_change(request, app_id=APP, keys=list(signers))
    assert current.id is not None
    return _patch(base, current.id, request.body, headers)


def _create(base: str, tmp_path: Path, people: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys = [f"--public-key={people[n]['public_key']}" for n in ("alice", "bob", "carol")]
    body = _ok(run("quorum", "new", *keys, "--threshold", "2", "--display-name", "treasury"))
    created = httpx.post(
        f"{base}/v1/key_quorums",
        content=body.encode(),
        headers={"privy-app-id": APP, "content-type": "application/json"},
    )
    assert created.status_code == 200, created.text
    answer: dict[str, Any] = created.json()
    assert answer["authorization_threshold"] == 2
    assert len(answer["authorization_keys"]) == 3
    return answer


def _rotate_with_cli(
    base: str, tmp_path: Path, people: dict[str, dict[str, Any]], current: Path
) -> dict[str, str]:
    """prepare -> sign x2 -> combine; returns the combined headers."""
    payload = tmp_path / "rotate.payload"
    rotate = f"{people['alice']['key_id']}={people['dave']['public_key']}"
    proc = run(
        "quorum", "request", "--current", str(current), "--rotate", rotate,
        "--app-id", APP, "--base-url", base, "--expires-in", "30m", "--out", str(payload),
    )  # fmt: skip
    _ok(proc)
    shown = err(proc)  # the plan comes first
    assert f"- key {people['alice']['key_id']}" in shown
    assert f"+ key {people['dave']['key_id']}" in shown
    assert "threshold: 2 -> 2 of 3" in shown
    signatures = []
    for name in ("bob", "carol"):  # each on their own, over the exact bytes
        sig = tmp_path / name / "rotate.sig"
        sig.write_text(
            _ok(run("sign", "--payload", str(payload), "--key", people[name]["key_file"]))
        )
        signatures.append(str(sig))
    combined = _ok(
        run("combine", "--payload", str(payload), *signatures, "--quorum", str(current), "--json")
    )
    headers: dict[str, str] = json.loads(combined)
    return headers


def test_a_key_rotation_walks_through_the_multi_party_flow(
    tmp_path: Path, people: dict[str, dict[str, Any]]
) -> None:
    for info in people.values():
        info["key_file"] = str(Path(info["private_key_file"]))
    stand_in = PrivyStandIn(app_id=APP)
    with uvicorn_thread(stand_in) as base:
        answer = _create(base, tmp_path, people)
        qid = answer["id"]
        current_file = tmp_path / "current.json"
        current_file.write_text(json.dumps(answer))
        before = KeyQuorum.from_privy(answer)
        alice, bob, carol, dave = (people[n]["key"] for n in ("alice", "bob", "carol", "dave"))

        # The new quorum's keys cannot approve the change: the current quorum must.
        rotate_body = update_request(
            before, {"public_keys": [p.public_key.to_base64() for p in (dave, bob, carol)]}
        ).body
        refused = _signed_patch(base, before, rotate_body, dave, bob)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] in SIGNATURE_CODES
        alone = _signed_patch(base, before, rotate_body, bob)  # 1 of 2
        assert alone.status_code == 401
        assert alone.json()["code"] == "insufficient_correct_authorization_signatures"
        outsider = _signed_patch(base, before, rotate_body, dave)
        assert outsider.json()["code"] == "zero_correct_authorization_signatures"

        headers = _rotate_with_cli(base, tmp_path, people, current_file)
        payload = json.loads((tmp_path / "rotate.payload").read_bytes())
        # authsig's verifier approves the combined request against the current quorum first.
        request = update_request(before, payload["body"], base_url=base)
        assert verify_update(request, headers).approved
        done = _patch(base, qid, payload["body"], headers)
        assert done.status_code == 200, done.text
        assert done.json()["authorization_threshold"] == 2
        replayed = _patch(base, qid, payload["body"], headers)
        assert replayed.status_code == 409  # the same signed change is accepted once

        after = KeyQuorum.from_privy(httpx.get(f"{base}/v1/key_quorums/{qid}",
                                               headers={"privy-app-id": APP}).json())  # fmt: skip
        assert {k.key_id for k in after.public_keys} == {
            people[n]["key_id"] for n in ("dave", "bob", "carol")
        }
        rename = {"display_name": "treasury v2"}
        old = _signed_patch(base, after, rename, alice, bob)  # the old key no longer approves
        assert old.status_code == 401, old.text
        request = update_request(after, rename, base_url=base)
        headers = sign_change(request, app_id=APP, keys=[alice, bob])
        with pytest.raises(UpdateNotApprovedError):
            verify_update(request, headers)
        new = _signed_patch(base, after, rename, dave, bob)  # and the new one does
        assert new.status_code == 200, new.text
        assert new.json()["display_name"] == "treasury v2"
