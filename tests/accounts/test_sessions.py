"""Sessions: timeouts (SES-4), "My sessions" and ending the others, the registry with the Redis store,
cookies and CSRF (SES-2), replay after logout (SES-3)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.auth_models import UserSession
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.mfa_helpers import device_of, fresh_code
from tests.conftest import login

SESSION = "portcullis_session"
ROOT = Path(__file__).resolve().parents[2]


def test_ses4_an_idle_session_ends_after_the_tenants_idle_timeout(acme_basic, clock):
    """SES-4 (idle): default 30 minutes; activity keeps the session alive."""
    client = login(Client(), acme_basic)
    for _ in range(3):
        clock.shift(25 * 60)
        assert client.get("/").status_code == 200
    clock.shift(31 * 60)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/").status_code == 302
    with tenant_scope(acme_basic.tenant):
        [ended] = AuditEvent.objects.filter(event_type=EventType.SESSION_ENDED)
        assert not UserSession.objects.filter(user=acme_basic).exists()
    assert ended.after == {"reason": "idle_timeout"}


def test_ses4_the_idle_timeout_is_the_tenants_setting(acme_basic, clock):
    """SES-4"""
    acme = acme_basic.tenant
    acme.session_idle_minutes = 10
    acme.save()
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    assert client.get("/").status_code == 302


@override_settings(SESSION_COOKIE_AGE=48 * 3600)  # the store's own expiry would also end it at 12 h
def test_ses4_a_session_ends_after_twelve_hours_whatever_the_activity(acme_basic, clock):
    """SES-4 (absolute), enforced by the registry whatever the session store's expiry."""
    client = login(Client(), acme_basic)
    for _ in range(11 * 4):
        clock.shift(15 * 60)
        assert client.get("/").status_code == 200
    clock.shift(61 * 60)
    response = client.get("/")
    assert response.status_code == 302
    with tenant_scope(acme_basic.tenant):
        assert AuditEvent.objects.get(event_type=EventType.SESSION_ENDED).after == {"reason": "absolute_timeout"}


def test_my_sessions_lists_browser_address_and_last_seen_and_ends_the_others(acme_basic):
    firefox = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    login(firefox, acme_basic)
    chrome = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
        REMOTE_ADDR="192.0.2.44",
    )
    login(chrome, acme_basic)
    page = chrome.get("/accounts/security/sessions/")
    body = page.content.decode()
    assert "Firefox · Linux" in body and "Chrome · Windows" in body and "192.0.2.44" in body
    assert body.count("this session") == 1
    assert chrome.post("/accounts/security/sessions/").status_code == 200  # what ending them does, first
    assert firefox.get("/").status_code == 200
    response = chrome.post("/accounts/security/sessions/", {"confirmed": "yes"})
    assert response.status_code == 302
    assert chrome.get("/").status_code == 200
    assert firefox.get("/").status_code == 302
    with tenant_scope(acme_basic.tenant):
        assert UserSession.objects.filter(user=acme_basic).count() == 1
        [event] = AuditEvent.objects.filter(event_type=EventType.SESSION_ENDED)
    assert event.after == {"reason": "ended_by_user", "count": 1}


def test_my_sessions_shows_only_my_own(acme_basic, acme_admin):
    login(Client(HTTP_USER_AGENT="AdminBrowser/1.0"), acme_admin)
    client = login(Client(), acme_basic)
    assert "AdminBrowser" not in client.get("/accounts/security/sessions/").content.decode()


def test_ses3_a_cookie_replayed_after_logout_is_refused_after_the_mfa_step(acme_basic):
    """SES-3, with a fully verified session."""
    client = login(Client(), acme_basic)
    cookie = client.cookies[SESSION].value
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies[SESSION] = cookie
    assert replay.get("/").status_code == 302
    with tenant_scope(acme_basic.tenant):
        assert AuditEvent.objects.filter(event_type=EventType.LOGOUT).count() == 1
        assert not UserSession.objects.filter(user=acme_basic).exists()


def test_ses2_csrf_is_required_on_the_login_and_mfa_steps(acme_basic):
    """SES-2: CSRF on every state change."""
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": acme_basic.email, "password": "x"}).status_code == 403
    checked = login(Client(enforce_csrf_checks=False), acme_basic)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies[SESSION] = checked.cookies[SESSION].value
    for path in ["/accounts/security/sessions/", "/accounts/security/backup-codes/", "/accounts/mfa/step-up/"]:
        assert strict.post(path).status_code == 403, path


def test_ses2_get_never_ends_sessions(acme_basic):
    """SES-2: GET never changes state."""
    other = login(Client(), acme_basic)
    client = login(Client(), acme_basic)
    client.get("/accounts/security/sessions/")
    client.get("/accounts/logout/")
    assert other.get("/").status_code == 200 and client.get("/").status_code == 200


def test_ses2_production_cookies_are_secure_httponly_and_samesite():
    """SES-2: the production settings (HTTPS on) as a fresh process reads them."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTCULLIS_HTTPS": "1", "DEBUG": "0"}
    env.pop("PORTCULLIS_VAR_DIR", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "Lax", "True"]


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/3", socket_connect_timeout=0.5).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no Redis here
        return False


REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/3"}}


@pytest.mark.skipif(not _redis_available(), reason="needs Redis at 127.0.0.1:6379")
@override_settings(CACHES=REDIS, SESSION_ENGINE="django.contrib.sessions.backends.cache")
def test_ses5_the_registry_ends_sessions_in_the_redis_store(acme_admin, acme_basic, django_capture_on_commit_callbacks):
    """SES-5 with the Redis session store: deactivation ends every session at once, also in Redis."""
    from accounts import services

    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore
    first, second = login(Client(), acme_basic), login(Client(), acme_basic)
    keys = [first.cookies[SESSION].value, second.cookies[SESSION].value]
    assert all(store().exists(key) for key in keys)
    with django_capture_on_commit_callbacks(execute=True):
        services.deactivate_user(acme_basic, actor=acme_admin)
    assert not any(store().exists(key) for key in keys)
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302


def test_session_key_is_not_stored_in_clear(acme_basic):
    client = login(Client(), acme_basic)
    key = client.cookies[SESSION].value
    with tenant_scope(acme_basic.tenant):
        row = UserSession.objects.get(user=acme_basic)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT key_digest, encrypted_key FROM accounts_usersession WHERE id = %s", [row.pk])
        digest, sealed = cursor.fetchone()
    assert key not in digest and key not in sealed and sealed.startswith("v1:")
    assert row.encrypted_key == key  # readable through the model, for ending the session


def test_step_up_keeps_the_session_in_the_registry(acme_basic, clock):
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    device = device_of(acme_basic)
    client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device), "next": "/"})
    assert client.get("/accounts/security/sessions/").status_code == 200
    with tenant_scope(acme_basic.tenant):
        assert UserSession.objects.filter(user=acme_basic).count() == 1
