"""Delegation by a reviewer: their items go to another reviewer for a period (audited, ended early at will)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from audit.events import EventType
from reviews.models import ReviewDelegation
from reviews.services.errors import NOT_REVIEWER, ReviewRefused
from reviews.services.policies import may_review

MAX_DAYS = 90


def _overlapping(user_id: int, starts_at: datetime, ends_at: datetime):
    return ReviewDelegation.objects.filter(
        delegator_id=user_id, ended_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )


@transaction.atomic
def delegate(*, actor, to, starts_at: datetime, ends_at: datetime, reason: str) -> ReviewDelegation:
    """``actor`` (a reviewer) hands their review items to ``to`` from ``starts_at`` until ``ends_at``."""
    if not may_review(actor):
        raise ReviewRefused(_("You may not review access."), code=NOT_REVIEWER)
    if to is None or to.tenant_id != actor.tenant_id or not may_review(to):
        raise ReviewRefused(_("Choose an active reviewer of this tenant."))
    if to.pk == actor.pk:
        raise ReviewRefused(_("Choose someone else."))
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRefused(_("Say why you delegate your reviews."))
    now = timezone.now()
    if starts_at is None or ends_at is None or ends_at <= starts_at or ends_at <= now:
        raise ReviewRefused(_("Choose a period that ends after it starts, in the future."))
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise ReviewRefused(_("A delegation lasts at most %(days)s days.") % {"days": MAX_DAYS})
    if _overlapping(actor.pk, starts_at, ends_at).exists():
        raise ReviewRefused(_("You already delegate your reviews during this period."))
    if _overlapping(to.pk, starts_at, ends_at).exists():
        raise ReviewRefused(_("%(email)s delegates their own reviews during this period.") % {"email": to.email})
    made = ReviewDelegation.objects.create(
        tenant_id=actor.tenant_id, delegator=actor, delegate=to, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    audit.record(
        EventType.REVIEW_DELEGATION_CREATED,
        tenant=actor.tenant,
        actor=actor,
        target=made,
        after={"delegate": audit.person(to), "from": starts_at.isoformat(), "until": ends_at.isoformat()},
        reason=reason,
    )
    return made


@transaction.atomic
def end_delegation(delegation: ReviewDelegation, *, actor) -> bool:
    """End one's own delegation now (items already handed over stay with the delegate)."""
    delegation = ReviewDelegation.objects.select_for_update().get(pk=delegation.pk)
    if actor is None or delegation.delegator_id != actor.pk:
        raise ReviewRefused(_("This delegation is someone else's."), code=NOT_REVIEWER)
    if delegation.ended_at is not None:
        return False
    delegation.ended_at = timezone.now()
    delegation.save(update_fields=["ended_at"])
    audit.record(
        EventType.REVIEW_DELEGATION_ENDED,
        tenant=actor.tenant,
        actor=actor,
        target=delegation,
        after={"ended_at": delegation.ended_at.isoformat()},
    )
    return True
