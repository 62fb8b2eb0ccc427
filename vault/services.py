"""Key rotation, re-encryption and crypto-shredding. Each step is audited in the tenant's own log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

import audit
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from vault import keyring, masterkeys
from vault.cipher import Sealed, encrypt, key_version
from vault.fields import _context, encrypted_fields
from vault.models import TenantKey


def rewrap_all(*, actor=None) -> int:
    """Re-wrap every live tenant key under the current master key; returns how many were re-wrapped."""
    from accounts.models import Tenant

    current = masterkeys.load().current_id
    done = 0
    with dangerously_unscoped():  # a platform operation over every tenant's key rows
        tenant_ids = list(
            TenantKey.objects.exclude(state=TenantKey.State.DESTROYED)
            .exclude(master_key_id=current)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
        tenants = {t.pk: t for t in Tenant.objects.filter(pk__in=tenant_ids)}
    for tenant_id in tenant_ids:
        tenant = tenants[tenant_id]
        with tenant_scope(tenant), transaction.atomic():
            rows = list(
                TenantKey.objects.select_for_update()
                .exclude(state=TenantKey.State.DESTROYED)
                .exclude(master_key_id=current)
            )
            for row in rows:
                raw = keyring.unwrap(row)
                row.master_key_id, row.wrapped = keyring.wrap(
                    raw, tenant_id=row.tenant_id, purpose=row.purpose, version=row.version
                )
                row.save(update_fields=["master_key_id", "wrapped"])
            audit.record(
                EventType.KEYS_REWRAPPED, tenant=tenant, actor=actor, after={"master_key": current, "keys": len(rows)}
            )
            done += len(rows)
    return done


@transaction.atomic
def rotate_data_key(tenant, *, actor=None) -> TenantKey:
    """A new active data key for ``tenant``; the previous one stays readable (archived) until re-encryption."""
    with tenant_scope(tenant):
        keyring.active(tenant.pk, TenantKey.Purpose.DATA)  # make sure a first key exists
        current = TenantKey.objects.select_for_update().get(purpose=TenantKey.Purpose.DATA, state="active")
        current.state = TenantKey.State.ARCHIVED
        current.save(update_fields=["state"])
        new = keyring.create(tenant.pk, TenantKey.Purpose.DATA, version=current.version + 1)
        audit.record(
            EventType.DATA_KEY_ROTATED,
            tenant=tenant,
            actor=actor,
            before={"version": current.version},
            after={"version": new.version},
        )
    transaction.on_commit(lambda: keyring.forget(tenant.pk))
    keyring.forget(tenant.pk)
    return new


def _models_with_encrypted_fields() -> dict[type, list]:
    by_model = defaultdict(list)
    for field in encrypted_fields():
        by_model[field.model].append(field)
    return by_model


def pending_values(tenant) -> int:
    """How many stored values of ``tenant`` are sealed under an older data key."""
    active, _raw = keyring.active(tenant.pk, TenantKey.Purpose.DATA)
    pending = 0
    with tenant_scope(tenant):
        for model, fields in _models_with_encrypted_fields().items():
            for values in model.objects.values_list(*[f.attname for f in fields]):
                pending += sum(1 for token in values if token and key_version(token) != active)
    return pending


def reencrypt(tenant, *, batch_size: int = 500, actor=None, progress: Callable[[int], None] | None = None) -> int:
    """Re-seal every value of ``tenant`` under its active data key, in batches; resumable and safe to re-run.

    Each value is swapped only if it still holds the ciphertext that was read (compare-and-swap),
    so an edit made meanwhile through the portal is never overwritten.
    """
    active, _raw = keyring.active(tenant.pk, TenantKey.Purpose.DATA)
    rewritten = 0
    with tenant_scope(tenant):
        for model, fields in _models_with_encrypted_fields().items():
            last_pk = None
            while True:
                rows = model.objects.order_by("pk")
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows[:batch_size])
                if not batch:
                    break
                with transaction.atomic():
                    for row in batch:
                        for field in fields:
                            token = row.__dict__.get(field.attname)
                            if not isinstance(token, Sealed) or key_version(token) == active:
                                continue
                            clear = getattr(row, field.attname)
                            fresh = encrypt(clear, tenant_id=tenant.pk, context=_context(row, field))
                            rewritten += model.objects.filter(pk=row.pk, **{field.attname: token}).update(
                                **{field.attname: fresh}
                            )
                last_pk = batch[-1].pk
                if progress:
                    progress(rewritten)
        with transaction.atomic():
            audit.record(
                EventType.VALUES_REENCRYPTED, tenant=tenant, actor=actor, after={"version": active, "values": rewritten}
            )
    return rewritten


@dataclass(frozen=True)
class Shredded:
    """What crypto-shredding a tenant destroyed."""

    keys: int  # tenant keys whose wrapped bytes were deleted
    personal_values: int  # clear personal values of the audit trail erased (actor labels, e-mails, names, addresses)
    users: int = 0  # users whose e-mail, name and password were replaced (they can never log in again)


def _erase_personal_values(tenant) -> int:
    """Delete every clear personal value of ``tenant``'s audit trail; return how many values were erased.

    ``PersonalValue`` is the audit trail's erasable table (not append-only): its events keep only salted
    commitments, which reveal nothing once the salts are gone, so every hash still verifies.
    """
    import json

    from audit.models import PersonalValue

    rows = PersonalValue.objects.filter(tenant=tenant)
    erased = sum(len(json.loads(values)) for values in rows.values_list("values", flat=True))
    rows.delete()
    return erased


def _forget_people(tenant) -> int:
    """The tenant's users can never log in again and no longer name anyone: every session ends, e-mail and
    name are replaced, passwords made unusable, the invitation and reset links and the lockout records of
    their addresses deleted. Returns how many users."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from accounts.auth_models import EmailToken
    from accounts.models import User
    from accounts.sessions import end_user_sessions

    users = list(User.objects.all())
    emails = [user.email for user in users]
    for user in users:
        end_user_sessions(user)
        user.email = f"shredded-{user.pk}@shredded.invalid"
        user.full_name = ""
        user.is_active = False
        user.set_unusable_password()
    User.objects.bulk_update(users, ["email", "full_name", "is_active", "password"])
    EmailToken.objects.filter(user__in=users).delete()
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=emails).delete()
    return len(users)


@transaction.atomic
def shred_tenant(tenant, *, actor=None, reason: str = "") -> Shredded:
    """Crypto-shred ``tenant``: destroy its keys so that its encrypted values can never be read again, and
    erase the clear personal values of its audit trail (the e-mails, names and addresses its events hold
    only as commitments).

    The tenant is deactivated too. Other tenants are untouched, and the audit chain still verifies (it
    holds commitments, never clear personal data). The shredding is recorded in the tenant's log (keeping
    the actor's id; its own clear values are erased with the rest). All in one transaction.
    """
    with tenant_scope(tenant):
        keys = list(TenantKey.objects.select_for_update().exclude(state=TenantKey.State.DESTROYED))
        now = timezone.now()
        for row in keys:
            row.state, row.wrapped, row.destroyed_at = TenantKey.State.DESTROYED, None, now
            row.save(update_fields=["state", "wrapped", "destroyed_at"])
        if not TenantKey.objects.exists():  # never had a key: leave a destroyed marker so none is ever created again
            TenantKey.objects.create(
                tenant=tenant, purpose=TenantKey.Purpose.DATA, version=1, state=TenantKey.State.DESTROYED
            )
        tenant.is_active = False
        tenant.save(update_fields=["is_active"])
        people = _forget_people(tenant)
        erased = _erase_personal_values(tenant)
        audit.record(
            EventType.TENANT_SHREDDED,
            tenant=tenant,
            actor=actor,
            reason=reason,
            after={"keys": len(keys), "personal_values_erased": erased, "users_forgotten": people},
        )
        # The shredding event's own clear values (the actor's label, the address) go too.
        erased += _erase_personal_values(tenant)
    keyring.forget(tenant.pk)
    transaction.on_commit(lambda: keyring.forget(tenant.pk))
    return Shredded(keys=len(keys), personal_values=erased, users=people)
