"""Scheduled work of access requests (registered in portal.jobs; each runs inside one tenant's scope).

- ``warn_expiring_requests``: a requester whose pending request has less than a day left is told, once.
- ``expire_pending_requests``: pending requests nobody decided within 7 days expire (audited, notified).
- ``send_expiry_notices``: users hear 7 days and 1 day before a grant of theirs (or of their group)
  expires, once each, with a link to ask for an extension.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import audit
from accessrequests.models import EXPIRY_WARNING, AccessRequest, ExpiryNotice, Notice
from accessrequests.notify import notify
from audit.events import EventType
from permissions.models import Grant, GroupMembership

NOTICE_DAYS = (7, 1)


def expire_pending_requests(tenant, now=None) -> int:
    """Mark pending requests past their 7 days as expired (they already could not be approved)."""
    from accessrequests.services import target_label

    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        due = AccessRequest.objects.select_for_update(of=("self",)).filter(
            status=AccessRequest.Status.PENDING, pending_until__lte=now
        )
        for request in due.select_related("requester", "module"):
            request.status = AccessRequest.Status.EXPIRED
            request.decided_at = now
            request.save(update_fields=["status", "decided_at"])
            audit.record(
                EventType.REQUEST_EXPIRED,
                tenant=tenant,
                actor=None,
                target=request,
                before={"status": AccessRequest.Status.PENDING},
                after={"status": request.status, "pending_until": request.pending_until.isoformat()},
            )
            notify(request.requester, Notice.Kind.EXPIRED, {"request": request.pk, "target": target_label(request)})
            count += 1
    return count


def warn_expiring_requests(tenant, now=None) -> int:
    """Tell each requester whose pending request expires within a day that nobody has decided it yet (once a
    request: the marker is set on the locked row, in the transaction of the notice and its event)."""
    from accessrequests.services import target_label

    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        due = AccessRequest.objects.select_for_update(of=("self",)).filter(
            status=AccessRequest.Status.PENDING,
            expiry_warned_at__isnull=True,
            pending_until__gt=now,
            pending_until__lte=now + EXPIRY_WARNING,
        )
        for request in due.select_related("requester", "module").order_by("pending_until", "pk"):
            request.expiry_warned_at = now
            request.save(update_fields=["expiry_warned_at"])
            audit.record(
                EventType.REQUEST_EXPIRY_WARNED,
                tenant=tenant,
                actor=None,
                target=request,
                after={"requester": audit.person(request.requester), "expires_at": request.pending_until.isoformat()},
            )
            notify(
                request.requester,
                Notice.Kind.REQUEST_EXPIRING,
                {"request": request.pk, "target": target_label(request), "when": request.pending_until.isoformat()},
            )
            count += 1
    return count


def _grant_target(grant: Grant) -> str:
    module = str(grant.module.display_name)
    return f"{module}: {grant.resource.title}" if grant.resource_id else module


def send_expiry_notices(tenant, now=None) -> int:
    """Tell each user whose grant (direct or through a group) ends within 7 days, and again within 1 day.

    Each (grant, user, days) notice goes out once; a grant that is already inside the last day gets only
    the 1-day notice.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=max(NOTICE_DAYS))
    count = 0
    with transaction.atomic():
        expiring = list(
            Grant.objects.filter(revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=horizon)
            .select_related("user", "module", "resource")
            .order_by("expires_at", "pk")
        )
        if not expiring:
            return 0
        sent = set(ExpiryNotice.objects.filter(grant__in=expiring).values_list("grant_id", "user_id", "days"))
        group_ids = {g.group_id for g in expiring if g.group_id}
        members: dict[int, list] = {}
        for membership in GroupMembership.objects.filter(group_id__in=group_ids).select_related("user"):
            members.setdefault(membership.group_id, []).append(membership.user)
        for grant in expiring:
            people = [grant.user] if grant.user_id else members.get(grant.group_id, [])
            left = grant.expires_at - now
            due = [d for d in sorted(NOTICE_DAYS) if left <= timedelta(days=d)]  # e.g. [1, 7] or [7]
            if not due:
                continue
            days = due[0]
            for person in people:
                if not person.is_active or (grant.pk, person.pk, days) in sent:
                    continue
                for each in due:  # the tighter notice makes the looser one moot
                    if (grant.pk, person.pk, each) not in sent:
                        ExpiryNotice.objects.create(tenant=tenant, grant=grant, user=person, days=each, sent_at=now)
                        sent.add((grant.pk, person.pk, each))
                notify(
                    person,
                    Notice.Kind.GRANT_EXPIRING,
                    {
                        "grant": grant.pk,
                        "target": _grant_target(grant),
                        "when": grant.expires_at.isoformat(),
                        "days": days,
                    },
                )
                audit.record(
                    EventType.GRANT_EXPIRY_NOTICE,
                    tenant=tenant,
                    actor=None,
                    target=grant,
                    after={
                        "user": audit.person(person),
                        "days_before": days,
                        "expires_at": grant.expires_at.isoformat(),
                    },
                )
                count += 1
    return count


def register_jobs() -> None:
    """Register the jobs with the runner (AppConfig.ready)."""
    from portal.jobs import register

    register("accessrequests.warn_expiring", warn_expiring_requests)
    register("accessrequests.expire_pending", expire_pending_requests)
    register("accessrequests.expiry_notices", send_expiry_notices)


__all__ = ["expire_pending_requests", "register_jobs", "send_expiry_notices", "warn_expiring_requests"]
