"""The tenant's "single sign-on for everyone but the break-glass administrators": who may still use a password,
and sessions no provider opened."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.services.errors import AccessRefused
from sso import services
from tests.conftest import login
from tests.factories import PASSWORD
from tests.sso.conftest import make_provider

ISSUER = "http://127.0.0.1:9"


def require(tenant, actor, break_glass, on=True):
    with tenant_scope(tenant):
        return services.set_policy(tenant, actor=actor, require_sso=on, break_glass=break_glass, reason="SSO only")


def test_it_needs_an_enabled_provider_and_a_break_glass_administrator(acme, acme_admin, acme_basic):
    with pytest.raises(ValidationError):
        require(acme, acme_admin, [acme_admin])  # no provider yet
    make_provider(acme, ISSUER, "portal")
    with pytest.raises(ValidationError):
        require(acme, acme_admin, [])
    with pytest.raises(ValidationError):
        require(acme, acme_admin, [acme_basic])  # not an administrator
    require(acme, acme_admin, [acme_admin])
    with tenant_scope(acme):
        event = AuditEvent.objects.get(event_type=EventType.SSO_POLICY_CHANGED)
    assert event.after["require_sso"] is True and event.reason == "SSO only"


def test_only_settings_holders_and_own_tenant(acme, globex, acme_admin, acme_basic, globex_admin):
    make_provider(acme, ISSUER, "portal")
    with pytest.raises(AccessRefused):
        require(acme, acme_basic, [acme_admin])
    with pytest.raises(AccessRefused):
        require(acme, globex_admin, [acme_admin])


def test_password_login_is_refused_except_for_break_glass(acme, acme_admin, acme_basic):
    make_provider(acme, ISSUER, "portal")
    require(acme, acme_admin, [acme_admin])
    response = Client().post("/accounts/login/", {"username": acme_basic.email, "password": PASSWORD})
    assert response.status_code == 200 and "signs in with single sign-on" in response.content.decode()
    wrong = Client().post("/accounts/login/", {"username": acme_basic.email, "password": "not-the-password"})
    assert "signs in with single sign-on" not in wrong.content.decode()  # only a right password learns it
    admin = login(Client(), acme_admin)
    assert admin.get("/console/sso/").status_code == 200


def test_a_session_no_provider_opened_ends(acme, acme_admin, acme_basic):
    make_provider(acme, ISSUER, "portal")
    client = Client()
    acme.mfa_policy = acme.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    login(client, acme_basic)
    assert client.get("/accounts/security/history/").status_code == 200
    require(acme, acme_admin, [acme_admin])
    response = client.get("/accounts/security/history/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/accounts/security/history/").status_code == 302


def test_the_console_page_saves_the_requirement(admin_client_acme, acme, acme_admin):
    make_provider(acme, ISSUER, "portal")
    assert admin_client_acme.get("/console/sso/policy/").status_code == 200
    response = admin_client_acme.post(
        "/console/sso/policy/", {"require_sso": "on", "break_glass": [acme_admin.pk], "reason": ""}
    )
    assert response.status_code == 302
    assert "required of everyone" in admin_client_acme.get("/console/sso/").content.decode()
    response = admin_client_acme.post("/console/sso/policy/", {"require_sso": "on", "reason": ""})
    assert response.status_code == 200 and "break-glass administrator first" in response.content.decode()
