"""Passwords: one answer for unknown and wrong (AUTH-1), validators (AUTH-3), change (AUTH-4)."""

import pytest
from django.contrib.auth.password_validation import CommonPasswordValidator, validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.hashers import CountingHasher
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory


@override_settings(PASSWORD_HASHERS=["tests.accounts.hashers.CountingHasher"])
def test_auth1_the_hasher_runs_once_for_an_unknown_account_as_for_a_wrong_password(acme):
    """AUTH-1 (timing): both paths run the password hasher exactly once, so they take comparable time.
    (bench/login_timing.py measures the two with Argon2.)"""
    user = UserFactory(tenant=acme)
    CountingHasher.runs = 0
    wrong = Client().post("/accounts/login/", {"username": user.email, "password": "not the password!"})
    runs_wrong, CountingHasher.runs = CountingHasher.runs, 0
    unknown = Client().post("/accounts/login/", {"username": "nobody@acme.example", "password": "not the password!"})
    runs_unknown = CountingHasher.runs
    assert runs_wrong == runs_unknown == 1
    assert wrong.status_code == unknown.status_code == 200


def test_auth1_an_inactive_account_answers_like_an_unknown_one(acme):
    """AUTH-1"""
    user = UserFactory(tenant=acme, is_active=False)
    inactive = Client().post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    unknown = Client().post("/accounts/login/", {"username": "nobody@acme.example", "password": PASSWORD})
    assert inactive.status_code == unknown.status_code == 200
    assert "The email or password is not correct." in inactive.content.decode()
    assert "The email or password is not correct." in unknown.content.decode()


@pytest.mark.parametrize("password", ["short pass", "elevenchars"])
def test_auth3_short_passwords_are_refused(db, password):
    """AUTH-3"""
    with pytest.raises(ValidationError):
        validate_password(password)


def test_auth3_common_passwords_are_refused(db):
    """AUTH-3"""
    common = sorted(p for p in CommonPasswordValidator().passwords if len(p) >= 12)[0]
    with pytest.raises(ValidationError):
        validate_password(common)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # no digits, no capitals, no symbols: no composition rules
        "a" * 3 + " long passphrase about a lighthouse keeper and three cats " + "z" * 10,
        "x7" * 40,  # 80 characters
        "Ünïcödé pässwörd 密码 пароль",
    ],
)
def test_auth3_long_passphrases_are_accepted_without_composition_rules(db, password):
    """AUTH-3: 64+ characters accepted."""
    validate_password(password)


def test_auth3_a_128_character_password_logs_in(acme):
    """AUTH-3"""
    password = "the quick brown fox jumps over the lazy dog " * 3
    user = UserFactory(tenant=acme, password=password[:128])
    response = Client().post("/accounts/login/", {"username": user.email, "password": password[:128]})
    assert response.status_code == 302


def test_auth4_changing_the_password_needs_the_current_one(acme_basic):
    """AUTH-4"""
    client = login(Client(), acme_basic)
    new = "a brand new passphrase for blake"
    response = client.post(
        "/accounts/security/password/",
        {"old_password": "wrong current password", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    acme_basic.refresh_from_db()
    assert acme_basic.check_password(PASSWORD)


def test_auth4_changing_the_password_ends_the_other_sessions_only(acme_basic, django_capture_on_commit_callbacks):
    """AUTH-4"""
    other_one, other_two = login(Client(), acme_basic), login(Client(), acme_basic)
    client = login(Client(), acme_basic)
    new = "a brand new passphrase for blake"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/security/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session stays
    assert other_one.get("/").status_code == 302
    assert other_two.get("/").status_code == 302
    acme_basic.refresh_from_db()
    assert acme_basic.check_password(new)
    with tenant_scope(acme_basic.tenant):
        [event] = AuditEvent.objects.filter(event_type=EventType.PASSWORD_CHANGED)
    assert event.after == {"sessions_ended": 2}
    assert new not in str(event.after) and PASSWORD not in str(event.after)
    assert [m.subject for m in mail.outbox] == ["Your password was changed"]


def test_auth4_the_new_password_is_validated(acme_basic):
    """AUTH-4 with AUTH-3"""
    client = login(Client(), acme_basic)
    response = client.post(
        "/accounts/security/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert response.status_code == 200
    acme_basic.refresh_from_db()
    assert acme_basic.check_password(PASSWORD)
