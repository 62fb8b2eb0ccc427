"""Groups (a customer company, a team): members and owners; a group can hold grants."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import Group as AuthGroup
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class Group(models.Model):
    """A tenant's group. Its primary key *is* a Django auth group's, so guardian's group permissions
    (which point at ``auth.Group``) join on the same id without an extra table."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Customer company")
        TEAM = "team", _("Team")

    auth_group = models.OneToOneField(AuthGroup, on_delete=models.CASCADE, primary_key=True, related_name="portal")
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The identity provider's own id of the group (SCIM externalId, RFC 7643 §3.1); empty when none.
    external_id = models.CharField(_("external id"), max_length=255, blank=True, default="")

    objects = TenantManager()

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="group_tenant_name_unique"),
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~models.Q(external_id=""),
                name="group_tenant_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def new_auth_group() -> AuthGroup:
        """A fresh auth group with a name unique across the platform (names are per tenant on our side)."""
        return AuthGroup.objects.create(name=f"portcullis:{uuid.uuid4().hex}")


class GroupMembership(models.Model):
    """A user in a group; owners may manage the group's members."""

    # No tenant-only index (db_index=False): the tenant-leading ones in Meta serve every query, and a tenant-only
    # one is the index PostgreSQL picks, with no statistics yet, to join a bulk-loaded tenant's group grants to its
    # memberships (a scan of all the tenant's memberships per grant: 15 s a check; tests/permissions/test_indexes.py).
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_owner = models.BooleanField(_("owner"), default=False)
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group", "user"], name="membership_tenant_group_user"),
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="membership_tenant_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
