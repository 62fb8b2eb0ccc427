"""Issue 19, item 4, in a browser: the demo reviewer filters the workspace, selects every item matching the filter
(beyond the page shown) and keeps them after a confirmation listing them, decides from the keyboard without a
click first, and decides one item with the script turned off. The confirmation page passes axe-core and fits
390 px (it is reached by a POST, so the every-screen walk cannot visit it)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_every_screen import AXE_JS, OVERFLOW_JS, axe_source

REVIEWER = "reviewer@acme.example"


@pytest.fixture
def axe_page(browser):
    """A page whose context lets the test inject axe-core (the portal's CSP forbids inline scripts)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _mine(**lookup) -> list:
    """The demo reviewer's items of the open campaign (test set-up and checks read the database directly)."""
    from accounts.models import Tenant
    from accounts.scoping import dangerously_unscoped, tenant_scope
    from reviews.models import ReviewItem

    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="acme")
    with tenant_scope(tenant):
        rows = ReviewItem.objects.filter(reviewer__email=REVIEWER, campaign__state="open", **lookup)
        return list(rows.select_related("user").order_by("id"))


def _open_workspace(page, live_server, query=""):
    page.goto(f"{live_server.url}/reviews/mine/{query}")
    expect(page.get_by_test_id("campaign-name")).to_contain_text("Quarterly access review")


def test_the_reviewer_filters_by_recommendation_and_person(page, live_server, demo):
    revoke = _mine(recommendation="revoke")
    assert revoke
    log_in(page, live_server, REVIEWER)
    _open_workspace(page, live_server)
    expect(page.get_by_test_id("progress-text")).to_have_text(f"0 of {len(_mine())} decided")
    page.get_by_label("Recommendation", exact=True).select_option("revoke")
    page.get_by_test_id("filter-submit").click()
    rows = page.locator("tr.review-row")
    expect(rows).to_have_count(len(revoke))
    for n in range(len(revoke)):
        expect(rows.nth(n).get_by_test_id("recommendation")).to_have_text("Revoke")
    expect(page.get_by_test_id("item-count")).to_contain_text("match the filter")
    person = revoke[0].user.email
    page.get_by_label("Person", exact=True).fill(person.split("@")[0])
    page.get_by_test_id("filter-submit").click()
    expect(rows).to_have_count(len([i for i in revoke if i.user.email == person]))
    expect(rows.first).to_have_attribute("data-user", person)
    # the filters read well: each label comes before its control
    order = page.get_by_test_id("filters").evaluate(
        """form => Array.from(form.querySelectorAll('.field')).filter(f => f.querySelector('label'))
             .every(f => f.firstElementChild.tagName === 'LABEL')"""
    )
    assert order


def test_select_all_matching_the_filter_then_keep_them_after_a_confirmation(axe_page, live_server, demo, monkeypatch):
    monkeypatch.setattr("reviews.views.PAGE", 3)  # a few items a page: "all matching" must reach the other pages
    page = axe_page
    keep = _mine(recommendation="keep")
    assert len(keep) > 3
    log_in(page, live_server, REVIEWER)
    _open_workspace(page, live_server, "?recommendation=keep")
    expect(page.locator("tr.review-row")).to_have_count(3)
    banner = page.get_by_test_id("select-all-banner")
    expect(banner).to_be_hidden()
    page.get_by_test_id("select-page").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("Selected: 3")
    expect(banner).to_be_visible()
    page.get_by_test_id("select-all-matching").click()
    expect(page.get_by_test_id("scope-all")).to_be_checked()
    expect(page.get_by_test_id("selected-count")).to_have_text(
        f"All {len(keep)} items matching the filter are selected."
    )
    page.get_by_test_id("bulk-action").select_option("keep")
    page.get_by_test_id("bulk-justification").fill("Used every week by the team")
    page.get_by_test_id("bulk-submit").click()

    expect(page.get_by_test_id("bulk-count")).to_have_text(f"This decides {len(keep)} items.")
    expect(page.get_by_test_id("bulk-list").locator("tbody tr")).to_have_count(len(keep))
    for item in keep:
        expect(page.get_by_test_id(f"bulk-row-{item.pk}")).to_contain_text("Keep")
    expect(page.get_by_test_id("bulk-campaign")).to_contain_text("Recommendation: Keep")
    # the confirmation page: no serious axe violation, no sideways scroll at 390 px
    page.add_script_tag(content=axe_source())
    assert page.evaluate(AXE_JS) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(OVERFLOW_JS) <= 1
    page.set_viewport_size({"width": 1366, "height": 900})
    assert all(i.decision == "pending" for i in _mine(recommendation="keep"))  # nothing before the confirmation

    page.get_by_test_id("bulk-confirm").click()
    expect(page.locator(".messages")).to_contain_text(f"{len(keep)} items decided.")
    expect(page).to_have_url(re.compile(r"recommendation=keep"))
    assert [i.decision for i in _mine(recommendation="keep")] == ["keep"] * len(keep)
    assert all(i.decision == "pending" for i in _mine(recommendation="revoke"))


def test_accepting_recommendations_says_what_is_skipped(page, live_server, demo):
    without = _mine(recommendation="none")
    decided = len(_mine()) - len(without)
    assert without
    log_in(page, live_server, REVIEWER)
    _open_workspace(page, live_server)
    page.get_by_test_id("bulk-action").select_option("accept")
    page.get_by_test_id("scope-all").check()
    page.get_by_test_id("bulk-submit").click()
    expect(page.get_by_test_id("bulk-count")).to_contain_text(f"This decides {decided} item")
    skipped = page.get_by_test_id("bulk-skipped")
    expect(skipped).to_contain_text(f"{len(without)} item")
    expect(skipped).to_contain_text("without a recommendation")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("progress-text")).to_have_text(f"0 of {len(_mine())} decided")


def test_keyboard_decisions_work_without_a_click_and_show_the_focus(page, live_server, demo):
    keep = _mine(recommendation="keep")
    assert len(keep) >= 3 and not keep[0].flagged  # the first kept without a justification
    log_in(page, live_server, REVIEWER)
    _open_workspace(page, live_server, "?recommendation=keep")
    expect(page.get_by_test_id("shortcuts")).to_contain_text("revoke")
    rows = page.locator("tr.review-row")

    page.keyboard.press("j")  # no click first: the first key lands on the first row
    expect(rows.nth(0)).to_be_focused()
    ring = rows.nth(0).evaluate("row => getComputedStyle(row).outlineStyle + ' ' + getComputedStyle(row).outlineWidth")
    assert not ring.startswith("none") and not ring.endswith(" 0px"), ring
    page.keyboard.press("a")
    expect(rows.nth(0).get_by_test_id("decision")).to_have_text("Keep")
    expect(rows.nth(1)).to_be_focused()  # a decision moves on to the next item
    expect(page.get_by_test_id("progress-text")).to_contain_text("1 of")

    page.keyboard.press("r")  # revoking needs a justification: asked for in the row, then Enter decides
    expect(rows.nth(1).get_by_test_id("row-error")).to_contain_text("justification")
    expect(rows.nth(1).get_by_test_id("justification")).to_be_focused()
    page.keyboard.type("Moved to another team")
    page.keyboard.press("Enter")
    expect(rows.nth(1).get_by_test_id("decision")).to_have_text("Revoke")
    expect(rows.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("x")
    expect(rows.nth(0).get_by_test_id("select")).to_be_checked()
    expect(page.get_by_test_id("selected-count")).to_have_text("Selected: 1")

    decided = {i.pk: (i.decision, i.justification) for i in _mine(recommendation="keep")}
    assert decided[keep[0].pk][0] == "keep"
    assert decided[keep[1].pk] == ("revoke", "Moved to another team")


def test_a_single_decision_works_without_the_script(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    item = _mine(recommendation="revoke")[0]
    log_in(page, live_server, REVIEWER)
    _open_workspace(page, live_server, "?recommendation=revoke")
    row = page.locator(f"#item-{item.pk}")
    row.get_by_test_id("justification").fill("Never used since it was granted")
    row.get_by_test_id("revoke").click()
    expect(page.locator(f"#item-{item.pk}").get_by_test_id("decision")).to_have_text("Revoke")
    expect(page).to_have_url(re.compile(r"recommendation=revoke"))
    assert _mine(pk=item.pk)[0].decision == "revoke"
    context.close()
