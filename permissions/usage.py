"""Last use of permissions: successful checks made for a page, an export or an API call.

At most one write per (tenant, user, module or resource, action) per day and process: an in-memory
set remembers today's keys, and the write is an upsert (one statement).
"""

from __future__ import annotations

from django.utils import timezone

from permissions import engine
from permissions.models import Module, Resource, UsageRecord
from permissions.vocabulary import Action

_seen: set[tuple] = set()
_seen_day = [None]


def forget_seen() -> None:
    """Clear the in-memory dedupe (tests)."""
    _seen.clear()


def record_use(user, action, target) -> bool:
    """Remember that ``user`` used ``action`` on ``target`` now; True when a row was written."""
    if getattr(user, "tenant_id", None) is None:
        return False
    if isinstance(target, Resource):
        module_id, resource_id, key = target.module_id, target.pk, f"r{target.pk}"
    elif isinstance(target, Module):
        module_id, resource_id, key = target.pk, None, f"m{target.pk}"
    else:
        entry = engine.compiled_for(user)
        module_id = entry.keys.get(str(target)) if entry else None
        if module_id is None:
            return False
        resource_id, key = None, f"m{module_id}"
    now = timezone.now()
    today = now.date()
    if _seen_day[0] != today:
        _seen.clear()
        _seen_day[0] = today
    dedupe = (user.tenant_id, user.pk, key, str(Action(action)))
    if dedupe in _seen:
        return False
    UsageRecord._base_manager.bulk_create(
        [
            UsageRecord(
                tenant_id=user.tenant_id,
                user_id=user.pk,
                module_id=module_id,
                resource_id=resource_id,
                target_key=key,
                action=str(Action(action)),
                last_used_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["tenant", "user", "target_key", "action"],
        update_fields=["last_used_at"],
    )
    _seen.add(dedupe)
    return True
