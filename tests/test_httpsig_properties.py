"""Properties of RFC 9421 signing and verification over generated requests: what authsig signs
it verifies, whatever the components; a change to a covered component or to the body is
refused."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from authsig.httpsig import HttpMessage, sign_request, verify_request
from authsig.keys import generate_private_key

KEY = generate_private_key()
NOW = 1_800_000_000
_SAFE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="%#?/"),
    min_size=1,
    max_size=12,
)
_VALUE = (
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    path = "/" + "/".join(draw(st.lists(_SAFE.filter(lambda s: s not in {".", ".."}), max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(st.lists(st.tuples(_SAFE, _SAFE), max_size=3)))
    host = draw(st.sampled_from(["api.example.com", "h.example:8443", "127.0.0.1:8000"]))
    names = draw(st.lists(st.sampled_from(["x-a", "x-b", "date", "accept"]), unique=True))
    return {
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])),
        "url": f"https://{host}{path}" + (f"?{query}" if query else ""),
        "headers": [(name, draw(_VALUE)) for name in names],
        "body": draw(st.binary(max_size=64)),
        "derived": draw(
            st.lists(
                st.sampled_from(
                    [
                        "@method",
                        "@authority",
                        "@path",
                        "@query",
                        "@target-uri",
                        "@scheme",
                        "@request-target",
                    ]
                ),
                unique=True,
            )
        ),
    }


def _sign(req: dict[str, Any]) -> tuple[HttpMessage, list[str]]:
    components = [*req["derived"], *(name for name, _ in req["headers"])]
    if req["body"]:
        components.append("content-digest")
    signed = sign_request(
        req["method"],
        req["url"],
        req["headers"],
        req["body"],
        key=KEY,
        keyid="k",
        components=components,
        created=NOW,
    )
    message = HttpMessage.build(req["method"], req["url"], [*req["headers"], *signed.items()])
    return message, components


def _decision(message: HttpMessage, body: bytes) -> Any:
    keys = {"k": KEY.public_key}
    return verify_request(message, body, keys=keys, now_ms=NOW * 1000).decision


@settings(max_examples=150, deadline=None)
@given(req=requests())
def test_what_authsig_signs_it_verifies(req: dict[str, Any]) -> None:
    message, _ = _sign(req)
    decision = _decision(message, req["body"])
    assert decision.approved, decision.message


@settings(max_examples=150, deadline=None)
@given(req=requests(), data=st.data())
def test_a_changed_covered_component_is_refused(req: dict[str, Any], data: st.DataObject) -> None:
    message, components = _sign(req)
    covered_headers = [name for name, _ in req["headers"]]
    choices = [c for c in ("@method", "@path") if c in components] + covered_headers
    if req["body"]:
        choices.append("body")
    if not choices:
        return
    what = data.draw(st.sampled_from(choices))
    body = req["body"]
    if what == "@method":
        message = HttpMessage("OPTIONS", message.url, message.headers)
    elif what == "@path":
        base, _, query = message.url.partition("?")
        url = base + "x" + (f"?{query}" if query else "")
        message = HttpMessage(message.method, url, message.headers)
    elif what == "body":
        body = body + b"!"
    else:
        headers = [(k, v + "!" if k == what else v) for k, v in message.headers]
        message = HttpMessage(message.method, message.url, tuple(headers))
    decision = _decision(message, body)
    assert not decision.approved
    assert decision.reason in {"invalid_signature", "httpsig_digest_mismatch"}
