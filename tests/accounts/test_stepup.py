"""Step-up before sensitive actions, session id rotation (SES-1), and an administrator's MFA reset."""

import pytest
from django.core import mail
from django.test import Client

from accounts.mfa.models import BackupCodeDevice, TotpDevice
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import device_of, fresh_code, give_device
from tests.conftest import login

SESSION = "portcullis_session"


def step_up(client, user, next_url):
    device = device_of(user)
    return client.post(
        "/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device), "next": next_url}
    )


@pytest.mark.urls("tests.accounts.stepup_urls")
@pytest.mark.parametrize("path", ["/test/sensitive/", "/test/sensitive-view/"])
def test_a_sensitive_action_asks_for_a_code_after_ten_minutes_and_returns_to_it(acme_basic, clock, path):
    client = login(Client(), acme_basic)
    assert client.get(path).status_code == 200  # the login's MFA step is recent
    clock.shift(10 * 60 + 1)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/mfa/step-up/?next={path.replace('/', '%2F')}"
    page = client.get(response["Location"])
    assert "This action is sensitive" in page.content.decode()
    back = step_up(client, acme_basic, path)
    assert back.status_code == 302 and back["Location"] == path
    assert client.get(path).status_code == 200
    with tenant_scope(acme_basic.tenant):
        assert AuditEvent.objects.filter(event_type=EventType.STEP_UP).count() == 1


@pytest.mark.urls("tests.accounts.stepup_urls")
def test_a_wrong_step_up_code_leaves_the_action_locked(acme_basic, clock):
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    device = device_of(acme_basic)
    response = client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": "000000", "next": "/"})
    assert response.status_code == 200
    assert client.get("/test/sensitive/").status_code == 302


@pytest.mark.urls("tests.accounts.stepup_urls")
def test_step_up_never_redirects_off_site(acme_basic, clock):
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    response = step_up(client, acme_basic, "https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_ses1_the_session_id_changes_at_login_after_the_mfa_step_and_after_step_up(acme_basic, clock):
    """SES-1"""
    device = give_device(acme_basic)
    client = Client()
    client.get("/accounts/login/")
    client.cookies[SESSION] = "x" * 32  # an id planted before login (fixation attempt)
    client, _ = password_only(acme_basic, client)
    after_password = client.cookies[SESSION].value
    assert after_password != "x" * 32
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": fresh_code(device)})
    after_mfa = client.cookies[SESSION].value
    assert after_mfa != after_password
    clock.shift(11 * 60)
    step_up(client, acme_basic, "/")
    after_step_up = client.cookies[SESSION].value
    assert after_step_up != after_mfa
    assert client.get("/").status_code == 200
    for old in (after_password, after_mfa):
        replay = Client()
        replay.cookies[SESSION] = old
        assert replay.get("/").status_code == 302


def test_an_administrator_resets_a_users_mfa_after_step_up(
    acme_admin, acme_basic, clock, django_capture_on_commit_callbacks
):
    """Step-up before "reset another user's MFA"; audited; the user's sessions end; a notice is sent."""
    victim = login(Client(), acme_basic)
    admin = login(Client(), acme_admin)
    url = f"/accounts/users/{acme_basic.pk}/reset-mfa/"
    clock.shift(11 * 60)
    assert admin.post(url, {"reason": "lost phone"})["Location"].startswith("/accounts/mfa/step-up/")
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.filter(user=acme_basic).exists()
    step_up(admin, acme_admin, url)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(url, {"reason": "lost phone"}).status_code == 302
    with tenant_scope(acme_basic.tenant):
        assert not TotpDevice.objects.filter(user=acme_basic).exists()
        assert not BackupCodeDevice.objects.filter(user=acme_basic).exists()
        [event] = AuditEvent.objects.filter(event_type=EventType.MFA_RESET)
    assert event.actor == acme_admin and event.target_id == str(acme_basic.pk) and event.reason == "lost phone"
    assert victim.get("/").status_code == 302  # their sessions ended
    assert [m.to for m in mail.outbox] == [[acme_basic.email]]
    _client, response = password_only(acme_basic)
    assert response["Location"].startswith("/accounts/mfa/enrol/")  # they enrol again at next login


def test_only_administrators_reset_mfa(acme_admin, acme_basic):
    other = login(Client(), acme_basic)
    assert other.get(f"/accounts/users/{acme_admin.pk}/reset-mfa/").status_code == 403
    admin = login(Client(), acme_admin)
    assert admin.get(f"/accounts/users/{acme_admin.pk}/reset-mfa/").status_code == 403  # not on oneself


def test_reset_mfa_of_another_tenants_user_is_not_found(acme_admin, globex_admin):
    give_device(globex_admin)
    admin = login(Client(), acme_admin)
    assert admin.post(f"/accounts/users/{globex_admin.pk}/reset-mfa/", {"reason": "x"}).status_code == 404
    with tenant_scope(globex_admin.tenant):
        assert TotpDevice.objects.filter(user=globex_admin).exists()
