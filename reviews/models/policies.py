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
    ORGANISATION_ADMINS = "organisation_admins", _("Administrators of the user's organisation")
    OWNERS = "owners", _("Owners of the access (group, role, module or resource owners)")


#: The most stages a policy may have.
MAX_STAGES = 3


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
    include_memberships = models.BooleanField(_("review group memberships"), default=False)
    include_group_grants = models.BooleanField(_("review groups' grants"), default=False)
    include_matrices = models.BooleanField(_("review roles' matrices"), default=False)
    include_organisations = models.BooleanField(_("review organisation memberships"), default=False)
    include_sharing = models.BooleanField(_("review sharing rules"), default=False)
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
        _("reviewers"), max_length=20, choices=ReviewerKind.choices, default=ReviewerKind.ADMINISTRATORS
    )
    reviewers = models.JSONField(_("chosen reviewers"), default=list, blank=True)
    fallback_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("fallback reviewer"), on_delete=models.PROTECT, related_name="+"
    )
    # Stages 2 and 3 (stage 1 is the fields above): [{"reviewer_kind", "reviewers", "fallback", "duration_days"}].
    later_stages = models.JSONField(_("later stages"), default=list, blank=True)
    # Who answers for each role's matrix ("owners" reviewers): {"<role id>": <user id>}.
    role_owners = models.JSONField(_("role owners"), default=dict, blank=True)
    escalate_after_days = models.PositiveIntegerField(
        _("escalate a stage's undecided items to the fallback after (days, 0 = never)"),
        default=0,
        validators=[MaxValueValidator(90)],
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

    @property
    def total_days(self) -> int:
        """How long a campaign of this policy stays open: every stage's duration added up."""
        return self.duration_days + sum(int(stage.get("duration_days", 0)) for stage in self.later_stages or [])
