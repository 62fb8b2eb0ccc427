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


def current_period(policy, now: datetime) -> date | None:
    """The start of the latest period that has begun at ``now`` (None before the start date)."""
    today = now.astimezone(UTC).date()
    if today < policy.start_date:
        return None
    if policy.cadence == Cadence.ONCE:
        return policy.start_date
    step = CADENCE_MONTHS[policy.cadence]
    months = (today.year - policy.start_date.year) * 12 + today.month - policy.start_date.month
    k = months // step
    start = add_months(policy.start_date, k * step)
    while start > today:
        k -= 1
        start = add_months(policy.start_date, k * step)
    return start


def next_period(policy, period: date) -> date | None:
    """The period after ``period`` (None for a one-off policy)."""
    if policy.cadence == Cadence.ONCE:
        return None
    return add_months(period, CADENCE_MONTHS[policy.cadence])


def window(policy, period: date) -> tuple[datetime, datetime]:
    """(opens at, due at) of one period: midnight UTC of its first day, plus the duration."""
    opens = datetime.combine(period, time(0), tzinfo=UTC)
    return opens, opens + timedelta(days=policy.duration_days)
