"""The brute-force reference of effective access, computed from the rows with no engine and no cache:
role matrix ∪ live direct grants ∪ live group grants, for active users (what the engine must answer)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from accounts.scoping import tenant_scope
from permissions.models import Grant, GroupMembership, RolePermission


def rule(tenant, now) -> Callable[[object, int, int, int | None], bool]:
    """``allowed(user, bit, module_id, resource_id)`` for ``tenant`` at ``now``, read from the rows once."""
    with tenant_scope(tenant):
        active = set(get_user_model().objects.filter(is_active=True).values_list("pk", flat=True))
        matrix = {(c.role_id, c.module_id): c.actions for c in RolePermission.objects.all()}
        member_of: dict[int, set[int]] = {}
        for m in GroupMembership.objects.all():
            member_of.setdefault(m.user_id, set()).add(m.group_id)
        live = [g for g in Grant.objects.all() if g.revoked_at is None and (g.expires_at is None or g.expires_at > now)]

    def allowed(user, bit: int, module_id: int, resource_id: int | None) -> bool:
        if user.pk not in active:
            return False
        if matrix.get((user.role_id, module_id), 0) & bit:
            return True
        mine = member_of.get(user.pk, set())
        for g in live:
            if not g.actions & bit or g.module_id != module_id:
                continue
            if g.resource_id is not None and g.resource_id != resource_id:
                continue
            if g.user_id == user.pk or g.group_id in mine:
                return True
        return False

    return allowed
