"""Browser stories of issue 18 (passkeys), with Chromium's virtual authenticator (DevTools' WebAuthn domain):
register a passkey, sign in with it without a username, rename and remove it; a cloned authenticator (its
counter behind) is refused; the tenant's passkey policy confines an administrator to the passkey step."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from accounts.models import Tenant, User
from accounts.passkeys import demo as passkey_demo
from accounts.passkeys.models import Passkey, from_b64url
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.e2e.conftest import log_in, log_out

ADMIN2 = "admin2@acme.example"  # the demo's second administrator holds the demo passkey


@pytest.fixture
def relying_party(settings, live_server):
    """The live server's origin (http://localhost:<port>) is the one the portal accepts."""
    settings.PASSKEY_RP_ID = "localhost"
    settings.PASSKEY_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    return live_server


def virtual_authenticator(page) -> tuple:
    """A platform authenticator (CTAP2, internal, resident keys, user verification that always passes)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()  # DevTools' binary values are plain base64


def user(email: str) -> User:
    with dangerously_unscoped():
        return User.objects.select_related("tenant").get(email=email)


def passkeys_of(email: str) -> list[Passkey]:
    person = user(email)
    with tenant_scope(person.tenant):
        return list(Passkey.objects.filter(user=person).order_by("pk"))


def sign_in_with_passkey(page, live_server, email=""):
    """The login page's passkey button: usernameless, or after typing the e-mail."""
    page.goto(f"{live_server.url}/accounts/login/")
    if email:
        page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in with a passkey").click()


def test_register_sign_in_without_a_username_rename_and_remove(page, relying_party, demo):
    live_server = relying_party
    cdp, authenticator = virtual_authenticator(page)
    log_in(page, live_server, "basic3@acme.example")
    page.goto(f"{live_server.url}/accounts/security/")
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey")
    page.get_by_label("Name of this passkey").fill("Chromium key")
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.locator(".message-success")).to_contain_text("Your passkey was added.")
    expect(page.get_by_test_id("passkey-row")).to_contain_text("Chromium key")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    log_out(page)
    sign_in_with_passkey(page, live_server)  # no e-mail typed: the browser offers its passkey
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Blake Basic 3")
    [passkey] = passkeys_of("basic3@acme.example")
    assert passkey.sign_count >= 1 and passkey.last_used_at is not None

    page.goto(f"{live_server.url}/accounts/security/")
    page.get_by_test_id("passkey-row").get_by_role("link", name="Rename").click()
    page.get_by_label("Name of this passkey").fill("Work laptop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("passkey-row")).to_contain_text("Work laptop")

    page.get_by_test_id("passkey-row").get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove passkey")
    page.get_by_role("button", name="Remove").click()
    expect(page.locator(".message-success")).to_contain_text("The passkey was removed.")
    expect(page.get_by_test_id("passkey-row")).to_have_count(0)
    assert passkeys_of("basic3@acme.example") == []


def test_a_cloned_authenticator_with_a_lower_counter_is_refused(page, relying_party, demo):
    live_server = relying_party
    cdp, authenticator = virtual_authenticator(page)
    [passkey] = passkeys_of(ADMIN2)
    credential = {
        "credentialId": b64(passkey_demo.demo_credential_id(ADMIN2)),
        "isResidentCredential": True,
        "rpId": "localhost",
        "privateKey": b64(passkey_demo.pkcs8(passkey_demo.demo_private_key(ADMIN2))),
        "userHandle": b64(from_b64url(passkey.user_handle)),
        "signCount": 10,
    }
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential})
    sign_in_with_passkey(page, live_server, email=ADMIN2)  # the e-mail first: only its passkeys are asked for
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Alan Admin")
    [used] = passkeys_of(ADMIN2)
    assert used.sign_count > 10
    log_out(page)

    # A copy of the key made before those sign-ins: the same credential, its counter behind.
    cdp.send(
        "WebAuthn.removeCredential", {"authenticatorId": authenticator, "credentialId": credential["credentialId"]}
    )
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {**credential, "signCount": 3}})
    sign_in_with_passkey(page, live_server)
    expect(page.get_by_test_id("passkey-error")).to_have_text("This passkey cannot sign you in here.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    admin2 = user(ADMIN2)
    with tenant_scope(admin2.tenant):
        clone = AuditEvent.objects.filter(event_type=EventType.PASSKEY_CLONE_DETECTED).get()
    assert clone.after["stored_count"] == used.sign_count and clone.after["presented_count"] < used.sign_count
    assert passkeys_of(ADMIN2)[0].sign_count == used.sign_count


def test_the_passkey_policy_asks_an_administrator_for_the_passkey_after_the_code(page, relying_party, demo):
    live_server = relying_party
    Tenant.objects.filter(slug="acme").update(passkeys_for_administrators=True)
    cdp, authenticator = virtual_authenticator(page)
    [passkey] = passkeys_of(ADMIN2)
    credential = {
        "credentialId": b64(passkey_demo.demo_credential_id(ADMIN2)),
        "isResidentCredential": True,
        "rpId": "localhost",
        "privateKey": b64(passkey_demo.pkcs8(passkey_demo.demo_private_key(ADMIN2))),
        "userHandle": b64(from_b64url(passkey.user_handle)),
        "signCount": 0,
    }
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential})
    log_in(page, live_server, ADMIN2)  # password and authenticator app: not phishing-resistant
    expect(page.get_by_role("heading", level=1)).to_have_text("Use your passkey")
    expect(page.get_by_test_id("passkey-required")).to_contain_text("requires administrators and reviewers")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Alan Admin")
    page.goto(f"{live_server.url}/console/users/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Use your passkey")
