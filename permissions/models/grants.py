"""Grants: extra actions for a user or a group, on a whole module or on one resource.

A ``Grant`` row is the record an administrator sees (who, what, why, until when, how, by whom).
Per-object grants are *also* stored in django-guardian's direct foreign-key object-permission
models (one row per action), per guardian's performance guide; guardian knows no tenant, expiry or
provenance, so those rows carry ``tenant``, ``grant``, the action's bit and ``expires_at``, and the
engine filters on them. Revoking deletes the guardian rows (the Grant keeps its history).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.scoping import TenantManager
from permissions.vocabulary import actions_of


class Provenance(models.TextChoices):
    """How a grant came to be."""

    MANUAL = "manual", _("Granted by an administrator")
    REQUEST = "request", _("Approved access request")
    REVIEW = "review", _("Access review decision")


class Grant(models.Model):
    """Actions given to one user or one group on a module or on one resource; may expire."""

    # No single-column indexes: the tenant-leading ones in Meta serve every query.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
        db_index=False,
    )
    group = models.ForeignKey(
        "permissions.Group",
        verbose_name=_("group"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
        db_index=False,
    )
    module = models.ForeignKey(
        "permissions.Module", verbose_name=_("module"), on_delete=models.CASCADE, related_name="grants"
    )
    resource = models.ForeignKey(
        "permissions.Resource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
    )
    actions = models.PositiveIntegerField(_("actions"))
    reason = models.TextField(_("reason"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    provenance = models.CharField(_("provenance"), max_length=10, choices=Provenance.choices, default=Provenance.MANUAL)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("granted"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expiry_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TenantManager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="grant_user_xor_group",
            ),
            models.CheckConstraint(condition=Q(actions__gt=0), name="grant_some_action"),
        ]
        indexes = [
            models.Index(fields=["tenant", "user", "module"], name="grant_tenant_user_module"),
            models.Index(fields=["tenant", "group", "module"], name="grant_tenant_group_module"),
            models.Index(fields=["tenant", "resource"], name="grant_tenant_resource"),
            models.Index(fields=["tenant", "expires_at"], name="grant_tenant_expires"),
            # The engine's module-level rows: live, whole-module grants of a user or a group.
            models.Index(
                fields=["tenant", "user"],
                condition=Q(resource__isnull=True, revoked_at__isnull=True),
                name="grant_user_module_live",
            ),
            models.Index(
                fields=["tenant", "group"],
                condition=Q(resource__isnull=True, revoked_at__isnull=True),
                name="grant_group_module_live",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    def is_active_at(self, when) -> bool:
        """Not revoked, and not expired at ``when`` (a grant stops at its expiry instant)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > when)

    @property
    def action_list(self):
        """The granted actions, in vocabulary order."""
        return actions_of(self.actions)


class _TenantUserPermManager(TenantManager, UserObjectPermissionManager):
    """Tenant-scoped, and still guardian's manager (guardian asks it ``is_generic()``)."""


class _TenantGroupPermManager(TenantManager, GroupObjectPermissionManager):
    """Tenant-scoped, and still guardian's manager."""


class ResourceUserPermission(UserObjectPermissionBase):
    """guardian's direct-FK user object permission on a Resource, one row per granted action."""

    # A visible reverse relation: guardian finds direct-FK models through Resource's related objects.
    content_object = models.ForeignKey(
        "permissions.Resource", on_delete=models.CASCADE, related_name="guardian_user_permissions"
    )
    # guardian's fields again, without their single-column indexes: the tenant-leading composite indexes
    # below serve every query, and a lone user_id index lures the planner away from the ordered ones.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, db_index=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="user_object_permissions")
    action = models.PositiveIntegerField()  # the action's bit
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = _TenantUserPermManager()

    class Meta:
        # Not guardian's unique (user, permission, object): two grants may give the same action.
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grant", "permission"], name="ruperm_tenant_grant_perm"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "user", "content_object"], include=["action", "expires_at"], name="ruperm_check"
            ),
            models.Index(
                fields=["tenant", "user", "action", "content_object"], include=["expires_at"], name="ruperm_list"
            ),
            models.Index(fields=["tenant", "content_object"], name="ruperm_holders"),
        ]


class ResourceGroupPermission(GroupObjectPermissionBase):
    """guardian's direct-FK group object permission on a Resource, one row per granted action."""

    content_object = models.ForeignKey(
        "permissions.Resource", on_delete=models.CASCADE, related_name="guardian_group_permissions"
    )
    group = models.ForeignKey(AuthGroup, on_delete=models.CASCADE, db_index=False)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, db_index=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="group_object_permissions")
    action = models.PositiveIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = _TenantGroupPermManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "grant", "permission"], name="rgperm_tenant_grant_perm"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "group", "content_object"], include=["action", "expires_at"], name="rgperm_check"
            ),
            models.Index(
                fields=["tenant", "group", "action", "content_object"], include=["expires_at"], name="rgperm_list"
            ),
            models.Index(fields=["tenant", "content_object"], name="rgperm_holders"),
        ]
