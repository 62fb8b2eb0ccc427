"""API fixtures: keys issued through the service, clients sending them as bearer tokens."""

import pytest
from django.test import Client

from accounts.scoping import tenant_scope
from api import check, keys
from permissions.models import Module
from permissions.vocabulary import ALL_ACTIONS

EVERYTHING = "everything"


@pytest.fixture(autouse=True)
def _fresh_api_state():
    from django.core.cache import cache

    from api import throttling

    keys.forget_verified()
    check.forget()
    throttling.forget()
    cache.clear()
    yield
    keys.forget_verified()
    check.forget()


@pytest.fixture
def minute_start():
    """The clock at the start of a minute (and running): a rate-limit test's requests all fall in one
    fixed one-minute window, whatever second the test starts at (it straddled a boundary now and then)."""
    from datetime import UTC, datetime

    import time_machine

    with time_machine.travel(datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC), tick=True):
        yield


def issue(user, scopes=EVERYTHING, **kwargs):
    """A key made by ``user`` (every module's actions they hold, by default); returns (key, token)."""
    with tenant_scope(user.tenant):
        if scopes == EVERYTHING:
            from permissions import engine
            from permissions.vocabulary import actions_of

            scopes = {
                m.key: [a for a in actions_of(m.actions & ALL_ACTIONS) if engine.can(user, a, m)]
                for m in Module.objects.all()
            }
            scopes = {k: v for k, v in scopes.items() if v}
        issued = keys.create_key(actor=user, name="test", scopes=scopes, **kwargs)
    return issued.key, issued.token


def bearer(token) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def acme_key(acme_admin):
    return issue(acme_admin)


@pytest.fixture
def api_acme(acme_key):
    return bearer(acme_key[1])


@pytest.fixture
def globex_key(globex_admin):
    return issue(globex_admin)


@pytest.fixture
def api_globex(globex_key):
    return bearer(globex_key[1])


@pytest.fixture
def scim(acme_admin):
    """A client sending a SCIM key of Acme's administrator (users, groups and grants; a generous rate)."""
    from tests.api.scimkit import SCOPES

    _key, token = issue(acme_admin, scopes=SCOPES, scim=True, rate_per_minute=1_000_000)
    return bearer(token)
