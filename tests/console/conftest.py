"""Fixtures of the console suites: acme's personas (a second administrator, a customer), resources and a
customer company; globex is the other tenant."""

import pytest
from django.test import Client

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Module
from permissions.services import groups as group_services
from permissions.services import modules as module_services
from tests.conftest import login
from tests.factories import UserFactory


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)


@pytest.fixture
def acme_customer(acme):
    return UserFactory(tenant=acme, email="customer@acme.example", full_name="Carla Customer")


@pytest.fixture
def basic_client(acme_basic):
    return login(Client(), acme_basic)


def module(tenant, key):
    return Module.objects.dangerously_all_tenants().get(tenant=tenant, key=key)


def make_resource(tenant, key, title, **attributes):
    with tenant_scope(tenant):
        return module_services.create_resource(
            actor=None, module=module(tenant, key), title=title, attributes=attributes
        )


@pytest.fixture
def report(acme):
    return make_resource(acme, "reports", "Q3 revenue", revenue="1.2M", region="EMEA")


@pytest.fixture
def customer_company(acme, acme_customer):
    with tenant_scope(acme):
        group = group_services.create_group(actor=None, tenant=acme, name="Initech")
        group_services.add_member(group, acme_customer, actor=None)
    return group


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def role_with(tenant, name, matrix):
    """A custom role with ``matrix`` ({module key: [actions]}), set up by the system."""
    from permissions.services import roles as role_services

    with tenant_scope(tenant):
        role = role_services.create_role(actor=None, tenant=tenant, name=name)
        role_services.set_role_matrix(role, matrix, actor=None)
    return role


def person(tenant, email, role):
    """A user holding ``role``, logged in (password and a real TOTP code): (user, client)."""
    user = UserFactory(tenant=tenant, email=email, role=role)
    return user, login(Client(), user)
