"""Campaigns: one run of a policy for one period (scheduled → open → closed → applied, or cancelled)."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class ReviewCampaign(models.Model):
    """Exactly one per (tenant, policy, period start): the unique constraint makes a second opening impossible."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        APPLIED = "applied", _("Applied")
        CANCELLED = "cancelled", _("Cancelled")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey("reviews.ReviewPolicy", on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    period_start = models.DateField(_("period start"))
    opens_at = models.DateTimeField(_("opens"))
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SCHEDULED)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    mid_reminder_at = models.DateTimeField(null=True, blank=True)
    final_reminder_at = models.DateTimeField(null=True, blank=True)
    opening_checkpoint = models.PositiveIntegerField(null=True, blank=True)
    closing_checkpoint = models.PositiveIntegerField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    # Multi-stage: the stage deciding now (1 … stage_count) and its window; reminders count per stage.
    stage = models.PositiveSmallIntegerField(_("stage"), default=1)
    stage_count = models.PositiveSmallIntegerField(default=1)
    stage_opened_at = models.DateTimeField(null=True, blank=True)
    stage_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("review campaign")
        verbose_name_plural = _("review campaigns")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "policy", "period_start"], name="campaign_once_per_period"),
        ]
        indexes = [models.Index(fields=["tenant", "state", "due_at"], name="campaign_tenant_state_due")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def current_stage_opened(self):
        return self.stage_opened_at or self.opens_at

    @property
    def current_stage_due(self):
        """When the current stage ends (the campaign's due time for its last stage)."""
        return self.stage_due_at or self.due_at

    @property
    def is_last_stage(self) -> bool:
        return self.stage >= self.stage_count

    @property
    def mid_point(self):
        """When the middle reminder of the current stage is due."""
        start = self.current_stage_opened
        return start + (self.current_stage_due - start) / 2

    @property
    def final_reminder_point(self):
        """Two days before the current stage ends."""
        return self.current_stage_due - timedelta(days=2)
