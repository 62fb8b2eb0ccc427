"""A SAML provider on the identity-provider screens and in the API: added with its metadata (pasted or read from
its URL), the portal's metadata URL shown, bad metadata refused (nothing changed), the test sign-in, every change
audited and behind step-up."""

from __future__ import annotations

from django.test import Client, override_settings

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from sso import services
from sso.models import SAML_MFA_VALUES, IdentityProvider
from tests.conftest import login
from tests.factories import UserFactory
from tests.sso.conftest import make_saml_provider
from tests.sso.test_console import basic_role, stale_mfa
from tests.sso.test_saml_login import path_of


def form(**changes) -> dict:
    values = {
        "slug": "corp",
        "protocol": "saml",
        "name": "Corp SAML",
        "enabled": "on",
        "saml_metadata": "",
        "saml_metadata_url": "",
        "email_attribute": "email",
        "name_attribute": "displayName",
        "email_domains": "acme-corp.test",
        "groups_claim": "groups",
        "mfa_values": "mfa",
        "default_role": "",
        "reason": "",
    }
    return {**values, **changes}


def test_an_administrator_adds_a_saml_provider_with_pasted_metadata(admin_client_acme, acme, saml_idp):
    data = form(default_role=basic_role(acme).pk, saml_metadata=saml_idp.metadata)
    response = admin_client_acme.post("/console/sso/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_scope(acme):
        provider = IdentityProvider.objects.get()
        event = AuditEvent.objects.get(event_type=EventType.SSO_PROVIDER_CREATED)
    assert provider.is_saml and provider.saml_entity_id == saml_idp.metadata_url
    assert event.after["protocol"] == "saml" and event.after["saml_entity_id"] == saml_idp.metadata_url
    assert len(event.after["saml_metadata"]) == 64  # a digest, not the document
    detail = admin_client_acme.get(f"/console/sso/{provider.pk}/").content.decode()
    assert "http://testserver/sso/acme/corp/saml/metadata/" in detail
    assert "http://testserver/sso/acme/corp/saml/acs/" in detail
    assert 'name="client_secret"' not in detail and 'name="issuer"' not in detail
    listing = admin_client_acme.get("/console/sso/").content.decode()
    assert "SAML 2.0" in listing and saml_idp.metadata_url in listing


def test_the_metadata_is_read_from_its_url(admin_client_acme, acme, saml_idp):
    data = form(default_role=basic_role(acme).pk, saml_metadata_url=saml_idp.metadata_url)
    with override_settings(SSO_ALLOW_HTTP_ISSUERS=True, SSO_ALLOW_PRIVATE_ISSUERS=True):
        response = admin_client_acme.post("/console/sso/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_scope(acme):
        provider = IdentityProvider.objects.get()
    assert provider.saml_metadata == saml_idp.metadata and provider.mfa_values == "mfa"


def test_a_private_metadata_url_is_refused_in_production(admin_client_acme, acme, saml_idp):
    data = form(default_role=basic_role(acme).pk, saml_metadata_url=saml_idp.metadata_url)
    with override_settings(SSO_ALLOW_HTTP_ISSUERS=True, SSO_ALLOW_PRIVATE_ISSUERS=False):
        response = admin_client_acme.post("/console/sso/new/", data)
    assert response.status_code == 200 and "private or local address" in response.content.decode()
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_bad_metadata_is_shown_and_changes_nothing(admin_client_acme, acme, saml_idp):
    no_cert = saml_idp.metadata.split("<ns0:KeyDescriptor")[0] + saml_idp.metadata.split("</ns0:KeyDescriptor>")[1]
    for bad, words in (
        ("", "Paste the identity provider"),
        ("<not-metadata/>", "exactly one identity provider"),
        ("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "not valid SAML 2.0 metadata"),
        (no_cert, "no signing certificate"),
    ):
        response = admin_client_acme.post(
            "/console/sso/new/", form(default_role=basic_role(acme).pk, saml_metadata=bad)
        )
        assert response.status_code == 200 and words in response.content.decode(), words
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()
        assert not AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_CREATED).exists()


def test_changes_need_a_recent_step_up(admin_client_acme, acme, saml_idp):
    stale_mfa(admin_client_acme)
    data = form(default_role=basic_role(acme).pk, saml_metadata=saml_idp.metadata)
    response = admin_client_acme.post("/console/sso/new/", data)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_a_saml_provider_gets_samls_mfa_values_by_default(acme, saml_idp):
    provider = make_saml_provider(acme, saml_idp, register=False)
    assert provider.mfa_values == SAML_MFA_VALUES and provider.client_secret == ""


def test_a_settings_change_is_audited(acme, acme_admin, saml_idp):
    provider = make_saml_provider(acme, saml_idp, register=False)
    with tenant_scope(acme):
        services.update_provider(provider, actor=acme_admin, email_attribute="mail", reason="directory")
        event = AuditEvent.objects.get(event_type=EventType.SSO_PROVIDER_CHANGED)
    assert event.before == {"email_attribute": "email"} and event.after == {"email_attribute": "mail"}


def test_the_test_sign_in_shows_the_outcome_and_changes_nothing(client, acme, acme_saml, saml_idp):
    admin = UserFactory(tenant=acme, email="admin@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    login(client, admin)
    with tenant_scope(acme):
        services.set_mappings(acme_saml, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    page = client.post(f"/console/sso/{acme_saml.pk}/test/")
    assert page.status_code == 200
    acs, fields = saml_idp.authorize(page.context["target"], "bob")
    finish = client.post(path_of(acs), fields)
    assert finish.status_code == 303
    result = client.get(finish["Location"])
    body = result.content.decode()
    assert result.status_code == 200 and 'data-testid="sso-test-ok"' in body and "Advanced user" in body
    assert "bob@acme-corp.test" in body and "used once" in body
    assert result.wsgi_request.user == admin
    with tenant_scope(acme):
        assert not acme.users.filter(email="bob@acme-corp.test").exists()


def test_the_api_creates_a_saml_provider_and_answers_our_metadata_url(api_acme, acme, saml_idp):
    new = {
        "slug": "corp",
        "protocol": "saml",
        "name": "Corp SAML",
        "saml_metadata": saml_idp.metadata,
        "default_role": BuiltinRole.BASIC,
    }
    created = api_acme.post("/api/v1/identity-providers", new, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["protocol"] == "saml" and body["saml_entity_id"] == saml_idp.metadata_url
    assert body["sp_metadata_url"] == "http://testserver/sso/acme/corp/saml/metadata/"
    assert body["acs_url"] == "http://testserver/sso/acme/corp/saml/acs/"
    url = f"/api/v1/identity-providers/{body['id']}"
    refused = api_acme.patch(url, {"protocol": "oidc"}, content_type="application/json")
    assert refused.status_code == 400
    bad = api_acme.patch(url, {"saml_metadata": "<x/>"}, content_type="application/json")
    assert bad.status_code == 400
    with tenant_scope(acme):
        assert IdentityProvider.objects.get().protocol == "saml"
        assert AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_CHANGED).count() == 0


def test_the_login_page_offers_the_saml_provider(acme, acme_saml):
    page = Client().get("/accounts/login/?organisation=acme").content.decode()
    assert "Sign in with Corp SAML" in page and "/sso/acme/corp/start/" in page
