"""Break-glass: how a tenant with one administrator names a second one (docs/console.md, "Four-eyes").

An escalation waits for a second administrator. When nobody else in the tenant could approve it, its
requester may ask for the change to apply by itself after a cooling-off period (24 hours by default,
``BREAK_GLASS_COOLING_OFF_HOURS``). During that period the change is shown on the console with the instant it
applies, every holder of grants: approve is e-mailed, and it can be cancelled (withdrawn by its requester,
rejected by anyone who may approve). The background job runner applies it when it is due, after checking
again that the requester is still active and still holds what the change gives. Both steps are audited.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import audit
from audit.events import EventType
from permissions import engine
from permissions.models import PendingChange
from permissions.services.changes import _apply, _subject_user_ids, _target
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, SystemModule


def cooling_off() -> timedelta:
    """How long a break-glass change waits before it applies by itself."""
    return timedelta(hours=settings.BREAK_GLASS_COOLING_OFF_HOURS)


def other_approvers(change: PendingChange) -> list:
    """Active users, other than the requester and the change's subject, who may approve ``change``."""
    excluded = {change.requested_by_id, *_subject_user_ids(change)}
    holders = engine.holders(Action.APPROVE, SystemModule.GRANTS.value, tenant=change.requested_by.tenant)
    return [holder.user for holder in holders if holder.user.pk not in excluded]


def break_glass_available(change: PendingChange, actor) -> bool:
    """May ``actor`` start the cooling-off of ``change`` now (the buttons ask this, the service enforces it)?"""
    return (
        change.status == PendingChange.Status.PENDING
        and change.applies_at is None
        and change.requested_by_id == actor.pk
        and engine.can(actor, Action.APPROVE, SystemModule.GRANTS)
        and not other_approvers(change)
    )


def _locked():
    """Pending changes locked for update (the change row only: PostgreSQL refuses FOR UPDATE on the nullable
    side of the join to the requester's tenant)."""
    return PendingChange.objects.select_for_update(of=("self",)).select_related("requested_by__tenant")


@transaction.atomic
def start_break_glass(change: PendingChange, *, actor, reason: str = "") -> PendingChange:
    """The sole administrator's own pending change will apply by itself after the cooling-off period.

    Refused unless ``actor`` requested it, still holds grants: approve, and nobody else could approve it.
    """
    same_tenant(actor.tenant_id, change)
    change = _locked().get(pk=change.pk)
    if change.status != PendingChange.Status.PENDING or change.applies_at is not None:
        raise AccessRefused(ErrorCode.ALREADY_DECIDED)
    if change.requested_by_id != actor.pk:
        raise AccessRefused(ErrorCode.NOT_ALLOWED)
    require(actor, Action.APPROVE, SystemModule.GRANTS)
    if other_approvers(change):
        raise AccessRefused(ErrorCode.INVALID, _("Another administrator can approve this change: ask them."))
    change.applies_at = timezone.now() + cooling_off()
    change.save(update_fields=["applies_at"])
    audit.record(
        EventType.CHANGE_BREAK_GLASS,
        tenant=actor.tenant,
        actor=actor,
        target=_target(change),
        after={"kind": change.kind, "applies_at": change.applies_at.isoformat()},
        reason=reason,
    )
    _notify_administrators(change)
    return change


def _notify_administrators(change: PendingChange) -> None:
    """E-mail the requester and everyone who may approve (so a stolen administrator account cannot do it
    quietly), after the commit, each in their language."""
    tenant = change.requested_by.tenant
    people = {change.requested_by, *(h.user for h in engine.holders(Action.APPROVE, "grants", tenant=tenant))}
    base = settings.PORTCULLIS_BASE_URL.rstrip("/")
    link = f"{base}/console/approvals/{change.pk}/"
    subject = gettext_noop("A change to your Portcullis tenant applies by itself in %(hours)d hours")
    body = gettext_noop(
        "%(requester)s is the only administrator of %(tenant)s and asked for this change to apply after a "
        "cooling-off period: %(summary)s. It applies at %(when)s (UTC) unless it is cancelled. If you did not "
        "expect it, cancel it on the console and tell your security team."
    )
    values = {
        "hours": settings.BREAK_GLASS_COOLING_OFF_HOURS,
        "requester": change.requested_by.email,
        "tenant": tenant.name,
        "summary": change.summary,
        "when": change.applies_at.strftime("%Y-%m-%d %H:%M"),
    }
    messages = [(p.email, p.language or settings.LANGUAGE_CODE) for p in people if p.is_active]

    def send():
        for email, language in messages:
            with translation.override(language):
                send_mail(_(subject) % values, f"{_(body) % values}\n\n{link}\n", settings.DEFAULT_FROM_EMAIL, [email])

    transaction.on_commit(send)


def apply_due_changes(tenant, now=None) -> int:
    """The job: apply every break-glass change of the active tenant scope whose cooling-off has ended.

    Each change is applied in its own transaction, as its requester would have approved it: a requester who
    was deactivated or lost grants: approve meanwhile gets the change rejected instead (both audited).
    """
    now = now or timezone.now()
    due = PendingChange.objects.filter(status=PendingChange.Status.PENDING, applies_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(_apply_one(pk, now) for pk in list(due))


def _reject_by_system(change, now, reason: str, **after) -> None:
    """The job closes a break-glass change it can no longer apply: rejected, with the system as actor."""
    _close(change, PendingChange.Status.REJECTED, now)
    audit.record(
        EventType.CHANGE_REJECTED,
        tenant=change.requested_by.tenant,
        actor=None,
        target=_target(change),
        after={"kind": change.kind, **after},
        reason=reason,
    )


@transaction.atomic
def _apply_one(pk: int, now) -> int:
    change = _locked().get(pk=pk)
    if change.status != PendingChange.Status.PENDING or change.applies_at is None or change.applies_at > now:
        return 0
    requester = change.requested_by
    tenant = requester.tenant
    if not (requester.is_active and engine.can(requester, Action.APPROVE, SystemModule.GRANTS)):
        _reject_by_system(change, now, "the requester can no longer approve it")
        return 0
    try:
        with transaction.atomic():  # a refusal rolls back only the change's own work
            result = _apply(change, approver=requester)
    except AccessRefused as error:
        _reject_by_system(change, now, "the change can no longer be applied", refused=error.code.value)
        return 0
    change.result_id = str(getattr(result, "pk", ""))
    _close(change, PendingChange.Status.APPROVED, now)
    audit.record(
        EventType.CHANGE_APPLIED_AFTER_COOLING_OFF,
        tenant=tenant,
        actor=None,
        target=_target(change),
        after={"kind": change.kind, "requested_by": audit.person(requester)},
    )
    return 1


def _close(change: PendingChange, status: str, now) -> None:
    change.status = status
    change.decided_at = now
    change.save(update_fields=["status", "decided_at", "result_id"])
