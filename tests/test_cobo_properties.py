"""Property tests: any signed request verifies; any change to what travels is refused."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.cobo import (
    encode_query,
    load_api_secret,
    sign_event,
    sign_request,
    verify_event,
    verify_request,
)

KEY = load_api_secret("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
NOW = 1_795_519_976_869

methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
paths = st.lists(
    st.text(st.characters(codec="ascii", exclude_characters="/?#"), min_size=1, max_size=8),
    max_size=4,
).map(lambda parts: "/v2/" + "/".join(parts))
queries = st.lists(
    st.tuples(st.text(max_size=6), st.text(max_size=10)), max_size=4
)  # encoded like the SDK
bodies = st.one_of(st.none(), st.text(max_size=200))


@settings(max_examples=150, deadline=None)
@given(methods, paths, queries, bodies, st.integers(0, 5), st.data())
def test_round_trip_and_tamper(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    body: str | None,
    which: int,
    data: st.DataObject,
) -> None:
    headers = sign_request(KEY, method=method, path=path, query=query, body=body, nonce_ms=NOW)
    sent_query = encode_query(query)
    sent_body = (body or "").encode("utf-8")
    common: dict[str, Any] = {
        "api_keys": [KEY.api_key],
        "now_ms": NOW,
        "accept_sdk_empty_object": False,
    }
    ok = verify_request(
        headers, method=method, path=path, query=sent_query, body=sent_body, **common
    )
    assert ok.approved
    # Change exactly one part of what travels.
    parts = {"method": method, "path": path, "query": sent_query, "body": sent_body}
    if which == 0:
        parts["method"] = "OPTIONS" if method != "OPTIONS" else "GET"
    elif which == 1:
        parts["path"] = path + "x"
    elif which == 2:
        parts["query"] = sent_query + "&z=1"
    elif which == 3:
        parts["body"] = sent_body + b" "
    elif which == 4:
        headers = {**headers, "Biz-Api-Nonce": str(NOW + 1)}
    else:
        sig = bytearray(bytes.fromhex(headers["Biz-Api-Signature"]))
        index = data.draw(st.integers(0, 63))
        sig[index] ^= 1 << data.draw(st.integers(0, 7))
        headers = {**headers, "Biz-Api-Signature": sig.hex()}
    bad = verify_request(headers, **parts, **common)  # type: ignore[arg-type]
    assert not bad.approved
    assert bad.reason == "invalid_signature"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 299))
def test_event_round_trip_and_tamper(body: bytes, index: int) -> None:
    headers = sign_event(body, KEY, timestamp_ms=NOW)
    assert verify_event(body, headers, public_key=KEY.api_key, now_ms=NOW).approved
    changed = bytearray(body + b"!")
    changed[index % len(changed)] ^= 0x20
    assert verify_event(bytes(changed), headers, public_key=KEY.api_key, now_ms=NOW).reason == (
        "invalid_signature"
    )
