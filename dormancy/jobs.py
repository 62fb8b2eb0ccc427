"""The dormancy job (registered in portal.jobs, run inside each tenant's scope): warn, then deactivate.

A customer idle for the policy's days less its warning days is warned once for that stretch (a notice in the
portal and an e-mail); one idle for the policy's days, and warned at least the warning days ago, is deactivated
(accounts.services.deactivate_user: sessions ended, links cancelled, keys revoked, ``user.deactivated`` in the
trail with the policy as reason). Users holding any console right, and the exception list, are left alone.

Idempotent under concurrent runs and crashes: each user is handled in a transaction of its own, on their locked
row, re-read after the lock (a second runner finds the warning or the deactivation already there); a crash
leaves the users already handled done and the rest for the next run.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

import audit
from accessrequests.models import Notice
from accessrequests.notify import notify
from accounts.models import User
from accounts.services import deactivate_user
from audit.events import EventType
from dormancy.models import DormancyException, DormancyWarning
from dormancy.policy import Policy, idle_before, idle_since
from permissions.services.escalation import holds_console_rights

WARNED, DEACTIVATED = "warned", "deactivated"


def _warn(tenant, user, since: datetime, policy: Policy, now: datetime) -> str:
    DormancyWarning.objects.create(tenant=tenant, user=user, idle_since=since, warned_at=now)
    when = policy.deactivation_at(since, now)
    audit.record(
        EventType.DORMANCY_WARNED,
        tenant=tenant,
        actor=None,
        target=user,
        after={"idle_since": since.isoformat(), "deactivation_at": when.isoformat(), "policy_days": policy.days},
    )
    notify(user, Notice.Kind.DORMANCY_WARNING, {"days": (now - since).days, "when": when.isoformat()})
    return WARNED


def _deactivate(user, warning: DormancyWarning, since: datetime, policy: Policy, now: datetime) -> str:
    days = (now - since).days
    reason = f"Dormant account: no login for {days} days (tenant policy: {policy.days} days)"
    deactivate_user(user, actor=None, reason=reason)
    warning.deactivated_at = now
    warning.save(update_fields=["deactivated_at"])
    notify(user, Notice.Kind.DORMANCY_DEACTIVATED, {"days": days, "when": now.isoformat()})
    return DEACTIVATED


def handle(tenant, user_id: int, policy: Policy, now: datetime) -> str | None:
    """Warn or deactivate one user if the policy says so now; None when there is nothing to do."""
    with transaction.atomic():
        user = User.objects.select_for_update(of=("self",)).filter(pk=user_id, is_active=True).first()
        if user is None or DormancyException.objects.filter(user_id=user_id).exists() or holds_console_rights(user):
            return None
        since = idle_since(user)
        if now < since + policy.warn_after():
            return None  # logged in meanwhile
        warning = DormancyWarning.objects.filter(user=user, idle_since=since).first()
        if warning is None:
            return _warn(tenant, user, since, policy, now)
        if warning.deactivated_at is None and now >= policy.deactivation_at(since, warning.warned_at):
            return _deactivate(user, warning, since, policy, now)
        return None


def warn_and_deactivate(tenant, now=None) -> int:
    """The job: how many customers were warned or deactivated in this run."""
    now = now or timezone.now()
    policy = Policy.of(tenant)
    if not policy.active:
        return 0
    ids = list(idle_before(now - policy.warn_after()).order_by("pk").values_list("pk", flat=True))
    return sum(handle(tenant, user_id, policy, now) is not None for user_id in ids)


def register_jobs() -> None:
    """Register the job with the runner (AppConfig.ready)."""
    from portal.jobs import register

    register("dormancy.warn_and_deactivate", warn_and_deactivate)
