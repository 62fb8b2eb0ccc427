"""Review items: one (user, access) line of a campaign, its frozen evidence, the decision and its application."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class ItemKind(models.TextChoices):
    ROLE = "role", _("Role membership")
    GRANT = "grant", _("Grant")
    MEMBERSHIP = "membership", _("Group membership")
    GROUP_GRANT = "group_grant", _("Group's grant")
    MATRIX = "matrix", _("Role's matrix")
    ORGANISATION = "organisation", _("Organisation membership")
    SHARING = "sharing", _("Sharing rule")


#: Kinds whose access is one user's (the item's ``user``); the others give access to many people at once.
PERSONAL_KINDS = (ItemKind.ROLE, ItemKind.GRANT, ItemKind.MEMBERSHIP, ItemKind.ORGANISATION)
#: Kinds a reviewer may reduce (an earlier expiry, a smaller role); the others are kept or revoked.
REDUCIBLE_KINDS = (ItemKind.ROLE, ItemKind.GRANT)


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
    access_key = models.CharField(max_length=40)  # "role:<user id>", "grant:<grant id>" …: one item per access
    kind = models.CharField(_("kind"), max_length=12, choices=ItemKind.choices)
    # The person whose access it is (None for a group's grant, a role's matrix, a sharing rule).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The group (membership, group grant), organisation or sharing rule the item is about; role: ``role``.
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    # What routing needs at every stage: {"module": id, "resource": id, "risky": bool}.
    route = models.JSONField(default=dict)
    stage = models.PositiveSmallIntegerField(default=1)  # the stage that decides it now (or decided it)
    role = models.ForeignKey("permissions.Role", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    grant = models.ForeignKey("permissions.Grant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    snapshot = models.JSONField(default=dict)  # the access as it was at opening
    evidence = models.JSONField(default=dict)  # last login, last use, peers, grant age … at opening
    flagged = models.BooleanField(default=False)
    unused = models.BooleanField(default=False)
    recommendation = models.CharField(max_length=6, choices=Recommendation.choices, default=Recommendation.NONE)
    reasons = models.JSONField(default=list)  # [[code, {params}], …] rendered in the reader's language
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # "fallback" (the first choice was the subject or missing), "self", "reassigned", "delegated", "escalated"
    routed = models.CharField(max_length=20, blank=True)
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
            models.Index(fields=["tenant", "campaign", "stage", "decision"], name="reviewitem_campaign_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.access_key}"

    @property
    def reducible(self) -> bool:
        return self.kind in REDUCIBLE_KINDS


class StageDecision(models.Model):
    """What one stage decided on an item, kept when the item moves on: later stages see it."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="stage_decisions")
    stage = models.PositiveSmallIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=7, choices=Decision.choices)
    justification = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("stage decision")
        verbose_name_plural = _("stage decisions")
        ordering = ["item", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "item", "stage"], name="stagedecision_once_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.stage}: {self.decision}"
