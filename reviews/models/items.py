"""Review items: one (user, access) line of a campaign, its frozen evidence, the decision and its application."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class ItemKind(models.TextChoices):
    ROLE = "role", _("Role membership")
    GRANT = "grant", _("Grant")


class Decision(models.TextChoices):
    PENDING = "pending", _("Not decided")
    KEEP = "keep", _("Keep")
    REVOKE = "revoke", _("Revoke")
    REDUCE = "reduce", _("Reduce")


class Recommendation(models.TextChoices):
    NONE = "none", _("No recommendation")
    KEEP = "keep", _("Keep")
    REVOKE = "revoke", _("Revoke")


class ApplyResult(models.TextChoices):
    PENDING = "pending", _("Not applied yet")
    APPLIED = "applied", _("Applied")
    NOTHING = "nothing", _("Nothing to change")
    UNCHANGED = "unchanged", _("Not applied: the access changed since opening")
    GUARDED = "guarded", _("Not applied: refused by a guard")
    FAILED = "failed", _("Failed")


class FinalSource(models.TextChoices):
    REVIEWER = "reviewer", _("Reviewer")
    UNANSWERED = "unanswered", _("Unanswered: policy default")
    GUARD = "guard", _("Guard")


class ReviewItem(models.Model):
    """One user's one access, frozen at opening: a role membership or a grant."""

    ApplyResult = ApplyResult
    FinalSource = FinalSource

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("reviews.ReviewCampaign", on_delete=models.CASCADE, related_name="items")
    access_key = models.CharField(max_length=40)  # "role:<user id>" or "grant:<grant id>": one item per access
    kind = models.CharField(_("kind"), max_length=5, choices=ItemKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey("permissions.Role", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    grant = models.ForeignKey("permissions.Grant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    snapshot = models.JSONField(default=dict)  # the access as it was at opening
    evidence = models.JSONField(default=dict)  # last login, last use, peers, grant age … at opening
    flagged = models.BooleanField(default=False)
    unused = models.BooleanField(default=False)
    recommendation = models.CharField(max_length=6, choices=Recommendation.choices, default=Recommendation.NONE)
    reasons = models.JSONField(default=list)  # [[code, {params}], …] rendered in the reader's language
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    routed = models.CharField(max_length=20, blank=True)  # "fallback": the first choice was the subject or missing
    decision = models.CharField(max_length=7, choices=Decision.choices, default=Decision.PENDING)
    justification = models.TextField(blank=True)
    reduce_expires_at = models.DateTimeField(null=True, blank=True)
    reduce_role = models.ForeignKey(
        "permissions.Role", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_in_bulk = models.BooleanField(default=False)
    # Set at closing: what will be applied and why (reviewer's decision, policy default, guard).
    final_decision = models.CharField(max_length=7, choices=Decision.choices, blank=True)
    final_source = models.CharField(max_length=10, choices=FinalSource.choices, blank=True)
    final_note = models.CharField(max_length=200, blank=True)
    # Set in the same transaction as the change: the exactly-once marker.
    applied_at = models.DateTimeField(null=True, blank=True)
    apply_result = models.CharField(max_length=10, choices=ApplyResult.choices, default=ApplyResult.PENDING)
    apply_detail = models.TextField(blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("review item")
        verbose_name_plural = _("review items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "campaign", "access_key"], name="reviewitem_one_per_access"),
        ]
        indexes = [
            models.Index(fields=["tenant", "reviewer", "campaign", "id"], name="reviewitem_reviewer"),
            models.Index(fields=["tenant", "campaign", "decision"], name="reviewitem_campaign_decision"),
            models.Index(fields=["tenant", "campaign", "apply_result"], name="reviewitem_campaign_apply"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.access_key}"
