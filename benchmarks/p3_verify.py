"""P3: ``verify_request`` on every sample class (1-of-1 vs the hand-written minimum, 1-of-100
vs 1-of-1), and on the typical body with M = 1, 2, 3 signatures against quorums of
K = 1, 5, 20, 100 keys vs M raw ``cryptography`` verifies (the plot).

- The quorum has K keys and threshold M; the M signers are the **last** M keys of the
  quorum (the worst place for a scan in member order). The quorum object is built once
  and reused, as a server that keeps its quorums would (its key index is cached on it).
- The request is a POST whose body is a sample of ``_samples.py`` as raw UTF-8 JSON bytes
  (what a server receives), with ``privy-app-id``, ``privy-idempotency-key`` and
  ``privy-request-expiry`` headers; the verifier checks the expiry against a fixed
  ``now_ms`` under the default :class:`~authsig.policy.Policy`. The signatures are made over
  the payload built by the ``rfc8785`` package (an independent implementation).
- *M raw verifies*: M calls of ``EllipticCurvePublicKey.verify`` on the precomputed
  payload bytes and DER signatures with loaded keys: the cryptographic floor.
- *hand-written minimum* (M=1, K=1): ``json.loads`` of the body, ``json.dumps`` of the
  payload with sorted keys and compact separators, strict base64 decode, one ``verify``
  with the loaded key (no expiry check, no explanations). Where ``json.dumps`` is not
  RFC 8785 (floats, some keys) it checks a signature made over its own bytes: the same work,
  though not what a Privy client signs.

Targets (architecture issue), on every sample class: 1-of-1 <= 1.25x the hand-written
minimum; 1-of-100 <= 3x 1-of-1.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks._data import APP_ID, IDEMPOTENCY_KEY, RPC_URL
from benchmarks._model import BenchConfig, Section, Table, Unavailable, cost_row, fmt_delta, fmt_us
from benchmarks._samples import Sample, sample, samples
from benchmarks._timing import Timings, compare
from benchmarks._where import miss_note, profile

BENCH = "P3"
TITLE = "verify_request per sample class, and against quorum size"

KS = (1, 5, 20, 100)
MS = (1, 2, 3)
NOW_MS = 1_764_000_000_000
EXPIRY = str(NOW_MS + 10 * 60 * 1000)
SIG_HEADER = "privy-authorization-signature"


def _verify_name(m: int, k: int) -> str:
    return f"verify_request M={m} K={k}"


def _raw_name(m: int) -> str:
    return f"{m} raw verify" if m == 1 else f"{m} raw verifies"


HAND = "hand-written M=1 K=1"
PAYLOAD = "authsig signing_payload(raw body)"
HAND_PAYLOAD = "json.loads + json.dumps payload"
ONE, HUNDRED = _verify_name(1, 1), _verify_name(1, 100)
HAND_TARGET, QUORUM_TARGET = 1.25, 3.0
METRIC_HAND = f"P3 verify 1-of-1 / minimum (<= {HAND_TARGET:g}x)"
METRIC_QUORUM = f"P3 verify 1-of-100 / 1-of-1 (<= {QUORUM_TARGET:g}x)"
SIGNED_HEADERS = {
    "privy-app-id": APP_ID,
    "privy-idempotency-key": IDEMPOTENCY_KEY,
    "privy-request-expiry": EXPIRY,
}
ECDSA = ec.ECDSA(hashes.SHA256())


def _api() -> dict[str, Any]:
    """The public names P3 uses (``Unavailable`` when the verifier or rfc8785 is missing)."""
    try:
        import rfc8785

        from authsig.keys import generate_private_key
        from authsig.policy import Policy
        from authsig.privy import KeyQuorum, signing_payload, verify_request
    except ImportError as exc:
        raise Unavailable(f"the verifier or rfc8785 is not importable: {exc}") from exc
    return {
        "rfc8785": rfc8785.dumps,
        "generate_private_key": generate_private_key,
        "Policy": Policy,
        "KeyQuorum": KeyQuorum,
        "signing_payload": signing_payload,
        "verify_request": verify_request,
    }


def _payload_object(body: Any) -> dict[str, Any]:
    return {"version": 1, "method": "POST", "url": RPC_URL, "body": body, "headers": SIGNED_HEADERS}


def _hand_bytes(raw: bytes) -> bytes:
    """The hand-written payload: parse, then ``json.dumps`` (not RFC 8785 for every body)."""
    obj = {"version": 1, "method": "POST", "url": RPC_URL, "body": json.loads(raw)}
    obj["headers"] = SIGNED_HEADERS
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signed(signers: list[Any], payload: bytes) -> dict[str, str]:
    headers = dict(SIGNED_HEADERS)
    ders = [s.crypto.sign(payload, ECDSA) for s in signers]
    headers[SIG_HEADER] = ",".join(base64.b64encode(d).decode() for d in ders)
    return headers


def _verifier(
    api: dict[str, Any], keys: list[Any], raw: bytes, exact: bytes, m: int, k: int
) -> Callable[[], object]:
    """verify_request of ``raw`` signed by the last ``m`` of ``k`` keys; checked approved."""
    headers = _signed(keys[k - m : k], exact)
    quorum = api["KeyQuorum"](
        public_keys=tuple(key.public_key for key in keys[:k]), authorization_threshold=m
    )
    policy, verify_request = api["Policy"](), api["verify_request"]

    def verify() -> object:
        decision = verify_request(
            method="POST",
            url=RPC_URL,
            body=raw,
            headers=headers,
            quorum=quorum,
            policy=policy,
            now_ms=NOW_MS,
        )
        assert decision.approved, decision.message
        return decision

    if len(verify().approved_members) != m:  # type: ignore[attr-defined]
        raise AssertionError(f"P3: M={m} K={k}: expected {m} approvals")
    return verify


def _raw_verifier(keys: list[Any], exact: bytes, m: int) -> Callable[[], object]:
    pairs = [(keys[i].public_key.crypto, keys[i].crypto.sign(exact, ECDSA)) for i in range(m)]

    def raw() -> object:
        for key, der in pairs:
            key.verify(der, exact, ECDSA)
        return True

    return raw


def _class_cases(
    api: dict[str, Any], keys: list[Any], smp: Sample
) -> dict[str, Callable[[], object]]:
    """1-of-1, 1-of-100, the hand-written minimum and the parts, on one sample."""
    raw = json.dumps(smp.body, separators=(",", ":"), ensure_ascii=False).encode()
    exact = api["rfc8785"](_payload_object(smp.body))
    signing_payload = api["signing_payload"]
    if signing_payload(method="POST", url=RPC_URL, body=raw, headers=SIGNED_HEADERS) != exact:
        raise AssertionError(f"P3 {smp.label}: signing_payload differs from rfc8785")
    one_key = keys[0].public_key.crypto
    hand_headers = _signed(keys[:1], _hand_bytes(raw))

    def hand() -> object:
        value = json.loads(raw)
        participating = {
            name: hand_headers[name]
            for name in ("privy-app-id", "privy-idempotency-key", "privy-request-expiry")
            if name in hand_headers
        }
        obj = {"version": 1, "method": "POST", "url": RPC_URL, "body": value}
        obj["headers"] = participating
        data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        one_key.verify(base64.b64decode(hand_headers[SIG_HEADER], validate=True), data, ECDSA)
        return True

    hand()  # raises InvalidSignature if the minimum does not check what it signed
    return {
        ONE: _verifier(api, keys, raw, exact, 1, 1),
        HUNDRED: _verifier(api, keys, raw, exact, 1, 100),
        HAND: hand,
        PAYLOAD: lambda: signing_payload(
            method="POST", url=RPC_URL, body=raw, headers=hand_headers
        ),
        HAND_PAYLOAD: lambda: _hand_bytes(raw),
        _raw_name(1): _raw_verifier(keys, exact, 1),
    }


def _class_rows(
    section: Section,
    smp: Sample,
    t: Timings,
    cases: dict[str, Callable[[], object]],
    config: BenchConfig,
) -> list[str]:
    """The two target rows of one sample (and a note per miss); returns its breakdown line."""
    hand_row = cost_row(
        BENCH, smp.label, t, ONE, HAND, target=HAND_TARGET, sample=smp.label, metric=METRIC_HAND
    )
    quorum_row = cost_row(
        BENCH,
        smp.label,
        t,
        HUNDRED,
        ONE,
        target=QUORUM_TARGET,
        sample=smp.label,
        metric=METRIC_QUORUM,
    )
    section.rows += [hand_row, quorum_row]
    raw_us = t.us(_raw_name(1))
    parts = (
        f"Payload from the raw body: `signing_payload` {fmt_us(t.us(PAYLOAD))} against "
        f"{fmt_us(t.us(HAND_PAYLOAD))} for `json.loads`+`json.dumps` "
        f"({fmt_delta(t.us(PAYLOAD) - t.us(HAND_PAYLOAD))}); one raw verify {fmt_us(raw_us)}."
    )
    for row, case in ((hand_row, ONE), (quorum_row, HUNDRED)):
        if row.met is False:
            prof = profile(cases[case], config.profile_seconds)
            section.notes.append(miss_note([row], prof, parts))
    rest = t.us(ONE) - t.us(PAYLOAD) - raw_us
    return [
        smp.label,
        fmt_us(t.us(ONE)),
        fmt_us(t.us(HAND)),
        f"{t.ratio(ONE, HAND):.2f}x",
        fmt_us(t.us(HUNDRED)),
        f"{t.ratio(HUNDRED, ONE):.2f}x",
        fmt_us(raw_us),
        fmt_us(t.us(PAYLOAD)),
        fmt_us(t.us(HAND_PAYLOAD)),
        fmt_us(rest),
    ]


def _grid(
    section: Section,
    api: dict[str, Any],
    keys: list[Any],
    hand: Callable[[], object],
    config: BenchConfig,
) -> None:
    """M signatures against K keys on the typical body, vs M raw verifies and the
    hand-written minimum (the plot: all measured in one run)."""
    body = sample("ascii", "small").body
    raw = json.dumps(body, separators=(",", ":")).encode()
    exact = api["rfc8785"](_payload_object(body))
    combos = [(m, k) for m in MS for k in KS if m <= k]
    cases = {_verify_name(m, k): _verifier(api, keys, raw, exact, m, k) for m, k in combos}
    cases.update({_raw_name(m): _raw_verifier(keys, exact, m) for m in MS})
    cases[HAND] = hand
    t = compare(cases, config.timing)
    section.data["hand_us"] = t.us(HAND)
    for m, k in combos:
        section.rows.append(cost_row(BENCH, f"M={m}, K={k}", t, _verify_name(m, k), _raw_name(m)))
    section.data["series"] = {
        str(m): {
            "ks": [k for k in KS if m <= k],
            "us": [t.us(_verify_name(m, k)) for k in KS if m <= k],
            "raw_us": t.us(_raw_name(m)),
        }
        for m in MS
    }
    recovery = t.us(_verify_name(1, 5)) - t.us(_verify_name(1, 1))
    section.notes.append(
        f"Quorum sizes (typical body): signers are the last M keys of the quorum; threshold = "
        f"M. One raw P-256 verify here: {fmt_us(t.us(_raw_name(1)))}. Going from K=1 to K=5 "
        f"adds {fmt_us(recovery)} ({recovery / t.us(_raw_name(1)):.1f} raw verifies): the cost "
        "of selecting the signer's key among several keys, paid per signature; from K=5 to "
        f"K=100 the time changes by {t.ratio(_verify_name(1, 100), _verify_name(1, 5)):.2f}x."
    )


def run(config: BenchConfig) -> Section:
    """Measure and return the P3 section."""
    api = _api()
    keys = [api["generate_private_key"]() for _ in range(max(KS))]  # throwaway keys
    section = Section(BENCH, TITLE)
    breakdown = []
    typical_hand: Callable[[], object] | None = None
    for smp in samples():
        cases = _class_cases(api, keys, smp)
        t = compare(cases, config.timing)
        breakdown.append(_class_rows(section, smp, t, cases, config))
        if (smp.cls, smp.size) == ("ascii", "small"):
            typical_hand = cases[HAND]
    section.tables.append(
        Table(
            "Per sample class: where the time of each side goes (medians)",
            [
                "sample",
                "1-of-1",
                "minimum",
                "ratio",
                "1-of-100",
                "100 / 1",
                "raw verify",
                "signing_payload(raw body)",
                "json.loads+dumps",
                "rest of 1-of-1",
            ],
            breakdown,
        )
    )
    section.notes.insert(
        0,
        "Before timing, every decision was checked approved with the expected number of "
        "approving members, over signatures made on the payload the `rfc8785` package builds.",
    )
    assert typical_hand is not None  # samples() always has the typical body
    _grid(section, api, keys, typical_hand, config)
    return section
