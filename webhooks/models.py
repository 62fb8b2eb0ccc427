"""Subscriptions, the outbox of events, their deliveries and each delivery's attempts (all tenant-scoped)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from vault.fields import EncryptedTextField


class Subscription(models.Model):
    """A receiver URL of one tenant and the event types it wants; its signing secret is encrypted at rest."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("target URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    secret = EncryptedTextField(_("signing secret"))
    previous_secret = EncryptedTextField(_("previous signing secret"), null=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        constraints = [models.UniqueConstraint(fields=["tenant", "uid"], name="webhook_subscription_uid_unique")]
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_sub_tenant_active")]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class WebhookEvent(models.Model):
    """One event to send (the outbox): written in the transaction of the change it reports."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=40, unique=True)  # Standard Webhooks' webhook-id, kept on redelivery
    event_type = models.CharField(max_length=40)
    resource_key = models.CharField(max_length=200, blank=True)  # deliveries of one key go out in order
    audit_seq = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "event_type", "id"], name="webhook_event_tenant_type")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"


class Delivery(models.Model):
    """One event for one subscription: pending until delivered, or failed after its last attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # Every index costs each status change an insert (a delivered delivery is a new row version in each), so the
    # table keeps only those a query uses: no index on the tenant or the subscription alone (see Meta).
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    resource_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    manual = models.BooleanField(default=False)  # a redelivery someone asked for
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # A subscription's delivery log, newest first (console and API), and the subscription's cascade.
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            # The delivery job reads a tenant's pending deliveries in id order (webhooks.queues.Queues):
            # delivered and failed rows, the bulk of the table, are not in this index.
            models.Index(
                fields=["tenant", "id"], condition=models.Q(status="pending"), name="webhook_delivery_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP attempt of a delivery: the delivery log (response code or error, and duration)."""

    # Read by delivery only (a delivery's log): no index on the tenant alone to update at every attempt.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
