"""Review policies: what is reviewed, by whom, how often, and what happens to unanswered items."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class Cadence(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")
    ONCE = "once", _("Once")


#: Months between two campaigns of each cadence (``once`` has a single period).
CADENCE_MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6, Cadence.YEARLY: 12}


class ScopeMode(models.TextChoices):
    ALL = "all", _("All users")
    CHOSEN = "chosen", _("Chosen roles, groups or modules")
    RISKY = "risky", _("Only risky access (system modules, sensitive data, administrators)")


class ReviewerKind(models.TextChoices):
    ADMINISTRATORS = "administrators", _("Tenant administrators")
    GROUP_OWNERS = "group_owners", _("Owners of the user's group")
    CHOSEN = "chosen", _("Chosen users")
    SELF = "self", _("Self-review (low-risk scopes only)")


class Unanswered(models.TextChoices):
    KEEP = "keep", _("Keep the access")
    REVOKE = "revoke", _("Revoke the access")
    RECOMMENDATION = "recommendation", _("Follow the recommendation")


class ReviewPolicy(models.Model):
    """A schedule and a scope: each period the scheduler opens one campaign of this policy."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=150)
    include_roles = models.BooleanField(_("review role memberships"), default=True)
    include_grants = models.BooleanField(_("review grants"), default=True)
    scope_mode = models.CharField(_("scope"), max_length=10, choices=ScopeMode.choices, default=ScopeMode.ALL)
    # Ids of this tenant's roles, groups and modules (validated by the service; JSON keeps every row tenant-owned).
    scope_roles = models.JSONField(_("roles"), default=list, blank=True)
    scope_groups = models.JSONField(_("groups"), default=list, blank=True)
    scope_modules = models.JSONField(_("modules"), default=list, blank=True)
    cadence = models.CharField(_("cadence"), max_length=12, choices=Cadence.choices, default=Cadence.QUARTERLY)
    start_date = models.DateField(_("start date"))
    duration_days = models.PositiveIntegerField(
        _("duration (days)"), default=14, validators=[MinValueValidator(3), MaxValueValidator(90)]
    )
    reviewer_kind = models.CharField(
        _("reviewers"), max_length=16, choices=ReviewerKind.choices, default=ReviewerKind.ADMINISTRATORS
    )
    reviewers = models.JSONField(_("chosen reviewers"), default=list, blank=True)
    fallback_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("fallback reviewer"), on_delete=models.PROTECT, related_name="+"
    )
    unanswered = models.CharField(
        _("unanswered items"), max_length=16, choices=Unanswered.choices, default=Unanswered.KEEP
    )
    max_revoke_percent = models.PositiveIntegerField(
        _("never revoke automatically more than this share of a role (%)"),
        default=25,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    auto_apply = models.BooleanField(_("apply decisions when the campaign closes"), default=True)
    reminders = models.BooleanField(_("send reminders (middle and two days before the end)"), default=True)
    justify_keep_flagged = models.BooleanField(_("justification required to keep a flagged item"), default=True)
    justify_revoke = models.BooleanField(_("justification required for every revoke"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("review policy")
        verbose_name_plural = _("review policies")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="reviewpolicy_tenant_name")]

    def __str__(self) -> str:
        return self.name
