"""Pending changes: an escalation that waits for a second administrator's approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class PendingChange(models.Model):
    """A change requested by one administrator and applied only when another approves it."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant of a system-module action")
        ROLE_CHANGE = "role_change", _("Making a user an Administrator")
        MATRIX = "matrix", _("Role matrix with system-module actions")
        MEMBERSHIP = "membership", _("Membership of a group holding system-module actions")
        SETTINGS = "settings", _("Weaker tenant security settings")
        SSO_MAPPING = "sso_mapping", _("Identity provider group mapping giving console rights")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    payload = models.JSONField(_("change"))
    summary = models.CharField(_("summary"), max_length=300)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    result_id = models.CharField(max_length=64, blank=True)
    # Break-glass (permissions.services.breakglass): a sole administrator's change applies by itself at this
    # instant unless someone cancels it first. Empty for an ordinary change, which waits for a second approver.
    applies_at = models.DateTimeField(_("applies by itself at"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("pending change")
        verbose_name_plural = _("pending changes")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="pendingchange_tenant_status")]

    def __str__(self) -> str:
        return self.summary
