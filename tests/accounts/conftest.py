"""Fixtures of the accounts suite: password-only sessions, verified sessions, a fixed clock."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from tests.factories import PASSWORD

# A fixed instant in the middle of a 30-second TOTP step.
T0 = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    """The clock stopped at T0; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def password_only(user, client=None, password=PASSWORD):
    """A session that passed the password step only."""
    client = client or Client()
    response = client.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client, response
