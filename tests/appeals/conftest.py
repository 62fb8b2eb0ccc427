"""Personas of the appeals suites: acme's administrator, a customer, a module owner; globex as the other tenant."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from permissions.services import modules as module_services
from tests.factories import UserFactory
from tests.permissions.conftest import module


@pytest.fixture
def in_acme(acme):
    with tenant_scope(acme):
        yield acme


@pytest.fixture
def customer(acme):
    return UserFactory(tenant=acme, email="customer@acme.example", role_key=BuiltinRole.BASIC)


@pytest.fixture
def other_customer(acme):
    return UserFactory(tenant=acme, email="other@acme.example", role_key=BuiltinRole.BASIC)


@pytest.fixture
def reports(acme):
    return module(acme, "reports")


@pytest.fixture
def products(acme):
    return module(acme, "products")


@pytest.fixture
def reports_owner(acme, reports):
    """An Advanced user who owns the reports module (an approver of its requests and cases)."""
    owner = UserFactory(tenant=acme, email="owner@acme.example", role_key=BuiltinRole.ADVANCED)
    with tenant_scope(acme):
        module_services.update_module(reports, actor=None, owners=[owner])
    return owner
