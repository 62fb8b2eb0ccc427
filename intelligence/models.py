"""What access intelligence stores: use counts, analysis runs, proposals, reviewers' feedback, alerts.

Every row is tenant-scoped. Proposals are suggestions only: nothing here changes anyone's access; a
person turns a proposal into a change through the ordinary audited services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class UsageCount(models.Model):
    """How many times ``user`` used ``action`` on a module (or one of its resources) in one hour (UTC)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("uses"), default=0)

    objects = TenantManager()

    class Meta:
        verbose_name = _("use count")
        verbose_name_plural = _("use counts")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "module", "action", "hour"], name="usagecount_tenant_user_hour"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "hour"], name="usagecount_tenant_hour")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.module_id} {self.hour:%Y-%m-%d %H}h ×{self.count}"


class AnalysisRun(models.Model):
    """One run of the analysis over a tenant: when, over what input (a digest), with which figures."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    input_digest = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=20)
    stats = models.JSONField(default=dict)

    objects = TenantManager()

    class Meta:
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "started_at"], name="analysisrun_tenant_started")]

    def __str__(self) -> str:
        return f"run {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed by an administrator")
    DONE = "done", _("Carried out")
    WITHDRAWN = "withdrawn", _("No longer proposed")


class ProposalKind(models.TextChoices):
    ADD = "add", _("Add a missing right")
    REMOVE = "remove", _("Remove an over-grant")


class RightsizingProposal(models.Model):
    """A proposal to add or remove one right (module, action) of one user, with its confidence and reason.
    Never applied by itself: reviews and administrators decide."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(AnalysisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    kind = models.CharField(_("proposal"), max_length=6, choices=ProposalKind.choices)
    confidence = models.FloatField(_("confidence"))
    reason = models.JSONField(default=dict)  # the numbers behind it, rendered in the reader's language
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("right-sizing proposal")
        verbose_name_plural = _("right-sizing proposals")
        ordering = ["-confidence", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "module", "action", "kind"], name="rightsizing_one_per_right"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "user"], name="rightsizing_tenant_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.action} {self.module_id} for {self.user_id}"


class RoleProposal(models.Model):
    """A mined role: a bundle of rights many users hold together, with its coverage and the grants it
    would replace. ``created_role`` is set when an administrator made it a real role."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(AnalysisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=64)  # a digest of the rights: one proposal per bundle
    rights = models.JSONField(default=dict)  # {module key: actions mask}
    members = models.JSONField(default=list)  # user ids holding every right of it
    coverage = models.PositiveIntegerField(default=0)  # (user, right) cells it describes
    share = models.FloatField(default=0.0)  # coverage / all held (user, right) cells
    replaces = models.JSONField(default=list)  # ids of direct grants whose rights it includes
    nearest_role = models.ForeignKey(
        "permissions.Role", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    nearest_similarity = models.FloatField(default=0.0)
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    created_role = models.ForeignKey(
        "permissions.Role", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("role proposal")
        verbose_name_plural = _("role proposals")
        ordering = ["-coverage", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="roleproposal_tenant_key")]

    def __str__(self) -> str:
        return f"role proposal {self.pk}"


class Feedback(models.Model):
    """A person's answer to a proposal: agreed or disagreed. The pattern (kind, module, action) gathers
    them; disagreements lower the confidence of that pattern's future proposals."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=ProposalKind.choices)
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=20)
    agreed = models.BooleanField()
    source = models.CharField(max_length=20)  # "review:<item id>" or "console:<proposal id>"
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [models.UniqueConstraint(fields=["tenant", "source"], name="feedback_one_per_source")]
        indexes = [models.Index(fields=["tenant", "kind", "module", "action"], name="feedback_tenant_pattern")]

    def __str__(self) -> str:
        return f"{'agreed' if self.agreed else 'disagreed'} {self.kind} {self.action} {self.module_id}"


class AlertKind(models.TextChoices):
    BURST = "burst", _("Volume burst")
    ODD_HOUR = "odd_hour", _("Use at an unusual hour")
    FIRST_OF_KIND = "first", _("A right nobody alike has used")


class Alert(models.Model):
    """An unusual use of a right, for administrators; may require a step-up of the user until resolved."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices)
    window = models.DateTimeField()  # the hour (or day) the unusual use happened in: one alert per window
    detail = models.JSONField(default=dict)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    stepup_required = models.BooleanField(_("step-up required"), default=False)
    stepup_required_at = models.DateTimeField(null=True, blank=True)  # an MFA check from before does not count
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "module", "action", "kind", "window"], name="alert_one_per_window"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "user", "resolved_at"], name="alert_tenant_user_open")]

    def __str__(self) -> str:
        return f"{self.kind} {self.action} {self.module_id} by {self.user_id}"
