"""Brute force: 5 failed passwords per (account, address) lock that pair for 15 minutes (AUTH-2)."""

import pytest
from django.test import Client, override_settings

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.mfa_helpers import give_device
from tests.factories import PASSWORD

LOCKED = "Too many failed attempts for this account from your address"


def attempt(user_or_email, password, address="10.0.0.1", **headers):
    email = getattr(user_or_email, "email", user_or_email)
    return Client().post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address, **headers)


def fail_five(user, address="10.0.0.1", **headers):
    responses = [attempt(user, f"wrong password {n}", address, **headers) for n in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    return responses[-1]


def test_auth2_five_failures_lock_the_account_from_that_address(acme_basic, clock):
    """AUTH-2"""
    fifth = fail_five(acme_basic)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    right = attempt(acme_basic, PASSWORD)
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert "_auth_user_id" not in right.client.session
    with tenant_scope(acme_basic.tenant):
        assert AuditEvent.objects.filter(event_type=EventType.LOCKOUT, target_id=str(acme_basic.pk)).count() >= 1
        assert AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).count() >= 5


def test_auth2_the_lock_is_per_account_and_address(acme_basic, acme_admin, clock):
    """AUTH-2: another address, or another account from the same address, is not locked."""
    fail_five(acme_basic)
    assert attempt(acme_basic, PASSWORD, address="10.0.0.2").status_code == 302
    assert attempt(acme_admin, PASSWORD).status_code == 302


def test_auth2_the_lock_ends_after_fifteen_minutes(acme_basic, clock):
    """AUTH-2"""
    fail_five(acme_basic)
    clock.shift(14 * 60)
    assert attempt(acme_basic, PASSWORD).status_code == 429
    clock.shift(16 * 60)  # a failure during the lock restarted the 15 minutes
    assert attempt(acme_basic, PASSWORD).status_code == 302


def test_auth2_case_changes_in_the_email_do_not_dodge_the_count(acme_basic, clock):
    """AUTH-2"""
    for n, email in enumerate(["basic1@acme.example", "BASIC1@acme.example", "Basic1@Acme.Example"] * 2):
        attempt(email, f"wrong {n}")
    assert attempt(acme_basic, PASSWORD).status_code == 429


def test_auth2_a_forged_x_forwarded_for_does_not_reset_the_lock_without_a_proxy(acme_basic, clock):
    """AUTH-2: with no trusted proxy the socket address counts; X-Forwarded-For is ignored."""
    for n in range(5):
        attempt(acme_basic, f"wrong {n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = attempt(acme_basic, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_auth2_behind_one_proxy_only_the_proxys_entry_counts(acme_basic, clock):
    """AUTH-2: the client can prepend anything; the address the proxy appended is what counts."""
    for n in range(5):
        attempt(acme_basic, f"wrong {n}", "10.9.9.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")
    forged = attempt(acme_basic, PASSWORD, "10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")
    assert forged.status_code == 429
    other_client = attempt(acme_basic, PASSWORD, "10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other_client.status_code == 302


def test_auth2_unknown_accounts_are_locked_the_same_way(db, clock):
    """AUTH-1/AUTH-2: the lockout never tells whether an account exists."""
    fifth = fail_five("nobody@acme.example")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()


def test_otp_failures_are_throttled_separately_from_passwords(acme_basic, clock):
    """Wrong codes move the device's throttle, not the password lockout."""
    device = give_device(acme_basic)
    for n in range(8):
        client = Client()
        client.post("/accounts/login/", {"username": acme_basic.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
        client.post("/accounts/mfa/", {"device": device.persistent_id, "code": f"00000{n}"}, REMOTE_ADDR="10.0.0.1")
        clock.shift(1)
    assert attempt(acme_basic, PASSWORD).status_code == 302


@pytest.mark.parametrize("password", [PASSWORD, "wrong one"])
def test_log6_login_events_hold_no_password(acme_basic, password):
    """LOG-6"""
    attempt(acme_basic, password)
    with tenant_scope(acme_basic.tenant):
        stored = " ".join(f"{e.before} {e.after} {e.reason}" for e in AuditEvent.objects.all())
    assert password not in stored
