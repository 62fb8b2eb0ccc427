"""Separation-of-duties rules: combinations of access nobody should hold at once (issue 17).

A rule has two sides; each side is a role (holding it) or some actions on a module (holding any of them,
whatever the path: role matrix, direct grant, group grant). A user who holds both sides violates the
rule. ``permissions.sod`` evaluates rules on the engine's compiled sets; ``permissions.services.gates`` is
the one check every change that gives access goes through.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class SodRule(models.Model):
    """Two sides (a role, or any of ``actions`` on ``module``) that one user must not hold together."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.HIGH)
    reason = models.TextField(_("reason"))
    allow_exceptions = models.BooleanField(_("exceptions allowed (four-eyes, with a justification)"), default=False)
    first_role = models.ForeignKey(
        "permissions.Role", verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_module = models.ForeignKey(
        "permissions.Module",
        verbose_name=_("module"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    first_actions = models.PositiveIntegerField(_("actions"), default=0)
    second_role = models.ForeignKey(
        "permissions.Role", verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    second_module = models.ForeignKey(
        "permissions.Module",
        verbose_name=_("module"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    second_actions = models.PositiveIntegerField(_("actions"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("separation-of-duties rule")
        verbose_name_plural = _("separation-of-duties rules")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="sod_rule_tenant_name")]

    def __str__(self) -> str:
        return self.name


class SodException(models.Model):
    """An approved exception: ``user`` may hold both sides of ``rule`` (four-eyes, with a justification)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(SodRule, on_delete=models.CASCADE, related_name="exceptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    justification = models.TextField(_("justification"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("approved"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("separation-of-duties exception")
        verbose_name_plural = _("separation-of-duties exceptions")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "rule", "user"], name="sod_exception_rule_user")]

    def __str__(self) -> str:
        return f"{self.rule} / {self.user_id}"
