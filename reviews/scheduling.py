"""Periods of a policy: when each campaign opens and when it is due."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from reviews.models import Cadence
from reviews.models.policies import CADENCE_MONTHS


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_since_start(policy, day: date) -> int:
    return (day.year - policy.start_date.year) * 12 + day.month - policy.start_date.month


def period_at(policy, k: int) -> date:
    """The start of period ``k`` (0 = the start date): always counted from the start date, never from the
    previous period, so a policy starting on the 31st keeps the 31st (or the month's last day): 31 Jan,
    28 Feb, 31 Mar, 30 Apr … and never drifts to the 28th."""
    if policy.cadence == Cadence.ONCE:
        return policy.start_date
    return add_months(policy.start_date, k * CADENCE_MONTHS[policy.cadence])


def current_period(policy, now: datetime) -> date | None:
    """The start of the latest period that has begun at ``now`` (None before the start date)."""
    today = now.astimezone(UTC).date()
    if today < policy.start_date:
        return None
    if policy.cadence == Cadence.ONCE:
        return policy.start_date
    k = _months_since_start(policy, today) // CADENCE_MONTHS[policy.cadence]
    while period_at(policy, k) > today:
        k -= 1
    return period_at(policy, k)


def next_period(policy, period: date) -> date | None:
    """The first period of the policy after ``period`` (None for a one-off policy)."""
    if policy.cadence == Cadence.ONCE:
        return None
    k = max(_months_since_start(policy, period) // CADENCE_MONTHS[policy.cadence], 0)
    while period_at(policy, k) <= period:
        k += 1
    return period_at(policy, k)


def is_period(policy, day: date) -> bool:
    """``day`` starts one of the policy's periods (false after a change of cadence or start date)."""
    if day < policy.start_date:
        return False
    if policy.cadence == Cadence.ONCE:
        return day == policy.start_date
    months = _months_since_start(policy, day)
    step = CADENCE_MONTHS[policy.cadence]
    return months % step == 0 and period_at(policy, months // step) == day


def window(policy, period: date) -> tuple[datetime, datetime]:
    """(opens at, due at) of one period: midnight UTC of its first day, plus every stage's duration."""
    opens = datetime.combine(period, time(0), tzinfo=UTC)
    return opens, opens + timedelta(days=policy.total_days)
