"""Per-tenant keys: created on first use, wrapped by the current master key, unwrapped on demand.

Unwrapped keys are kept in process memory for a short time (KEY_TTL) so that encryption does not
cost a query per value; crypto-shredding clears this process's copies at once, and other
processes drop theirs within KEY_TTL.
"""

from __future__ import annotations

import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction

from vault import masterkeys
from vault.models import TenantKey

KEY_TTL = 60.0
_memory: dict[tuple[int, str, int], tuple[bytes, float]] = {}
_active: dict[tuple[int, str], tuple[int, float]] = {}


class KeyUnavailable(Exception):
    """The key a value needs is destroyed (crypto-shredded) or missing: the value cannot be read."""


def _keys_of(tenant_id: int):
    # The key rows of the tenant that owns the value being encrypted or decrypted, chosen by that
    # row's own tenant id: deliberately not the request's scope, so platform jobs can use it too.
    return TenantKey.objects.dangerously_all_tenants().filter(tenant_id=tenant_id)


def _wrap_aad(tenant_id: int, purpose: str, version: int) -> bytes:
    return f"portcullis/tenant-key/v1|{tenant_id}|{purpose}|{version}".encode()


def wrap(raw: bytes, *, tenant_id: int, purpose: str, version: int) -> tuple[str, bytes]:
    """(master key id, nonce || ciphertext) of a data key under the current master key."""
    keys = masterkeys.load()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(keys.current).encrypt(nonce, raw, _wrap_aad(tenant_id, purpose, version))
    return keys.current_id, nonce + sealed


def unwrap(row: TenantKey) -> bytes:
    """The raw key of a stored row; KeyUnavailable if destroyed or its master key is gone."""
    if row.state == TenantKey.State.DESTROYED or row.wrapped is None:
        raise KeyUnavailable(f"{row.purpose} key v{row.version} of tenant {row.tenant_id} was destroyed")
    master = masterkeys.load().keys.get(row.master_key_id)
    if master is None:
        raise KeyUnavailable(f"master key {row.master_key_id!r} is not configured")
    blob = bytes(row.wrapped)
    try:
        return AESGCM(master).decrypt(blob[:12], blob[12:], _wrap_aad(row.tenant_id, row.purpose, row.version))
    except InvalidTag:
        raise KeyUnavailable(f"{row.purpose} key v{row.version} of tenant {row.tenant_id} does not unwrap") from None


def forget(tenant_id: int | None = None) -> None:
    """Drop cached keys (of one tenant, or all) from this process."""
    for cache in (_memory, _active):
        for key in [k for k in cache if tenant_id is None or k[0] == tenant_id]:
            del cache[key]


def key(tenant_id: int, purpose: str, version: int) -> bytes:
    """The raw key ``version`` of a tenant (for decryption)."""
    cached = _memory.get((tenant_id, purpose, version))
    if cached and time.monotonic() - cached[1] < KEY_TTL:
        return cached[0]
    row = _keys_of(tenant_id).filter(purpose=purpose, version=version).first()
    if row is None:
        raise KeyUnavailable(f"{purpose} key v{version} of tenant {tenant_id} does not exist")
    raw = unwrap(row)
    _memory[(tenant_id, purpose, version)] = (raw, time.monotonic())
    return raw


def active(tenant_id: int, purpose: str) -> tuple[int, bytes]:
    """(version, raw key) of the tenant's active key for ``purpose``, creating the first one."""
    cached = _active.get((tenant_id, purpose))
    if cached and time.monotonic() - cached[1] < KEY_TTL:
        return cached[0], key(tenant_id, purpose, cached[0])
    row = _keys_of(tenant_id).filter(purpose=purpose, state=TenantKey.State.ACTIVE).first()
    if row is None:
        if _keys_of(tenant_id).filter(state=TenantKey.State.DESTROYED).exists():
            raise KeyUnavailable(f"the keys of tenant {tenant_id} were destroyed")
        row = _create_first(tenant_id, purpose)
    _active[(tenant_id, purpose)] = (row.version, time.monotonic())
    return row.version, key(tenant_id, purpose, row.version)


def _create_first(tenant_id: int, purpose: str) -> TenantKey:
    try:
        with transaction.atomic():
            return create(tenant_id, purpose, version=1)
    except IntegrityError:  # another process created it at the same moment
        return _keys_of(tenant_id).get(purpose=purpose, state=TenantKey.State.ACTIVE)


def create(tenant_id: int, purpose: str, *, version: int) -> TenantKey:
    """Store a fresh random 256-bit key as the active one (the caller archives the previous one first)."""
    raw = secrets.token_bytes(32)
    master_id, wrapped = wrap(raw, tenant_id=tenant_id, purpose=purpose, version=version)
    return TenantKey.objects.create(
        tenant_id=tenant_id, purpose=purpose, version=version, master_key_id=master_id, wrapped=wrapped
    )
