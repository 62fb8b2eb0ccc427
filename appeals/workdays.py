"""Due times in working days (Monday to Friday in the tenant's time zone; public holidays are not known)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta


def add_working_days(start: datetime, days: int, time_zone: str = "UTC") -> datetime:
    """``start`` moved on by ``days`` working days, at the same local time: Friday 10:00 + 3 is Wednesday
    10:00; a start on a weekend counts from the Monday after (Saturday 10:00 + 3 is Wednesday 10:00)."""
    zone = zoneinfo.ZoneInfo(time_zone or "UTC")
    local = start.astimezone(zone)
    day, left = local.date(), days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return moved.astimezone(start.tzinfo)
