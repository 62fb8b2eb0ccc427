"""Dormant accounts: who is exempt from the tenant's dormancy policy, and the warnings already sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class DormancyException(models.Model):
    """A customer the dormancy policy leaves alone (a seasonal user, a break-glass account), with why."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("dormancy exception")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="dormancyexception_once")]

    def __str__(self) -> str:
        return f"{self.user_id}"


class DormancyWarning(models.Model):
    """The warning sent for one stretch without a login (``idle_since``: the last login, or the account's
    creation); the deactivation that followed it, if any. One per stretch: a new login starts a new one."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    idle_since = models.DateTimeField()
    warned_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "idle_since"], name="dormancywarning_once"),
        ]
        indexes = [models.Index(fields=["tenant", "deactivated_at"], name="dormancywarning_deactivated")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.idle_since:%Y-%m-%d}"
