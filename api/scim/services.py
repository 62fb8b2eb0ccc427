"""What SCIM provisioning changes beyond the existing services; each checked by the engine and audited in
its transaction, and a no-op (no event, no authorization version) when nothing changes."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

import audit
from accounts.models import User
from api.services import rename_group, update_user
from audit.events import EventType
from permissions.models import Group, GroupMembership, PendingChange
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from permissions.services.checks import require, same_tenant
from permissions.services.hierarchy import require_outranks
from permissions.vocabulary import Action

USER_PROFILE = ("external_id", "scim_user_name", "given_name", "family_name", "scim_deleted")


class Conflict(Exception):
    """An attribute that must be unique in the tenant is already another resource's."""


def login_q(value: str, normalised: str) -> Q:
    """Users whose SCIM ``userName`` is ``value`` (case-insensitively): the one sent, else the login address.
    Found by two index lookups (``user_tenant_scim_user_name_ci``, ``user_tenant_email``) first."""
    sent = (
        User.objects.filter(Exact(Lower("scim_user_name"), Lower(Value(value)))).order_by().values_list("pk", flat=True)
    )
    address = User.objects.filter(scim_user_name="", email=normalised).order_by().values_list("pk", flat=True)
    return Q(pk__in=[*sent[:2], *address[:2]])  # two index lookups: an OR of both would scan the tenant


def refuse_taken_user(*, email: str, scim_user_name: str, external_id: str, exclude: int | None = None) -> None:
    others = User.objects.exclude(pk=exclude) if exclude else User.objects.all()
    if email and others.filter(email=email).exists():
        raise Conflict("The e-mail address is already another user's.")
    name = scim_user_name or email
    if name and others.filter(login_q(name, email if not scim_user_name else name.lower())).exists():
        raise Conflict("userName is already another user's.")
    if external_id and others.filter(external_id=external_id).exists():
        raise Conflict("externalId is already another user's.")


def changes_anything(user: User, changes: dict) -> bool:
    """False when ``update_scim_user(user, changes=changes)`` would write nothing: a resync's PUT then needs
    no transaction (four round trips saved). Deactivation always goes through it: an inactive user's open
    links may still need ending."""
    if changes.get("is_active") is False:
        return True
    fields = (*USER_PROFILE, "full_name", "is_active")
    return any(key in fields and getattr(user, key) != value for key, value in changes.items())


@transaction.atomic
def update_scim_user(user: User, *, actor, changes: dict, reason: str = "SCIM") -> User:
    """Apply ``changes`` (model fields: the profile's, ``full_name``, ``is_active``); only those that differ
    are written, the profile's in one ``user.changed`` event."""
    profile = {k: v for k, v in changes.items() if k in USER_PROFILE and getattr(user, k) != v}
    core = {k: v for k, v in changes.items() if k in ("full_name", "is_active") and getattr(user, k) != v}
    if profile:
        same_tenant(actor.tenant_id, user)
        require(actor, Action.CHANGE, "users")
        require_outranks(actor, user)
        refuse_taken_user(
            email="",
            scim_user_name=profile.get("scim_user_name", ""),
            external_id=profile.get("external_id", ""),
            exclude=user.pk,
        )
        before = {k: getattr(user, k) for k in profile}
        for key, value in profile.items():
            setattr(user, key, value)
        user.full_clean(exclude=["password", "role"], validate_unique=False, validate_constraints=False)
        user.save(update_fields=list(profile))
        audit.record(
            EventType.USER_CHANGED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            before=before,
            after=profile,
            reason=reason,
        )
    if core:
        update_user(user, actor=actor, reason=reason, **core)
    elif changes.get("is_active") is False and not user.is_active:
        # Already inactive (e.g. invited, never joined): deprovisioning still ends their open links (INS-5);
        # audited only when there was one, so a resync that changes nothing writes nothing.
        from accounts.auth_services import cancel_open_links

        same_tenant(actor.tenant_id, user)
        require(actor, Action.CHANGE, "users")
        require_outranks(actor, user)
        cancel_open_links(user, actor=actor, reason=reason)
    return user


@transaction.atomic
def update_scim_group(group: Group, *, actor, name: str | None = None, external_id: str | None = None) -> Group:
    """Rename the group and set its externalId, each only when it differs."""
    if name is not None and name.strip() != group.name:
        group = rename_group(group, actor=actor, name=name)
    if external_id is not None and external_id != group.external_id:
        same_tenant(actor.tenant_id, group)
        require(actor, Action.CHANGE, "groups")
        if external_id and Group.objects.filter(external_id=external_id).exclude(pk=group.pk).exists():
            raise Conflict("externalId is already another group's.")
        before = group.external_id
        group.external_id = external_id
        group.full_clean(validate_unique=False, validate_constraints=False)
        group.save(update_fields=["external_id"])
        audit.record(
            EventType.GROUP_CHANGED,
            tenant=group.tenant,
            actor=actor,
            target=group,
            before={"external_id": before},
            after={"external_id": external_id},
        )
    return group


@transaction.atomic
def delete_group(group: Group, *, actor, reason: str = "SCIM: group deleted") -> dict:
    """Delete a group (groups: delete): its live grants are revoked and its members removed through the
    grant and group services (each audited, each checked: INS-1, the last administrator), then the group
    goes; ``group.deleted`` records what it held. Refused as a whole when any step is, and while a change
    naming the group awaits approval."""
    same_tenant(actor.tenant_id, group)
    require(actor, Action.DELETE, "groups")
    waiting = PendingChange.objects.filter(status=PendingChange.Status.PENDING, payload__group=group.pk)
    if waiting.exists():  # approving one later would name a group that is gone
        raise Conflict("Changes to this group await a second administrator: decide them first.")
    revoked = []
    for each in group_services.live_grants(group):
        revoked.append({"grant": each.pk, "module": each.module.key, "actions": each.actions})
        grant_services.revoke(each, actor=actor, reason=reason)
    members = []
    for membership in GroupMembership.objects.filter(group=group).select_related("user").order_by("user_id"):
        members.append(audit.person(membership.user))
        group_services.remove_member(group, membership.user, actor=actor)
    impact = {"name": group.name, "external_id": group.external_id, "grants_revoked": revoked, "members": members}
    audit.record(EventType.GROUP_DELETED, tenant=group.tenant, actor=actor, target=group, before=impact, reason=reason)
    auth_group = group.auth_group
    group.delete()
    auth_group.delete()
    return impact
