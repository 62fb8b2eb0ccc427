"""Browser stories of issue 19, items 3 and 6: pickers typed into with the keyboard and submitted, the same forms
without JavaScript, confirmations before destructive actions, and a person's own time zone."""

import re

from playwright.sync_api import expect

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.services import groups as group_services
from tests.e2e.conftest import log_in
from tests.e2e.pickers import pick
from tests.permissions.conftest import make_resource


def acme():
    with dangerously_unscoped():
        return Tenant.objects.get(slug="acme")


def new_group(name: str):
    tenant = acme()
    with tenant_scope(tenant):
        return group_services.create_group(actor=None, tenant=tenant, name=name)


def test_a_member_is_picked_with_the_keyboard_then_removed_after_a_confirmation(page, live_server, demo):
    team = new_group("Night shift")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/groups/{team.pk}/")
    box = page.get_by_role("combobox", name="Email of the user")
    box.press_sequentially("basic9")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(listbox.get_by_role("option")).to_contain_text("basic9@acme.example")
    box.press("Escape")  # closes the list, keeps the text
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("basic9")
    box.press("ArrowDown")  # opens it again
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")  # the first option
    option = listbox.get_by_role("option").first
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    box.press("Enter")  # chooses it, and does not submit the form yet
    expect(box).to_have_value("basic9@acme.example")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".message-success")).to_have_text("basic9@acme.example joined Night shift.")

    member = page.get_by_test_id("members").locator("tr", has_text="basic9@acme.example")
    member.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("from Night shift")
    expect(page.get_by_test_id("confirm-consequences")).to_contain_text("leaves the group Night shift now")
    page.get_by_role("link", name="Cancel").click()  # nothing happened
    expect(page.get_by_test_id("members")).to_contain_text("basic9@acme.example")
    member.get_by_role("button", name="Remove", exact=True).click()
    page.get_by_test_id("confirm-button").click()
    expect(page.locator(".message-success")).to_contain_text("left Night shift")
    expect(page.get_by_test_id("members").locator("tr", has_text="basic9@acme.example")).to_have_count(0)


def test_a_group_and_a_resource_are_picked_for_a_grant(page, live_server, demo):
    team = new_group("Buyers of Gotham")
    make_resource(acme(), "products", "Batarang, matte black")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/grants/new/")
    pick(page, "or group", "gotham", option="Buyers of Gotham")
    page.get_by_label("Module").select_option(label="Products")
    pick(page, "Resource", "batarang", option="Batarang, matte black")
    page.get_by_label("View", exact=True).check()
    page.get_by_label("Reason").fill("Seasonal catalogue")
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant to the group Buyers of Gotham")
    expect(page.locator("main")).to_contain_text("Batarang, matte black")
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.locator(".message-success")).to_contain_text(re.compile(r"Grant #\d+ was created\."))
    assert f"/console/groups/{team.pk}/" in page.url


def test_reviewers_are_chips_that_post_the_native_selection(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/reviews/policies/new/")
    pick(page, "Chosen reviewers", "reviewer@acme.example")
    pick(page, "Chosen reviewers", "advanced1@acme.example")
    chosen = page.locator("select[name=reviewers]")
    expect(chosen).to_be_hidden()
    selected = "s => Array.from(s.selectedOptions).map(o => o.textContent)"
    assert chosen.evaluate(selected) == ["advanced1@acme.example", "reviewer@acme.example"]  # the options' order
    page.get_by_role("button", name="Remove reviewer@acme.example").click()
    assert chosen.evaluate(selected) == ["advanced1@acme.example"]
    box = page.get_by_role("combobox", name="Chosen reviewers", exact=True)
    box.press("Backspace")  # on an empty box: the last chip goes
    assert chosen.evaluate("s => s.selectedOptions.length") == 0


def test_without_javascript_the_same_form_takes_a_typed_address(browser, live_server, demo):
    team = new_group("Plain HTML")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, live_server, "admin@acme.example")
        page.goto(f"{live_server.url}/console/groups/{team.pk}/")
        expect(page.locator("[role=combobox]")).to_have_count(0)  # no script: the plain field
        page.get_by_label("Email of the user").fill("basic9@acme.example")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator(".message-success")).to_have_text("basic9@acme.example joined Plain HTML.")
        member = page.get_by_test_id("members").locator("tr", has_text="basic9@acme.example")
        member.get_by_role("button", name="Remove", exact=True).click()
        page.get_by_test_id("confirm-button").click()  # the confirmation is a page: no script needed
        expect(page.get_by_test_id("members").locator("tr", has_text="basic9@acme.example")).to_have_count(0)
    finally:
        context.close()


def test_a_person_chooses_their_time_zone(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Preferences").click()
    expect(page.get_by_test_id("shown-zone")).to_contain_text("time zone UTC")
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text("Your preferences were saved.")
    expect(page.get_by_test_id("shown-zone")).to_contain_text(re.compile(r"Asia/Shanghai, like this: .* CST"))
    page.goto(f"{live_server.url}/accounts/security/history/")
    expect(page.locator("main table")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CST"))
