"""Tenant scoping, fail-closed.

Every tenant-owned model uses ``TenantManager`` as ``objects``. A query through it is filtered to
the tenant of the active scope; with no scope active, *any* use of the queryset raises
``ScopeError`` instead of returning every tenant's rows. The scope is a context variable
(django-scopes' state): ``TenantMiddleware`` enters it for each request from the logged-in user;
background jobs and commands enter it explicitly with ``tenant_scope(tenant)``.

Platform code that must cross tenants says so with ``dangerously_unscoped()``: the name is
meant to stand out in review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

__all__ = [
    "ScopeError",
    "TenantManager",
    "TenantQuerySet",
    "active_tenant",
    "dangerously_unscoped",
    "tenant_scope",
]


@contextmanager
def tenant_scope(tenant) -> Iterator[None]:
    """Run the block with queries scoped to ``tenant`` (a Tenant instance, never None)."""
    if tenant is None or getattr(tenant, "pk", None) is None:
        # django-scopes treats a None value as "no filter": refuse it rather than widen the scope.
        raise ScopeError("tenant_scope() needs a saved tenant, not None")
    with scope(tenant=tenant):
        yield


@contextmanager
def dangerously_unscoped() -> Iterator[None]:
    """Run the block with tenant scoping switched off. Platform code only; say why at the call site."""
    with scopes_disabled():
        yield


def active_tenant():
    """The tenant of the active scope, or None when no tenant scope is active."""
    state = get_scope()
    if not state.get("_enabled", True):
        return None
    return state.get("tenant")


class TenantQuerySet(models.QuerySet):
    """A queryset of tenant-owned rows."""


class UnscopedQuerySet(models.QuerySet):
    """What a tenant-owned model's manager returns with no tenant scope: every use raises."""

    def none(self):
        return models.QuerySet(self.model, using=self._db).none()

    def __repr__(self):
        return f"<UnscopedQuerySet of {self.model.__name__}: needs a tenant scope>"


# Everything that reads, writes or evaluates is refused. Only building an empty queryset,
# choosing a database and creating rows (which name their tenant) stay allowed.
_ALLOWED = {"none", "using", "create", "acreate", "bulk_create", "abulk_create", "as_manager"}


def _refuse(name: str):
    def refused(self, *args, **kwargs):
        raise ScopeError(
            f"{self.model.__name__}.objects.{name}() needs a tenant scope; "
            "wrap the call in accounts.scoping.tenant_scope(tenant)"
        )

    refused.__name__ = name
    return refused


for _name, _value in list(vars(models.QuerySet).items()):
    if callable(_value) and not _name.startswith("_") and _name not in _ALLOWED:
        setattr(UnscopedQuerySet, _name, _refuse(_name))
UnscopedQuerySet.restrict = _refuse("restrict")  # permissions' read door: needs a scope too
for _dunder in ("__iter__", "__aiter__", "__len__", "__bool__", "__getitem__", "__and__", "__or__", "__xor__"):
    setattr(UnscopedQuerySet, _dunder, _refuse(_dunder))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of every tenant-owned model: filtered to the active tenant, else refusing."""

    def get_queryset(self):
        state = get_scope()
        if not state.get("_enabled", True):
            return super().get_queryset()
        tenant = state.get("tenant")
        if tenant is None:
            return UnscopedQuerySet(self.model, using=self._db)
        return super().get_queryset().filter(tenant_id=tenant.pk)

    def dangerously_all_tenants(self):
        """Every tenant's rows. Platform code only (Django admin, audit verification)."""
        return super().get_queryset()
