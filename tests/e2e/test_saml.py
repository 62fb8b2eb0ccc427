"""SAML 2.0 sign-in in a real browser against a real identity provider (pysaml2's IdP in its own process). The
IdP is reached as "localhost" and the portal as 127.0.0.1: two sites, as in real life, so the IdP's page posts
the answer to the portal without the portal's SameSite=Lax cookies, and the sign-in must still end in the
browser that started it."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from sso import services
from tests.sso.conftest import ACCOUNTS, make_saml_provider
from tests.sso.saml_process import SamlIdp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def idp(live_server):
    provider = SamlIdp(accounts=ACCOUNTS, host="localhost")
    requests.get(f"{live_server.url}/accounts/login/", timeout=120)  # the live server's first page, once
    yield provider
    provider.stop()


@pytest.fixture
def corp(acme, idp, live_server):
    idp.set_accounts(ACCOUNTS)
    idp.fault("")
    acme.mfa_policy = acme.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    provider = make_saml_provider(acme, idp, register=False)
    with tenant_scope(acme):
        services.set_mappings(provider, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    idp.add_sp(requests.get(f"{live_server.url}/sso/acme/corp/saml/metadata/", timeout=30).text)
    return provider


def sign_in_at_idp(page, idp, login: str) -> None:
    page.wait_for_url(lambda url: url.startswith(idp.base))
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill("any password")
    with page.expect_navigation(url=lambda url: not url.startswith(idp.base)):
        page.get_by_role("button", name="Sign in").click()


def test_the_full_sign_in_from_the_login_page_provisions_the_mapped_role(page, live_server, acme, corp, idp):
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").filter(has_text="Corp SAML").click()
    sign_in_at_idp(page, idp, "bob")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    expect(page.get_by_test_id("home-role")).to_have_text("Advanced user")
    with tenant_scope(acme):
        bob = User.objects.get(email="bob@acme-corp.test")
        assert bob.role.key == BuiltinRole.ADVANCED
        assert AuditEvent.objects.get(event_type=EventType.LOGIN_SUCCEEDED).after["factor"] == "saml:corp"
    page.goto(f"{live_server.url}/accounts/security/history/")
    expect(page.get_by_test_id("login-history")).to_contain_text("Single sign-on (SAML: corp)")


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("unsigned", "accepts only signed assertions"),
        ("tamper", "signature is not valid"),
        ("audience", "issued for another application"),
        ("expired", "has expired"),
    ],
)
def test_a_spoiled_answer_shows_the_refusal_page(page, live_server, acme, corp, idp, fault, words):
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    idp.fault(fault)
    sign_in_at_idp(page, idp, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Single sign-on refused")
    expect(page.get_by_test_id("sso-refused")).to_contain_text(words)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()


def test_a_replayed_assertion_shows_the_refusal_page(page, live_server, acme, corp, idp):
    """A signed assertion that carries the id of one already accepted, under a new sign-in, is refused."""
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    sign_in_at_idp(page, idp, "alice")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    idp.fault("replay-id")
    sign_in_at_idp(page, idp, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Single sign-on refused")
    expect(page.get_by_test_id("sso-refused")).to_contain_text("already used")


def test_a_changed_mapping_changes_the_role_at_the_next_sign_in(page, live_server, acme, corp, idp):
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    sign_in_at_idp(page, idp, "bob")
    expect(page.get_by_test_id("home-role")).to_have_text("Advanced user")
    with tenant_scope(acme):
        services.set_mappings(corp, [{"group": "auditors", "role": BuiltinRole.BASIC}], actor=None)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    sign_in_at_idp(page, idp, "bob")
    expect(page.get_by_test_id("home-role")).to_have_text("Basic user")
    with tenant_scope(acme):
        changed = AuditEvent.objects.filter(event_type=EventType.USER_ROLE_CHANGED).order_by("seq").last()
        assert (changed.before, changed.after) == ({"role": BuiltinRole.ADVANCED}, {"role": BuiltinRole.BASIC})


def test_an_administrator_adds_a_saml_provider_and_tests_the_sign_in(page, live_server, demo, idp):
    from accounts.models import Tenant
    from tests.e2e.conftest import log_in

    idp.set_accounts(ACCOUNTS)
    idp.fault("")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/sso/")
    page.get_by_role("link", name="Add an identity provider").click()
    page.get_by_label("Short name").fill("corp")
    page.get_by_label("SAML 2.0").check()
    page.get_by_label("Name", exact=True).fill("Corp SAML")
    page.get_by_label("SAML metadata of the identity provider").fill(idp.metadata)
    page.get_by_label("E-mail domains").fill("acme-corp.test")
    page.get_by_label("Default role").select_option(label="Basic user")
    with page.expect_navigation():
        page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Group mapping")
    page.locator("input[name=map-0-group]").fill("auditors")
    page.locator("select[name=map-0-role]").select_option(label="Advanced user")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the mapping").click()
    metadata_url = f"{live_server.url}/sso/acme/corp/saml/metadata/"
    expect(page.get_by_test_id("sso-sp-metadata")).to_have_text(metadata_url)
    expect(page.get_by_test_id("sso-acs")).to_have_text(f"{live_server.url}/sso/acme/corp/saml/acs/")
    idp.add_sp(requests.get(metadata_url, timeout=30).text)  # the administrator registers the portal at the IdP

    page.get_by_test_id("sso-test-login").click()
    sign_in_at_idp(page, idp, "bob")
    expect(page.get_by_test_id("sso-test-ok")).to_be_visible()
    expect(page.get_by_test_id("sso-test-outcome")).to_contain_text("Advanced user")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")  # still the administrator's session
    with tenant_scope(Tenant.objects.get(slug="acme")):
        assert not User.objects.filter(email="bob@acme-corp.test").exists()
        created = AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_CREATED)
        assert [e.after["saml_entity_id"] for e in created if e.after.get("protocol") == "saml"] == [idp.metadata_url]
