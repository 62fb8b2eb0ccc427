"""A basic customer opens Reports, is refused a report and asks for it for 2 weeks; an administrator
approves; the customer opens the report and sees in "My access" when the grant ends."""

import datetime as dt

from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.scoping import tenant_scope
from permissions.models import Grant, Resource
from tests.e2e.conftest import log_in
from tests.workspace.conftest import person


def log_out(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def test_request_approve_open_and_see_the_expiry(page, live_server, demo):
    acme = person("basic1@acme.example").tenant
    with tenant_scope(acme):
        report = Resource.objects.get(external_id="R-001")
    log_in(page, live_server, "basic1@acme.example")

    # Reports shows only what the customer's company was given.
    page.get_by_role("navigation").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    expect(page.get_by_test_id("resource-list")).to_contain_text("Q3 revenue")
    expect(page.get_by_test_id("resource-list")).not_to_contain_text(report.title)
    expect(page.get_by_test_id("export-button")).to_have_count(0)

    # A colleague's link to another report: refused, without its title, with an offer to ask.
    page.goto(f"{live_server.url}/m/reports/{report.pk}/")
    expect(page.get_by_test_id("no-access")).to_contain_text("You don't have access")
    expect(page.locator("body")).not_to_contain_text(report.title)
    page.get_by_test_id("request-access").click()
    expect(page.get_by_test_id("request-item")).to_have_text(f"#{report.pk}")
    expect(page.get_by_label("2 weeks")).to_be_checked()  # the default; the customer picks it on purpose
    page.get_by_label("1 week").check()
    page.get_by_label("2 weeks").check()
    expect(page.get_by_label("1 week")).not_to_be_checked()
    expect(page.get_by_label("View", exact=True)).to_be_checked()
    page.get_by_label("Reason").fill("Preparing the Q1 review with our account manager")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    log_out(page)

    # The administrator approves it from the queue.
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Access requests").click()
    row = page.get_by_test_id("queue-row").filter(has_text="basic1@acme.example")
    expect(row).to_contain_text(report.title)
    row.get_by_role("link", name="Review").click()
    expect(page.get_by_test_id("current-access")).to_contain_text("nothing")
    expect(page.get_by_label("Grant for")).to_have_value("14")
    page.get_by_test_id("approve-form").get_by_role("button", name="Approve").click()
    expect(page.locator(".message-success")).to_contain_text("Approved")
    log_out(page)

    # The customer opens the report and reads in My access until when.
    log_in(page, live_server, "basic1@acme.example")
    page.goto(f"{live_server.url}/m/reports/{report.pk}/")
    expect(page.get_by_test_id("resource-title")).to_have_text(report.title)
    expect(page.get_by_test_id("report-table")).to_be_visible()
    expect(page.get_by_test_id("masked-note")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    with tenant_scope(acme):
        grant = Grant.objects.get(reference__startswith="request:", resource=report)
    grant_row = page.get_by_test_id(f"grant-{grant.pk}")
    expect(grant_row).to_contain_text(report.title)
    expect(grant_row).to_contain_text("Approved access request")
    lasting = grant.expires_at - grant.created_at
    assert dt.timedelta(days=14) - dt.timedelta(minutes=1) <= lasting <= dt.timedelta(days=14)  # 2 weeks from approval
    with translation.override("en"):
        until = date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")
    expect(grant_row.get_by_test_id("grant-until")).to_have_text(until)
    expect(grant_row.get_by_role("link", name="Ask to extend")).to_be_visible()
    expect(page.get_by_test_id("notices")).to_contain_text("was approved")
