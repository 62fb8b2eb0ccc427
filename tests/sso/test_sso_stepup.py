"""Step-up through the identity provider for a person who signs in only with single sign-on: offered when the
tenant accepts the provider's MFA; passes only with a fresh multi-factor sign-in of the same person (SAML and
OpenID Connect, against the real providers of the suite)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from accounts.stepup import MFA_VERIFIED_AT
from audit.events import EventType
from sso import services
from tests.sso.test_oidc_login import sso_login
from tests.sso.test_saml_login import events, path_of, saml_login

STEP_UP = "/accounts/mfa/step-up/?next=/accounts/security/"


def stale(client: Client) -> None:
    session = client.session
    session[MFA_VERIFIED_AT] = time.time() - 3600
    session.save()


def accept_provider_mfa(tenant, provider) -> None:
    with tenant_scope(tenant):
        services.update_provider(provider, actor=None, provider_mfa=True)


def start_step_up(client: Client, provider) -> str:
    page = client.get(STEP_UP).content.decode()
    assert "Sign in again with" in page and f"/sso/step-up/{provider.pk}/" in page
    response = client.post(f"/sso/step-up/{provider.pk}/", {"next": "/accounts/security/"})
    assert response.status_code == 200, response.content[:300]
    return response.context["target"]


def saml_step_up(client: Client, idp, provider, login: str, *, mfa: bool = True):
    acs, fields = idp.authorize(start_step_up(client, provider), login, mfa=mfa)
    finish = client.post(path_of(acs), fields)
    assert finish.status_code == 303, finish.content[:300]
    return client.get(finish["Location"])


def test_a_fresh_multi_factor_saml_sign_in_passes_the_step_up(acme, acme_saml, saml_idp):
    accept_provider_mfa(acme, acme_saml)
    client = Client()
    saml_login(client, saml_idp, "alice", mfa=True)
    stale(client)
    response = saml_step_up(client, saml_idp, acme_saml, "alice")
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"
    assert time.time() - client.session[MFA_VERIFIED_AT] < 60
    steps = events(acme, EventType.STEP_UP)
    assert [event.after for event in steps] == [{"factor": "saml:corp"}]


def test_no_option_when_the_tenant_does_not_accept_the_providers_mfa(acme, acme_saml, saml_idp):
    client = Client()
    saml_login(client, saml_idp, "alice")
    response = client.get(STEP_UP)
    assert response.status_code == 302 and "/accounts/mfa/enrol/" in response["Location"]  # as before
    assert client.post(f"/sso/step-up/{acme_saml.pk}/", {"next": "/"}).status_code == 404


def test_a_sign_in_without_mfa_or_of_another_person_does_not_pass(acme, acme_saml, saml_idp):
    accept_provider_mfa(acme, acme_saml)
    saml_login(Client(), saml_idp, "bob")
    client = Client()
    saml_login(client, saml_idp, "alice", mfa=True)
    stale(client)
    no_mfa = saml_step_up(client, saml_idp, acme_saml, "alice", mfa=False)
    assert no_mfa.status_code == 403 and "multi-factor" in no_mfa.content.decode()
    other = saml_step_up(client, saml_idp, acme_saml, "bob")
    assert other.status_code == 403 and "another account" in other.content.decode()
    assert not client.session.get(MFA_VERIFIED_AT) or time.time() - client.session[MFA_VERIFIED_AT] > 600
    assert events(acme, EventType.STEP_UP) == []
    refused = [event.after["reason"] for event in events(acme, EventType.SSO_LOGIN_REFUSED)]
    assert refused == ["no_mfa", "other_account"]


def test_an_openid_connect_step_up_asks_for_a_fresh_login(acme, acme_corp, oidc):
    accept_provider_mfa(acme, acme_corp)
    client = Client()
    sso_login(client, oidc, "alice", mfa=True)
    stale(client)
    target = start_step_up(client, acme_corp)
    query = parse_qs(urlsplit(target).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    answer = oidc.authorize(target, "alice", mfa=True)
    response = client.get(path_of(answer))
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"
    assert time.time() - client.session[MFA_VERIFIED_AT] < 60
    assert [event.after for event in events(acme, EventType.STEP_UP)] == [{"factor": "oidc:corp"}]


def test_another_tenants_provider_cannot_be_used(acme, globex, acme_saml, globex_saml, saml_idp):
    accept_provider_mfa(globex, globex_saml)
    client = Client()
    saml_login(client, saml_idp, "alice", mfa=True)
    assert client.post(f"/sso/step-up/{globex_saml.pk}/", {"next": "/"}).status_code == 404
    with tenant_scope(acme):
        assert User.objects.filter(email="alice@acme-corp.test").exists()
