"""Groups: create them, add and remove members and owners."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from audit.events import EventType
from permissions.models import Grant, Group, GroupMembership, PendingChange
from permissions.services import gates
from permissions.services.checks import require, require_scope, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.escalation import grant_escalates
from permissions.services.hierarchy import keeps_an_administrator, require_outranks
from permissions.versioning import bump
from permissions.vocabulary import Action, ModuleKind


@transaction.atomic
def create_group(*, actor, tenant, name: str, kind: str = Group.Kind.COMPANY, description: str = "") -> Group:
    """A new, empty group. Needs groups: create."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CREATE, "groups")
    name = (name or "").strip()
    if not name or Group.objects.filter(name=name).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name")
    group = Group.objects.create(
        auth_group=Group.new_auth_group(), tenant=tenant, name=name, kind=kind, description=description
    )
    audit.record(EventType.GROUP_CREATED, tenant=tenant, actor=actor, target=group, after={"name": name, "kind": kind})
    return group


def _may_manage(actor, group: Group) -> None:
    if actor is None:
        return
    is_owner = GroupMembership.objects.filter(group=group, user_id=actor.pk, is_owner=True).exists()
    if not is_owner:
        require(actor, Action.CHANGE, "groups")


def live_grants(group: Group):
    now = timezone.now()
    return (
        Grant.objects.filter(group=group, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("module", "resource")
    )


def membership_gain(group: Group, user) -> gates.Gain:
    """What joining ``group`` gives ``user``: its live grants (a grant on one resource as its module's)."""
    bits: dict[int, int] = {}
    for module_id, mask in live_grants(group).values_list("module_id", "actions"):
        bits[module_id] = bits.get(module_id, 0) | mask
    return gates.Gain(users=[user], bits=bits)


@transaction.atomic
def add_member(group: Group, user, *, actor, owner: bool = False, justification: str = ""):
    """Add ``user`` to ``group`` (group owners or holders of groups: change). Joining a group gives its
    grants, so: nobody adds themselves, the actor must hold what the group holds, and a group holding
    system-module actions, or an exception to a separation-of-duties rule (``justification``), needs a
    second administrator (returns a PendingChange)."""
    if actor is not None:
        same_tenant(actor.tenant_id, group, user)
        if user.pk == actor.pk:
            raise AccessRefused(ErrorCode.SELF_GRANT)
    same_tenant(group.tenant_id, user)
    _may_manage(actor, group)
    if GroupMembership.objects.filter(group=group, user=user).exists():
        return GroupMembership.objects.get(group=group, user=user)
    grants = list(live_grants(group))
    for each in grants:
        require_scope(actor, each.actions, each.resource or each.module)
    exceptions = gates.enforce(membership_gain(group, user), justification=justification)
    if actor is not None and (any(grant_escalates(each.module) for each in grants) or exceptions):
        from permissions.services.changes import request_change

        payload = {"group": group.pk, "user": user.pk, "owner": owner}
        return request_change(
            actor=actor,
            kind=PendingChange.Kind.MEMBERSHIP,
            payload={**payload, **gates.exception_payload(exceptions, justification)},
            summary=f"{user.email} → {group.name}",
            reason="",
        )
    return apply_add_member(group, user, actor=actor, owner=owner)


def apply_add_member(group: Group, user, *, actor, owner: bool = False, exempt=()) -> GroupMembership:
    """Write the membership (ours and the auth group's, for guardian) and its event; refused when it would
    make the user violate a separation-of-duties rule (``exempt``: rule ids a second administrator approved)."""
    gates.enforce(membership_gain(group, user), exempt=exempt)
    membership = GroupMembership.objects.create(tenant_id=group.tenant_id, group=group, user=user, is_owner=owner)
    user.groups.add(group.auth_group_id)
    audit.record(
        EventType.GROUP_MEMBER_ADDED,
        tenant=group.tenant,
        actor=actor,
        target=group,
        after={"user": audit.person(user), "owner": owner},
    )
    bump(group.tenant_id)
    return membership


@transaction.atomic
def remove_member(group: Group, user, *, actor) -> None:
    """Take ``user`` out of ``group`` (they lose its grants now)."""
    if actor is not None:
        same_tenant(actor.tenant_id, group, user)
    _may_manage(actor, group)
    if not GroupMembership.objects.filter(group=group, user=user).exists():
        return
    require_outranks(actor, user)
    system = live_grants(group).filter(module__kind=ModuleKind.SYSTEM).exists()
    with keeps_an_administrator(group.tenant_id, when=system):
        GroupMembership.objects.filter(group=group, user=user).delete()
        user.groups.remove(group.auth_group_id)
    audit.record(
        EventType.GROUP_MEMBER_REMOVED,
        tenant=group.tenant,
        actor=actor,
        target=group,
        before={"user": audit.person(user)},
    )
    bump(group.tenant_id)


@transaction.atomic
def set_owner(group: Group, user, *, actor, owner: bool = True) -> GroupMembership:
    """Make a member an owner of the group, or not. Needs groups: change (owners cannot promote)."""
    if actor is not None:
        same_tenant(actor.tenant_id, group, user)
        if user.pk == actor.pk:
            raise AccessRefused(ErrorCode.SELF_GRANT)
    require(actor, Action.CHANGE, "groups")
    require_outranks(actor, user)
    membership = GroupMembership.objects.filter(group=group, user=user).first()
    if membership is None:
        raise AccessRefused(ErrorCode.INVALID, "not a member")
    if membership.is_owner == owner:
        return membership
    membership.is_owner = owner
    membership.save(update_fields=["is_owner"])
    audit.record(
        EventType.GROUP_OWNER_CHANGED,
        tenant=group.tenant,
        actor=actor,
        target=group,
        before={"user": audit.person(user), "owner": not owner},
        after={"user": audit.person(user), "owner": owner},
    )
    return membership
