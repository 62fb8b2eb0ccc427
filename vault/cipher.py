"""AES-256-GCM for one value, bound to its tenant, key version and place (model, field, row).

A stored value reads ``v1:<key version>:<base64(nonce || ciphertext)>``. The associated data binds
it to the tenant and the exact row and field, so a ciphertext copied to another row or tenant
fails to decrypt (DP-1); the key version travels with the value, so rotation can proceed while old
values stay readable (DP-2).
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import keyring
from vault.models import TenantKey

PREFIX = "v1"
DATA = TenantKey.Purpose.DATA


class Sealed(str):
    """A stored ciphertext, as opposed to a plaintext value."""


class DecryptionFailed(Exception):
    """The value was tampered with, moved to another row or tenant, or its key is gone."""


def _aad(tenant_id: int, version: int, context: str) -> bytes:
    return f"portcullis/value/{PREFIX}|{tenant_id}|{version}|{context}".encode()


def encrypt(plaintext: str, *, tenant_id: int, context: str) -> Sealed:
    """Seal ``plaintext`` under the tenant's active data key, a fresh 96-bit nonce and ``context``."""
    version, raw = keyring.active(tenant_id, DATA)
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(raw).encrypt(nonce, plaintext.encode(), _aad(tenant_id, version, context))
    return Sealed(f"{PREFIX}:{version}:{base64.b64encode(nonce + sealed).decode()}")


def key_version(token: str) -> int:
    """The data key version a stored value was sealed with."""
    prefix, version, _rest = token.split(":", 2)
    if prefix != PREFIX:
        raise DecryptionFailed(f"unknown format {prefix!r}")
    return int(version)


def decrypt(token: str, *, tenant_id: int, context: str) -> str:
    """The plaintext of a stored value; DecryptionFailed if it does not belong here or cannot be read."""
    try:
        version = key_version(token)
        blob = base64.b64decode(token.split(":", 2)[2], validate=True)
        raw = keyring.key(tenant_id, DATA, version)
        return AESGCM(raw).decrypt(blob[:12], blob[12:], _aad(tenant_id, version, context)).decode()
    except keyring.KeyUnavailable as exc:
        raise DecryptionFailed(str(exc)) from None
    except (InvalidTag, ValueError, IndexError):
        raise DecryptionFailed("the value does not decrypt here (tampered, copied or corrupt)") from None
