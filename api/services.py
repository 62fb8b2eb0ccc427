"""Small use cases the API (and SCIM) needs beyond the existing services; each audited in its transaction."""

from __future__ import annotations

from django.db import transaction

import audit
from accounts import services as accounts_services
from audit.events import EventType
from permissions.models import Group
from permissions.services import roles as role_services
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import require_outranks
from permissions.services.organisations import set_user_organisation
from permissions.vocabulary import Action


@transaction.atomic
def update_user(user, *, actor, reason: str = "API", **fields):
    """Change a user's name, role or active flag (users: change). The e-mail (the login) is not
    changed here, nor anything on oneself but the name (AZ-4). Returns the user or a PendingChange."""
    same_tenant(actor.tenant_id, user)
    require(actor, Action.CHANGE, "users")
    require_outranks(actor, user)  # INS-1: not even the name of someone holding more
    if "email" in fields and fields.pop("email") != user.email:
        raise AccessRefused(ErrorCode.INVALID, "the e-mail address cannot be changed")
    unknown = set(fields) - {"full_name", "role", "is_active", "organisation"}
    if unknown:
        raise AccessRefused(ErrorCode.INVALID, f"cannot set {sorted(unknown)}")
    if user.pk == actor.pk and ("role" in fields or "is_active" in fields):
        raise AccessRefused(ErrorCode.SELF_ROLE)
    if "full_name" in fields and fields["full_name"] != user.full_name:
        before = user.full_name
        user.full_name = fields["full_name"][:200]
        user.save(update_fields=["full_name"])
        audit.record(
            EventType.USER_CHANGED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            before={"full_name": before},
            after={"full_name": user.full_name},
            reason=reason,
        )
    if "is_active" in fields:
        if fields["is_active"] and not user.is_active:
            accounts_services.reactivate_user(user, actor=actor, reason=reason)
        elif not fields["is_active"]:  # also for an invited user: the invitation is cancelled (INS-5)
            accounts_services.deactivate_user(user, actor=actor, reason=reason)
    if "organisation" in fields:
        set_user_organisation(user, fields["organisation"], actor=actor, reason=reason)
    if fields.get("role") is not None and fields["role"].pk != user.role_id:
        return role_services.change_user_role(user, fields["role"], actor=actor, reason=reason)
    return user


@transaction.atomic
def rename_group(group: Group, *, actor, name: str) -> Group:
    """Give a group another name (groups: change); names stay unique in the tenant."""
    same_tenant(actor.tenant_id, group)
    require(actor, Action.CHANGE, "groups")
    name = (name or "").strip()[:150]
    if name == group.name:
        return group
    if not name or Group.objects.filter(name=name).exclude(pk=group.pk).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name")
    before = group.name
    group.name = name
    group.save(update_fields=["name"])
    audit.record(
        EventType.GROUP_RENAMED,
        tenant=group.tenant,
        actor=actor,
        target=group,
        before={"name": before},
        after={"name": name},
    )
    return group
