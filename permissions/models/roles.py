"""Roles and their matrices (role × module → actions)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class BuiltinRole(models.TextChoices):
    """The three roles every tenant starts with."""

    BASIC = "basic", _("Basic user")
    ADVANCED = "advanced", _("Advanced user")
    ADMINISTRATOR = "administrator", _("Administrator")


class Role(models.Model):
    """A named bundle of module permissions; each tenant user holds exactly one."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="roles")
    key = models.SlugField(_("key"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built in"), default=False)
    # Organisation administrators may give this role to their members (never one with console rights).
    organisation_assignable = models.BooleanField(_("organisations may assign it"), default=False)

    objects = TenantManager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["tenant", "-builtin", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="role_tenant_key_unique")]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self):
        """A built-in role's name in the user's language; a custom role's own name."""
        if self.builtin and self.key in BuiltinRole.values:
            return BuiltinRole(self.key).label
        return self.name


class RolePermission(models.Model):
    """One cell row of a role's matrix: the actions (a bitmask) the role gives on one module."""

    # No tenant-only index: the unique (tenant, role, module) serves the tenant's queries (see GroupMembership).
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="matrix")
    module = models.ForeignKey("permissions.Module", on_delete=models.CASCADE, related_name="role_permissions")
    actions = models.PositiveIntegerField(_("actions"), default=0)

    objects = TenantManager()

    class Meta:
        verbose_name = _("role permission")
        verbose_name_plural = _("role permissions")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "role", "module"], name="rolepermission_tenant_role_module"),
        ]

    def __str__(self) -> str:
        return f"{self.role_id}:{self.module_id}={self.actions}"
