"""Last use of a permission, per (user, module or resource, action): evidence for access reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class UsageRecord(models.Model):
    """When ``user`` last used ``action`` on a module (``resource`` empty) or on one resource."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(
        "permissions.Resource", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_key = models.CharField(max_length=40)  # "m<module id>" or "r<resource id>": one unique key for both
    action = models.CharField(_("action"), max_length=20)
    last_used_at = models.DateTimeField(_("last used"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "target_key", "action"], name="usage_tenant_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.target_key}"
