"""Issue 19, item 7, in a browser: the header's help link opens the guide of the screen (in English and in
Chinese), and the console tour shows on the first visit, walks the menu's areas, and stays away once closed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_every_screen import switch_language


def test_the_help_link_opens_the_guide_of_the_screen(page, live_server, demo):
    log_in(page, live_server, "reviewer@acme.example")
    page.goto(f"{live_server.url}/reviews/mine/")
    page.get_by_role("link", name="How do reviews work?").click()
    expect(page).to_have_url(re.compile(r"/help/reviewer/#reviews$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reviewer's guide")
    expect(page.locator("#reviews")).to_be_in_viewport()
    expect(page.locator("#keyboard")).to_contain_text("revoke the item")
    switch_language(page, "zh-hans")
    page.goto(f"{live_server.url}/reviews/mine/")
    link = page.get_by_test_id("help-link")
    expect(link).to_have_attribute("data-guide", "reviewer")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审查人指南")


def test_each_persona_reaches_their_guide_from_their_screens(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    page.goto(f"{live_server.url}/my-access/")
    page.get_by_test_id("help-link").click()
    expect(page).to_have_url(re.compile(r"/help/customer/#access$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer's guide")
    page.set_viewport_size({"width": 390, "height": 844})  # the link keeps its name when only "?" shows
    page.goto(f"{live_server.url}/requests/")
    page.get_by_role("link", name="How does asking for access work?").click()
    expect(page).to_have_url(re.compile(r"/help/customer/#requests$"))


def test_the_administrators_console_links_to_the_administrators_guide(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/")
    page.get_by_role("link", name="How does the console work?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrator's guide")
    expect(page).to_have_url(re.compile(r"#console$"))


def test_the_tour_shows_on_the_first_visit_and_not_after_it_is_closed(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/")
    tour = page.get_by_test_id("tour")
    expect(tour).to_be_visible()
    expect(tour).to_contain_text("Step 1 of 6")  # a welcome, the four areas of the menu, the help link
    page.get_by_test_id("tour-next").click()
    expect(tour).to_contain_text("Step 2 of 6")
    expect(tour.locator("li:not([hidden])")).to_contain_text("Workspace")
    expect(page.locator("#nav-group-workspace")).to_have_class(re.compile("tour-highlight"))
    expect(page.get_by_test_id("tour-next")).to_be_focused()
    page.get_by_test_id("tour-next").click()
    expect(page.locator("#nav-group-workspace")).not_to_have_class(re.compile("tour-highlight"))
    expect(page.locator("#nav-group-account")).to_have_class(re.compile("tour-highlight"))
    page.get_by_test_id("tour-close").click()
    expect(tour).to_be_hidden()
    expect(page.locator(".tour-highlight")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("tour")).to_be_hidden()
    # another person in the same browser gets their own first visit
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "basic1@acme.example")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("tour")).to_be_visible()
    page.get_by_test_id("tour-next").focus()  # Escape from within the tour closes it too
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("tour")).to_be_hidden()
    # the guides can start it again
    page.goto(f"{live_server.url}/help/")
    page.get_by_test_id("tour-again").click()
    expect(page.get_by_test_id("tour")).to_be_visible()
    expect(page.get_by_test_id("tour")).to_contain_text("Step 1 of")
