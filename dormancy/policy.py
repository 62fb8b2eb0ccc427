"""The dormancy policy read for one tenant: who has been idle long enough to be warned, and when the deactivation
falls. Idle means no login since ``last_login`` (or since the account was created, for one never used)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from accounts.models import User
from dormancy.models import DormancyException


@dataclass(frozen=True)
class Policy:
    """The tenant's numbers: deactivate after ``days`` idle, warn ``warning_days`` before; ``days`` 0 is off."""

    days: int
    warning_days: int

    @classmethod
    def of(cls, tenant) -> Policy:
        return cls(tenant.dormancy_days, tenant.dormancy_warning_days)

    @property
    def active(self) -> bool:
        return self.days > 0

    def warn_after(self) -> timedelta:
        return timedelta(days=max(self.days - self.warning_days, 0))

    def deactivation_at(self, idle_since: datetime, warned_at: datetime | None) -> datetime:
        """Never before ``days`` idle, and never sooner than ``warning_days`` after the warning."""
        due = idle_since + timedelta(days=self.days)
        if warned_at is not None:
            due = max(due, warned_at + timedelta(days=self.warning_days))
        return due


def idle_since(user) -> datetime:
    """The start of the user's current stretch without a login."""
    return user.last_login or user.date_joined


def idle_before(cutoff: datetime):
    """Active tenant users idle since before ``cutoff``, exempt ones left out (inside the tenant's scope)."""
    exempt = DormancyException.objects.values("user_id")
    idle = Q(last_login__lte=cutoff) | Q(last_login__isnull=True, date_joined__lte=cutoff)
    return User.objects.filter(idle, is_active=True, tenant__isnull=False).exclude(pk__in=exempt)


def idle_days(user, now: datetime) -> int:
    return (now - idle_since(user)).days
