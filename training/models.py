"""Lesson completions per user, and the lessons a tenant requires before rights are given."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager
from training.lessons import CHOICES


class LessonCompletion(models.Model):
    """A user passed a lesson (``completed_at``: the first time) and attested it (``attested_at``: the latest)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.CharField(_("lesson"), max_length=50, choices=CHOICES)
    completed_at = models.DateTimeField(_("completed"), default=timezone.now)
    attested_at = models.DateTimeField(_("attested"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("lesson completion")
        verbose_name_plural = _("lesson completions")
        ordering = ["lesson", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "lesson"], name="lesson_completion_user_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.lesson} / {self.user_id}"


class TrainingRequirement(models.Model):
    """``lesson`` must be completed before a user is given ``role``, or any of ``actions`` on ``module``."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    lesson = models.CharField(_("lesson"), max_length=50, choices=CHOICES)
    role = models.ForeignKey(
        "permissions.Role", verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    module = models.ForeignKey(
        "permissions.Module",
        verbose_name=_("module"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    actions = models.PositiveIntegerField(_("actions"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("training requirement")
        verbose_name_plural = _("training requirements")
        ordering = ["lesson", "id"]
        indexes = [models.Index(fields=["tenant", "lesson"], name="training_req_tenant_lesson")]

    def __str__(self) -> str:
        return self.lesson
