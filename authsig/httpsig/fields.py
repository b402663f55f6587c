"""``Signature-Input`` and ``Signature`` (RFC 9421 section 4) as RFC 9651 dictionaries.

Parsing and serializing are ``http-sfv``'s; this module checks the shapes RFC 9421 gives them:
each label's input is an inner list of sf-string component identifiers with the signature
parameters (``created``/``expires`` integers, ``nonce``/``keyid``/``alg``/``tag`` strings), each
label's signature a byte sequence, and both fields name the same labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from authsig.httpsig import _sfv as http_sfv
from authsig.httpsig.components import component
from authsig.httpsig.errors import HttpSigComponentError, HttpSigFieldError
from authsig.policy import DEFAULT_POLICY, Policy

__all__ = [
    "SignatureEntry",
    "parse_signatures",
    "signature_params",
]

_INT_PARAMS = ("created", "expires")
_STR_PARAMS = ("nonce", "keyid", "alg", "tag")
_MAX_NONCE = 256


@dataclass(frozen=True)
class SignatureEntry:
    """One labelled signature: its covered components, the serialized ``@signature-params``
    value (what the base ends with), its parameters and its bytes."""

    label: str
    covered: tuple[http_sfv.Item, ...]
    params_text: str
    signature: bytes
    created: int | None = None
    expires: int | None = None
    nonce: str | None = None
    keyid: str | None = None
    alg: str | None = None
    tag: str | None = None


def _joined(lines: Sequence[str], name: str, policy: Policy) -> bytes:
    text = ", ".join(lines)
    if len(text) > policy.max_header_length:
        raise HttpSigFieldError(f"{name} is longer than {policy.max_header_length} characters")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise HttpSigFieldError(f"{name} is not ASCII") from None


def _dictionary(lines: Sequence[str], name: str, policy: Policy) -> http_sfv.Dictionary:
    parsed = http_sfv.Dictionary()
    try:
        parsed.parse(_joined(lines, name, policy))
    except ValueError:
        raise HttpSigFieldError(f"{name} is not a structured-field dictionary") from None
    return parsed


def _params(label: str, params: Mapping[str, object]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in _INT_PARAMS:
        value = params.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise HttpSigFieldError(f"{label}: {key} must be an integer")
        found[key] = value
    for key in _STR_PARAMS:
        value = params.get(key)
        if value is not None and (not isinstance(value, str) or isinstance(value, http_sfv.Token)):
            raise HttpSigFieldError(f"{label}: {key} must be a string")
        found[key] = value
    nonce = found["nonce"]
    if isinstance(nonce, str) and not 0 < len(nonce) <= _MAX_NONCE:
        raise HttpSigFieldError(f"{label}: nonce must be 1 to {_MAX_NONCE} characters")
    return found


def _entry(label: str, inner: object, sig: object) -> SignatureEntry:
    if not isinstance(inner, http_sfv.InnerList):
        raise HttpSigFieldError(f"{label}: Signature-Input must be an inner list")
    if not isinstance(sig, http_sfv.Item) or not isinstance(sig.value, bytes) or sig.params:
        raise HttpSigFieldError(f"{label}: Signature must be a byte sequence")
    try:
        covered = tuple(component(item) for item in inner)
    except HttpSigComponentError as exc:
        raise HttpSigFieldError(f"{label}: {exc.message}") from None
    found = _params(label, inner.params)
    return SignatureEntry(
        label,
        covered,
        str(inner),
        sig.value,
        created=found["created"],  # type: ignore[arg-type]
        expires=found["expires"],  # type: ignore[arg-type]
        nonce=found["nonce"],  # type: ignore[arg-type]
        keyid=found["keyid"],  # type: ignore[arg-type]
        alg=found["alg"],  # type: ignore[arg-type]
        tag=found["tag"],  # type: ignore[arg-type]
    )


def parse_signatures(
    inputs: Sequence[str], signatures: Sequence[str], *, policy: Policy = DEFAULT_POLICY
) -> tuple[SignatureEntry, ...]:
    """The labelled signatures of a message whose ``Signature-Input`` lines are ``inputs`` and
    ``Signature`` lines ``signatures`` (several lines of one field are one list).

    Raises :class:`HttpSigFieldError` when either is malformed, when they name different
    labels, or when there are more than ``policy.max_signatures``.
    """
    parsed_inputs = _dictionary(inputs, "Signature-Input", policy)
    parsed_sigs = _dictionary(signatures, "Signature", policy)
    if set(parsed_inputs) != set(parsed_sigs):
        raise HttpSigFieldError("Signature-Input and Signature name different labels")
    if not parsed_inputs:
        raise HttpSigFieldError("Signature-Input has no signature")
    if len(parsed_inputs) > policy.max_signatures:
        raise HttpSigFieldError(f"more than {policy.max_signatures} signatures")
    return tuple(_entry(label, parsed_inputs[label], parsed_sigs[label]) for label in parsed_inputs)


def signature_params(covered: Iterable[http_sfv.Item], params: Mapping[str, object]) -> str:
    """The serialized ``@signature-params`` inner list of ``covered`` with ``params`` (in the
    order given; None values left out)."""
    inner = http_sfv.InnerList()
    for item in covered:
        inner.append(item)
    for key, value in params.items():
        if value is not None:
            inner.params[key] = value
    return str(inner)
