"""Browser stories of issue 5: password + TOTP, an invitee's first login, lockout, step-up."""

import base64
import datetime as dt
import re

import time_machine
from django.core import mail
from playwright.sync_api import expect

from accounts import services
from accounts.models import User
from accounts.scoping import dangerously_unscoped
from tests.accounts.mfa_helpers import code_at, now_t
from tests.e2e.conftest import enter_code, log_in
from tests.factories import builtin_role


def user(email):
    with dangerously_unscoped():
        return User.objects.select_related("tenant").get(email=email)


def test_a_customer_logs_in_with_password_and_totp(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("basic3@acme.example")
    page.get_by_label("Password").fill("portcullis-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verification code")
    page.goto(f"{live_server.url}/")  # nothing else is reachable before the code
    expect(page.get_by_role("heading", level=1)).to_have_text("Verification code")
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("mfa-error")).to_have_text("That code is not correct.")
    page.wait_for_timeout(1100)  # the one-second back-off after a wrong code
    enter_code(page, "basic3@acme.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, Blake Basic 3")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")


def test_an_invitee_sets_a_password_reads_the_secret_enrols_and_reaches_home(page, live_server, demo):
    admin = user("admin@acme.example")
    mail.outbox.clear()
    services.invite_user(
        tenant=admin.tenant, email="newcomer@acme.example", role=builtin_role(admin.tenant), actor=admin
    )
    [message] = mail.outbox
    path = re.search(r"http://\S+?(/accounts/invitation/\S+/)", message.body).group(1)
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Portcullis")
    assert "/invitation/" in page.url and path not in page.url  # the token left the address bar
    page.get_by_label("New password", exact=True).fill("my own long passphrase for portcullis")
    page.get_by_label("New password confirmation").fill("my own long passphrase for portcullis")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    page.get_by_role("button", name="Show my secret").click()
    expect(page.get_by_test_id("mfa-qr")).to_be_visible()
    secret = page.get_by_test_id("mfa-secret").inner_text()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code shown by the app").fill(code_at(key, now_t()))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("home-tenant")).to_have_text("Acme Trading")


def test_a_locked_out_account_sees_the_lockout_message(page, live_server, demo):
    for n in range(5):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill("advanced2@acme.example")
        page.get_by_label("Password").fill(f"a wrong guess {n}")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    expect(page.get_by_test_id("lockout-message")).to_contain_text("Too many failed attempts")
    log_in(page, live_server, "advanced2@acme.example")  # even the right password, for 15 minutes
    expect(page.get_by_test_id("lockout-message")).to_be_visible()


def test_step_up_is_asked_before_resetting_a_users_mfa(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    expect(page.get_by_test_id("home-tenant")).to_have_text("Acme Trading")
    target = user("basic4@acme.example")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):  # the login's MFA step is no longer recent
        page.goto(f"{live_server.url}/accounts/users/{target.pk}/reset-mfa/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
        expect(page.get_by_test_id("stepup-intro")).to_contain_text("This action is sensitive")
        enter_code(page, "admin@acme.example", button="Continue")
        expect(page.get_by_role("heading", level=1)).to_have_text("Reset the MFA of Blake Basic 4")
        page.get_by_label("Reason").fill("lost phone")
        page.get_by_role("button", name="Reset MFA").click()
        expect(page.locator(".message-success")).to_contain_text("The MFA of Blake Basic 4 was reset.")
