"""Submit, approve, deny and cancel access requests: each change and its audit event in one transaction.

Approval ends in a time-bound grant written by ``permissions.services.grants`` with provenance
"request" and a reference to the request. Requests for system-module actions need two different
approvers (four-eyes); the views also ask those approvers for a fresh MFA check (step-up).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import audit
from accessrequests import rules
from accessrequests.errors import RequestCode, RequestRefused
from accessrequests.models import AccessRequest, Notice
from accessrequests.notify import notify
from audit.events import EventType
from permissions.models import Grant, GroupMembership, Provenance
from permissions.services import grants
from permissions.services.checks import require_scope
from permissions.services.errors import AccessRefused
from permissions.vocabulary import actions_of, mask_of

MAX_REASON = 2000


def describe(request: AccessRequest) -> dict:
    """The request's facts for the audit trail."""
    return {
        "requester": audit.person(request.requester),
        "module": request.module.key,
        "resource": request.resource_id,
        "actions": [a.value for a in actions_of(request.actions)],
        "duration_days": request.duration_days,
        "extends": request.extends_id,
        "status": request.status,
    }


def target_label(request: AccessRequest) -> str:
    """What the request is for, as the requester may read it (a resource's title only when they may see it)."""
    module = str(request.module.display_name)
    if request.resource_id is None:
        return module
    return f"{module} #{request.resource_id}"


def open_duplicate(requester, module, resource, mask: int, now=None) -> AccessRequest | None:
    """A pending request of the same person for the same target that overlaps these actions."""
    now = now or timezone.now()
    candidates = AccessRequest.objects.filter(
        requester=requester,
        module=module,
        resource=resource,
        status=AccessRequest.Status.PENDING,
        pending_until__gt=now,
    ).order_by("created_at")
    return next((c for c in candidates if c.actions & mask), None)


def _check_extends(requester, extends: Grant, module, resource) -> None:
    groups = set(GroupMembership.objects.filter(user=requester).values_list("group_id", flat=True))
    own = extends.user_id == requester.pk or (extends.group_id is not None and extends.group_id in groups)
    if not own or not extends.is_active_at(timezone.now()):
        raise RequestRefused(RequestCode.INVALID, "only a live grant of your own can be extended")
    if extends.module_id != module.pk or extends.resource_id != (resource.pk if resource else None):
        raise RequestRefused(RequestCode.INVALID, "the extension must be for the grant's own target")


@transaction.atomic
def submit(*, actor, module, actions, reason: str, duration_days: int, resource=None, extends=None) -> AccessRequest:
    """``actor`` asks for ``actions`` on ``module`` (or one ``resource`` of it) for ``duration_days``.

    Refuses (RequestRefused) an empty reason, a duration beyond the tenant's maximum, actions that do
    not apply, what the actor already holds (unless extending a grant that will expire), and a
    duplicate of a pending request (``existing`` points to it).
    """
    if actor is None or not actor.is_active or actor.tenant_id is None:
        raise RequestRefused(RequestCode.INVALID)
    for obj in (module, resource, extends):
        if obj is not None and obj.tenant_id != actor.tenant_id:
            raise RequestRefused(RequestCode.INVALID, "that belongs to another tenant")
    if resource is not None and resource.module_id != module.pk:
        raise RequestRefused(RequestCode.INVALID, "the resource is not in that module")
    try:
        mask = mask_of(actions)
    except (KeyError, ValueError) as exc:
        raise RequestRefused(RequestCode.INVALID, "unknown action") from exc
    if not mask or mask & ~module.actions:
        raise RequestRefused(RequestCode.INVALID, "choose actions that apply to the module")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise RequestRefused(RequestCode.INVALID, "a request needs a reason")
    tenant = actor.tenant
    if not isinstance(duration_days, int) or not 1 <= duration_days <= tenant.request_max_days:
        raise RequestRefused(RequestCode.INVALID, "choose a duration within the tenant's maximum")
    if extends is not None:
        _check_extends(actor, extends, module, resource)
    elif set(actions_of(mask)) <= set(rules.current_actions(actor, module, resource)):
        raise RequestRefused(RequestCode.ALREADY_HELD)
    # One submission at a time per requester: the duplicate check below cannot race with itself.
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    existing = open_duplicate(actor, module, resource, mask)
    if existing is not None:
        raise RequestRefused(RequestCode.DUPLICATE, existing=existing)
    request = AccessRequest.objects.create(
        tenant=tenant,
        requester=actor,
        module=module,
        resource=resource,
        actions=mask,
        reason=reason,
        duration_days=duration_days,
        extends=extends,
    )
    event = EventType.REQUEST_EXTENSION_SUBMITTED if extends is not None else EventType.REQUEST_SUBMITTED
    audit.record(event, tenant=tenant, actor=actor, target=request, after=describe(request), reason=reason)
    return request


def _locked(request: AccessRequest, actor) -> AccessRequest:
    if actor is None or actor.tenant_id != request.tenant_id:
        raise RequestRefused(RequestCode.NOT_APPROVER)
    locked = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != AccessRequest.Status.PENDING:
        raise RequestRefused(RequestCode.ALREADY_DECIDED)
    if timezone.now() >= locked.pending_until:
        raise RequestRefused(RequestCode.EXPIRED)
    return locked


@transaction.atomic
def approve(request: AccessRequest, *, actor, days: int | None = None, reason: str = "") -> AccessRequest:
    """Approve, optionally for fewer days than asked. A system-module request needs two different
    approvers: the first approval is recorded and the request stays pending. The final approval
    writes a grant (provenance "request", reference "request:<id>") that expires by itself."""
    request = _locked(request, actor)
    if actor.pk == request.requester_id:
        raise RequestRefused(RequestCode.SELF_APPROVAL)
    if not rules.is_approver(actor, request):
        raise RequestRefused(RequestCode.NOT_APPROVER)
    limit = rules.approval_limit(request)
    days = limit if days is None else days
    if not isinstance(days, int) or not 1 <= days <= limit:
        raise RequestRefused(RequestCode.INVALID, "the duration can only be shortened")
    try:
        require_scope(actor, request.actions, request.resource or request.module)
    except AccessRefused as exc:
        raise RequestRefused(RequestCode.OUT_OF_SCOPE) from exc
    if not request.requester.is_active:
        raise RequestRefused(RequestCode.INVALID, "the requester is inactive")
    now = timezone.now()
    if request.is_system:
        if request.first_approver_id is None:
            request.first_approver = actor
            request.first_approved_at = now
            request.granted_days = days
            request.save(update_fields=["first_approver", "first_approved_at", "granted_days"])
            audit.record(
                EventType.REQUEST_FIRST_APPROVAL,
                tenant=request.tenant,
                actor=actor,
                target=request,
                after={"days": days},
                reason=reason,
            )
            return request
        if request.first_approver_id == actor.pk:
            raise RequestRefused(RequestCode.SAME_APPROVER)
    expires_at = now + timedelta(days=days)
    grant_reason = f"Access request #{request.pk}: {request.reason}"
    try:
        grants.validate_grant(
            actor=None,
            module=request.module,
            actions=actions_of(request.actions),
            reason=grant_reason,
            user=request.requester,
            resource=request.resource,
            expires_at=expires_at,
        )
    except AccessRefused as exc:
        raise RequestRefused(RequestCode.INVALID, str(exc)) from exc
    grant = grants.apply_grant(
        actor=actor,
        module=request.module,
        mask=request.actions,
        reason=grant_reason,
        user=request.requester,
        group=None,
        resource=request.resource,
        expires_at=expires_at,
        provenance=Provenance.REQUEST,
        reference=f"request:{request.pk}",
        approved_by=request.first_approver,
    )
    request.status = AccessRequest.Status.APPROVED
    request.decided_by = actor
    request.decided_at = now
    request.granted_days = days
    request.decision_reason = (reason or "").strip()
    request.grant = grant
    request.save(update_fields=["status", "decided_by", "decided_at", "granted_days", "decision_reason", "grant"])
    audit.record(
        EventType.REQUEST_APPROVED,
        tenant=request.tenant,
        actor=actor,
        target=request,
        before={"status": AccessRequest.Status.PENDING},
        after={
            "status": request.status,
            "grant": grant.pk,
            "days": days,
            "expires_at": expires_at.isoformat(),
            "first_approver": audit.person(request.first_approver) if request.first_approver_id else None,
            "extends": request.extends_id,
        },
        reason=request.decision_reason,
    )
    notify(
        request.requester,
        Notice.Kind.APPROVED,
        {"request": request.pk, "target": target_label(request), "when": expires_at.isoformat()},
    )
    return request


@transaction.atomic
def deny(request: AccessRequest, *, actor, reason: str) -> AccessRequest:
    """Refuse a request, with a reason the requester reads."""
    request = _locked(request, actor)
    if actor.pk == request.requester_id:
        raise RequestRefused(RequestCode.SELF_APPROVAL)
    if not rules.is_approver(actor, request):
        raise RequestRefused(RequestCode.NOT_APPROVER)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise RequestRefused(RequestCode.INVALID, "a denial needs a reason")
    request.status = AccessRequest.Status.DENIED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit.record(
        EventType.REQUEST_DENIED,
        tenant=request.tenant,
        actor=actor,
        target=request,
        before={"status": AccessRequest.Status.PENDING},
        after={"status": request.status},
        reason=reason,
    )
    notify(
        request.requester,
        Notice.Kind.DENIED,
        {"request": request.pk, "target": target_label(request), "reason": reason},
    )
    return request


@transaction.atomic
def cancel(request: AccessRequest, *, actor) -> AccessRequest:
    """The requester withdraws their own pending request."""
    if actor is None or actor.pk != request.requester_id:
        raise RequestRefused(RequestCode.NOT_APPROVER)
    request = _locked(request, actor)
    request.status = AccessRequest.Status.CANCELLED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        EventType.REQUEST_CANCELLED,
        tenant=request.tenant,
        actor=actor,
        target=request,
        before={"status": AccessRequest.Status.PENDING},
        after={"status": request.status},
    )
    return request
