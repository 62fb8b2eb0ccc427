"""The identity-provider screens: who sees them, who changes, step-up, the mapping editor and four-eyes, the
test sign-in (nothing signed in, nothing changed), and how each login shows in the login history."""

from __future__ import annotations

import time

from django.test import Client

from accounts.scoping import tenant_scope
from accounts.stepup import MFA_VERIFIED_AT
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole, PendingChange, Role
from sso.models import IdentityProvider
from tests.conftest import login
from tests.factories import UserFactory
from tests.sso.conftest import make_provider

ISSUER = "http://127.0.0.1:9"


def form(**changes) -> dict:
    values = {
        "slug": "corp",
        "name": "Corp directory",
        "enabled": "on",
        "issuer": ISSUER,
        "client_id": "portal",
        "client_secret": "a-client-secret-of-enough-length",
        "scopes": "openid email profile",
        "email_domains": "acme-corp.test",
        "groups_claim": "groups",
        "mfa_values": "mfa",
        "default_role": "",
        "reason": "",
    }
    return {**values, **changes}


def stale_mfa(client: Client) -> None:
    session = client.session
    session[MFA_VERIFIED_AT] = time.time() - 3600
    session.save()


def basic_role(tenant):
    with tenant_scope(tenant):
        return Role.objects.get(key=BuiltinRole.BASIC)


def test_an_administrator_adds_a_provider_audited(admin_client_acme, acme):
    page = admin_client_acme.get("/console/sso/")
    assert page.status_code == 200 and "No identity provider yet" in page.content.decode()
    response = admin_client_acme.post("/console/sso/new/", form(default_role=basic_role(acme).pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(acme):
        provider = IdentityProvider.objects.get()
        assert provider.client_secret == "a-client-secret-of-enough-length"
        assert AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_CREATED).count() == 1
    detail = admin_client_acme.get(f"/console/sso/{provider.pk}/").content.decode()
    assert "http://testserver/sso/acme/corp/callback/" in detail
    assert "a-client-secret-of-enough-length" not in detail


def test_the_default_role_cannot_be_an_administrator_role(admin_client_acme, acme):
    with tenant_scope(acme):
        admin_role = Role.objects.get(key=BuiltinRole.ADMINISTRATOR)
    response = admin_client_acme.post("/console/sso/new/", form(default_role=admin_role.pk))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_a_bad_issuer_is_shown_and_changes_nothing(admin_client_acme, acme):
    response = admin_client_acme.post("/console/sso/new/", form(default_role=basic_role(acme).pk, issuer="ftp://x"))
    assert response.status_code == 200
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_changes_need_a_recent_step_up(admin_client_acme, acme):
    stale_mfa(admin_client_acme)
    response = admin_client_acme.post("/console/sso/new/", form(default_role=basic_role(acme).pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_people_without_settings_rights_do_not_see_or_change(client, acme, acme_basic):
    provider = make_provider(acme, ISSUER, "portal")
    login(client, acme_basic)
    assert client.get("/console/sso/").status_code == 403
    assert client.post(f"/console/sso/{provider.pk}/delete/", {"reason": ""}).status_code == 403
    with tenant_scope(acme):
        assert IdentityProvider.objects.filter(pk=provider.pk).exists()


def test_the_mapping_editor_saves_and_an_escalation_waits_for_approval(admin_client_acme, acme, acme_admin):
    provider = make_provider(acme, ISSUER, "portal")
    url = f"/console/sso/{provider.pk}/mappings/"
    assert admin_client_acme.get(url).status_code == 200
    rows = {"map-TOTAL_FORMS": "3", "map-INITIAL_FORMS": "0", "reason": "the auditors"}
    rows.update({"map-0-group": "auditors", "map-0-role": BuiltinRole.ADVANCED})
    response = admin_client_acme.post(url, rows)
    assert response.status_code == 302
    with tenant_scope(acme):
        provider.refresh_from_db()
    assert provider.mappings == [{"group": "auditors", "role": BuiltinRole.ADVANCED, "organisation": None}]
    rows.update({"map-1-group": "it", "map-1-role": BuiltinRole.ADMINISTRATOR})
    response = admin_client_acme.post(url, rows)
    with tenant_scope(acme):
        change = PendingChange.objects.get(kind=PendingChange.Kind.SSO_MAPPING)
        provider.refresh_from_db()
    assert response["Location"] == f"/console/approvals/{change.pk}/"
    assert len(provider.mappings) == 1  # nothing applied yet


def test_removal_is_audited(admin_client_acme, acme):
    provider = make_provider(acme, ISSUER, "portal")
    assert admin_client_acme.get(f"/console/sso/{provider.pk}/delete/").status_code == 200
    response = admin_client_acme.post(f"/console/sso/{provider.pk}/delete/", {"reason": "moving"})
    assert response.status_code == 302
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()
        assert AuditEvent.objects.get(event_type=EventType.SSO_PROVIDER_DELETED).reason == "moving"


def test_another_tenants_provider_is_not_found(admin_client_acme, globex):
    provider = make_provider(globex, ISSUER, "portal")
    for path in ("", "mappings/", "delete/"):
        assert admin_client_acme.get(f"/console/sso/{provider.pk}/{path}").status_code == 404
    assert admin_client_acme.post(f"/console/sso/{provider.pk}/test/").status_code == 404


def test_the_test_sign_in_shows_the_outcome_and_changes_nothing(client, acme, oidc):
    admin = UserFactory(tenant=acme, email="admin@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    login(client, admin)
    provider = make_provider(acme, oidc.issuer, "portcullis-acme")
    with tenant_scope(acme):
        from sso import services

        services.set_mappings(provider, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    page = client.post(f"/console/sso/{provider.pk}/test/")
    assert page.status_code == 200
    answer = oidc.authorize(page.context["target"], "bob")
    result = client.get(answer.replace("http://testserver", ""))
    body = result.content.decode()
    assert result.status_code == 200 and 'data-testid="sso-test-ok"' in body and "Advanced user" in body
    assert "bob@acme-corp.test" in body
    assert result.wsgi_request.user == admin  # still the administrator's own session
    with tenant_scope(acme):
        assert not acme.users.filter(email="bob@acme-corp.test").exists()
