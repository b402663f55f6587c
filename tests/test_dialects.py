"""The Privy SDK dialects (authsig.privy.dialects): each rule of the table, tested from the table.

@privy-io/node, @privy-io/server-auth and privy-client are also run against these rules in the
interop tests; the Go and Rust SDKs have no toolchain here, so their rules (cited in
docs/dialects.md) are tested here only: what each SDK's source says it signs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from authsig import KeyQuorum, Policy, generate_private_key, sign_request, verify_request
from authsig.errors import PayloadError
from authsig.privy.dialects import DIALECT_NAMES, DIALECTS, Dialect, get_dialect
from authsig.privy.payload import dialect_payloads, signing_payload

URL = "https://api.privy.io/v1/wallets/w1"
APP = {"privy-app-id": "app-1"}
NOW = 1_700_000_000_000


def payload(
    dialect: str, *, method: str = "POST", url: str = URL, body: Any, **headers: str
) -> Any:
    """The payload object a dialect signs, parsed back (so a test reads members, not bytes)."""
    hs = {**APP, **{k.replace("_", "-"): v for k, v in headers.items()}}
    data = signing_payload(method=method, url=url, body=body, headers=hs, dialect=dialect)
    return json.loads(data)


def test_the_table_names_five_sdks() -> None:
    assert DIALECT_NAMES == (
        "privy-node",
        "privy-server-auth",
        "privy-client",
        "privy-go",
        "privy-rust",
    )
    for name, dialect in DIALECTS.items():
        assert dialect.name == name
        assert get_dialect(name) is dialect
        assert get_dialect(dialect) is dialect
        assert "privy-app-id" in dialect.signed_headers
        assert json.loads(json.dumps(dialect.to_dict()))["name"] == name


def test_unknown_dialects_are_programmer_errors() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'privy-java'"):
        get_dialect("privy-java")
    with pytest.raises(TypeError):
        get_dialect(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown dialect"):
        verify_request(
            method="POST", url=URL, body=b"{}", headers=APP,
            quorum=KeyQuorum(public_keys=(generate_private_key().public_key,)),
            policy=Policy(dialect="nope"),
        )  # fmt: skip


def test_policy_takes_a_dialect_or_the_old_knobs_not_both() -> None:
    assert Policy(dialect="privy-go").dialect == "privy-go"
    with pytest.raises(ValueError, match="give one or the other"):
        Policy(dialect="privy-client", profile="canonicaljson")
    with pytest.raises(ValueError, match="give one or the other"):
        Policy(dialect="privy-rust", empty_body="preserve")
    with pytest.raises(TypeError):
        Policy(dialect=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Policy(dialect="")


# --- the empty-body rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "obj", "arr"),
    [
        ("privy-node", "", ""),  # Object.keys(body).length === 0 holds for {} and []
        ("privy-server-auth", {}, []),  # no rule: the body as given
        ("privy-client", "", ""),
        ("privy-go", "", []),  # json.Marshal(body) == "{}" only
        ("privy-rust", {}, []),  # no rule
    ],
)
def test_empty_bodies(dialect: str, obj: Any, arr: Any) -> None:
    assert payload(dialect, body=b"{}")["body"] == obj
    assert payload(dialect, body=b"[]")["body"] == arr
    assert payload(dialect, body={"a": 1})["body"] == {"a": 1}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/key_quorums/kq1",
        "/v1/policies/p1",
        "/v1/policies/p1/rules/r1",
        "/v1/intents/policies/p1/rules/r1",
    ],
)
def test_privy_client_keeps_the_empty_body_of_its_delete_calls(path: str) -> None:
    url = "https://api.privy.io" + path
    assert payload("privy-client", method="DELETE", url=url, body=None)["body"] == {}
    # Another DELETE, or the same path with another method, follows the "" rule.
    assert payload("privy-client", method="PATCH", url=url, body=b"{}")["body"] == ""
    other = "https://api.privy.io/v1/wallets/w1"
    assert payload("privy-client", method="DELETE", url=other, body=None)["body"] == ""
    # The rule matches whole path segments only.
    longer = url + "/extra"
    assert payload("privy-client", method="DELETE", url=longer, body=None)["body"] == ""


# --- the nil-body rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("privy-node", ""),  # its DELETEs sign the leftover params object {} -> ""
        ("privy-server-auth", None),  # undefined: canonicalize leaves the member out
        ("privy-client", ""),  # body={} -> ""
        ("privy-go", ""),  # its DELETE wrappers pass body ""
        ("privy-rust", {}),  # json!({}) kept
    ],
)
def test_a_request_without_a_body(dialect: str, expected: Any) -> None:
    for missing in (None, b"", "  \n"):
        obj = payload(dialect, method="DELETE", body=missing)
        if expected is None:
            assert "body" not in obj
        else:
            assert obj["body"] == expected
    # The JSON text null is a body, not a missing one.
    assert payload(dialect, body=b"null")["body"] is None
    assert "body" in payload(dialect, body=b"null")


def test_strict_rules_without_a_dialect() -> None:
    data = signing_payload(method="delete", url=URL, body=None, headers=APP)
    assert json.loads(data)["body"] is None
    assert json.loads(data)["method"] == "DELETE"


# --- headers, method, canonicalization ----------------------------------------------------------


@pytest.mark.parametrize("dialect", ["privy-server-auth", "privy-rust"])
def test_dialects_that_never_sign_the_expiry_refuse_it_sent(dialect: str) -> None:
    obj = payload(dialect, body={"a": 1}, privy_idempotency_key="k1")
    assert obj["headers"] == {"privy-app-id": "app-1", "privy-idempotency-key": "k1"}
    with pytest.raises(PayloadError, match=r"privy-request-expiry.*does not sign"):
        payload(dialect, body={"a": 1}, privy_request_expiry=str(NOW))


@pytest.mark.parametrize("dialect", ["privy-node", "privy-client", "privy-go"])
def test_dialects_that_sign_the_expiry(dialect: str) -> None:
    obj = payload(dialect, body={"a": 1}, privy_request_expiry=str(NOW))
    assert obj["headers"]["privy-request-expiry"] == str(NOW)


def test_method_case() -> None:
    # server-auth and Go put the method into the payload as the caller gave it.
    assert payload("privy-server-auth", method="post", body={"a": 1})["method"] == "post"
    assert payload("privy-go", method="post", body={"a": 1})["method"] == "post"
    for name in ("privy-node", "privy-client", "privy-rust"):
        assert payload(name, method="post", body={"a": 1})["method"] == "POST"


def test_canonicalization_profiles() -> None:
    body = b'{"x": 1.0, "y": 1e-7}'
    bytes_of = {
        name: signing_payload(method="POST", url=URL, body=body, headers=APP, dialect=name)
        for name in DIALECT_NAMES
    }
    assert b'"x":1.0,"y":1e-07' in bytes_of["privy-client"]
    for name in ("privy-node", "privy-server-auth", "privy-go", "privy-rust"):
        assert b'"x":1,"y":1e-7' in bytes_of[name]


def test_key_prefixes() -> None:
    key = "wallet-auth:MIGH"
    assert DIALECTS["privy-node"].strip_key_prefix(key) == "MIGH"
    assert DIALECTS["privy-server-auth"].strip_key_prefix("wallet-api:MIGH") == "MIGH"
    for name in ("privy-client", "privy-go", "privy-rust"):
        assert DIALECTS[name].strip_key_prefix(key) == key


def test_determinism_is_recorded_per_sdk() -> None:
    # RFC 6979: noble-curves (both Node SDKs) and the p256 crate (Rust); random nonces:
    # pyca/cryptography (privy-client) and crypto/ecdsa with crypto/rand (Go).
    deterministic = {n for n, d in DIALECTS.items() if d.deterministic}
    assert deterministic == {"privy-node", "privy-server-auth", "privy-rust"}


# --- signing and verifying by dialect ---------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
@pytest.mark.parametrize("body", [b"{}", b"[]", None, b'{"amount": 2.5}'])
def test_sign_and_verify_in_each_dialect(dialect: str, body: bytes | None) -> None:
    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    signs_expiry = get_dialect(dialect).signs_header("privy-request-expiry")
    expires = timedelta(minutes=5) if signs_expiry else None
    headers = sign_request(
        method="DELETE", url=URL, body=body, app_id="app-1", keys=key,
        expires_in=expires, now_ms=NOW, dialect=dialect,
    )  # fmt: skip
    assert ("privy-request-expiry" in headers) == signs_expiry
    request: dict[str, Any] = {"method": "DELETE", "url": URL, "body": body, "headers": headers}
    ok = verify_request(**request, quorum=quorum, policy=Policy(dialect=dialect), now_ms=NOW)
    assert ok.approved, ok.message
    # A strict verifier (no dialect) accepts it exactly when the two rules give the same bytes.
    strict = verify_request(**request, quorum=quorum, now_ms=NOW)
    same = signing_payload(method="DELETE", url=URL, body=body, headers=headers) == (
        signing_payload(method="DELETE", url=URL, body=body, headers=headers, dialect=dialect)
    )
    assert strict.approved == same


def test_signing_refuses_an_expiry_the_dialect_would_not_protect() -> None:
    key = generate_private_key()
    with pytest.raises(ValueError, match="never signs privy-request-expiry"):
        sign_request(
            method="POST", url=URL, body=b"{}", app_id="a", keys=key, dialect="privy-server-auth"
        )


def test_dialect_payloads_groups_agreeing_dialects() -> None:
    groups = dialect_payloads(method="POST", url=URL, body=b"{}", headers=APP)
    names = [[d.name for d in found] for found, _ in groups]
    assert names == [
        ["privy-node", "privy-client", "privy-go"],
        ["privy-server-auth", "privy-rust"],
    ]
    assert len({data for _, data in groups}) == len(groups)
    # A request that sends the expiry leaves out the dialects that never sign it.
    sent = {**APP, "privy-request-expiry": str(NOW)}
    groups = dialect_payloads(method="POST", url=URL, body=b"{}", headers=sent)
    assert [[d.name for d in found] for found, _ in groups] == [
        ["privy-node", "privy-client", "privy-go"]
    ]


def test_a_dialect_value_is_accepted_where_a_name_is() -> None:
    custom = Dialect(**{**DIALECTS["privy-go"].__dict__, "name": "my-go"})
    obj = json.loads(
        signing_payload(method="POST", url=URL, body=b"[]", headers=APP, dialect=custom)
    )
    assert obj["body"] == []


def test_the_published_vectors_have_cases_for_every_dialect() -> None:
    path = Path(__file__).resolve().parent.parent / "vectors" / "dialects.json"
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    by_dialect = {name: [c for c in cases if c["dialect"] == name] for name in DIALECT_NAMES}
    assert all(len(found) >= 3 for found in by_dialect.values())
    # Each dialect's cases differ from the strict rules somewhere, or the case would not show it.
    for name, found in by_dialect.items():
        assert any(not c["expected"]["strict_approved"] for c in found), name


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_signs_and_verifies_in_a_dialect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from authsig.cli import main

    key = generate_private_key()
    key_file = tmp_path / "k.key"
    key_file.write_text(key.to_base64())
    request = ["-X", "POST", "--url", URL, "-d", "{}"]
    sign = ["sign", "--key", str(key_file), *request, "--app-id", "app-1", "--json"]
    # server-auth never signs the expiry: the CLI says to drop it instead of failing inside.
    assert main([*sign, "--dialect", "privy-server-auth"]) == 2
    assert "--expires-in none" in capsys.readouterr().err
    assert main([*sign, "--dialect", "privy-server-auth", "--expires-in", "none"]) == 0
    headers = json.loads(capsys.readouterr().out)
    assert "privy-request-expiry" not in headers
    headers_file = tmp_path / "headers.json"
    headers_file.write_text(json.dumps(headers))
    verify = ["verify", *request, "--headers-json", str(headers_file)]
    verify += ["--public-key", key.public_key.to_base64()]
    assert main([*verify, "--dialect", "privy-server-auth"]) == 0
    assert capsys.readouterr().out.startswith("approved")
    assert main(verify) == 1  # the strict rules sign {} as "": another payload
    assert "invalid_signature" in capsys.readouterr().out
    assert main([*verify, "--dialect", "privy-rust", "--profile", "canonicaljson"]) == 2
    assert "leave out those options" in capsys.readouterr().err


def test_explain_under_a_dialect_names_the_strict_rules_and_other_sdks() -> None:
    from authsig import explain

    key = generate_private_key()
    quorum = KeyQuorum(public_keys=(key.public_key,))
    # Signed with the strict rules (a missing body as null), verified as server-auth.
    strict = sign_request(
        method="DELETE", url=URL, body=None, app_id="app-1", keys=key, expires_in=None
    )
    report = explain(
        method="DELETE", url=URL, body=None, headers=strict, quorum=quorum,
        policy=Policy(dialect="privy-server-auth"),
    )  # fmt: skip
    assert report.decision.privy_code == "zero_correct_authorization_signatures"
    [sig] = report.signatures
    assert sig.variant is not None, str(report)
    assert sig.variant.code == "dialect:strict"
    assert b'"body":null' in sig.variant.payload
    # Signed as @privy-io/node signs its DELETE calls: named, with the fix.
    node = sign_request(
        method="DELETE", url=URL, body=None, app_id="app-1", keys=key, expires_in=None,
        dialect="privy-node",
    )  # fmt: skip
    report = explain(method="DELETE", url=URL, body=None, headers=node, quorum=quorum)
    [sig] = report.signatures
    assert sig.variant is not None, str(report)
    assert sig.variant.code == "dialect:privy-node+privy-client+privy-go"
    assert "Policy(dialect='privy-node')" in str(report)


def test_the_middleware_refuses_an_unknown_dialect_at_startup() -> None:
    from authsig.privy.scheme import PrivyScheme

    quorum = KeyQuorum(public_keys=(generate_private_key().public_key,))
    with pytest.raises(ValueError, match="unknown dialect 'privy-jav'"):
        PrivyScheme(quorum, policy=Policy(dialect="privy-jav"))
    assert PrivyScheme(quorum, policy=Policy(dialect="privy-go")).policy.dialect == "privy-go"


def test_a_dialect_of_your_own() -> None:
    import dataclasses

    from authsig.privy.dialects import register_dialect

    old_go = dataclasses.replace(
        DIALECTS["privy-go"],
        name="privy-go-02eb8a48",
        nil_body="omit",
        signed_headers=("privy-app-id", "privy-idempotency-key"),
    )
    try:
        assert register_dialect(old_go) is old_go
        assert register_dialect(old_go) is old_go  # idempotent
        assert "body" not in payload("privy-go-02eb8a48", method="DELETE", body=None)
        key = generate_private_key()
        headers = sign_request(
            method="DELETE", url=URL, body=None, app_id="app-1", keys=key, expires_in=None,
            dialect="privy-go-02eb8a48",
        )  # fmt: skip
        decision = verify_request(
            method="DELETE", url=URL, body=None, headers=headers,
            quorum=KeyQuorum(public_keys=(key.public_key,)),
            policy=Policy(dialect="privy-go-02eb8a48"),
        )  # fmt: skip
        assert decision.approved
        with pytest.raises(ValueError, match="already registered"):
            register_dialect(dataclasses.replace(old_go, nil_body="null"))
        with pytest.raises(ValueError, match="must sign privy-app-id"):
            register_dialect(dataclasses.replace(old_go, name="x", signed_headers=()))
        with pytest.raises(ValueError, match="signed_headers must be among"):
            register_dialect(
                dataclasses.replace(old_go, name="y", signed_headers=("privy-app-id", "x-a"))
            )
        with pytest.raises(TypeError):
            register_dialect("privy-go")  # type: ignore[arg-type]
    finally:
        DIALECTS.pop("privy-go-02eb8a48", None)
    assert tuple(DIALECTS) == DIALECT_NAMES


def test_a_dialect_excludes_the_old_knobs_everywhere() -> None:
    key = generate_private_key()
    with pytest.raises(ValueError, match="give dialect or empty_body"):
        signing_payload(
            method="POST", url=URL, body=b"{}", headers=APP, empty_body="preserve",
            dialect="privy-rust",
        )  # fmt: skip
    with pytest.raises(ValueError, match="give dialect or profile"):
        signing_payload(
            method="POST", url=URL, body=b"{}", headers=APP, profile="canonicaljson",
            dialect="privy-client",
        )  # fmt: skip
    with pytest.raises(ValueError, match="give dialect or empty_body"):
        sign_request(
            method="POST", url=URL, body=b"{}", app_id="a", keys=key, expires_in=None,
            empty_body="preserve", dialect="privy-rust",
        )  # fmt: skip
