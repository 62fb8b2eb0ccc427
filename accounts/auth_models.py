"""Rows behind sessions and e-mailed links: the per-user session registry and single-use tokens."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from vault.fields import EncryptedTextField


class UserSession(models.Model):
    """One live session of a tenant user: what "My sessions" lists and what ending a session removes.

    The registry is the source of truth for every session store (database or Redis): a request whose
    session has no row here is logged out (accounts.policy.SessionGuardMiddleware). The session key
    is kept only as a SHA-256 digest for lookup, plus encrypted under the tenant's key so ending a session
    can also delete it from the store.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    key_digest = models.CharField(max_length=64)
    encrypted_key = EncryptedTextField(null=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    address = models.CharField(_("address"), max_length=64, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["tenant", "user"], name="user_session_tenant_user")]
        constraints = [models.UniqueConstraint(fields=["tenant", "key_digest"], name="user_session_tenant_key")]


class EmailToken(models.Model):
    """A single-use link sent by e-mail: an invitation (72 hours) or a password reset (1 hour).

    Only a SHA-256 digest of the 256-bit token is stored; the raw token exists in the e-mail alone. The
    raw token starts with the tenant id, so the lookup runs inside that tenant's scope.
    """

    class Purpose(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        PASSWORD_RESET = "password_reset", _("Password reset")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Ended(models.TextChoices):
        USED = "used", _("used")
        SUPERSEDED = "superseded", _("superseded by a newer link")
        CANCELLED = "cancelled", _("cancelled")

    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)  # when it stopped working before its expiry
    ended = models.CharField(max_length=12, choices=Ended.choices, blank=True, default="")

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "user", "purpose"], name="email_token_tenant_user")]
        constraints = [models.UniqueConstraint(fields=["tenant", "digest"], name="email_token_tenant_digest")]

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
