"""Issue 17 item 5 in the browser: an administrator revokes a customer's grant; the customer reads the notice,
follows it to the appeal form and files a case; the approver answers from the queue; the customer reads it."""

import re

from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, log_out


def test_a_revoked_customer_is_told_appeals_and_an_approver_answers(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/?q=basic7")
    page.get_by_test_id("users").get_by_role("link", name="Blake Basic 7").click()
    row = page.get_by_test_id("user-grants").locator("tr", has_text="Catalogue export for the partner portal")
    row.get_by_role("link", name="Revoke").click()
    page.get_by_label("Reason").fill("The partner portal was retired")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".message-success")).to_have_text(re.compile(r"Grant #\d+ was revoked\."))
    log_out(page)
    [told] = [m for m in mail.outbox if m.to == ["basic7@acme.example"] and m.subject == "Access revoked"]
    assert "The partner portal was retired" in told.body and "/appeals/new/" in told.body

    # the customer reads the notice and appeals from it
    log_in(page, live_server, "basic7@acme.example")
    page.goto(f"{live_server.url}/my-access/")
    notices = page.get_by_test_id("notices")
    expect(notices).to_contain_text("Products (Export) was revoked. Reason: The partner portal was retired.")
    notices.get_by_role("link", name=re.compile("was revoked")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appeal or complain")
    expect(page.get_by_test_id("ask-again").get_by_role("link", name="ask for it again")).to_have_attribute(
        "href", re.compile(r"/requests/new/\?module=products.*actions=export")
    )
    expect(page.get_by_label("My access was taken away")).to_be_checked()
    page.get_by_label("What happened, and what do you need?").fill("I still send the catalogue to two partners.")
    page.get_by_role("button", name="Send to the approvers").click()
    expect(page.get_by_test_id("case-state")).to_have_text("Open")
    expect(page.get_by_test_id("case-due")).to_be_visible()
    log_out(page)

    # the approver answers from the queue
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Appeals", exact=True).click()
    queue_row = page.get_by_test_id("case-row").filter(has_text="basic7@acme.example")
    expect(queue_row).to_contain_text("was taken away")
    queue_row.get_by_role("link", name="View case").click()
    expect(page.get_by_test_id("conversation")).to_contain_text("two partners")
    expect(page.get_by_test_id("current-access")).to_contain_text("View")
    page.get_by_label("Answer the customer").fill("The partners use the new API now; ask Dana for a key.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_test_id("case-state")).to_have_text("Answered")
    log_out(page)

    # the customer is told and reads the answer
    log_in(page, live_server, "basic7@acme.example")
    page.goto(f"{live_server.url}/my-access/")
    page.get_by_test_id("notices").get_by_role("link", name=re.compile("An approver answered your case")).click()
    expect(page.get_by_test_id("conversation")).to_contain_text("ask Dana for a key")
    page.get_by_test_id("close-case").click()
    page.get_by_test_id("confirm-button").click()
    expect(page.get_by_test_id("case-state")).to_have_text("Closed")
