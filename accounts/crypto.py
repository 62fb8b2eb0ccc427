"""Authenticated encryption for secrets at rest that are bytes (TOTP seeds, session keys).

Built on the tenant's data key from ``vault`` (per-tenant keys wrapped by the master keys, so
crypto-shredding a tenant makes these unreadable too). Each value is bound to its tenant, purpose,
row and key version through the associated data, so a ciphertext copied to another tenant, column
or row does not decrypt (DP-1, MFA-8).

Stored form: ``v2:<data key version>:`` + urlsafe base64 of (12-byte nonce || ciphertext || tag).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import keyring
from vault.models import TenantKey

PREFIX = "v2:"
NONCE_BYTES = 12
DATA = TenantKey.Purpose.DATA

__all__ = ["DecryptionError", "decrypt", "encrypt"]


class DecryptionError(Exception):
    """The value was altered, or belongs to another tenant, purpose or row, or the key is gone."""


def _associated_data(tenant_id, purpose: str, row_id, version: int) -> bytes:
    if tenant_id is None or row_id is None:
        raise ValueError("encryption needs a saved tenant and a row id")
    return f"portcullis/secret/v2|{tenant_id}|{version}|{purpose}|{row_id}".encode()


def encrypt(value: bytes | str, *, tenant, purpose: str, row_id) -> str:
    """Encrypt ``value`` for one tenant, purpose and row under the tenant's active data key; text to store."""
    tenant_id = getattr(tenant, "pk", tenant)
    data = value.encode() if isinstance(value, str) else bytes(value)
    aad = _associated_data(tenant_id, purpose, row_id, 0)  # validates before a key is created
    version, raw = keyring.active(tenant_id, DATA)
    aad = _associated_data(tenant_id, purpose, row_id, version)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(raw).encrypt(nonce, data, aad)
    return f"{PREFIX}{version}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str, *, tenant, purpose: str, row_id) -> bytes:
    """The bytes ``encrypt`` sealed, if tenant, purpose and row match; else ``DecryptionError``."""
    tenant_id = getattr(tenant, "pk", tenant)
    if not stored or not stored.startswith(PREFIX):
        raise DecryptionError("not an encrypted value")
    try:
        version_text, encoded = stored[len(PREFIX) :].split(":", 1)
        version = int(version_text)
        blob = base64.urlsafe_b64decode(encoded.encode())
        raw = keyring.key(tenant_id, DATA, version)
        aad = _associated_data(tenant_id, purpose, row_id, version)
        return AESGCM(raw).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except keyring.KeyUnavailable as exc:
        raise DecryptionError("the key of this value is gone (crypto-shredded?)") from exc
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("cannot decrypt this value here") from exc
