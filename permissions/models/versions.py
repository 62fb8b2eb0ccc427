"""The per-tenant authorization version: the database row that invalidates compiled permission sets."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class AuthzVersion(models.Model):
    """A counter per tenant, raised in the same transaction as any change that can alter an answer of the
    permission engine (``permissions.versioning.bump``). A tenant without a row is at version 0; the
    counter only grows."""

    # No database constraint and no cascade: the row outlives its tenant, so a version never goes back
    # (a bump from a cascade that deletes the tenant's users must not fail, and SQLite reuses ids).
    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    version = models.BigIntegerField(_("version"), default=0)
    # Set (never cleared) by the first sharing rule, read with the version: the engine reads a tenant's
    # rules only when it has ever had one, so a tenant without rules pays no query for them.
    sharing_rules = models.BooleanField(_("has had sharing rules"), default=False, db_default=False)

    objects = TenantManager()

    class Meta:
        verbose_name = _("authorization version")
        verbose_name_plural = _("authorization versions")

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.version}"
