"""Factories for the whole suite. Tenant-owned rows are created with their tenant named explicitly."""

import factory
from factory.django import DjangoModelFactory

from accounts import services
from accounts.models import Tenant, User
from permissions.models import BuiltinRole, Role

PASSWORD = "correct horse battery staple"


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, so every tenant has its built-in roles as in production.
        return services.create_tenant(name=kwargs["name"], slug=kwargs["slug"])


def builtin_role(tenant: Tenant, key: str = BuiltinRole.BASIC) -> Role:
    """One of the tenant's built-in roles (read with the platform manager: tests set up across tenants)."""
    return Role.objects.dangerously_all_tenants().get(tenant=tenant, key=key)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role_key = BuiltinRole.BASIC
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, role_key=BuiltinRole.BASIC, role=None, password=PASSWORD, **kwargs):
        tenant = kwargs.pop("tenant")
        return services.create_user(
            tenant=tenant, role=role or builtin_role(tenant, role_key), password=password, **kwargs
        )
