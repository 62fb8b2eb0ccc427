"""Delegated administration: an organisation's administrator — whoever holds "groups: change" on the
organisation's row (``Organisation.resource``), i.e. "organisation: manage" for that one organisation —
invites, deactivates and changes the role of their own organisation's members.

Limits, each checked here whatever the screen: only members of an organisation they manage; only roles
the tenant lets organisations assign (``Role.organisation_assignable``), never one with console rights and
never one giving more than the administrator holds themselves; never on someone holding rights they lack
(``require_outranks``); never on themselves. Every change is audited by the service it ends in."""

from __future__ import annotations

from django.db import transaction

import audit
from accounts.organisations import Organisation
from audit.events import EventType
from permissions import engine
from permissions.models import Resource, Role
from permissions.services import gates
from permissions.services.checks import require_scope, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.escalation import role_escalates
from permissions.services.hierarchy import require_outranks
from permissions.services.organisations import membership_gain
from permissions.vocabulary import Action


def manages(actor, org: Organisation) -> bool:
    """``actor`` holds "organisation: manage" on ``org`` now (a grant on its row, or groups: change)."""
    if actor is None or org.resource_id is None or actor.tenant_id != org.tenant_id:
        return False
    resource = Resource.objects.filter(pk=org.resource_id).first()
    return resource is not None and engine.can(actor, Action.CHANGE, resource)


def managed_organisations(actor):
    """The organisations ``actor`` manages (one statement through the engine's read door)."""
    rows = Resource.objects.filter(organisation__isnull=False).restrict(actor, Action.CHANGE)
    return Organisation.objects.filter(resource__in=rows).order_by("name")


def require_manages(actor, org: Organisation) -> None:
    if actor is None:
        return
    same_tenant(actor.tenant_id, org)
    if not manages(actor, org):
        raise AccessRefused(ErrorCode.NOT_ALLOWED)


def assignable_roles(actor):
    """The roles ``actor`` may give as an organisation administrator: the tenant allows it, the role
    gives no console rights, and the actor holds every action it gives."""
    found = []
    for role in Role.objects.filter(organisation_assignable=True).order_by("name"):
        try:
            _require_assignable(actor, role)
        except AccessRefused:
            continue
        found.append(role)
    return found


def _require_assignable(actor, role: Role) -> None:
    from permissions.services.roles import matrix_of

    if not role.organisation_assignable or role_escalates(role):
        raise AccessRefused(ErrorCode.NOT_ALLOWED, "organisations may not assign this role")
    for key, mask in matrix_of(role).items():
        require_scope(actor, mask, key)


def _require_member(actor, org, user) -> None:
    same_tenant(org.tenant_id, user)
    if user.organisation_id != org.pk:
        raise AccessRefused(ErrorCode.NOT_ALLOWED, "not a member of this organisation")
    if actor is not None and user.pk == actor.pk:
        raise AccessRefused(ErrorCode.SELF_ROLE)


@transaction.atomic
def invite_member(*, actor, org: Organisation, email: str, role: Role, full_name: str = ""):
    """Invite a new member into ``org`` with ``role``: one transaction, the invitation and the membership
    audited with the organisation administrator as actor."""
    from accounts import services as accounts_services

    require_manages(actor, org)
    same_tenant(org.tenant_id, role)
    _require_assignable(actor, role)
    user = accounts_services.invite_user(tenant=org.tenant, email=email, role=role, actor=actor, full_name=full_name)
    gates.enforce(membership_gain(user, org))  # what the sharing rules give a member, as for any membership
    user.organisation = org
    user.save(update_fields=["organisation"])
    audit.record(
        EventType.USER_ORGANISATION_CHANGED,
        tenant=org.tenant,
        actor=actor,
        target=user,
        before={"organisation": None},
        after={"organisation": org.pk},
        reason="invited by the organisation's administrator",
    )
    return user


@transaction.atomic
def deactivate_member(*, actor, org: Organisation, user, reason: str = ""):
    """Deactivate a member of ``org`` (their sessions, links and keys end: ``deactivate_user``)."""
    from accounts import services as accounts_services

    require_manages(actor, org)
    _require_member(actor, org, user)
    return accounts_services.deactivate_user(user, actor=actor, reason=reason)


@transaction.atomic
def change_member_role(*, actor, org: Organisation, user, role: Role, reason: str = ""):
    """Give a member of ``org`` another role the tenant lets organisations assign, within the actor's rights."""
    from permissions.services.roles import apply_role_change

    require_manages(actor, org)
    _require_member(actor, org, user)
    same_tenant(org.tenant_id, role)
    require_outranks(actor, user)
    _require_assignable(actor, role)
    if user.role_id == role.pk:
        return user
    return apply_role_change(user, role, actor=actor, reason=reason)


@transaction.atomic
def set_organisation_assignable(role: Role, *, actor, assignable: bool) -> Role:
    """Let organisation administrators give ``role`` to their members, or stop it (roles: change). A role
    with console rights is never assignable by organisations."""
    from permissions.services.checks import require

    if actor is not None:
        same_tenant(actor.tenant_id, role)
    require(actor, Action.CHANGE, "roles")
    if assignable and role_escalates(role):
        raise AccessRefused(ErrorCode.INVALID, "a role with console rights stays with the tenant's administrators")
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.organisation_assignable == assignable:
        return role
    role.organisation_assignable = assignable
    role.save(update_fields=["organisation_assignable"])
    audit.record(
        EventType.ROLE_ORGANISATION_ASSIGNABLE_CHANGED,
        tenant=role.tenant,
        actor=actor,
        target=role,
        before={"organisation_assignable": not assignable},
        after={"organisation_assignable": assignable},
    )
    return role


def administers_an_organisation(user) -> bool:
    """For the MFA policy: an organisation administrator is privileged like a tenant administrator."""
    if not getattr(user, "is_active", False) or getattr(user, "tenant_id", None) is None:
        return False
    from accounts.scoping import tenant_scope

    with tenant_scope(user.tenant):
        return managed_organisations(user).exists()
