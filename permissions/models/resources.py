"""Resources: one object inside a module (report #17, product "X-200", an integration's external id)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from permissions.vocabulary import Action


class Resource(models.Model):
    """One object of a module. ``attributes`` is free JSON; the module names which keys are sensitive."""

    # No single-column indexes: (tenant, module, id) serves lists, and lets PostgreSQL read a module in id order.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    module = models.ForeignKey("permissions.Module", on_delete=models.PROTECT, related_name="resources", db_index=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["id"]
        # guardian's object permissions point at these rows; one permission per action of the vocabulary.
        default_permissions = ()
        permissions = [(f"{action.value}_resource", f"{action.value} resource") for action in Action]
        indexes = [models.Index(fields=["tenant", "module", "id"], name="resource_tenant_module_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "module", "external_id"], name="resource_tenant_module_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.title
