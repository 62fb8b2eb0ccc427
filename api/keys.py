"""Issuing, revoking and verifying API keys (services: each change audited in its transaction).

Token format: ``pck_<tenant id>_<prefix>_<secret>``: the prefix (12 hex characters) finds the row,
the secret (32 bytes from ``secrets``, URL-safe) is checked against its stored SHA-256 with
``hmac.compare_digest``. Verified keys are remembered in this process for at most a second and only
while the tenant's authorization version is unchanged: revoking a key bumps that version, so a
revoked key is refused on the next request in every process (AZ-5).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

import audit
from accounts.scoping import dangerously_unscoped
from api.models import ApiKey
from audit.events import EventType
from permissions import engine
from permissions.services.checks import require
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import bump, current_version
from permissions.vocabulary import Action, actions_of, mask_of

TOKEN_PREFIX = "pck"
LAST_USED_EVERY = timedelta(minutes=1)
CACHE_SECONDS = 1.0
MANAGE = ("settings", Action.CHANGE)


@dataclass(frozen=True)
class Issued:
    """A new key and its token (the token is shown once and never stored)."""

    key: ApiKey
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _readable(scopes: dict[str, int]) -> dict[str, list[str]]:
    return {module: [a.value for a in actions_of(mask)] for module, mask in sorted(scopes.items())}


def normalise_scopes(scopes) -> dict[str, int]:
    """``{module key: [actions]}`` (or masks) as ``{module key: mask}``, empty entries dropped."""
    result = {}
    for module, actions in (scopes or {}).items():
        mask = int(actions) if isinstance(actions, int) else mask_of(actions)
        if mask:
            result[str(module)] = mask
    return result


@transaction.atomic
def create_key(*, actor, name: str, scopes, expires_at=None, scim: bool = False, rate_per_minute: int = 600) -> Issued:
    """A new key of the actor's tenant acting for the actor, limited to ``scopes`` (which the actor must
    hold themselves: no escalation through a key). Needs settings: change. Audited (no secret)."""
    require(actor, Action.CHANGE, "settings")
    scopes = normalise_scopes(scopes)
    name = (name or "").strip()
    if not name:
        raise AccessRefused(ErrorCode.INVALID, "a key needs a name")
    if not scopes:
        raise AccessRefused(ErrorCode.INVALID, "a key needs at least one scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise AccessRefused(ErrorCode.INVALID, "the expiry must be in the future")
    if not 1 <= int(rate_per_minute) <= 1_000_000:
        raise AccessRefused(ErrorCode.INVALID, "the rate limit must be between 1 and 1,000,000 per minute")
    missing = [
        f"{module}:{action.value}"
        for module, mask in scopes.items()
        for action in actions_of(mask)
        if not engine.can(actor, action, module)
    ]
    if missing:
        raise AccessRefused(ErrorCode.OUT_OF_SCOPE, missing=missing)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        tenant_id=actor.tenant_id,
        name=name[:100],
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=scopes,
        scim=bool(scim),
        rate_per_minute=int(rate_per_minute),
        owner=actor,
        expires_at=expires_at,
    )
    audit.record(
        EventType.API_KEY_CREATED,
        tenant=actor.tenant,
        actor=actor,
        target=key,
        after={
            "name": key.name,
            "prefix": prefix,
            "scopes": _readable(scopes),
            "scim": key.scim,
            "rate_per_minute": key.rate_per_minute,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return Issued(key=key, token=f"{TOKEN_PREFIX}_{actor.tenant_id}_{prefix}_{secret}")


@transaction.atomic
def revoke_key(key: ApiKey, *, actor, reason: str = "") -> ApiKey:
    """Stop a key now, in every process (bumps the tenant's authorization version). Audited."""
    if actor.tenant_id != key.tenant_id:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CHANGE, "settings")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    _mark_revoked(key, tenant=actor.tenant, actor=actor, now=timezone.now(), reason=reason)
    bump(key.tenant_id)
    return key


def _mark_revoked(key, *, tenant, actor, now, reason: str, **after) -> None:
    """Stamp ``key`` (a row locked by the caller) revoked and record it."""
    key.revoked_at = now
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        EventType.API_KEY_REVOKED,
        tenant=tenant,
        actor=actor,
        target=key,
        before={"revoked_at": None},
        after={"revoked_at": now.isoformat(), **after},
        reason=reason,
    )


def revoke_keys_of(owner, *, actor, reason: str = "") -> int:
    """Revoke every live key acting for ``owner`` (their deactivation: a later reactivation revives none,
    INS-5). Inside the caller's transaction; one event per key; returns how many were revoked."""
    from accounts.scoping import tenant_scope

    now = timezone.now()
    with tenant_scope(owner.tenant):
        keys = list(ApiKey.objects.select_for_update().filter(owner=owner, revoked_at__isnull=True))
    for key in keys:
        _mark_revoked(key, tenant=owner.tenant, actor=actor, now=now, reason=reason, owner_deactivated=True)
    if keys:
        bump(owner.tenant_id)
    return len(keys)


# token digest → (key, owner, version, valid until (monotonic))
_verified: dict[str, tuple[ApiKey, object, tuple, float]] = {}
_last_written: dict[int, float] = {}
MAX_CACHED = 10_000


def forget_verified() -> None:
    """Forget the keys verified in this process (tests)."""
    _verified.clear()
    _last_written.clear()


def parse(token: str) -> tuple[int, str, str] | None:
    """(tenant id, prefix, secret) of a well-formed token, else None."""
    parts = (token or "").split("_", 3)
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not parts[1].isdigit() or len(parts[2]) != 12:
        return None
    return int(parts[1]), parts[2], parts[3]


def verify(token: str):
    """(key, owner) for a live key with a live, active owner; None otherwise (same answer for every failure)."""
    parsed = parse(token)
    if parsed is None:
        return None
    tenant_id, prefix, secret = parsed
    digest = _digest(secret)
    now = time.monotonic()
    cached = _verified.get(digest)
    version = current_version(tenant_id)
    if cached is not None and cached[2] == version and now < cached[3] and cached[0].is_live():
        return cached[0], cached[1]
    # Deliberately unscoped: the tenant is only known once the key is found (like a login by e-mail).
    with dangerously_unscoped():
        key = (
            ApiKey.objects.dangerously_all_tenants()
            .select_related("owner", "owner__tenant", "tenant")
            .filter(tenant_id=tenant_id, prefix=prefix)
            .first()
        )
    if key is None or not hmac.compare_digest(key.secret_hash, digest):
        _verified.pop(digest, None)
        return None
    owner = key.owner
    if not key.is_live() or not key.tenant.is_active or not owner.is_active or owner.tenant_id != key.tenant_id:
        return None
    if len(_verified) >= MAX_CACHED:
        _verified.pop(next(iter(_verified)), None)
    _verified[digest] = (key, owner, version, now + CACHE_SECONDS)
    return key, owner


def touch(key: ApiKey) -> None:
    """Remember the key's last use, writing at most once a minute per key and process."""
    now = time.monotonic()
    if now - _last_written.get(key.pk, -1e9) < LAST_USED_EVERY.total_seconds():
        return
    _last_written[key.pk] = now
    if not cache.add(f"portcullis:apikey:used:{key.pk}", 1, timeout=int(LAST_USED_EVERY.total_seconds())):
        return  # another process wrote it within the minute
    stamp = timezone.now()
    key.last_used_at = stamp
    # A plain UPDATE by primary key and tenant: not a state change worth an audit event.
    ApiKey.objects.dangerously_all_tenants().filter(pk=key.pk, tenant_id=key.tenant_id).update(last_used_at=stamp)
