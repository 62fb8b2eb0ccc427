"""API keys: a tenant's integrations authenticate with them (REST API, check API, SCIM).

A key acts for the administrator who created it, narrowed to its scopes: a request may do an action
on a module only when the key's scopes name it *and* the engine says its owner may. The secret is
shown once; only its SHA-256 is stored (the secret has 256 bits from ``secrets``, so a fast hash is
enough: there is nothing to brute-force). The token names the tenant and a lookup prefix, so the
lookup reads one row by ``(tenant, prefix)`` and compares hashes in constant time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from permissions.vocabulary import BITS


class ApiKey(models.Model):
    """A tenant's API key: who made it, what it may do, until when; revocable."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    secret_hash = models.CharField(max_length=64, editable=False)
    # module key → action bitmask (the same masks as role matrices and grants)
    scopes = models.JSONField(_("scopes"), default=dict)
    scim = models.BooleanField(_("SCIM provisioning"), default=False)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "prefix"], name="apikey_tenant_prefix_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_live(self, now=None) -> bool:
        """Not revoked and not expired at ``now``."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, module_key: str, action) -> bool:
        """Whether the key's scopes name ``action`` on ``module_key`` (the engine must agree too)."""
        return bool(int(self.scopes.get(str(module_key), 0)) & BITS[action])
