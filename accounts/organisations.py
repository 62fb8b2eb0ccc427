"""Organisations: the customer companies inside a tenant (Initech, Umbrella), with optional parents
(subsidiaries). A user belongs to at most one (``User.organisation``); a resource may be owned by one
(``Resource.owner_organisation``); sharing rules (``permissions.sharing``) give access by them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager

#: The deepest an organisation tree may go (a root is at depth 1).
MAX_DEPTH = 5


class Organisation(models.Model):
    """A customer company of a tenant. Changes go through ``accounts.organisation_services``."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # The organisation's row in the groups module: per-object grants on it are the rights over the
    # organisation ("groups: change" on it = "organisation: manage", its delegated administrators).
    resource = models.OneToOneField(
        "permissions.Resource", on_delete=models.PROTECT, null=True, blank=True, related_name="organisation"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="organisation_tenant_external_id"),
            models.UniqueConstraint(fields=["tenant", "name"], name="organisation_tenant_name"),
        ]
        indexes = [models.Index(fields=["tenant", "parent"], name="organisation_tenant_parent")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


def descendants(parents: dict[int, int | None], root: int) -> set[int]:
    """``root`` and every organisation below it, from a map id → parent id (one tenant's tree)."""
    children: dict[int, list[int]] = {}
    for ident, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(ident)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def ancestors(parents: dict[int, int | None], start: int) -> list[int]:
    """``start`` and the organisations above it, nearest first (stops at a cycle, which services refuse)."""
    chain, current = [], start
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
