"""Alerts on unusual use (``analysis.anomalies``): detection (the scheduled job), and what
administrators do with an alert: require a step-up of the user until it is resolved, or resolve it.
Each raised, escalated or resolved alert is audited in its own transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from accounts.models import User
from audit.events import EventType
from intelligence.analysis import anomalies
from intelligence.models import Alert, AlertKind, UsageCount
from permissions.models import UsageRecord
from permissions.services.checks import require
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import require_outranks
from permissions.versioning import bump
from permissions.vocabulary import Action, SystemModule

HISTORY_DAYS = 28
PEER_WINDOW_DAYS = 90
DAILY_BUDGET = 50  # alerts per tenant and day: beyond it, the rest wait for the next day's run


def _day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


class _Usage:
    """Today's and the trailing days' counts, per (user, module, action)."""

    def __init__(self, now: datetime):
        self.today_start = _day(now)
        since = self.today_start - timedelta(days=HISTORY_DAYS)
        self.today: dict[tuple, list] = defaultdict(list)  # key → [(hour, count)]
        self.daily: dict[tuple, Counter] = defaultdict(Counter)  # key → day → count
        self.hours: dict[tuple, list] = defaultdict(lambda: [0] * 24)
        rows = UsageCount.objects.filter(hour__gte=since, hour__lte=now).values(
            "user_id", "module_id", "action", "hour", "count"
        )
        for row in rows:
            key = (row["user_id"], row["module_id"], row["action"])
            if row["hour"] >= self.today_start:
                self.today[key].append((row["hour"], row["count"]))
            else:
                self.daily[key][_day(row["hour"])] += row["count"]
                self.hours[key][row["hour"].hour] += row["count"]

    def history(self, key) -> list[int]:
        days = self.daily.get(key, {})
        return [days.get(self.today_start - timedelta(days=d), 0) for d in range(1, HISTORY_DAYS + 1)]


def _peer_use(now: datetime) -> tuple[dict, Counter]:
    """Users' roles, and how many users of each role used each (module, action) in the peer window."""
    roles = dict(User.objects.filter(is_active=True).values_list("id", "role_id"))
    used: dict[tuple, set] = defaultdict(set)
    since = now - timedelta(days=PEER_WINDOW_DAYS)
    for row in UsageRecord.objects.filter(last_used_at__gte=since).values("user_id", "module_id", "action"):
        used[(row["module_id"], row["action"])].add(row["user_id"])
    return roles, used


def _findings(usage: _Usage, now: datetime) -> list[tuple]:
    """(key, kind, window, detail) for every unusual use of today."""
    roles, used = _peer_use(now)
    role_size = Counter(roles.values())
    out = []
    for key, hours in sorted(usage.today.items()):
        user_id, module_id, action = key
        total = sum(count for _, count in hours)
        history = usage.history(key)
        if anomalies.is_burst(total, history):
            detail = {"count": total, "threshold": round(anomalies.burst_threshold(history), 1), "days": HISTORY_DAYS}
            out.append((key, AlertKind.BURST, usage.today_start, detail))
        days_seen = sum(1 for c in history if c)
        for hour, _count in hours:
            if anomalies.is_odd_hour(hour.hour, usage.hours[key], days_seen=days_seen):
                out.append((key, AlertKind.ODD_HOUR, hour, {"hour": hour.hour, "days": HISTORY_DAYS}))
        role = roles.get(user_id)
        peers = role_size.get(role, 0) - 1
        others = [u for u in used.get((module_id, action), ()) if u != user_id and roles.get(u) == role]
        if anomalies.is_first_of_kind(bool(sum(history)), len(others), peers):
            out.append((key, AlertKind.FIRST_OF_KIND, usage.today_start, {"peers": peers, "days": PEER_WINDOW_DAYS}))
    return out


def detect(tenant, now: datetime | None = None) -> int:
    """Raise an alert for each unusual use of today not alerted yet (within the daily budget); how many."""
    now = now or timezone.now()
    usage = _Usage(now)
    raised_today = Alert.objects.filter(raised_at__gte=usage.today_start).count()
    raised = 0
    for (user_id, module_id, action), kind, window, detail in _findings(usage, now):
        if raised_today + raised >= DAILY_BUDGET:
            break
        with transaction.atomic():
            alert, created = Alert.objects.get_or_create(
                tenant=tenant, user_id=user_id, module_id=module_id, action=action, kind=kind, window=window,
                defaults={"detail": detail, "raised_at": now},
            )  # fmt: skip
            if created:
                audit.record(
                    EventType.INTELLIGENCE_ALERT_RAISED, tenant=tenant, target=alert,
                    after={"kind": kind.value, "user": user_id, "action": action, "module": alert.module.key, **detail},
                )  # fmt: skip
                raised += 1
    return raised


def _open_alert(alert: Alert, actor) -> Alert:
    require(actor, Action.CHANGE, SystemModule.SETTINGS)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise AccessRefused(ErrorCode.INVALID, "this alert is resolved")
    return alert


@transaction.atomic
def require_stepup(alert: Alert, *, actor, reason: str = "") -> Alert:
    """Ask the alert's user for a fresh MFA verification (every 10 minutes) until the alert is resolved."""
    alert = _open_alert(alert, actor)
    require_outranks(actor, alert.user)
    if alert.stepup_required:
        return alert
    alert.stepup_required, alert.stepup_required_at = True, timezone.now()
    alert.save(update_fields=["stepup_required", "stepup_required_at"])
    audit.record(
        EventType.INTELLIGENCE_ALERT_STEPUP, tenant=actor.tenant, actor=actor, target=alert,
        before={"stepup_required": False}, after={"stepup_required": True, "user": alert.user_id}, reason=reason,
    )  # fmt: skip
    bump(alert.tenant_id)  # processes re-read who must step up (intelligence.middleware)
    return alert


@transaction.atomic
def resolve(alert: Alert, *, actor, reason: str = "") -> Alert:
    """Close the alert (and the step-up it required)."""
    alert = _open_alert(alert, actor)
    alert.resolved_at, alert.resolved_by = timezone.now(), actor
    alert.save(update_fields=["resolved_at", "resolved_by"])
    audit.record(
        EventType.INTELLIGENCE_ALERT_RESOLVED, tenant=actor.tenant, actor=actor, target=alert,
        after={"resolved": True, "user": alert.user_id}, reason=reason,
    )  # fmt: skip
    if alert.stepup_required:
        bump(alert.tenant_id)
    return alert


def users_to_step_up() -> dict[int, float]:
    """The users an open alert requires a step-up of → since when (a POSIX time), inside the tenant's scope."""
    open_ = Q(resolved_at__isnull=True, stepup_required=True)
    since: dict[int, float] = {}
    for user_id, when in Alert.objects.filter(open_).values_list("user_id", "stepup_required_at"):
        since[user_id] = max(since.get(user_id, 0.0), when.timestamp() if when else 0.0)
    return since
