"""Delegations: a reviewer hands their review items to another reviewer for a period (holidays, leave)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class ReviewDelegation(models.Model):
    """While ``starts_at <= now < ends_at`` (and not ended), items routed to ``delegator`` go to ``delegate``."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    delegator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("delegate"), on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("review delegation")
        verbose_name_plural = _("review delegations")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["tenant", "delegator", "ends_at"], name="delegation_delegator_ends")]

    def __str__(self) -> str:
        return f"{self.delegator_id} → {self.delegate_id}"

    def is_active_at(self, when) -> bool:
        return self.ended_at is None and self.starts_at <= when < self.ends_at
