"""Browser stories of one's own account: sessions (and ending another one), login history, backup codes
behind a step-up, the only authenticator that cannot be removed, changing and resetting the password."""

import datetime as dt
import re

import time_machine
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import enter_code, log_in, log_out, mail_to

NEW_PASSWORD = "a brand new passphrase for the portal"


def open_security(page):
    page.get_by_role("navigation").get_by_role("link", name="Security", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security")


def test_a_user_sees_two_sessions_and_ends_the_other_one(page, browser, live_server, demo):
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        other = laptop.new_page()
        log_in(other, live_server, "advanced2@acme.example")
        expect(other.get_by_test_id("home-tenant")).to_have_text("Acme Trading")

        log_in(page, live_server, "advanced2@acme.example")
        open_security(page)
        page.get_by_role("link", name="My sessions").click()
        sessions = page.get_by_test_id("sessions").locator("tbody tr")
        expect(sessions).to_have_count(2)
        expect(sessions.filter(has_text="(this session)")).to_have_count(1)

        page.get_by_role("button", name="End the other sessions").click()
        expect(page.get_by_test_id("confirm-consequences")).to_contain_text("this one stays signed in")
        page.get_by_test_id("confirm-button").click()
        expect(page.locator(".message-success")).to_have_text("Other sessions ended: 1.")
        expect(sessions).to_have_count(1)
        expect(sessions).to_contain_text("(this session)")

        other.goto(f"{live_server.url}/my-access/")
        expect(other.get_by_role("heading", level=1)).to_have_text("Log in")
    finally:
        laptop.close()


def test_a_user_reads_their_login_history_with_the_failed_attempt(page, live_server, demo):
    log_in(page, live_server, "basic3@acme.example", password="not my password")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    log_in(page, live_server, "basic3@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    page.get_by_role("link", name="My login history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Login history")
    rows = page.get_by_test_id("login-history").locator("tbody tr")
    expect(rows.first).to_contain_text("Login succeeded")
    expect(rows.filter(has_text="Login failed")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("basic4@acme.example")


def test_new_backup_codes_need_a_step_up_and_the_only_authenticator_cannot_be_removed(page, live_server, demo):
    log_in(page, live_server, "basic5@acme.example")
    open_security(page)
    expect(page.get_by_test_id("backup-remaining")).to_have_text("0 backup codes left.")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):  # the login's MFA step is no longer recent
        page.get_by_role("button", name="Create new backup codes").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
        enter_code(page, "basic5@acme.example", button="Continue")
        expect(page.get_by_role("heading", level=1)).to_have_text("Security")  # back to the page of the form
        page.get_by_role("button", name="Create new backup codes").click()
        expect(page.get_by_test_id("confirm-consequences")).to_contain_text("stops working now")
        page.get_by_test_id("confirm-button").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
        expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
        page.get_by_role("link", name="I have saved them").click()
        expect(page.get_by_test_id("backup-remaining")).to_have_text("10 backup codes left.")

        page.get_by_role("link", name="Remove").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Remove authenticator")
        page.get_by_role("button", name="Remove").click()
        expect(page.locator(".message-error")).to_have_text(
            "This is your only authenticator and your organisation requires one."
        )
        expect(page.locator("main table tbody tr")).to_have_count(1)


def test_a_user_changes_their_password_and_logs_in_with_the_new_one(page, live_server, demo):
    log_in(page, live_server, "basic6@acme.example")
    open_security(page)
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    page.get_by_label("Old password").fill("not the old password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".field-error")).to_contain_text("Your old password was entered incorrectly")

    page.get_by_label("Old password").fill("portcullis-demo")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".message-success")).to_have_text("Your password was changed. Other sessions ended: 0.")
    log_out(page)

    log_in(page, live_server, "basic6@acme.example")  # the old password
    expect(page.get_by_test_id("login-error")).to_have_text("The email or password is not correct.")
    log_in(page, live_server, "basic6@acme.example", password=NEW_PASSWORD)
    expect(page.get_by_test_id("home-tenant")).to_have_text("Acme Trading")


def test_a_forgotten_password_is_reset_from_the_emailed_link_which_then_stops_working(page, live_server, demo):
    mail.outbox.clear()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page.get_by_label("Email").fill("basic7@acme.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    message = mail_to("basic7@acme.example")
    path = re.search(r"http://\S+?(/accounts/password-reset/\S+/)", message.body).group(1)
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verification code")  # still the second factor
    enter_code(page, "basic7@acme.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, Blake Basic 7")

    log_out(page)
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Link not valid")
