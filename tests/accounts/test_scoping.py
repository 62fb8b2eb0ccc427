"""Tenant scoping is fail-closed (SECURITY.md AZ-7) and covers every tenant-owned model."""

import pytest
from django.apps import apps
from django.db import models

from accounts.models import Tenant, User
from accounts.scoping import ScopeError, TenantManager, active_tenant, dangerously_unscoped, tenant_scope
from permissions.models import Role
from tests.factories import UserFactory


def tenant_owned_models():
    """Every model with a foreign key to Tenant."""
    return [
        model
        for model in apps.get_models()
        if any(isinstance(field, models.ForeignKey) and field.related_model is Tenant for field in model._meta.fields)
    ]


def test_every_tenant_owned_model_uses_the_tenant_manager():
    owned = tenant_owned_models()
    assert User in owned and Role in owned
    for model in owned:
        assert isinstance(model.objects, TenantManager), f"{model.__name__}.objects is not a TenantManager"
        assert isinstance(model._default_manager, TenantManager), f"{model.__name__} default manager"


UNSCOPED_USES = {
    "all()": lambda qs: list(qs.all()),
    "filter()": lambda qs: qs.filter(pk=1),
    "exclude()": lambda qs: qs.exclude(pk=1),
    "get()": lambda qs: qs.get(pk=1),
    "first()": lambda qs: qs.first(),
    "count()": lambda qs: qs.count(),
    "exists()": lambda qs: qs.exists(),
    "in_bulk()": lambda qs: qs.in_bulk([1]),
    "values_list()": lambda qs: qs.values_list("pk"),
    "aggregate()": lambda qs: qs.aggregate(models.Count("pk")),
    "update()": lambda qs: qs.update(email="x@example.com"),
    "delete()": lambda qs: qs.delete(),
    "iterator()": lambda qs: list(qs.iterator()),
    "order_by()": lambda qs: qs.order_by("pk"),
    "select_related()": lambda qs: qs.select_related("tenant"),
    "get_or_create()": lambda qs: qs.get_or_create(email="y@example.com"),
    "iteration": lambda qs: list(qs),
    "len()": lambda qs: len(qs),
    "bool()": lambda qs: bool(qs),
    "slicing": lambda qs: qs[0],
}


@pytest.mark.parametrize("use", UNSCOPED_USES.values(), ids=UNSCOPED_USES.keys())
def test_az7_queries_without_a_tenant_scope_raise(acme_admin, use):
    """AZ-7: outside an explicit tenant scope, every read and write of tenant rows raises."""
    with pytest.raises(ScopeError):
        use(User.objects.get_queryset())


@pytest.mark.parametrize("method", ["count", "exists", "first", "last"])
def test_az7_manager_shortcuts_raise_without_scope(acme_admin, method):
    with pytest.raises(ScopeError):
        getattr(User.objects, method)()


def test_az7_all_raises_when_evaluated(acme_admin):
    unscoped = User.objects.all()
    with pytest.raises(ScopeError):
        list(unscoped)


def test_an_empty_queryset_needs_no_scope(db):
    assert list(User.objects.none()) == []


def test_az7_related_managers_raise_without_scope(acme):
    with pytest.raises(ScopeError):
        list(acme.users.all())


def test_scope_shows_only_the_tenants_rows(acme_admin, globex_admin):
    with tenant_scope(acme_admin.tenant):
        assert list(User.objects.all()) == [acme_admin]
        assert User.objects.filter(pk=globex_admin.pk).count() == 0
        assert not Role.objects.filter(tenant=globex_admin.tenant).exists()
        assert active_tenant() == acme_admin.tenant
    assert active_tenant() is None


def test_scope_refuses_none():
    with pytest.raises(ScopeError), tenant_scope(None):
        pass


def test_unscoped_access_is_explicit(acme_admin, globex_admin):
    with dangerously_unscoped():
        assert User.objects.count() == 2
    assert User.objects.dangerously_all_tenants().count() == 2


def test_nested_scope_restores_outer(acme, globex):
    with tenant_scope(acme):
        with tenant_scope(globex):
            assert active_tenant() == globex
        assert active_tenant() == acme


def test_create_names_its_tenant_without_scope(acme):
    user = UserFactory(tenant=acme)
    assert user.tenant == acme
