"""Scheduled work of appeals (registered in portal.jobs; each runs inside one tenant's scope, idempotent).

- ``escalate_overdue``: a case still waiting for an approver past its due time is escalated once: marked, audited,
  and every administrator (requests: approve) is e-mailed after the commit. One transaction per case, on its
  locked row: a second runner finds it marked; a crash leaves the cases already escalated marked, the rest due.
- ``close_resolved``: a resolved case the customer left alone for 14 days closes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import audit
from appeals.models import Case
from audit.events import EventType
from permissions import engine
from permissions.vocabulary import Action, SystemModule

logger = logging.getLogger("portcullis.appeals")
CLOSE_RESOLVED_AFTER = timedelta(days=14)


def _send(messages: list[tuple]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # a mail outage must not undo the escalation; it is logged for the operator
        logger.exception("escalation not sent")


def _mail_administrators(case: Case, tenant) -> None:
    link = settings.PORTCULLIS_BASE_URL.rstrip("/") + reverse("appeals:detail", kwargs={"case_id": case.pk})
    messages = []
    for holder in engine.holders(Action.APPROVE, SystemModule.REQUESTS.value, tenant=tenant):
        if holder.user.pk == case.customer_id:
            continue
        with translation.override(holder.user.language or settings.LANGUAGE_CODE):
            subject = _("Overdue appeal #%(case)s: %(subject)s") % {"case": case.pk, "subject": case.subject}
            body = _("The case waits for an answer since %(due)s. Answer it: %(link)s") % {
                "due": case.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                "link": link,
            }
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [holder.user.email]))
    if messages:
        transaction.on_commit(lambda: _send(messages))


def escalate_overdue(tenant, now=None) -> int:
    """Escalate each open case past its due time, once."""
    now = now or timezone.now()
    count = 0
    due = list(
        Case.objects.filter(state=Case.State.OPEN, escalated_at__isnull=True, due_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for case_id in due:
        with transaction.atomic():
            case = (
                Case.objects.select_for_update(of=("self",))
                .filter(pk=case_id, state=Case.State.OPEN, escalated_at__isnull=True, due_at__lte=now)
                .first()
            )
            if case is None:  # another runner escalated it, or it was answered meanwhile
                continue
            case.escalated_at = now
            case.save(update_fields=["escalated_at"])
            audit.record(
                EventType.APPEAL_ESCALATED,
                tenant=tenant,
                actor=None,
                target=case,
                after={"due_at": case.due_at.isoformat(), "escalated_at": now.isoformat()},
            )
            _mail_administrators(case, tenant)
            count += 1
    return count


def close_resolved(tenant, now=None) -> int:
    """Close resolved cases the customer neither closed nor answered within 14 days."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        stale = Case.objects.select_for_update(of=("self",)).filter(
            state=Case.State.RESOLVED, resolved_at__lte=now - CLOSE_RESOLVED_AFTER
        )
        for case in stale.order_by("pk"):
            case.state, case.closed_at = Case.State.CLOSED, now
            case.save(update_fields=["state", "closed_at"])
            audit.record(
                EventType.APPEAL_CLOSED,
                tenant=tenant,
                actor=None,
                target=case,
                before={"state": Case.State.RESOLVED},
                after={"state": case.state, "outcome": case.outcome},
            )
            count += 1
    return count


def register_jobs() -> None:
    """Register the jobs with the runner (AppConfig.ready)."""
    from portal.jobs import register

    register("appeals.escalate_overdue", escalate_overdue)
    register("appeals.close_resolved", close_resolved)
