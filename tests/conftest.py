"""Personas per tenant, in two tenants, as the stories of every suite (acme and globex)."""

import pytest

from permissions.models import BuiltinRole
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.redisproc import own_redis  # noqa: F401 - a fixture: a redis-server of the test's own

# Tests marked postgres are skipped on SQLite; in CI every other skip fails the run (see tests/strict_skips.py).
from tests.strict_skips import pytest_collection_modifyitems, pytest_make_collect_report, pytest_runtest_makereport

__all__ = ["pytest_collection_modifyitems", "pytest_make_collect_report", "pytest_runtest_makereport"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a test that activates another (a request in Chinese, a notice
    rendered for a Chinese reader) does not leak it into the next."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches (unwrapped keys, compiled permissions, usage dedupe, the Django cache) start empty.

    A rolled-back test can leave ids that the next test reuses (SQLite), so nothing cached may survive it.
    """
    from django.core.cache import cache

    from intelligence import counting
    from permissions import engine, usage
    from vault import keyring

    def clear():
        keyring.forget()
        engine.clear_process_cache()
        usage.forget_seen()
        counting.forget()
        cache.clear()

    clear()
    yield
    clear()


@pytest.fixture
def acme(db):
    return TenantFactory(name="Acme Trading", slug="acme")


@pytest.fixture
def globex(db):
    return TenantFactory(name="Globex", slug="globex")


@pytest.fixture
def acme_admin(acme):
    return UserFactory(tenant=acme, email="admin@acme.example", role_key=BuiltinRole.ADMINISTRATOR)


@pytest.fixture
def acme_basic(acme):
    return UserFactory(tenant=acme, email="basic1@acme.example", role_key=BuiltinRole.BASIC)


@pytest.fixture
def globex_admin(globex):
    return UserFactory(tenant=globex, email="admin@globex.example", role_key=BuiltinRole.ADMINISTRATOR)


def login(client, user, password=PASSWORD):
    """Log in through the real login form, as a person would, with the MFA step when there is one
    (a real TOTP code; the user gets an authenticator if they have none)."""
    from tests.accounts.mfa_helpers import pass_mfa_step

    response = client.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    if response["Location"].startswith("/accounts/mfa/"):
        pass_mfa_step(client, user)
    return client


def operator_code(operator) -> str:
    """A code the operator's authenticator shows now (one not used yet): it gets one when it has none."""
    import time

    from django_otp.oath import hotp

    from accounts import operators
    from accounts.mfa.models import TOTP_STEP

    device = operators.OperatorTotpDevice.objects.filter(user=operator).first()
    if device is None:
        operators.enrol(operator, b"operator test seed!!")
        device = operators.OperatorTotpDevice.objects.get(user=operator)
    key = operators.unseal(device.sealed_key, device.uid)
    current = int(time.time()) // TOTP_STEP
    t = next(t for t in (current, current + 1) if t > device.last_t)
    return f"{hotp(key, t, digits=6):06d}"


def operator_login(client, operator, password=PASSWORD):
    """Log a platform operator in through the platform admin's own login: password and a real TOTP code."""
    response = client.post(
        "/platform-admin/login/",
        {"username": operator.email, "password": password, "code": operator_code(operator), "next": "/platform-admin/"},
    )
    assert response.status_code == 302, response.content[:800]
    return client


@pytest.fixture
def admin_client_acme(client, acme_admin):
    return login(client, acme_admin)


@pytest.fixture
def client_globex(globex_admin):
    from django.test import Client

    return login(Client(), globex_admin)


@pytest.fixture(autouse=True, scope="session")
def _audit_tables_flushable():
    """Transactional tests end with a flush; the append-only audit tables need their triggers set aside."""
    from tests.audit.flush import audit_tables_flushable

    with audit_tables_flushable():
        yield
