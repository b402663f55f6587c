"""Real signing backends for the signer tests: a SoftHSM2 token and a moto KMS server.

Both are started by the tests themselves; ``.ci/run`` installs SoftHSM2 (Debian ``softhsm2``)
and ``pip install -e .[dev]`` installs python-pkcs11, boto3 and moto. Without them the tests
skip, which fails a run under ``AUTHSIG_STRICT=1``.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from authsig.keys import PrivateKey, generate_private_key

# Where Debian and other distributions put the SoftHSM2 module.
_SOFTHSM_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
P384_PARAMS = bytes.fromhex("06052b81040022")
TOKEN = "authsig-test"
PIN = "4321"


@dataclass(frozen=True)
class SoftHSM:
    """An initialized token and what the tests need to reach its keys."""

    module: str
    conf: str
    imported: PrivateKey  # the key imported as "carol": known here, held by the token

    def uri(self, pin: str | None = PIN, **attrs: str) -> str:
        """``pkcs11:token=...;<attrs>?module-path=...&pin-value=...``."""
        path = ";".join([f"token={TOKEN}"] + [f"{k}={v}" for k, v in attrs.items()])
        query = f"module-path={quote(self.module, safe='/')}"
        if pin is not None:
            query += f"&pin-value={pin}"
        return f"pkcs11:{path}?{query}"


def softhsm_module() -> str | None:
    return next((p for p in _SOFTHSM_PATHS if os.path.exists(p)), None)


def _import_key(session: Any, key: PrivateKey, label: str, key_id: bytes) -> None:
    from pkcs11 import Attribute, KeyType, ObjectClass

    common = {
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.TOKEN: True,
        Attribute.LABEL: label,
        Attribute.ID: key_id,
        Attribute.EC_PARAMS: P256_PARAMS,
    }
    d = key.crypto.private_numbers().private_value.to_bytes(32, "big")
    session.create_object(
        {
            **common,
            Attribute.CLASS: ObjectClass.PRIVATE_KEY,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.SIGN: True,
            Attribute.VALUE: d,
        }
    )
    point = key.public_key.point
    session.create_object(
        {
            **common,
            Attribute.CLASS: ObjectClass.PUBLIC_KEY,
            Attribute.VERIFY: True,
            Attribute.EC_POINT: b"\x04" + bytes([len(point)]) + point,  # DER OCTET STRING
        }
    )


def _fill_token(module: str) -> PrivateKey:
    """alice (01), bob (02): made on the token; carol (03): imported; and two broken keys."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass

    lib = pkcs11.lib(module)
    token = lib.get_token(token_label=TOKEN)
    known = generate_private_key()
    with token.open(user_pin=PIN, rw=True) as session:
        for label, key_id in (("alice", b"\x01"), ("bob", b"\x02")):
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: P256_PARAMS}, local=True
            )
            params.generate_keypair(store=True, label=label, id=key_id)
        _import_key(session, known, "carol", b"\x03")
        # "orphan": a private key whose public key object is missing.
        orphan = generate_private_key().crypto.private_numbers().private_value
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.KEY_TYPE: KeyType.EC,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SIGN: True,
                Attribute.LABEL: "orphan",
                Attribute.ID: b"\x04",
                Attribute.EC_PARAMS: P256_PARAMS,
                Attribute.VALUE: orphan.to_bytes(32, "big"),
            }
        )
        p384 = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: P384_PARAMS}, local=True
        )
        p384.generate_keypair(store=True, label="p384", id=b"\x05")
    return known


@functools.cache
def softhsm() -> SoftHSM:
    """One SoftHSM2 token per test process, made in a temporary directory.

    SoftHSM reads ``SOFTHSM2_CONF`` once, when the module is first initialized, and
    python-pkcs11 keeps a module loaded for the life of the process: so the configuration is
    set in this process's environment (child processes, such as the CLI, inherit it) and the
    token is made before anything loads the module.
    """
    module = softhsm_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2; .ci/run does)")
    pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (authsig[pkcs11])")
    home = tempfile.mkdtemp(prefix="authsig-softhsm-")
    atexit.register(shutil.rmtree, home, True)
    tokens = Path(home, "tokens")
    tokens.mkdir()
    conf = Path(home, "softhsm2.conf")
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "87654321"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return SoftHSM(module=module, conf=str(conf), imported=_fill_token(module))


# --- AWS KMS ------------------------------------------------------------------------------

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class MotoKMS:
    """A moto server on 127.0.0.1 and the environment that points boto3 at it."""

    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {**AWS_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "kms",
            endpoint_url=self.endpoint,
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )

    def create_key(self, spec: str = "ECC_NIST_P256", alias: str | None = None) -> dict[str, Any]:
        """A new KMS key's metadata (``KeyId``, ``Arn``); ``alias`` names it too."""
        client = self.client()
        meta: dict[str, Any] = client.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)[
            "KeyMetadata"
        ]
        if alias is not None:
            client.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        return meta


@contextmanager
def moto_kms() -> Iterator[MotoKMS]:
    """A moto server in this process (a thread), on a free port of 127.0.0.1."""
    pytest.importorskip("boto3", reason="boto3 is not installed (authsig[aws])")
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoKMS(endpoint=f"http://{host}:{port}")
    finally:
        server.stop()
