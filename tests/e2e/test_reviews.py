"""The demo reviewer works through "My reviews"; the administrator closes the campaign and reads the report."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def _row(page, email):
    return page.locator(f'tr.review-row[data-user="{email}"]')


def test_reviewer_decides_bulk_accepts_and_the_admin_closes_and_reads_the_report(page, live_server, demo):
    log_in(page, live_server, "reviewer@acme.example")
    page.get_by_role("link", name="My reviews").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My reviews")

    # revoke one item, with a justification, without reloading the page
    stale = _row(page, "basic9@acme.example")
    expect(stale).to_contain_text("Never used")
    stale.get_by_test_id("justification").fill("Never used since it was granted")
    stale.get_by_test_id("revoke").click()
    expect(_row(page, "basic9@acme.example").get_by_test_id("decision")).to_have_text("Revoke")

    # a flagged item needs a justification to be kept: first refused in the row, then accepted
    flagged = _row(page, "advanced1@acme.example")
    flagged.get_by_test_id("keep").click()
    expect(_row(page, "advanced1@acme.example").get_by_test_id("row-error")).to_contain_text("justification")
    _row(page, "advanced1@acme.example").get_by_test_id("justification").fill("Runs the EMEA reports every week")
    _row(page, "advanced1@acme.example").get_by_test_id("keep").click()
    expect(_row(page, "advanced1@acme.example").get_by_test_id("decision")).to_have_text("Keep")

    # keyboard: focus a row and press "a" to keep it
    row = _row(page, "basic1@acme.example")
    row.focus()
    page.keyboard.press("a")
    expect(_row(page, "basic1@acme.example").get_by_test_id("decision")).to_have_text("Keep")

    # accept the recommendations of the rest (every item, not only a selection), after a confirmation that
    # lists what it decides and states what it skips
    page.get_by_test_id("bulk-action").select_option("accept")
    page.get_by_test_id("scope-all").check()
    page.get_by_test_id("bulk-submit").click()
    # 10: the demo has two Administrators (admin2 since issue 13), each a line of the review
    expect(page.get_by_test_id("bulk-count")).to_have_text("This decides 10 items.")
    expect(page.get_by_test_id("bulk-list").locator("tbody tr")).to_have_count(10)
    expect(page.get_by_test_id("bulk-skipped")).to_contain_text("without a recommendation")
    page.get_by_test_id("bulk-confirm").click()
    expect(page.locator(".messages")).to_contain_text("10 items decided.")
    expect(_row(page, "basic3@acme.example").filter(has_text="Churn analysis").get_by_test_id("decision")).to_have_text(
        "Revoke"
    )

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Access reviews").click()
    page.get_by_test_id("campaigns").locator("tr", has_text="Open").get_by_role(
        "link", name=re.compile("Quarterly access review")
    ).click()
    expect(page.get_by_test_id("overall-progress")).to_be_visible()
    page.get_by_test_id("close-campaign").click()
    # a confirmation first, saying what closing does (issue 19: no more "Close now" without one)
    expect(page.get_by_test_id("close-undecided")).to_contain_text("undecided")
    expect(page.get_by_test_id("close-apply")).to_contain_text("applied")
    page.get_by_test_id("close-confirm").click()
    expect(page.get_by_test_id("campaign-state")).to_have_text("Applied")
    page.get_by_role("link", name="Report", exact=True).click()
    report = page.get_by_test_id("report-items")
    expect(report).to_contain_text("Never used since it was granted")
    expect(report).to_contain_text("Runs the EMEA reports every week")
    expect(report).to_contain_text("reviewer@acme.example")
    expect(page.get_by_test_id("report-items").locator("tr", has_text="basic9@acme.example")).to_contain_text("Grant #")
    expect(page.get_by_test_id("report-items").locator("tr", has_text="Churn analysis")).to_contain_text("revoked")
