"""Invitations (single-use, 72 hours, then password and MFA enrolment) and password reset (ends in the MFA step)."""

import re

from django.core import mail
from django.test import Client

from accounts import auth_services, services
from accounts.auth_models import EmailToken
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.mfa_helpers import give_device
from tests.factories import PASSWORD, builtin_role

NEW_PASSWORD = "a long passphrase of my very own"


def invite(admin, email="new.person@acme.example", capture=None):
    mail.outbox.clear()
    with capture(execute=True):
        user = services.invite_user(tenant=admin.tenant, email=email, role=builtin_role(admin.tenant), actor=admin)
    [message] = mail.outbox
    link = re.search(r"http://\S+", message.body).group(0)
    return user, link.replace("http://127.0.0.1:8000", "")


def test_an_invitee_sets_a_password_then_enrols_and_reaches_home(acme_admin, django_capture_on_commit_callbacks, clock):
    user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    assert path.startswith("/accounts/invitation/")
    client = Client()
    opened = client.get(path)
    assert opened.status_code == 302 and opened["Location"] == "/accounts/invitation/"  # the token leaves the URL
    form = client.get("/accounts/invitation/")
    assert user.email in form.content.decode()
    done = client.post("/accounts/invitation/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"].startswith("/accounts/mfa/enrol/")
    user.refresh_from_db()
    assert user.is_active and user.check_password(NEW_PASSWORD)
    assert client.get("/").status_code == 302  # not before enrolling
    client.post("/accounts/mfa/enrol/", {"op": "start"})
    page = client.get("/accounts/mfa/enrol/").content.decode()
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7]+)<', page).group(1)
    import base64

    from tests.accounts.mfa_helpers import code_at, now_t

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    client.post("/accounts/mfa/enrol/", {"name": "Phone", "code": code_at(key, now_t())})
    assert client.get("/").status_code == 200
    with tenant_scope(acme_admin.tenant):
        kinds = list(AuditEvent.objects.filter(target_id=str(user.pk)).values_list("event_type", flat=True))
    for kind in [
        EventType.USER_INVITED,
        EventType.INVITATION_SENT,
        EventType.INVITATION_ACCEPTED,
        EventType.MFA_ENROLLED,
    ]:
        assert kind in kinds


def test_an_invitation_link_works_once(acme_admin, django_capture_on_commit_callbacks):
    user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    client = Client()
    client.get(path)
    client.post("/accounts/invitation/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client()
    assert again.get(path).status_code == 404


def test_an_invitation_link_expires_after_72_hours(acme_admin, django_capture_on_commit_callbacks, clock):
    _user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    clock.shift(71 * 3600)
    assert Client().get(path).status_code == 302
    clock.shift(2 * 3600)
    assert Client().get(path).status_code == 404


def test_a_tampered_or_foreign_token_is_not_found(acme_admin, globex_admin, django_capture_on_commit_callbacks):
    _user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tenant_id, secret = token.split("-", 1)
    altered = secret[:-1] + ("B" if secret[-1] != "B" else "C")
    assert Client().get(f"/accounts/invitation/{tenant_id}-{altered}/").status_code == 404
    assert Client().get(f"/accounts/invitation/{globex_admin.tenant_id}-{secret}/").status_code == 404


def test_the_invitation_page_without_a_link_is_not_found(db):
    assert Client().get("/accounts/invitation/").status_code == 404


def test_a_password_reset_ends_in_the_mfa_step_not_a_full_session(acme_basic, django_capture_on_commit_callbacks):
    """A reset must not bypass MFA (ASVS 6.4.3)."""
    give_device(acme_basic)
    logged_in = Client()
    from tests.conftest import login

    login(logged_in, acme_basic)
    mail.outbox.clear()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": acme_basic.email.upper()})
    [message] = mail.outbox
    path = re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")
    assert client.get(path)["Location"] == "/accounts/password-reset/new/"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/accounts/password-reset/new/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
    assert done.status_code == 302 and done["Location"].startswith("/accounts/mfa/?")
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/accounts/mfa/")
    assert logged_in.get("/").status_code == 302  # every earlier session ended
    acme_basic.refresh_from_db()
    assert acme_basic.check_password(NEW_PASSWORD)
    assert Client().get(path).status_code == 404  # used up
    with tenant_scope(acme_basic.tenant):
        assert AuditEvent.objects.filter(event_type=EventType.PASSWORD_RESET).count() == 1


def test_a_reset_request_answers_alike_for_unknown_addresses(acme_basic, django_capture_on_commit_callbacks):
    """AUTH-1 for the reset form: no enumeration."""
    with django_capture_on_commit_callbacks(execute=True):
        known = Client().post("/accounts/password-reset/", {"email": acme_basic.email})
        unknown = Client().post("/accounts/password-reset/", {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 200

    def strip_tokens(response):
        return re.sub(r'value="[^"]*"', "", response.content.decode())

    assert strip_tokens(known) == strip_tokens(unknown)
    assert len(mail.outbox) == 1


def test_a_reset_link_lives_one_hour_and_a_newer_one_replaces_it(acme_basic, clock):
    first = auth_services.issue_token(acme_basic, EmailToken.Purpose.PASSWORD_RESET)
    second = auth_services.issue_token(acme_basic, EmailToken.Purpose.PASSWORD_RESET)
    assert auth_services.find_token(first, EmailToken.Purpose.PASSWORD_RESET) is None
    assert auth_services.find_token(second, EmailToken.Purpose.PASSWORD_RESET) is not None
    assert auth_services.find_token(second, EmailToken.Purpose.INVITATION) is None  # not for another purpose
    clock.shift(3601)
    assert auth_services.find_token(second, EmailToken.Purpose.PASSWORD_RESET) is None


def test_tokens_are_stored_as_digests(acme_basic):
    raw = auth_services.issue_token(acme_basic, EmailToken.Purpose.PASSWORD_RESET)
    with tenant_scope(acme_basic.tenant):
        stored = EmailToken.objects.get(user=acme_basic).digest
    assert raw.split("-", 1)[1] not in stored


def test_links_are_not_used_from_inside_a_session(acme_basic, acme_admin, django_capture_on_commit_callbacks):
    _user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    from tests.conftest import login

    client = login(Client(), acme_basic)
    assert client.get(path).status_code == 404


def test_an_invited_account_cannot_log_in_before_accepting(acme_admin, django_capture_on_commit_callbacks):
    user, _path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    response = Client().post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200


def test_a_cancelled_invitation_link_stops_working(acme_admin, django_capture_on_commit_callbacks):
    user, path = invite(acme_admin, capture=django_capture_on_commit_callbacks)
    assert auth_services.cancel_invitation(user, actor=acme_admin, reason="wrong address") == 1
    assert Client().get(path).status_code == 404
    with tenant_scope(acme_admin.tenant):
        [event] = AuditEvent.objects.filter(event_type=EventType.INVITATION_CANCELLED)
    assert event.actor == acme_admin and event.reason == "wrong address"
