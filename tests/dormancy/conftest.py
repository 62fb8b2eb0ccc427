"""Dormancy personas: acme's administrator and customers whose last login is set in the past."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from tests.factories import UserFactory


@pytest.fixture
def in_acme(acme):
    with tenant_scope(acme):
        yield acme


def idle(tenant, email, days, **values):
    """A customer whose last login was ``days`` ago (and who joined before that)."""
    user = UserFactory(tenant=tenant, email=email, **values)
    then = timezone.now() - timedelta(days=days)
    User.objects.dangerously_all_tenants().filter(pk=user.pk).update(last_login=then, date_joined=then)
    return User.objects.dangerously_all_tenants().get(pk=user.pk)
