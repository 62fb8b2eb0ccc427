"""OpenID Connect login against a real provider (node oidc-provider, started by the suite): provisioning, the
group mapping at every login, each refusal with its page, replay, tenant isolation, discovery, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from sso import services
from sso.models import ExternalIdentity
from tests.factories import UserFactory


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client: Client, tenant: str = "acme") -> str:
    response = client.get(f"/sso/{tenant}/corp/start/")
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def sso_login(client: Client, oidc, login: str, *, tenant: str = "acme", fault: str = "", mfa: bool = False):
    """Start at the portal, sign in at the provider, come back; the portal's answer to the callback."""
    answer = oidc.authorize(start(client, tenant), login, mfa=mfa)
    oidc.fault(fault)
    return client.get(path_of(answer)), answer


def logged_in_user(client: Client):
    response = client.get("/accounts/security/history/")
    return response.wsgi_request.user if response.status_code == 200 else None


def events(tenant, event_type) -> list:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def test_the_authorization_request_carries_pkce_state_and_nonce(acme_corp, oidc):
    query = parse_qs(urlsplit(start(Client())).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["client_id"] == ["portcullis-acme"]
    assert query["redirect_uri"] == ["http://testserver/sso/acme/corp/callback/"]


def test_a_first_login_provisions_the_user_in_the_default_role(acme, acme_corp, oidc):
    client = Client()
    response, _answer = sso_login(client, oidc, "alice")
    assert response.status_code == 302 and response["Location"] == "/"
    with tenant_scope(acme):
        alice = User.objects.get(email="alice@acme-corp.test")
        assert alice.role.key == BuiltinRole.BASIC and not alice.has_usable_password()
        assert ExternalIdentity.objects.get(user=alice).subject == "alice"
    assert logged_in_user(client) == alice
    succeeded = events(acme, EventType.LOGIN_SUCCEEDED)
    assert [event.after["factor"] for event in succeeded] == ["oidc:corp"]
    assert len(events(acme, EventType.USER_CREATED)) == 1
    history = client.get("/accounts/security/history/").content.decode()
    assert "Single sign-on (OpenID Connect: corp)" in history


def test_the_second_login_finds_the_same_account_by_subject(acme, acme_corp, oidc):
    sso_login(Client(), oidc, "alice")
    oidc.set_accounts({"alice": {"email": "alice.new@acme-corp.test", "email_verified": True, "groups": []}})
    response, _ = sso_login(Client(), oidc, "alice")
    assert response.status_code == 302
    with tenant_scope(acme):
        assert User.objects.filter(email__startswith="alice").count() == 1


def test_a_changed_group_mapping_changes_the_role_at_the_next_login(acme, acme_corp, oidc):
    client = Client()
    sso_login(client, oidc, "bob")
    with tenant_scope(acme):
        services.set_mappings(acme_corp, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    sso_login(Client(), oidc, "bob")
    with tenant_scope(acme):
        bob = User.objects.get(email="bob@acme-corp.test")
        assert bob.role.key == BuiltinRole.ADVANCED
    changed = events(acme, EventType.USER_ROLE_CHANGED)
    assert len(changed) == 1 and changed[0].after == {"role": BuiltinRole.ADVANCED}
    assert changed[0].reason == "single sign-on mapping of oidc:corp"
    # Leaving the group at the provider takes the role back at the next login.
    oidc.set_accounts({"bob": {"email": "bob@acme-corp.test", "email_verified": True, "groups": ["staff"]}})
    sso_login(Client(), oidc, "bob")
    with tenant_scope(acme):
        assert User.objects.get(pk=bob.pk).role.key == BuiltinRole.BASIC
    assert len(events(acme, EventType.USER_ROLE_CHANGED)) == 2


@pytest.mark.parametrize(
    ("fault", "reason", "words"),
    [
        ("tamper", "signature", "signature is not valid"),
        ("audience", "audience", "issued for another application"),
        ("nonce", "nonce", "wrong nonce"),
        ("expired", "expired", "has expired"),
    ],
)
def test_a_spoiled_id_token_is_refused_with_a_clear_page(acme, acme_corp, oidc, fault, reason, words):
    client = Client()
    response, _ = sso_login(client, oidc, "alice", fault=fault)
    assert response.status_code == 403
    page = response.content.decode()
    assert f'data-reason="{reason}"' in page and words in page
    assert logged_in_user(client) is None
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()
    assert [event.after["reason"] for event in events(acme, EventType.SSO_LOGIN_REFUSED)] == [reason]


def test_a_replayed_answer_is_refused_state_and_code(acme, acme_corp, oidc):
    client = Client()
    response, answer = sso_login(client, oidc, "alice")
    assert response.status_code == 302
    client.post("/accounts/logout/")
    # The same answer again: its state was used.
    replay = client.get(path_of(answer))
    assert replay.status_code == 403 and 'data-reason="state"' in replay.content.decode()
    # The old code with a fresh state of this browser: the provider refuses the used code.
    fresh_state = parse_qs(urlsplit(start(client)).query)["state"][0]
    code = parse_qs(urlsplit(answer).query)["code"][0]
    replay = client.get(f"/sso/acme/corp/callback/?code={code}&state={fresh_state}")
    assert replay.status_code == 403 and 'data-reason="code"' in replay.content.decode()
    assert logged_in_user(client) is None


def test_an_answer_from_another_browser_is_refused(acme, acme_corp, oidc):
    answer = oidc.authorize(start(Client()), "alice")
    response = Client().get(path_of(answer))
    assert response.status_code == 403 and 'data-reason="state"' in response.content.decode()


def test_a_provider_of_one_tenant_never_logs_into_another(acme, globex, acme_corp, globex_corp, oidc):
    """The login was started for acme's provider: its answer delivered to globex's callback is refused, and
    the same person signing in through globex's provider gets a globex account only."""
    globex_alice = UserFactory(tenant=globex, email="alice@acme-corp.test")
    client = Client()
    answer = oidc.authorize(start(client, "acme"), "alice")
    query = urlsplit(answer).query
    response = client.get(f"/sso/globex/corp/callback/?{query}")
    assert response.status_code == 403 and 'data-reason="state"' in response.content.decode()
    assert logged_in_user(client) is None
    with tenant_scope(globex):
        assert not ExternalIdentity.objects.exists()
        assert not AuditEvent.objects.filter(event_type=EventType.SSO_LOGIN_REFUSED).exists()  # noise
    # Through acme's own callback the answer is spent (a state is used once, whatever the outcome).
    assert client.get(path_of(answer)).status_code == 403
    response, _ = sso_login(client, oidc, "alice", tenant="acme")
    user = logged_in_user(client)
    assert user.tenant_id == acme.pk and user.pk != globex_alice.pk


def test_an_unverified_address_is_refused(acme, acme_corp, oidc):
    response, _ = sso_login(Client(), oidc, "mallory")
    assert response.status_code == 403 and 'data-reason="email"' in response.content.decode()


def test_an_existing_account_is_linked_only_within_the_providers_domains(acme, acme_corp, oidc):
    existing = UserFactory(tenant=acme, email="alice@acme-corp.test")
    response, _ = sso_login(Client(), oidc, "alice")
    assert response.status_code == 302
    with tenant_scope(acme):
        assert ExternalIdentity.objects.get(subject="alice").user_id == existing.pk
        services.update_provider(acme_corp, actor=None, email_domains="")
    oidc.set_accounts({"carol": {"email": "basic9@acme-corp.test", "email_verified": True}})
    UserFactory(tenant=acme, email="basic9@acme-corp.test")
    response, _ = sso_login(Client(), oidc, "carol")
    assert response.status_code == 403 and 'data-reason="taken"' in response.content.decode()


def test_a_deactivated_user_is_refused(acme, acme_corp, oidc):
    sso_login(Client(), oidc, "alice")
    with tenant_scope(acme):
        User.objects.filter(email="alice@acme-corp.test").update(is_active=False)
    response, _ = sso_login(Client(), oidc, "alice")
    assert response.status_code == 403 and 'data-reason="inactive"' in response.content.decode()


def test_a_disabled_or_unknown_provider_is_not_found(acme, acme_corp, oidc):
    assert Client().get("/sso/acme/nobody/start/").status_code == 404
    assert Client().get("/sso/nowhere/corp/start/").status_code == 404
    with tenant_scope(acme):
        services.update_provider(acme_corp, actor=None, enabled=False)
    assert Client().get("/sso/acme/corp/start/").status_code == 404


def test_a_privileged_user_still_passes_the_mfa_step_here(acme, acme_corp, oidc):
    with tenant_scope(acme):
        services.set_mappings(acme_corp, [{"group": "auditors", "role": BuiltinRole.ADMINISTRATOR}], actor=None)
    response, _ = sso_login(Client(), oidc, "bob")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/enrol/")
    assert events(acme, EventType.LOGIN_SUCCEEDED) == []


def test_the_providers_mfa_counts_only_when_the_tenant_says_so(acme, acme_corp, oidc):
    with tenant_scope(acme):
        services.set_mappings(acme_corp, [{"group": "auditors", "role": BuiltinRole.ADMINISTRATOR}], actor=None)
    # The provider says a second factor was used, but the tenant did not let that count: the MFA step here.
    response, _ = sso_login(Client(), oidc, "bob", mfa=True)
    assert response["Location"].startswith("/accounts/mfa/enrol/")
    with tenant_scope(acme):
        services.update_provider(acme_corp, actor=None, provider_mfa=True)
    # It counts now, but this login used a password only: still the MFA step.
    response, _ = sso_login(Client(), oidc, "bob")
    assert response["Location"].startswith("/accounts/mfa/enrol/")
    client = Client()
    response, _ = sso_login(client, oidc, "bob", mfa=True)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/console/users/").status_code == 200  # a full, verified session
    assert client.get("/console/sso/").status_code == 200
    factors = [event.after["factor"] for event in events(acme, EventType.LOGIN_SUCCEEDED)]
    assert factors == ["oidc:corp+mfa"]
    history = client.get("/accounts/security/history/").content.decode()
    assert "Single sign-on (OpenID Connect: corp) + MFA at the provider" in history


def test_home_realm_discovery_by_domain(acme, globex, acme_corp, oidc):
    client = Client()
    response = client.post("/sso/discover/", {"email": "someone@acme-corp.test"})
    assert response.status_code == 200 and "/sso/acme/corp/start/?next=%2F" in response.content.decode()
    response = client.post("/sso/discover/", {"email": "someone@elsewhere.test"}, follow=True)
    assert "No single sign-on is set up for this address" in response.content.decode()


def test_a_domain_shared_by_two_tenants_asks_for_the_organisation(acme, globex, acme_corp, globex_corp, oidc):
    response = Client().post("/sso/discover/", {"email": "x@acme-corp.test"}, follow=True)
    assert "Several organisations sign in with this domain" in response.content.decode()
    response = Client().post("/sso/discover/", {"email": "x@acme-corp.test", "organisation": "globex"})
    assert "/sso/globex/corp/start/" in response.content.decode()


def test_the_tenants_login_page_offers_its_provider(acme, globex, acme_corp, oidc):
    page = Client().get("/accounts/login/?organisation=acme").content.decode()
    assert 'href="/sso/acme/corp/start/"' in page and "Sign in with Corp directory" in page
    assert "/sso/acme/corp/start/" not in Client().get("/accounts/login/?organisation=globex").content.decode()


def test_logout_ends_the_session_at_the_provider_too(acme, acme_corp, oidc):
    client = Client()
    sso_login(client, oidc, "alice")
    response = client.post("/sso/logout/")
    assert response.status_code == 200
    target = urlsplit(response.context["target"])
    assert f"{target.scheme}://{target.netloc}" == oidc.issuer
    query = parse_qs(target.query)
    assert query["client_id"] == ["portcullis-acme"] and query["id_token_hint"]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert logged_in_user(client) is None
    assert len(events(acme, EventType.LOGOUT)) == 1


def test_the_top_bars_logout_of_a_password_session_ends_it_here_only(acme, acme_admin):
    from tests.conftest import login

    client = login(Client(), acme_admin)
    assert 'action="/sso/logout/"' in client.get("/").content.decode()
    response = client.post("/sso/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert logged_in_user(client) is None
    assert len(events(acme, EventType.LOGOUT)) == 1


def test_one_person_at_one_provider_is_a_separate_account_in_each_tenant(acme, globex, acme_corp, globex_corp, oidc):
    sso_login(Client(), oidc, "alice", tenant="acme")
    client = Client()
    sso_login(client, oidc, "alice", tenant="globex")
    user = logged_in_user(client)
    assert user.tenant_id == globex.pk
    with tenant_scope(acme):
        acme_alice = ExternalIdentity.objects.get(subject="alice").user
    with tenant_scope(globex):
        assert ExternalIdentity.objects.get(subject="alice").user == user
    assert acme_alice.pk != user.pk and acme_alice.tenant_id == acme.pk
