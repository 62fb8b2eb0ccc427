"""Fixtures of the permission suites: acme's personas, modules and a few resources (globex as the other tenant)."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Module
from permissions.services import groups as group_services
from permissions.services import modules as module_services
from tests.factories import UserFactory


@pytest.fixture
def in_acme(acme):
    with tenant_scope(acme):
        yield acme


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)


@pytest.fixture
def acme_advanced(acme):
    return UserFactory(tenant=acme, email="advanced1@acme.example", role_key=BuiltinRole.ADVANCED)


@pytest.fixture
def acme_customer(acme):
    return UserFactory(tenant=acme, email="customer@acme.example", role_key=BuiltinRole.BASIC)


def module(tenant, key):
    """One of the tenant's modules."""
    return Module.objects.dangerously_all_tenants().get(tenant=tenant, key=key)


@pytest.fixture
def reports(acme):
    return module(acme, "reports")


@pytest.fixture
def products(acme):
    return module(acme, "products")


def make_resource(tenant, key, title, **attributes):
    """A resource created through the service, as the system."""
    with tenant_scope(tenant):
        return module_services.create_resource(
            actor=None, module=module(tenant, key), title=title, attributes=attributes
        )


@pytest.fixture
def report(acme):
    return make_resource(acme, "reports", "Q3 revenue", revenue="1.2M", region="EMEA")


@pytest.fixture
def other_report(acme):
    return make_resource(acme, "reports", "Q4 forecast", revenue="1.5M")


@pytest.fixture
def globex_report(globex):
    return make_resource(globex, "reports", "Globex secrets", revenue="9M")


@pytest.fixture
def customer_company(acme):
    with tenant_scope(acme):
        return group_services.create_group(actor=None, tenant=acme, name="Initech")


def add_to_group(group, user):
    with tenant_scope(group.tenant):
        group_services.add_member(group, user, actor=None)
