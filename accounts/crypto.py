"""Small authenticated encryption for secrets at rest (TOTP seeds, session keys): AES-256-GCM.

Each value is bound to its tenant, purpose and row through the associated data, so a ciphertext
copied to another tenant, column or row does not decrypt (DP-1, MFA-8). The key comes from
``PORTCULLIS_FIELD_KEY`` (urlsafe base64 of 32 bytes) or is generated once into ``var/field_key``
(git-ignored, owner-only), like SECRET_KEY. A later issue generalises this to per-tenant keys with
rotation; the interface stays ``encrypt(value, *, tenant, purpose, row_id)`` / ``decrypt``.

Stored form: ``v1:`` + urlsafe base64 of (12-byte random nonce || ciphertext || 16-byte tag).
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1:"
NONCE_BYTES = 12

__all__ = ["DecryptionError", "decrypt", "encrypt"]


class DecryptionError(Exception):
    """The value was altered, or belongs to another tenant, purpose or row, or the key is wrong."""


@lru_cache(maxsize=1)
def _key() -> bytes:
    raw = os.environ.get("PORTCULLIS_FIELD_KEY", "").strip()
    if raw:
        key = base64.urlsafe_b64decode(raw.encode())
        if len(key) != 32:
            raise ImproperlyConfigured("PORTCULLIS_FIELD_KEY must be urlsafe base64 of 32 bytes")
        return key
    path = Path(settings.VAR_DIR) / "field_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    key = base64.urlsafe_b64decode(path.read_text().strip().encode())
    if len(key) != 32:
        raise ImproperlyConfigured(f"{path} must hold urlsafe base64 of 32 bytes")
    return key


def _associated_data(tenant, purpose: str, row_id) -> bytes:
    tenant_id = getattr(tenant, "pk", tenant)
    if tenant_id is None or row_id is None:
        raise ValueError("encryption needs a saved tenant and a row id")
    return f"portcullis|{tenant_id}|{purpose}|{row_id}".encode()


def encrypt(value: bytes | str, *, tenant, purpose: str, row_id) -> str:
    """Encrypt ``value`` for one tenant, purpose and row; returns text to store."""
    data = value.encode() if isinstance(value, str) else bytes(value)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(_key()).encrypt(nonce, data, _associated_data(tenant, purpose, row_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str, *, tenant, purpose: str, row_id) -> bytes:
    """The bytes ``encrypt`` sealed, if tenant, purpose and row match; else ``DecryptionError``."""
    if not stored or not stored.startswith(PREFIX):
        raise DecryptionError("not an encrypted value")
    try:
        blob = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode())
        return AESGCM(_key()).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(tenant, purpose, row_id))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("cannot decrypt this value here") from exc
