"""Single sign-on in a real browser against a real OpenID Connect provider (node oidc-provider): the tenant's
button and home-realm discovery, provisioning with the mapped role, a changed mapping at the next login
(audited), and the refusal pages."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from sso import services
from tests.e2e.conftest import log_in, log_out
from tests.sso.conftest import ACCOUNTS, make_provider
from tests.sso.oidc_process import CLIENT_SECRET, OidcProvider, client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def idp(live_server):
    provider = OidcProvider(
        clients=[
            client_for(
                "portcullis-acme",
                [f"{live_server.url}/sso/acme/corp/callback/"],
                [f"{live_server.url}/accounts/login/"],
            )
        ],
        accounts=ACCOUNTS,
    )
    # The live server's first page (templates, static files) can take longer than a navigation may on a busy
    # machine: it is fetched once here.
    requests.get(f"{live_server.url}/accounts/login/", timeout=120)
    yield provider
    provider.stop()


@pytest.fixture
def corp(acme, idp):
    idp.set_accounts(ACCOUNTS)
    idp.fault("")
    acme.mfa_policy = acme.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    provider = make_provider(acme, idp.issuer, "portcullis-acme")
    with tenant_scope(acme):
        services.set_mappings(provider, [{"group": "auditors", "role": BuiltinRole.ADVANCED}], actor=None)
    return provider


def arrive(page, idp, leaving=("/accounts/login/", "/sso/discover/")) -> None:
    """Wait until the browser left the pages ``leaving``: at the provider, or back at the portal (the provider
    still had a session of this browser), or on a refusal page."""
    page.wait_for_url(lambda url: url.startswith(idp.issuer) or not any(p in url for p in leaving))


def sign_in_at_provider(page, idp, login: str, *, mfa: bool = False) -> None:
    """The provider's own login form (unless it still has a session of this browser)."""
    if not page.url.startswith(idp.issuer):
        return
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill("any password")
    if mfa:
        page.get_by_label("Second factor used").check()
    with page.expect_navigation(url=lambda url: not url.startswith(idp.issuer)):
        page.get_by_role("button", name="Sign in").click()


def log_out_everywhere(page, live_server, idp) -> None:
    """The top bar's logout of a session a provider opened: the portal's, then the provider's (RP-initiated)."""
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: url.startswith(idp.issuer))
    with page.expect_navigation(url=lambda url: url.startswith(f"{live_server.url}/accounts/login/")):
        page.get_by_role("button", name="Yes, sign me out").click()


def sso_from_button(page, live_server, idp, login: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    arrive(page, idp)
    sign_in_at_provider(page, idp, login)


def test_first_login_provisions_the_mapped_role_and_a_changed_mapping_applies_next_time(
    page, live_server, acme, corp, idp
):
    sso_from_button(page, live_server, idp, "bob")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    expect(page.get_by_test_id("home-role")).to_have_text("Advanced user")
    with tenant_scope(acme):
        bob = User.objects.get(email="bob@acme-corp.test")
        assert not AuditEvent.objects.filter(event_type=EventType.USER_ROLE_CHANGED).exists()
    page.goto(f"{live_server.url}/accounts/security/history/")
    expect(page.get_by_test_id("login-history")).to_contain_text("Single sign-on (OpenID Connect: corp)")
    log_out_everywhere(page, live_server, idp)

    with tenant_scope(acme):
        services.set_mappings(corp, [{"group": "staff", "role": BuiltinRole.BASIC}], actor=None)
    # Home-realm discovery this time: the address's domain finds the provider.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Single sign-on: your work e-mail address").fill("bob@acme-corp.test")
    page.get_by_test_id("sso-discover").click()
    arrive(page, idp)
    sign_in_at_provider(page, idp, "bob")
    expect(page.get_by_test_id("home-role")).to_have_text("Basic user")
    with tenant_scope(acme):
        changed = AuditEvent.objects.get(event_type=EventType.USER_ROLE_CHANGED, target_id=str(bob.pk))
    assert changed.before == {"role": BuiltinRole.ADVANCED} and changed.after == {"role": BuiltinRole.BASIC}
    assert changed.reason == "single sign-on mapping of oidc:corp"


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("tamper", "signature is not valid"),
        ("audience", "issued for another application"),
        ("nonce", "wrong nonce"),
        ("expired", "has expired"),
    ],
)
def test_a_spoiled_token_shows_the_refusal_page(page, live_server, acme, corp, idp, fault, words):
    page.goto(f"{live_server.url}/accounts/login/?organisation=acme")
    page.get_by_test_id("sso-provider").click()
    arrive(page, idp)
    idp.fault(fault)
    sign_in_at_provider(page, idp, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Single sign-on refused")
    expect(page.get_by_test_id("sso-refused")).to_contain_text(words)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    with tenant_scope(acme):
        assert not User.objects.filter(email="alice@acme-corp.test").exists()


def test_a_replayed_answer_shows_the_refusal_page(page, live_server, acme, corp, idp):
    callbacks = []
    page.on("request", lambda request: callbacks.append(request.url) if "/callback/" in request.url else None)
    sso_from_button(page, live_server, idp, "alice")
    expect(page.get_by_test_id("home-role")).to_have_text("Basic user")
    log_out_everywhere(page, live_server, idp)
    page.goto(callbacks[-1])  # the provider's answer again (its state and its code were used)
    expect(page.get_by_test_id("sso-refused")).to_contain_text("already used")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_an_administrator_adds_a_provider_maps_a_group_and_tests_the_sign_in(page, live_server, demo, idp):
    idp.set_accounts(ACCOUNTS)
    idp.fault("")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/sso/")
    page.get_by_role("link", name="Add an identity provider").click()
    page.get_by_label("Short name").fill("corp")
    page.get_by_label("Name", exact=True).fill("Corp directory")
    page.get_by_label("Issuer").fill(idp.issuer)
    page.get_by_label("Client id").fill("portcullis-acme")
    page.get_by_label("Client secret").fill(CLIENT_SECRET)
    page.get_by_label("E-mail domains").fill("acme-corp.test")
    page.get_by_label("Scopes").fill("openid email profile groups")
    page.get_by_label("Default role").select_option(label="Basic user")
    with page.expect_navigation():
        page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Group mapping")
    page.locator("input[name=map-0-group]").fill("auditors")
    page.locator("select[name=map-0-role]").select_option(label="Advanced user")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the mapping").click()
    expect(page.get_by_test_id("sso-mappings")).to_contain_text("auditors")
    expect(page.get_by_test_id("sso-callback")).to_have_text(f"{live_server.url}/sso/acme/corp/callback/")

    page.get_by_test_id("sso-test-login").click()
    arrive(page, idp, leaving=("/console/sso/",))
    sign_in_at_provider(page, idp, "bob")
    expect(page.get_by_test_id("sso-test-ok")).to_be_visible()
    expect(page.get_by_test_id("sso-test-outcome")).to_contain_text("Advanced user")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")  # still the administrator's session
    with tenant_scope(Tenant.objects.get(slug="acme")):
        assert not User.objects.filter(email="bob@acme-corp.test").exists()
        assert AuditEvent.objects.filter(event_type=EventType.SSO_MAPPING_CHANGED).count() == 1


def test_an_administrator_requires_single_sign_on_and_a_password_login_is_then_refused(page, live_server, demo, idp):
    acme = Tenant.objects.get(slug="acme")
    make_provider(acme, idp.issuer, "portcullis-acme")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/sso/")
    expect(page.get_by_test_id("sso-policy")).to_contain_text("passwords still work")
    page.get_by_role("link", name="Requirement").click()
    page.get_by_label("Require single sign-on for everyone except the break-glass administrators").check()
    page.get_by_label("Ada Admin").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("sso-policy")).to_contain_text("required of everyone except the break-glass")
    log_out(page)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill("basic1@acme.example")
    page.get_by_label("Password").fill("portcullis-demo")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Your organisation signs in with single sign-on")
    log_in(page, live_server, "admin@acme.example")  # the break-glass administrator still may
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")


def test_an_administrator_removes_a_provider(page, live_server, demo, idp):
    acme = Tenant.objects.get(slug="acme")
    provider = make_provider(acme, idp.issuer, "portcullis-acme")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/sso/{provider.pk}/")
    page.get_by_role("link", name="Remove").click()
    page.get_by_label("Reason").fill("moving to another directory")
    with page.expect_navigation():
        page.get_by_role("button", name="Remove").click()
    expect(page.get_by_test_id("identity-providers")).not_to_contain_text("Corp directory")
    expect(page.get_by_test_id("identity-providers")).to_contain_text("Demo directory (disabled)")
