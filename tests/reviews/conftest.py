import pytest

from permissions.models import BuiltinRole
from tests.factories import UserFactory
from tests.reviews.helpers import make_reviewer


@pytest.fixture
def acme_reviewer(acme):
    return make_reviewer(acme)


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
