"""Modules: the kinds of resources (and the console's own areas), with the actions that apply."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permissions.attributes import language
from permissions.querysets import RestrictedManager
from permissions.vocabulary import BusinessModule, ModuleKind, SystemModule, actions_of


class Module(models.Model):
    """A module of one tenant: a system module, a seeded business module or a custom one."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(_("key"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    # A custom module's name in Chinese (shown in the Chinese UI); seeded modules are translated by the catalogue.
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True, default="")
    # Display names of the module's attributes: key → {"en": …, "zh-hans": …} (permissions.attributes).
    attribute_names = models.JSONField(_("attribute display names"), default=dict, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ModuleKind.choices, default=ModuleKind.CUSTOM)
    actions = models.PositiveIntegerField(_("applicable actions"), default=0)
    sensitive_attributes = models.JSONField(_("sensitive attributes"), default=list, blank=True)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("owners"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()  # tenant-scoped; .restrict(user, action) is the read door

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["tenant", "kind", "key"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="module_tenant_key_unique")]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self):
        """A seeded module's name in the user's language; a custom module's own name (its Chinese one in Chinese)."""
        if self.kind == ModuleKind.SYSTEM and self.key in SystemModule.values:
            return SystemModule(self.key).label
        if self.kind == ModuleKind.BUSINESS and self.key in BusinessModule.values:
            return BusinessModule(self.key).label
        if self.name_zh and language() == "zh-hans":
            return self.name_zh
        return self.name

    @property
    def is_system(self) -> bool:
        """A module of the console itself (granting its actions needs a second administrator)."""
        return self.kind == ModuleKind.SYSTEM

    @property
    def applicable_actions(self):
        """The actions that apply to this module, in vocabulary order."""
        return actions_of(self.actions)
