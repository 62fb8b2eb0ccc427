"""The tenant's MFA policy: a password-only session reaches only the MFA pages (MFA-9); factor changes
need a recent re-authentication and send a notice (MFA-10)."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.mfa.models import TotpDevice
from accounts.models import Tenant
from accounts.policy import MFA_STEP_URL_NAMES
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import code_at, device_of, fresh_code, give_device, now_t
from tests.conftest import login
from tests.factories import UserFactory
from tests.test_tenant_isolation import walk

OWN_IDS = {
    "user_id": lambda user: user.pk,
    "device_id": lambda user: device_of(user).pk,
    "token": lambda user: "1-" + "x" * 43,
}


def every_url(user):
    from django.urls import get_resolver

    for route, name, keywords in walk(get_resolver()):
        if not name or route.startswith("platform-admin/"):
            continue
        # Any well-formed id will do: the MFA step answers before a view looks anything up.
        yield name, reverse(name, kwargs={kw: OWN_IDS.get(kw, lambda _user: 1)(user) for kw in keywords})


def test_mfa9_a_password_only_session_reaches_nothing_but_the_mfa_pages(acme_admin):
    """MFA-9: walk every URL with a session that passed the password only."""
    give_device(acme_admin)
    client, _ = password_only(acme_admin)
    checked = 0
    for name, url in every_url(acme_admin):
        response = client.get(url)
        if name in MFA_STEP_URL_NAMES:
            continue
        if name in {"accounts:invitation", "accounts:invitation_accept"} or name.startswith("accounts:password_reset"):
            # Links from e-mails are for people without a session: inside one they are not found.
            assert response.status_code in (302, 404), url
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/mfa/"), url
            continue
        assert response.status_code == 302, f"{url} answered {response.status_code}"
        assert response["Location"].startswith("/accounts/mfa/?next="), url
        checked += 1
    assert checked >= 8
    # and a state change by POST is refused the same way
    response = client.post("/accounts/security/sessions/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/")


def test_mfa9_the_mfa_step_itself_is_reachable(acme_admin):
    """MFA-9"""
    give_device(acme_admin)
    client, response = password_only(acme_admin)
    assert response["Location"] == "/accounts/mfa/?next=%2F"
    assert client.get("/accounts/mfa/").status_code == 200
    assert client.get("/healthz").status_code == 200
    login_page = client.get(reverse("accounts:login"))  # already past the password: on to the MFA step via /
    assert login_page.status_code == 302 and login_page["Location"] == "/"


def test_a_user_who_must_have_mfa_and_has_none_goes_to_enrolment_first(acme_basic):
    client, response = password_only(acme_basic)
    assert response["Location"].startswith("/accounts/mfa/enrol/")
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/mfa/enrol/")


def test_privileged_policy_asks_administrators_and_reviewers_only(db):
    tenant = Tenant.objects.create(name="Initech", slug="initech", mfa_policy=Tenant.MfaPolicy.PRIVILEGED)
    from accounts import services

    tenant.delete()
    tenant = services.create_tenant(name="Initech", slug="initech")
    tenant.mfa_policy = Tenant.MfaPolicy.PRIVILEGED
    tenant.save()
    basic = UserFactory(tenant=tenant, role_key=BuiltinRole.BASIC)
    admin = UserFactory(tenant=tenant, role_key=BuiltinRole.ADMINISTRATOR)
    client, response = password_only(basic)
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    with tenant_scope(tenant):
        [ok] = AuditEvent.objects.filter(event_type=EventType.LOGIN_SUCCEEDED)
    assert ok.after == {"factor": "password"}
    client, response = password_only(admin)
    assert response["Location"].startswith("/accounts/mfa/enrol/")  # administrators always


def test_a_user_who_enrolled_anyway_passes_the_mfa_step_under_any_policy(acme_basic):
    acme = acme_basic.tenant
    acme.mfa_policy = Tenant.MfaPolicy.PRIVILEGED
    acme.save()
    give_device(acme_basic)
    client, response = password_only(acme_basic)
    assert response["Location"].startswith("/accounts/mfa/?")


def test_mfa10_a_password_only_session_cannot_add_a_factor_to_an_account_that_has_one(acme_basic):
    """MFA-10 (and MFA-9): knowing the password is not enough to add an attacker's authenticator."""
    give_device(acme_basic)
    client, _ = password_only(acme_basic)
    response = client.get("/accounts/mfa/enrol/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?")
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.filter(user=acme_basic).count() == 1


def test_mfa10_adding_a_factor_needs_a_recent_verification_and_sends_a_notice(
    acme_basic, clock, django_capture_on_commit_callbacks
):
    """MFA-10"""
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    response = client.get("/accounts/mfa/enrol/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    device = device_of(acme_basic)
    client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device)})
    client.post("/accounts/mfa/enrol/", {"op": "start"})
    page = client.get("/accounts/mfa/enrol/")
    assert page.status_code == 200
    with tenant_scope(acme_basic.tenant):
        pending = TotpDevice.objects.get(user=acme_basic, confirmed=False)
        key = pending.key_bytes()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/accounts/mfa/enrol/", {"name": "Tablet", "code": code_at(key, now_t() + 1)})
    assert done.status_code == 200 and "Your backup codes" in done.content.decode()  # its first backup codes
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.get(pk=pending.pk).confirmed
    assert [m.subject for m in mail.outbox] == ["A sign-in factor was added to your account"]
    assert mail.outbox[0].to == [acme_basic.email]


def test_mfa10_removing_a_factor_needs_a_recent_verification_and_sends_a_notice(
    acme_basic, clock, django_capture_on_commit_callbacks
):
    """MFA-10"""
    client = login(Client(), acme_basic)
    spare = give_device(acme_basic, name="Old phone")
    clock.shift(11 * 60)
    url = f"/accounts/security/authenticators/{spare.pk}/remove/"
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.filter(pk=spare.pk).exists()
    device = device_of(acme_basic)
    client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device)})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    with tenant_scope(acme_basic.tenant):
        assert not TotpDevice.objects.filter(pk=spare.pk).exists()
        [removed] = AuditEvent.objects.filter(event_type=EventType.MFA_REMOVED)
    assert removed.actor == acme_basic
    assert [m.subject for m in mail.outbox] == ["A sign-in factor was removed from your account"]


def test_the_last_authenticator_cannot_be_removed_while_mfa_is_required(acme_basic):
    client = login(Client(), acme_basic)
    device = device_of(acme_basic)
    response = client.post(f"/accounts/security/authenticators/{device.pk}/remove/", follow=True)
    assert "your organisation requires one" in response.content.decode()
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.filter(pk=device.pk).exists()


def test_mfa10_first_enrolment_after_a_stale_password_asks_for_the_password_again(acme_basic, clock):
    """MFA-10: a user with no factor proves the password again if it was entered over 10 minutes ago."""
    client, _ = password_only(acme_basic)
    clock.shift(11 * 60)
    response = client.get("/accounts/mfa/enrol/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    wrong = client.post("/accounts/reauthenticate/", {"password": "not it at all", "next": "/accounts/mfa/enrol/"})
    assert wrong.status_code == 200
    from tests.factories import PASSWORD

    right = client.post("/accounts/reauthenticate/", {"password": PASSWORD, "next": "/accounts/mfa/enrol/"})
    assert right["Location"] == "/accounts/mfa/enrol/"
    assert client.get("/accounts/mfa/enrol/").status_code == 200


@pytest.mark.parametrize("policy", [Tenant.MfaPolicy.EVERYONE, Tenant.MfaPolicy.PRIVILEGED])
def test_another_tenants_policy_does_not_apply(acme_basic, globex_admin, policy):
    globex = globex_admin.tenant
    globex.mfa_policy = policy
    globex.save()
    acme = acme_basic.tenant
    acme.mfa_policy = Tenant.MfaPolicy.PRIVILEGED
    acme.save()
    client, response = password_only(acme_basic)
    assert response["Location"] == "/"


def test_force_login_alone_is_a_password_only_session_and_the_helper_completes_it(acme_basic):
    """For other suites: ``client.force_login`` gives a password-only session; ``verified_force_login`` passes MFA."""
    from tests.accounts.mfa_helpers import verified_force_login

    plain = Client()
    plain.force_login(acme_basic)
    assert plain.get("/").status_code == 302
    assert verified_force_login(Client(), acme_basic).get("/").status_code == 200


def test_wrong_passwords_at_reauthentication_count_towards_the_lockout(acme_basic, clock):
    """AUTH-2: the re-authentication page goes through the same lockout as the login page."""
    client, _ = password_only(acme_basic)
    for n in range(5):
        client.post("/accounts/reauthenticate/", {"password": f"wrong guess {n}"})
    from tests.factories import PASSWORD

    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 429


def test_a_password_only_session_sees_no_menu(acme_admin):
    give_device(acme_admin)
    client, _ = password_only(acme_admin)
    body = client.get("/accounts/mfa/").content.decode()
    assert 'class="sidebar"' not in body
    verified = login(Client(), acme_admin)
    assert 'class="sidebar"' in verified.get("/").content.decode()
