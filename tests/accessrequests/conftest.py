"""Personas of the access-request suites (acme; globex as the other tenant) and a few resources."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource, module


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
def reports(acme):
    return module(acme, "reports")


@pytest.fixture
def users_module(acme):
    return module(acme, "users")


@pytest.fixture
def report(acme):
    return make_resource(acme, "reports", "Q3 revenue", revenue="1.2M", region="EMEA")


@pytest.fixture
def globex_report(globex):
    return make_resource(globex, "reports", "Globex secrets", revenue="9M")
