"""Sharing rules: access to a module's records by organisation (own records, a partner's records) or by
a resource attribute (criteria), evaluated by the engine through ``permissions.sharing``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class SharingRule(models.Model):
    """One rule: ``actions`` (a bitmask of the vocabulary) on the records of ``module`` that match it.

    - ``own``: members of any active organisation, on the records their organisation owns (and, with
      ``include_children``, the records its descendants own).
    - ``partner``: members of ``organisation`` (active), on the records ``target_organisation`` owns.
    - ``criteria``: members of ``organisation`` (active) or holders of ``role``, on the records whose
      non-sensitive attribute ``attribute_key`` is exactly the string ``attribute_value``.

    A rule works while ``expires_at`` is unset or in the future. Changes go through
    ``permissions.services.sharing``.
    """

    class Kind(models.TextChoices):
        OWN = "own", _("Members see their organisation's records")
        PARTNER = "partner", _("Members of one organisation see another's records")
        CRITERIA = "criteria", _("Records matching an attribute")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    module = models.ForeignKey(
        "permissions.Module", verbose_name=_("module"), on_delete=models.CASCADE, related_name="+"
    )
    actions = models.PositiveIntegerField(_("actions"))
    include_children = models.BooleanField(_("include child organisations"), default=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target_organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("records of organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.ForeignKey(
        "permissions.Role", verbose_name=_("role"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attribute_key = models.CharField(_("attribute"), max_length=64, blank=True)
    attribute_value = models.CharField(_("value"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("sharing rule")
        verbose_name_plural = _("sharing rules")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="sharing_rule_tenant_name")]
        indexes = [models.Index(fields=["tenant", "module"], name="sharing_rule_tenant_module")]

    def __str__(self) -> str:
        return self.name

    def is_live_at(self, now) -> bool:
        """Whether the rule works at ``now``."""
        return self.expires_at is None or self.expires_at > now
