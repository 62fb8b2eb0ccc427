"""Fixtures of the training suites: acme's customer and a second administrator (globex as the other tenant)."""

import pytest

from permissions.models import BuiltinRole
from tests.factories import UserFactory


@pytest.fixture
def acme_customer(acme):
    return UserFactory(tenant=acme, email="customer@acme.example", role_key=BuiltinRole.BASIC)


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
