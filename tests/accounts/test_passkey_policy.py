"""A passkey as an MFA factor (the MFA step, step-up, MFA-10), managing passkeys (rename, remove), and the
tenant policy "administrators and reviewers must use a passkey" (phishing-resistant MFA)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts import services as account_services
from accounts.mfa.services import reset_mfa
from accounts.models import Tenant
from accounts.passkeys.models import Passkey
from accounts.passkeys.policy import PASSKEY_STEP_URL_NAMES
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole, PendingChange
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import device_of, fresh_code
from tests.accounts.passkey_helpers import SoftAuthenticator, give_passkey, register, sign_in, verify
from tests.conftest import login
from tests.factories import UserFactory


def events(tenant, event_type):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def names(user):
    with tenant_scope(user.tenant):
        return sorted(Passkey.objects.filter(user=user).values_list("name", flat=True))


def require_passkeys(tenant, on=True):
    Tenant.objects.filter(pk=tenant.pk).update(passkeys_for_administrators=on)
    tenant.refresh_from_db()


# The MFA step and step-up -------------------------------------------------------------------------------------


def test_a_user_with_only_a_passkey_passes_the_mfa_step_with_it(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client, response = password_only(acme_basic)
    assert response["Location"] == "/accounts/mfa/?next=%2F"  # the MFA step, not enrolment
    page = client.get("/accounts/mfa/").content.decode()
    assert 'data-passkey="verify"' in page and 'name="code"' not in page
    assert client.get("/").status_code == 302
    answer = verify(client, authenticator, stage="login")
    assert answer.status_code == 200 and answer.json()["redirect"] == "/"
    assert client.get("/").status_code == 200
    assert events(acme_basic.tenant, EventType.LOGIN_SUCCEEDED)[-1].after == {"factor": "passkey"}


def test_mfa9_a_password_only_session_reaches_the_passkey_steps_only(acme_basic):
    give_passkey(acme_basic)
    client, _response = password_only(acme_basic)
    assert client.post("/accounts/passkeys/verify/options/", {"stage": "login"}).status_code == 200
    for path in ("/accounts/security/", "/accounts/passkeys/required/", "/accounts/security/passkeys/1/rename/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?next="), path


def test_a_passkey_answers_a_step_up(acme_basic, clock):
    _passkey, authenticator = give_passkey(acme_basic)
    client = login(Client(), acme_basic)  # with an authenticator app (the login helper adds one)
    clock.shift(11 * 60)
    page = client.get("/accounts/mfa/step-up/?next=/accounts/security/").content.decode()
    assert 'data-passkey="verify"' in page
    answer = verify(client, authenticator, stage="step_up")
    assert answer.status_code == 200
    [step_up] = events(acme_basic.tenant, EventType.STEP_UP)
    assert step_up.after == {"factor": "passkey"}
    assert client.post("/accounts/security/passkeys/add/options/").status_code == 200  # recent again


def test_a_wrong_verification_is_refused_audited_and_limited(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client, _response = password_only(acme_basic)
    impostor = SoftAuthenticator(credential_id=authenticator.credential_id, user_handle=authenticator.user_handle)
    statuses = [verify(client, impostor, stage="login").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    assert [e.after["reason"] for e in events(acme_basic.tenant, EventType.MFA_FAILED)] == ["invalid"] * 5
    assert client.get("/").status_code == 302


# Managing passkeys --------------------------------------------------------------------------------------------


def test_the_security_page_lists_passkeys_with_rename_and_remove(acme_basic):
    passkey, _authenticator = give_passkey(acme_basic, name="Work laptop")
    page = login(Client(), acme_basic).get("/accounts/security/").content.decode()
    assert "Work laptop" in page
    assert f"/accounts/security/passkeys/{passkey.pk}/rename/" in page
    assert f"/accounts/security/passkeys/{passkey.pk}/remove/" in page


def test_a_passkey_is_renamed_audited(acme_basic):
    passkey, _authenticator = give_passkey(acme_basic, name="Laptop")
    client = login(Client(), acme_basic)
    response = client.post(f"/accounts/security/passkeys/{passkey.pk}/rename/", {"name": "Old laptop"})
    assert response.status_code == 302 and names(acme_basic) == ["Old laptop"]
    [renamed] = events(acme_basic.tenant, EventType.PASSKEY_RENAMED)
    assert renamed.before == {"name": "Laptop"} and renamed.after["name"] == "Old laptop"


@pytest.mark.parametrize("name", ["", "x" * 65, "tab\x07bell"])
def test_a_bad_name_changes_nothing(acme_basic, name):
    passkey, _authenticator = give_passkey(acme_basic, name="Laptop")
    client = login(Client(), acme_basic)
    response = client.post(f"/accounts/security/passkeys/{passkey.pk}/rename/", {"name": name})
    assert response.status_code == 200 and names(acme_basic) == ["Laptop"]
    assert events(acme_basic.tenant, EventType.PASSKEY_RENAMED) == []


def test_mfa10_removing_a_passkey_needs_a_step_up_and_sends_a_notice(
    acme_basic, clock, django_capture_on_commit_callbacks
):
    first, _a = give_passkey(acme_basic, name="One")
    give_passkey(acme_basic, name="Two")
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    path = f"/accounts/security/passkeys/{first.pk}/remove/"
    response = client.post(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    assert names(acme_basic) == ["One", "Two"]
    device = device_of(acme_basic)
    client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device), "next": path})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path).status_code == 302
    assert names(acme_basic) == ["Two"]
    removed = events(acme_basic.tenant, EventType.MFA_REMOVED)
    assert removed[-1].after == {"factor": "passkey", "name": "One"}
    assert len(mail.outbox) == 1 and "passkey was removed" in mail.outbox[0].subject


def test_the_last_factor_cannot_be_removed_while_mfa_is_required(acme_basic):
    passkey, authenticator = give_passkey(acme_basic, name="Only")
    client = Client()
    sign_in(client, authenticator)  # no authenticator app: the passkey is the only factor
    client.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert names(acme_basic) == ["Only"] and events(acme_basic.tenant, EventType.MFA_REMOVED) == []


def test_the_last_passkey_of_an_administrator_stays_under_the_passkey_policy(acme_admin):
    passkey, authenticator = give_passkey(acme_admin, name="Only")
    require_passkeys(acme_admin.tenant)
    client = login(Client(), acme_admin)  # an authenticator app too: MFA alone would let it go
    verify(client, authenticator, stage="policy")
    client.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert names(acme_admin) == ["Only"]


def test_an_administrators_mfa_reset_removes_the_passkeys_too(acme_admin, acme_basic):
    give_passkey(acme_basic)
    with tenant_scope(acme_admin.tenant):
        removed = reset_mfa(acme_basic, actor=acme_admin, reason="lost phone")
    assert removed == 1 and names(acme_basic) == []


def test_the_login_history_names_the_passkey(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client = Client()
    sign_in(client, authenticator)
    page = client.get("/accounts/security/history/").content.decode()
    assert "Passkey" in page


# The tenant policy: administrators and reviewers must use a passkey --------------------------------------------


def test_an_administrator_without_a_passkey_is_confined_to_adding_one(acme_admin, acme_basic):
    require_passkeys(acme_admin.tenant)
    client = login(Client(), acme_admin)  # password and an authenticator app
    for path in ("/", "/accounts/security/", "/console/users/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/security/passkeys/add/?next="), path
    page = client.get("/accounts/security/passkeys/add/")
    assert page.status_code == 200 and 'data-testid="passkey-required"' in page.content.decode()
    assert register(client, SoftAuthenticator()).status_code == 200
    assert client.get("/").status_code == 200  # the registration proved the passkey
    assert login(Client(), acme_basic).get("/").status_code == 200  # a basic user is not asked


def test_an_administrator_with_a_passkey_proves_it_after_an_authenticator_app(acme_admin):
    _passkey, authenticator = give_passkey(acme_admin)
    require_passkeys(acme_admin.tenant)
    client = login(Client(), acme_admin)
    response = client.get("/console/users/")
    assert (
        response.status_code == 302
        and response["Location"] == "/accounts/passkeys/required/?next=%2Fconsole%2Fusers%2F"
    )
    assert client.get(response["Location"]).status_code == 200
    answer = verify(client, authenticator, stage="policy")
    assert answer.status_code == 200
    assert client.get("/").status_code == 200
    assert events(acme_admin.tenant, EventType.STEP_UP)[-1].after == {"factor": "passkey"}


def test_a_passkey_sign_in_satisfies_the_policy_at_once(acme_admin):
    _passkey, authenticator = give_passkey(acme_admin)
    require_passkeys(acme_admin.tenant)
    client = Client()
    sign_in(client, authenticator)
    assert client.get("/console/users/").status_code == 200


def test_the_passkey_steps_are_all_the_policy_lets_through(acme_admin):
    require_passkeys(acme_admin.tenant)
    client = login(Client(), acme_admin)
    assert "accounts:logout" in PASSKEY_STEP_URL_NAMES and "accounts:security" not in PASSKEY_STEP_URL_NAMES
    assert client.post("/accounts/security/sessions/").status_code == 302
    assert client.post("/accounts/security/passkeys/add/options/").status_code == 200


def test_turning_the_policy_on_applies_at_once_and_off_waits_for_a_second_administrator(acme_admin):
    tenant = acme_admin.tenant
    with tenant_scope(tenant):
        account_services.update_tenant_settings(tenant, actor=acme_admin, passkeys_for_administrators=True)
        tenant.refresh_from_db()
        assert tenant.passkeys_for_administrators
        second = UserFactory(tenant=tenant, role_key=BuiltinRole.ADMINISTRATOR)
        pending = account_services.update_tenant_settings(tenant, actor=second, passkeys_for_administrators=False)
    tenant.refresh_from_db()
    assert isinstance(pending, PendingChange) and tenant.passkeys_for_administrators
