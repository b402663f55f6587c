"""What every ``authsig`` command shares: its errors, reading inputs and keys, writing outputs.

Commands import these helpers from here and nowhere else, so that a file is read, a key is
loaded and a secret is written the same way by every command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authsig.errors import AuthSigError, EncryptedKeyError, KeyFormatError
from authsig.keys import PrivateKey, PublicKey

if TYPE_CHECKING:
    from authsig.signers import BaseSigner
    from authsig.signers.refs import Passphrase

__all__ = [
    "PROG",
    "CLIError",
    "PASSPHRASE_ENV",
    "Refused",
    "as_text_if_possible",
    "check_overwrite",
    "dump_json",
    "format_key",
    "load_any_key",
    "load_json_file",
    "load_private_key_file",
    "load_public_key_arg",
    "load_public_key_ref",
    "load_signing_key",
    "read_key_arg",
    "parse_duration",
    "parse_header_args",
    "passphrase_source",
    "print_headers",
    "private_key_text",
    "read_passphrase",
    "read_passphrase_file",
    "read_input",
    "request_body",
    "write_output",
    "write_private_file",
]

PROG = "authsig"


class CLIError(AuthSigError):
    """A usage or input error of the command line (exit code 2)."""

    code = "cli_error"


class Refused(Exception):
    """The command ran and its answer is "no" (exit code 1); the reason is already printed."""


# --------------------------------------------------------------------------------------
# reading


def parse_duration(text: str) -> timedelta | None:
    """Parse ``15m``, ``1h``, ``30s``, ``500ms``, ``2d`` or ``none`` (no expiry).

    A bare number is seconds. Raises :class:`CLIError` on anything else.
    """
    value = text.strip().lower()
    if value in ("none", "never", "off"):
        return None
    match = re.fullmatch(r"(\d{1,9})(ms|s|m|h|d)?", value)
    if match is None:
        raise CLIError(f"invalid duration {text!r}: use e.g. 30s, 15m, 1h or none")
    amount = int(match.group(1))
    unit = match.group(2) or "s"
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return timedelta(seconds=amount * factor)


def read_input(name: str) -> bytes:
    """Bytes of a file, or of stdin for ``-``."""
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def as_text_if_possible(data: bytes) -> str | bytes:
    """UTF-8 text, or the bytes themselves (binary DER) when they are not text."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def load_json_file(name: str, what: str) -> Any:
    """The JSON value in file ``name`` (``-``: stdin); ``what`` names it in the error."""
    data = read_input(name)
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CLIError(f"{name}: {what} is not valid JSON ({exc})") from None


def parse_header_args(values: Iterable[str]) -> list[tuple[str, str]]:
    """``'name: value'`` arguments as lower-cased ``(name, value)`` pairs."""
    headers: list[tuple[str, str]] = []
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CLIError(f"invalid --header {item!r}: use 'name: value'")
        headers.append((name.strip().lower(), value.strip()))
    return headers


def request_body(args: argparse.Namespace) -> bytes | None:
    """The raw body given with ``--data`` (inline) or ``--body`` (a file), or None."""
    if getattr(args, "data", None) is not None:
        return str(args.data).encode("utf-8")
    if getattr(args, "body", None) is not None:
        return read_input(args.body)
    return None


# --------------------------------------------------------------------------------------
# passphrases

PASSPHRASE_ENV = "AUTHSIG_PASSPHRASE"  # noqa: S105 - a variable name
"""The environment variable that holds the passphrase of encrypted keys."""

_MAX_PASSPHRASE = 4096


def read_passphrase_file(name: str, option: str = "--passphrase-file") -> bytes:
    """The passphrase in file ``name`` (given with ``option``): its content without the
    trailing line break(s), as ``step --password-file`` reads it. Errors do not name the
    file: a passphrase given by mistake in its place would be shown."""
    try:
        with open(name, "rb") as handle:
            data = handle.read(_MAX_PASSPHRASE + 1)
    except OSError as exc:
        raise CLIError(
            f"{option}: cannot read the file ({exc.strerror or type(exc).__name__})"
        ) from None
    if len(data) > _MAX_PASSPHRASE:
        raise CLIError(f"{option}: the file is longer than {_MAX_PASSPHRASE} bytes")
    secret = data.rstrip(b"\r\n")
    if not secret:
        raise CLIError(f"{option}: the file holds no passphrase (empty)")
    return secret


def _prompt(source: str, *, new: bool) -> bytes:
    import getpass

    label = f"new passphrase for {source}" if new else f"passphrase for {source}"
    secret = getpass.getpass(f"{label}: ")
    if not secret:
        raise CLIError("no passphrase given (empty)")
    if new and getpass.getpass(f"{label} (again): ") != secret:
        raise CLIError("the passphrases do not match")
    return secret.encode("utf-8")


def read_passphrase(args: argparse.Namespace | None, source: str, *, new: bool = False) -> bytes:
    """The passphrase for the key ``source`` names (an encrypted key, or with ``new`` a key
    about to be encrypted): ``--passphrase-file``, else ``$AUTHSIG_PASSPHRASE``, else a prompt
    when stdin is a terminal (twice for a new key). Without any of them: for a key being read
    :class:`~authsig.errors.EncryptedKeyError`, for a new key :class:`CLIError`; each says
    what to give. The passphrase is never printed.
    """
    name = getattr(args, "passphrase_file", None)
    if name:
        return read_passphrase_file(name)
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value.encode("utf-8", "surrogateescape")
    if sys.stdin is not None and sys.stdin.isatty():
        return _prompt(source, new=new)
    # Name --passphrase-file only where the command has it (verify, explain, combine do not).
    option = "give --passphrase-file FILE or " if hasattr(args, "passphrase_file") else ""
    where = f"{option}set {PASSPHRASE_ENV} (stdin is not a terminal to prompt on)"
    if new:
        raise CLIError(
            f"a passphrase is needed to encrypt {source}: {where}, or give --no-passphrase to "
            "write it unencrypted"
        )
    raise EncryptedKeyError(f"{source}: the private key is encrypted: {where}")


def passphrase_source(args: argparse.Namespace | None) -> Callable[[str], bytes]:
    """What key loaders call for an encrypted key: :func:`read_passphrase` with ``args``."""

    def ask(source: str) -> bytes:
        return read_passphrase(args, source)

    return ask


# --------------------------------------------------------------------------------------
# keys


# Key references (FILE, -, env:VAR, file:PATH, pkcs11:, awskms://) are resolved by
# authsig.signers.refs, the one reader of keys for the API and every command.
_REFERENCE_PREFIXES = ("env:", "file:", "pkcs11:", "awskms://")


def _default(passphrase: Passphrase) -> Passphrase:
    # Every command reads encrypted keys: with no --passphrase-file, the environment or a prompt.
    return passphrase_source(None) if passphrase is None else passphrase


def load_any_key(
    data: str | bytes, source: str, passphrase: Passphrase = None
) -> tuple[PrivateKey | None, PublicKey]:
    """Load a private or a public key: returns ``(private_or_None, public)``.

    ``passphrase`` (here and below) decrypts an encrypted key; None means
    ``passphrase_source(None)``: ``$AUTHSIG_PASSPHRASE`` or a prompt.
    """
    from authsig.signers.refs import load_key_data

    return load_key_data(data, source, _default(passphrase))


def read_key_arg(ref: str) -> tuple[bytes, str]:
    """The key text a FILE, ``-``, ``env:VAR`` or ``file:PATH`` reference holds, and its name."""
    from authsig.signers.refs import read_key_text

    return read_key_text(ref)


def load_private_key_file(ref: str, passphrase: Passphrase = None) -> PrivateKey:
    """The private key that a FILE, ``-``, ``env:VAR`` or ``file:PATH`` reference holds."""
    from authsig.signers.refs import resolve_key

    if ref.lower().startswith(("pkcs11:", "awskms://")):
        raise CLIError("this needs a key file: pkcs11: and awskms:// keys never leave their store")
    key = resolve_key(ref, purpose="private", passphrase=_default(passphrase))
    if not isinstance(key, PrivateKey):  # unreachable: only pkcs11:/awskms:// give signers
        raise CLIError("this needs a key file")
    return key


def load_signing_key(ref: str, passphrase: Passphrase = None) -> PrivateKey | BaseSigner:
    """A key to sign with: a private key (FILE, ``-``, ``env:``, ``file:``) or a signer
    (``pkcs11:``, ``awskms://``)."""
    from authsig.signers.refs import resolve_key

    return resolve_key(ref, purpose="private", passphrase=_default(passphrase))


def load_public_key_ref(ref: str, passphrase: Passphrase = None) -> PublicKey:
    """The public key of any key reference (of the private key, token key or KMS key)."""
    from authsig.signers.refs import resolve_key

    return resolve_key(ref, purpose="public", passphrase=_default(passphrase))


def load_public_key_arg(value: str) -> PublicKey:
    """A public key given inline (base64 SPKI, PEM, JWK) or by reference (public or private)."""
    from authsig.keys import load_public_key
    from authsig.signers.refs import is_private_key_text

    if value == "-" or value.lower().startswith(_REFERENCE_PREFIXES) or os.path.exists(value):
        return load_public_key_ref(value)
    if is_private_key_text(value):
        # A JWK with "d" would load as its public half: refuse it, so that a private key typed
        # on a command line (and so in shell history and ps) is noticed, not silently used.
        raise KeyFormatError(
            "private key text given where a public key was expected: give the public key "
            "(authsig pubkey KEY) or a key reference"
        )
    try:
        return load_public_key(value)
    except KeyFormatError as exc:
        raise type(exc)(
            f"a --public-key/--user-key value is neither a file nor a public key ({exc.message})"
        ) from None


def format_key(key: PrivateKey | PublicKey, fmt: str) -> str:
    """A key as text in ``fmt`` (``privy``: base64 DER, ``pem``, ``jwk``), ending in a newline.

    Private and public keys share the method names, so one function formats both; whether a
    private key may be shown at all is the caller's decision.
    """
    if fmt == "pem":
        text = key.to_pem()
        return text if text.endswith("\n") else text + "\n"
    if fmt == "jwk":
        return json.dumps(key.to_jwk(), indent=2) + "\n"
    return key.to_base64() + "\n"


def private_key_text(key: PrivateKey, fmt: str, passphrase: bytes | None) -> str:
    """A private key file's text in ``fmt``; encrypted PKCS#8 with ``passphrase``.

    ``privy`` has no trailing newline: the official Python SDK decodes the file's text as
    strict base64 and refuses one. A JWK cannot be encrypted (:class:`CLIError`).
    """
    if fmt == "jwk":
        if passphrase is not None:
            raise CLIError(
                "a JWK cannot be encrypted: use --format pem or privy, or --no-passphrase"
            )
        return json.dumps(key.to_jwk(), indent=2) + "\n"
    if fmt == "pem":
        return key.to_pem(passphrase)
    return key.to_base64(passphrase)


# --------------------------------------------------------------------------------------
# writing


def _refuse_existing(path: Path) -> CLIError:
    return CLIError(f"{path}: already exists; use --force to overwrite it")


def check_overwrite(path: Path, *, force: bool) -> None:
    """Refuse an existing output file unless ``--force`` was given, and a missing folder."""
    if path.exists() and not force:
        raise _refuse_existing(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CLIError(f"{directory}: no such directory")


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write secret text atomically with mode 0600; refuse to overwrite unless ``force``.

    The text goes to a temporary file in the same directory (created with ``O_EXCL`` and
    mode 0600) and is flushed to disk; it then replaces ``path`` (``force``) or is hard-linked
    to ``path``, which fails atomically if something appeared there meanwhile.
    """
    check_overwrite(path, force=force)
    if path.is_dir():
        raise CLIError(f"{path}: is a directory")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CLIError(f"{directory}: no such directory")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        if hasattr(os, "fchmod"):  # mkstemp already uses 0600; be explicit where possible
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp_name, path)
        else:
            _link_new(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _link_new(tmp_name: str, path: Path) -> None:
    """Give the temporary file its final name without replacing anything there."""
    try:
        os.link(tmp_name, path)
    except FileExistsError:
        raise _refuse_existing(path) from None
    except OSError:  # no hard links here: check, then rename
        if path.exists():
            raise _refuse_existing(path) from None
        os.replace(tmp_name, path)
    else:
        os.unlink(tmp_name)


def write_output(name: str | None, data: bytes) -> None:
    """Write bytes to a file, or to stdout when ``name`` is None or ``-``."""
    if name is None or name == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    Path(name).write_bytes(data)


def print_headers(
    headers: Mapping[str, str],
    *,
    as_json: bool,
    as_curl: bool,
    method: str,
    url: str,
    body: bytes | None,
    body_file: str | None,
    curl_user: str | None = None,
) -> None:
    """Print the headers to send: ``name: value`` lines, a JSON object or a curl command.

    ``curl_user`` is a ready-quoted ``-u`` value for the curl command (the app secret as a
    shell reference, never the secret).
    """
    if as_json:
        dump_json(dict(headers))
        return
    if as_curl:
        lines = [f"curl -X {shlex.quote(method.upper())} {shlex.quote(url)}"]
        if curl_user is not None:
            lines.append(f"-u {curl_user}")
        if body:
            lines.append("-H " + shlex.quote("content-type: application/json"))
        lines += ["-H " + shlex.quote(f"{name}: {value}") for name, value in headers.items()]
        if body_file and body_file != "-":
            lines.append("--data-binary " + shlex.quote("@" + body_file))
        elif body:
            lines.append("--data-binary " + shlex.quote(body.decode("utf-8", "replace")))
        print(" \\\n  ".join(lines))
        return
    for name, value in headers.items():
        print(f"{name}: {value}")


def dump_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout (the ``--json`` output of every command)."""
    print(json.dumps(obj, indent=2, sort_keys=False))
