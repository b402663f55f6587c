"""RFC 7512 ``pkcs11:`` URIs: the attributes a signer needs to find its token, key and PIN.

``pkcs11:token=ops;object=alice?pin-source=file:/run/secrets/pin&module-path=/usr/lib/p.so``

Path attributes (``;``-separated) select the token and the key: ``token``, ``serial``,
``manufacturer``, ``model``, ``slot-id``, ``object`` (the key's ``CKA_LABEL``), ``id`` (its
``CKA_ID``, percent-encoded bytes) and ``type`` (``private``, if given). Query attributes
(``&``-separated) say how to get there: ``module-path``, ``module-name``, ``pin-value`` and
``pin-source``. Some tools write query attributes in the path (``...;pin-value=1234``); authsig
accepts them in either part. Vendor attributes (``x-...``) are ignored, as the RFC asks; other
attributes that would narrow the match but that authsig cannot check are refused rather than
ignored, so a URI never selects more than it says.

Error messages name attributes, never values: a ``pin-value`` must not reach a log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

from authsig.signers._base import KeyReferenceError

__all__ = ["MODULE_ENV", "PIN_ENV", "PKCS11URI", "parse_pkcs11_uri"]

MODULE_ENV = "AUTHSIG_PKCS11_MODULE"
"""The environment variable naming the PKCS#11 module when a URI has no ``module-path``."""

PIN_ENV = "AUTHSIG_PKCS11_PIN"
"""The environment variable holding the user PIN when a URI has no ``pin-value``/``pin-source``."""

# Where p11-kit and distributions install PKCS#11 modules (for ``module-name``).
_MODULE_DIRS = (
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/local/lib/pkcs11",
)
_SUPPORTED = {
    "token",
    "serial",
    "manufacturer",
    "model",
    "slot-id",
    "object",
    "id",
    "type",
    "module-path",
    "module-name",
    "pin-value",
    "pin-source",
}
# RFC 7512 attributes that narrow the match in ways authsig does not check.
_UNSUPPORTED = {
    "library-manufacturer",
    "library-description",
    "library-version",
    "slot-description",
    "slot-manufacturer",
}
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_PIN_FILE = 4096


@dataclass(frozen=True)
class PKCS11URI:
    """The parsed attributes of a ``pkcs11:`` URI (the PIN is left out of ``repr``)."""

    token: str | None = None
    serial: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    slot_id: int | None = None
    object: str | None = None
    id: bytes | None = None
    module_path: str | None = None
    module_name: str | None = None
    pin_value: str | None = field(default=None, repr=False)
    pin_source: str | None = None

    def module(self, environ: Mapping[str, str] | None = None) -> str:
        """The module to load: ``module-path``, ``module-name`` found on disk, or $MODULE_ENV."""
        if self.module_path:
            return self.module_path
        if self.module_name:
            for directory in _MODULE_DIRS:
                for name in (self.module_name, self.module_name + ".so"):
                    candidate = Path(directory) / name
                    if candidate.is_file():
                        return str(candidate)
            raise KeyReferenceError(
                f"pkcs11: module-name {self.module_name!r} is not in {', '.join(_MODULE_DIRS)}; "
                "give module-path instead"
            )
        env = os.environ if environ is None else environ
        value = env.get(MODULE_ENV)
        if value:
            return value
        raise KeyReferenceError(
            f"pkcs11: the URI names no PKCS#11 module: add module-path=... or set {MODULE_ENV}"
        )

    def pin(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The user PIN: ``pin-value``, then ``pin-source``, then $PIN_ENV; None: no login."""
        if self.pin_value is not None:
            return self.pin_value
        env = os.environ if environ is None else environ
        if self.pin_source is not None:
            return _read_pin_source(self.pin_source, env)
        return env.get(PIN_ENV)


def _read_pin_source(source: str, environ: Mapping[str, str]) -> str:
    """``env:VAR`` (an authsig extension), ``file:PATH`` or a plain path; one line of text."""
    if source.startswith("env:"):
        name = source[4:]
        if not _ENV_NAME.fullmatch(name):
            raise KeyReferenceError("pkcs11: pin-source env: needs a variable name")
        value = environ.get(name)
        if value is None:
            raise KeyReferenceError(f"pkcs11: pin-source variable {name} is not set")
        return value
    if source.startswith("|"):
        raise KeyReferenceError("pkcs11: pin-source programs (|command) are not supported")
    path = source.removeprefix("file://").removeprefix("file:")
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_PIN_FILE + 1)
    except OSError as exc:
        raise KeyReferenceError(
            f"pkcs11: pin-source file {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    if len(data) > _MAX_PIN_FILE:
        raise KeyReferenceError(f"pkcs11: pin-source file {path} is too large for a PIN")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyReferenceError(f"pkcs11: pin-source file {path} is not UTF-8 text") from None
    return text.rstrip("\r\n")


def _attributes(uri: str) -> dict[str, str]:
    """``name -> raw (still percent-encoded) value`` over both parts of the URI."""
    if not isinstance(uri, str):
        raise TypeError("a pkcs11 URI must be a str")
    scheme, colon, rest = uri.partition(":")
    if not colon or scheme.lower() != "pkcs11":
        raise KeyReferenceError("not a pkcs11: URI")
    path, _, query = rest.partition("?")
    items = [p for p in path.split(";") if p] + [q for q in query.split("&") if q]
    found: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.lower()
        if not eq or not _NAME.fullmatch(name):
            raise KeyReferenceError("pkcs11: URI attributes must be name=value")
        if name.startswith("x-"):
            continue
        if name in _UNSUPPORTED:
            raise KeyReferenceError(f"pkcs11: URI attribute {name!r} is not supported")
        if name not in _SUPPORTED:
            raise KeyReferenceError(f"pkcs11: unknown URI attribute {name!r}")
        if name in found:
            raise KeyReferenceError(f"pkcs11: URI attribute {name!r} is given twice")
        found[name] = value
    return found


def _text(name: str, raw: str) -> str:
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise KeyReferenceError(f"pkcs11: URI attribute {name!r} is not UTF-8") from None
    if not value and name != "pin-value":
        raise KeyReferenceError(f"pkcs11: URI attribute {name!r} is empty")
    return value


def parse_pkcs11_uri(uri: str) -> PKCS11URI:
    """Parse a ``pkcs11:`` URI; raises :class:`KeyReferenceError` (naming attributes only)."""
    attrs = _attributes(uri)
    text = {name: _text(name, raw) for name, raw in attrs.items() if name != "id"}
    kind = text.get("type")
    if kind is not None and kind != "private":
        raise KeyReferenceError("pkcs11: a signing key needs type=private (or no type)")
    slot_id = None
    if "slot-id" in text:
        if not text["slot-id"].isdigit():
            raise KeyReferenceError("pkcs11: slot-id must be a decimal number")
        slot_id = int(text["slot-id"])
    key_id = unquote_to_bytes(attrs["id"]) if "id" in attrs else None
    if key_id == b"":
        raise KeyReferenceError("pkcs11: URI attribute 'id' is empty")
    if "module-path" in text and "module-name" in text:
        raise KeyReferenceError("pkcs11: give module-path or module-name, not both")
    if "pin-value" in text and "pin-source" in text:
        raise KeyReferenceError("pkcs11: give pin-value or pin-source, not both")
    return PKCS11URI(
        token=text.get("token"),
        serial=text.get("serial"),
        manufacturer=text.get("manufacturer"),
        model=text.get("model"),
        slot_id=slot_id,
        object=text.get("object"),
        id=key_id,
        module_path=text.get("module-path"),
        module_name=text.get("module-name"),
        pin_value=text.get("pin-value"),
        pin_source=text.get("pin-source"),
    )
