"""Ed25519 keys that sign checkpoints: ids, rotation, and the public keys verifiers trust.

Production: ``AUDIT_SIGNING_KEY`` holds the current private key (base64 of its 32-byte seed) and
``AUDIT_RETIRED_PUBLIC_KEYS`` the public keys (base64, comma-separated) of keys used before a
rotation. The embedded default generates a key once into a git-ignored JSON file under var/
(``AUDIT_KEY_FILE``); ``manage.py audit_rotate_key`` rotates it. Trusted public keys come from this
configuration only, never from the database an attacker might write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "ed25519"


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes) -> str:
    """A key's id: the first 8 bytes of SHA-256 of its raw public key, in hex (16 characters)."""
    return hashlib.sha256(public).hexdigest()[:16]


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, encryption_algorithm=_no_encryption())


def _no_encryption():
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()


def _decode_private(text: str, source: str) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{source} must be the base64 of a 32-byte Ed25519 private key") from None


def _decode_public(text: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{source} must hold base64 32-byte Ed25519 public keys") from None
    return raw


@dataclass(frozen=True)
class SigningKey:
    """The key that signs new checkpoints."""

    key_id: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self.private.sign(message)

    @property
    def public(self) -> bytes:
        """Its raw public key."""
        return raw_public(self.private.public_key())


def _key_file() -> Path:
    return Path(settings.AUDIT_KEY_FILE)


def _read_file() -> dict:
    path = _key_file()
    if path.exists():
        return json.loads(path.read_text())
    return _write_file({"current": base64.b64encode(_seed(Ed25519PrivateKey.generate())).decode(), "retired": []})


def _write_file(data: dict, *, replace: bool = False) -> dict:
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only: the key signs checkpoints. A fresh file is created exclusively (no race between processes).
    temporary = path.with_suffix(".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(temporary if replace else path, flags if replace else flags | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    if replace:
        os.replace(temporary, path)
    return data


def _from_env() -> bool:
    return bool(settings.AUDIT_SIGNING_KEY)


def signing_key() -> SigningKey:
    """The current signing key (environment in production; the generated file in the embedded default)."""
    if _from_env():
        private = _decode_private(settings.AUDIT_SIGNING_KEY, "AUDIT_SIGNING_KEY")
    else:
        try:
            data = _read_file()
        except FileExistsError:  # another process created it between our check and our write
            data = json.loads(_key_file().read_text())
        private = _decode_private(data["current"], str(_key_file()))
    return SigningKey(key_id(raw_public(private.public_key())), private)


def trusted_public_keys() -> dict[str, bytes]:
    """{key id: raw public key} of the current and retired keys: the only keys a checkpoint may carry."""
    current = signing_key()
    keys = {current.key_id: current.public}
    if _from_env():
        retired = [_decode_public(text, "AUDIT_RETIRED_PUBLIC_KEYS") for text in settings.AUDIT_RETIRED_PUBLIC_KEYS]
    else:
        retired = [_decode_public(text, str(_key_file())) for text in _read_file().get("retired", [])]
    for raw in retired:
        keys.setdefault(key_id(raw), raw)
    return keys


def published_keys() -> list[dict]:
    """The public keys as published (URL and export): id, algorithm, base64 raw key, current or not."""
    current = signing_key().key_id
    return [
        {"key_id": kid, "algorithm": ALGORITHM, "public_key": base64.b64encode(raw).decode(), "current": kid == current}
        for kid, raw in trusted_public_keys().items()
    ]


def rotate() -> SigningKey:
    """Embedded default only: a new current key; the old public key stays trusted. Returns the new key."""
    if _from_env():
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY comes from the environment: rotate by setting a new key and adding the old "
            "public key to AUDIT_RETIRED_PUBLIC_KEYS (docs/audit-operations.md)"
        )
    data = _read_file()
    old = _decode_private(data["current"], str(_key_file()))
    retired = list(data.get("retired", [])) + [base64.b64encode(raw_public(old.public_key())).decode()]
    new = Ed25519PrivateKey.generate()
    _write_file({"current": base64.b64encode(_seed(new)).decode(), "retired": retired}, replace=True)
    return signing_key()
