"""Access requests, the portal's notices to a user, and the record of expiry notices already sent."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from permissions.vocabulary import Action, actions_of

#: A pending request that nobody decides within this time expires (discord/access: 7 days).
PENDING_LIFETIME = timedelta(days=7)
#: The requester is told, and the approvers' queue shows, when a pending request has less than this left.
EXPIRY_WARNING = timedelta(days=1)
#: Duration presets offered to the requester, in days (capped by the tenant's request_max_days).
DURATION_PRESETS = (1, 7, 14, 30, 90)
DEFAULT_DURATION = 14


class AccessRequest(models.Model):
    """A user asks for actions on a module or one resource, for a while, with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.CASCADE, related_name="+"
    )
    module = models.ForeignKey(
        "permissions.Module", verbose_name=_("module"), on_delete=models.CASCADE, related_name="+"
    )
    resource = models.ForeignKey(
        "permissions.Resource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    actions = models.PositiveIntegerField(_("actions"))
    reason = models.TextField(_("reason"))
    duration_days = models.PositiveSmallIntegerField(_("duration (days)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    pending_until = models.DateTimeField(_("pending until"))
    extends = models.ForeignKey(
        "permissions.Grant",
        verbose_name=_("extends grant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Four-eyes: a system-module request records its first approval here and waits for a second one.
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    granted_days = models.PositiveSmallIntegerField(_("granted (days)"), null=True, blank=True)
    grant = models.ForeignKey(
        "permissions.Grant", verbose_name=_("grant"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the requester was told that the request is about to expire undecided (sent once).
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "pending_until"], name="accessreq_tenant_status"),
            models.Index(fields=["tenant", "requester", "status"], name="accessreq_tenant_requester"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(actions__gt=0), name="accessreq_some_action"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    def save(self, *args, **kwargs):
        if self.pending_until is None:
            self.pending_until = (self.created_at or timezone.now()) + PENDING_LIFETIME
        super().save(*args, **kwargs)

    @property
    def action_list(self) -> list[Action]:
        """The requested actions, in vocabulary order."""
        return actions_of(self.actions)

    @property
    def is_system(self) -> bool:
        """Actions on a console module: a second approver (four-eyes) and step-up are needed."""
        return self.module.is_system

    @property
    def is_sensitive(self) -> bool:
        """Asks to see sensitive fields, or to export a module holding sensitive attributes."""
        if self.actions & Action.VIEW_SENSITIVE.bit:
            return True
        return bool(self.actions & Action.EXPORT.bit and self.module.sensitive_attributes)

    def expires_soon_at(self, when) -> bool:
        """Open, with less than ``EXPIRY_WARNING`` left: the queue flags it, the requester was told."""
        return self.is_open_at(when) and self.pending_until - when <= EXPIRY_WARNING

    def is_open_at(self, when) -> bool:
        """Pending and not yet past its pending lifetime (it expires at that instant exactly)."""
        return self.status == self.Status.PENDING and when < self.pending_until


class Notice(models.Model):
    """A message to one user in the portal (the same news also goes out by e-mail)."""

    class Kind(models.TextChoices):
        APPROVED = "approved", _("Request approved")
        DENIED = "denied", _("Request denied")
        EXPIRED = "expired", _("Request expired")
        GRANT_EXPIRING = "grant_expiring", _("Access about to expire")
        REQUEST_EXPIRING = "request_expiring", _("Request about to expire")
        # Issue 17: access taken away (appeals.notices), a case's news, dormant accounts (dormancy/)
        ACCESS_REVOKED = "access_revoked", _("Access revoked")
        ACCESS_REDUCED = "access_reduced", _("Access reduced")
        ACCESS_EXPIRED = "access_expired", _("Access ended")
        CASE_UPDATE = "case_update", _("News of your appeal")
        DORMANCY_WARNING = "dormancy_warning", _("Your account is about to be deactivated")
        DORMANCY_DEACTIVATED = "dormancy_deactivated", _("Your account was deactivated")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "read_at"], name="notice_tenant_user_read")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class ExpiryNotice(models.Model):
    """An expiry notice already sent: one per (grant, user, days before), so each goes out once."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    grant = models.ForeignKey("permissions.Grant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    days = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grant", "user", "days"], name="expirynotice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.grant_id}/{self.user_id}/{self.days}"
