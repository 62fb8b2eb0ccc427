"""Grant, revoke and expire: the one door for grants (each audited in its transaction)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

import audit
from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from permissions.models import (
    Grant,
    GroupMembership,
    PendingChange,
    Provenance,
    Resource,
    ResourceGroupPermission,
    ResourceUserPermission,
)
from permissions.services import gates
from permissions.services.checks import require, require_scope, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.escalation import grant_escalates
from permissions.services.hierarchy import keeps_an_administrator, require_outranks, require_outranks_all
from permissions.versioning import bump
from permissions.vocabulary import Action, actions_of, mask_of


def _describe(grant: Grant) -> dict:
    return {
        "user": audit.person(grant.user) if grant.user_id else None,
        "group": grant.group.name if grant.group_id else None,
        "module": grant.module.key,
        "resource": grant.resource_id,
        "actions": [a.value for a in actions_of(grant.actions)],
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        "provenance": grant.provenance,
        "reference": grant.reference,
    }


def resource_permissions() -> dict[int, Permission]:
    """guardian's Permission row of each action bit (for the direct-FK object permission rows)."""
    content_type = ContentType.objects.get_for_model(Resource)
    by_codename = {p.codename: p for p in Permission.objects.filter(content_type=content_type)}
    return {action.bit: by_codename[f"{action.value}_resource"] for action in Action}


def grant_gain(module, mask: int, *, user=None, group=None) -> gates.Gain:
    """What a grant gives (to the user, or to each member of the group), for ``gates.enforce``."""
    if user is not None:
        users = [user]
    else:
        members = GroupMembership.objects.filter(group=group, user__is_active=True).select_related("user")
        users = [m.user for m in members]  # the active members: who can use what it gives
    return gates.Gain(users=users, bits={module.pk: mask})


def validate_grant(*, actor, module, actions, reason, user=None, group=None, resource=None, expires_at=None, **gate):
    """Refuse an invalid or escalating grant before it is applied or queued (coded AccessRefused)."""
    return check_grant(
        actor=actor,
        module=module,
        actions=actions,
        reason=reason,
        user=user,
        group=group,
        resource=resource,
        expires_at=expires_at,
        **gate,
    )[0]


def check_grant(
    *,
    actor,
    module,
    actions,
    reason,
    user=None,
    group=None,
    resource=None,
    expires_at=None,
    exempt=(),
    justification="",
) -> tuple[int, list]:
    """``validate_grant`` and the gates' answer: (mask, the separation-of-duties exceptions it needs, which
    ``justification`` asks a second administrator for; ``exempt`` lists rule ids already approved)."""
    tenant_id = module.tenant_id
    if actor is not None:
        same_tenant(actor.tenant_id, module)
    same_tenant(tenant_id, user, group, resource)
    if (user is None) == (group is None):
        raise AccessRefused(ErrorCode.INVALID, "a grant goes to one user or one group")
    if resource is not None and resource.module_id != module.pk:
        raise AccessRefused(ErrorCode.INVALID, "the resource is not in that module")
    mask = mask_of(actions)
    if not mask or mask & ~module.actions:
        raise AccessRefused(ErrorCode.INVALID, "choose actions that apply to the module")
    if not (reason or "").strip():
        raise AccessRefused(ErrorCode.INVALID, "a grant needs a reason")
    if expires_at is not None and expires_at <= timezone.now():
        raise AccessRefused(ErrorCode.INVALID, "the expiry must be in the future")
    if actor is not None:
        if user is not None and user.pk == actor.pk:
            raise AccessRefused(ErrorCode.SELF_GRANT)
        if group is not None and GroupMembership.objects.filter(group=group, user_id=actor.pk).exists():
            raise AccessRefused(ErrorCode.SELF_GRANT)
        require(actor, Action.CREATE, "grants")
        require_scope(actor, mask, resource or module)  # giving is bounded by scope (AZ-6), not by rank
    gain = grant_gain(module, mask, user=user, group=group)
    return mask, gates.enforce(gain, exempt=exempt, justification=justification)


@transaction.atomic
def grant(
    *,
    actor,
    module,
    actions,
    reason: str,
    user=None,
    group=None,
    resource=None,
    expires_at: datetime | None = None,
    provenance: str = Provenance.MANUAL,
    reference: str = "",
    justification: str = "",
):
    """Give ``actions`` on ``module`` (or one ``resource`` of it) to a user or a group.

    Returns the Grant, or a PendingChange when the grant gives a system-module action or is an exception
    to a separation-of-duties rule (with ``justification``): a second administrator must approve it.
    Refuses (AccessRefused) self-grants, grants beyond the actor's own rights, other tenants' objects,
    grants without a reason, combinations a separation-of-duties rule forbids and rights whose required
    security lesson the user has not completed.
    """
    mask, exceptions = check_grant(
        actor=actor,
        module=module,
        actions=actions,
        reason=reason,
        user=user,
        group=group,
        resource=resource,
        expires_at=expires_at,
        justification=justification,
    )
    if (grant_escalates(module) or exceptions) and actor is not None:
        from permissions.services.changes import request_change

        subject = user.email if user else group.name
        return request_change(
            actor=actor,
            kind=PendingChange.Kind.GRANT,
            payload={
                **gates.exception_payload(exceptions, justification),
                "module": module.pk,
                "actions": [a.value for a in actions_of(mask)],
                "user": user.pk if user else None,
                "group": group.pk if group else None,
                "resource": resource.pk if resource else None,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "provenance": provenance,
                "reference": reference,
            },
            summary=f"{module.key}: {', '.join(a.value for a in actions_of(mask))} → {subject}",
            reason=reason,
        )
    return apply_grant(
        actor=actor,
        module=module,
        mask=mask,
        reason=reason,
        user=user,
        group=group,
        resource=resource,
        expires_at=expires_at,
        provenance=provenance,
        reference=reference,
    )


def apply_grant(
    *, actor, module, mask, reason, user, group, resource, expires_at, provenance, reference, approved_by=None
) -> Grant:
    """Write a validated grant, its guardian rows and its event (inside the caller's transaction)."""
    new = Grant.objects.create(
        tenant_id=module.tenant_id,
        user=user,
        group=group,
        module=module,
        resource=resource,
        actions=mask,
        reason=reason.strip(),
        expires_at=expires_at,
        provenance=provenance,
        reference=reference,
        granted_by=actor,
    )
    if resource is not None:
        perms = resource_permissions()
        model = ResourceUserPermission if user is not None else ResourceGroupPermission
        subject = {"user": user} if user is not None else {"group_id": group.pk}
        model.objects.bulk_create(
            model(
                tenant_id=module.tenant_id,
                grant=new,
                content_object=resource,
                permission=perms[a.bit],
                action=a.bit,
                expires_at=expires_at,
                **subject,
            )
            for a in actions_of(mask)
        )
    after = _describe(new)
    if approved_by is not None:
        after["approved_by"] = audit.person(approved_by)
    audit.record(EventType.GRANT_CREATED, tenant=new.tenant, actor=actor, target=new, after=after, reason=new.reason)
    bump(module.tenant_id)
    return new


def _drop_object_rows(grant_: Grant) -> None:
    ResourceUserPermission.objects.filter(grant=grant_).delete()
    ResourceGroupPermission.objects.filter(grant=grant_).delete()


@transaction.atomic
def revoke(grant_: Grant, *, actor, reason: str) -> Grant:
    """End a grant now (it stays in the history). Needs grants: delete.

    Decided on the row locked and read again here: a copy loaded before another revocation would
    otherwise revoke it a second time (a second event, a later ``revoked_at``)."""
    if actor is not None:
        same_tenant(actor.tenant_id, grant_)
    require(actor, Action.DELETE, "grants")
    if not (reason or "").strip():
        raise AccessRefused(ErrorCode.INVALID, "a revocation needs a reason")
    tenant = grant_.tenant  # already loaded by most callers: the locked copy reuses it (no query)
    grant_ = Grant.objects.select_for_update(of=("self",)).select_related("user", "group", "module").get(pk=grant_.pk)
    grant_.tenant = tenant
    if grant_.revoked_at is not None:
        return grant_
    if grant_.user_id:
        require_outranks(actor, grant_.user)
    else:  # a group's grant: every member loses it (INS-1)
        members = GroupMembership.objects.filter(group_id=grant_.group_id).select_related("user")
        require_outranks_all(actor, [m.user for m in members])
    with keeps_an_administrator(grant_.tenant_id, when=grant_.module.is_system):
        grant_.revoked_at = timezone.now()
        grant_.revoked_by = actor
        grant_.save(update_fields=["revoked_at", "revoked_by"])
    if grant_.resource_id is not None:  # only per-object grants have guardian rows
        _drop_object_rows(grant_)
    audit.record(
        EventType.GRANT_REVOKED,
        tenant=grant_.tenant,
        actor=actor,
        target=grant_,
        before=_describe(grant_),
        after={"revoked_at": grant_.revoked_at.isoformat()},
        reason=reason,
    )
    bump(grant_.tenant_id)
    return grant_


def expire_due_grants(*, tenant: Tenant | None = None, now: datetime | None = None) -> int:
    """Record ``grant.expired`` for grants past their expiry (they already stopped working at that
    instant; this job only records it and tidies guardian's rows). Runs in each tenant's scope."""
    now = now or timezone.now()
    if tenant is None:
        with dangerously_unscoped():  # the scheduler's list of tenants is platform-level
            tenants = list(Tenant.objects.filter(is_active=True))
    else:
        tenants = [tenant]
    count = 0
    for each in tenants:
        expired = 0  # this tenant's: only a tenant whose grants expired has its cached sets thrown away
        with tenant_scope(each), transaction.atomic():
            due = Grant.objects.select_for_update(of=("self",)).filter(
                revoked_at__isnull=True, expiry_recorded_at__isnull=True, expires_at__lte=now
            )
            for item in due.select_related("user", "group", "module"):
                item.expiry_recorded_at = now
                item.save(update_fields=["expiry_recorded_at"])
                _drop_object_rows(item)
                audit.record(
                    EventType.GRANT_EXPIRED,
                    tenant=each,
                    actor=None,
                    target=item,
                    before=_describe(item),
                    after={"expired_at": item.expires_at.isoformat()},
                )
                expired += 1
            if expired:
                bump(each.pk)
        count += expired
    return count
