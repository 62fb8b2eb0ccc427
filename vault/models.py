"""Per-tenant data keys, stored wrapped by a master key."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class TenantKey(models.Model):
    """One data or index key of one tenant; the raw key never touches the database."""

    class Purpose(models.TextChoices):
        DATA = "data", _("data encryption")
        INDEX = "index", _("search index")

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        ARCHIVED = "archived", _("archived (decrypt only)")
        DESTROYED = "destroyed", _("destroyed")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    master_key_id = models.CharField(max_length=16, blank=True)
    wrapped = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("tenant key")
        verbose_name_plural = _("tenant keys")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "purpose", "version"], name="tenantkey_version_unique"),
            models.UniqueConstraint(
                fields=["tenant", "purpose"],
                condition=models.Q(state="active"),
                name="tenantkey_one_active_per_purpose",
            ),
            models.CheckConstraint(
                condition=models.Q(state="destroyed", wrapped__isnull=True)
                | (~models.Q(state="destroyed") & models.Q(wrapped__isnull=False)),
                name="tenantkey_destroyed_has_no_material",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key v{self.version} ({self.state})"
