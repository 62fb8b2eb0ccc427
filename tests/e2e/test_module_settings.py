"""Browser story: an administrator makes a customer the owner of the Analytics module and marks one more
attribute sensitive; the owner then finds a customer's request for Analytics in their queue and approves it."""

from playwright.sync_api import expect

from accessrequests.services import submit
from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.models import Module
from tests.e2e.conftest import log_in
from tests.e2e.pickers import pick


def test_admin_names_a_module_owner_who_then_approves_a_request_for_it(page, browser, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Modules and resources").click()
    page.get_by_test_id("modules").get_by_role("link", name="Analytics").click()
    page.get_by_role("link", name="Module settings").click()
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()  # a built-in module keeps its name
    # typed names become chips (comma-separated, or when the box is left); the field still posts "a, b"
    page.get_by_label("Sensitive attribute names").fill("customer_emails, churn_rate")
    page.get_by_label("Owners").fill("nobody@acme.example")
    page.get_by_label("Owners").press("Enter")  # an address the search does not know is still taken as typed
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist, .field-error").first).to_contain_text("nobody@acme.example")

    page.get_by_role("button", name="Remove nobody@acme.example").click()
    pick(page, "Owners", "advanced1@acme.example")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_contain_text("The module Analytics was saved.")
    facts = page.get_by_test_id("module-facts")
    expect(facts).to_contain_text("Churn rate, Customer e-mail addresses")  # by their names, not their keys
    expect(facts).to_contain_text("advanced1@acme.example")

    with dangerously_unscoped():
        requester = User.objects.select_related("tenant").get(email="basic1@acme.example")
    with tenant_scope(requester.tenant):
        asked = submit(
            actor=requester,
            module=Module.objects.get(key="analytics"),
            actions=["export"],
            reason="Dashboards for the board meeting",
            duration_days=7,
        )

    owner_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    owner_page = owner_context.new_page()
    try:
        log_in(owner_page, live_server, "advanced1@acme.example")
        owner_page.get_by_role("link", name="Access requests").click()
        row = owner_page.get_by_test_id("queue-row").filter(has_text="basic1@acme.example")
        expect(row).to_contain_text("Analytics")
        row.get_by_role("link", name="Review").click()
        owner_page.get_by_role("button", name="Approve").click()
        expect(owner_page.locator(".message-success")).to_contain_text("Approved: the access was granted until")
    finally:
        owner_context.close()
    with tenant_scope(requester.tenant):
        asked.refresh_from_db()
        assert asked.status == "approved" and asked.decided_by.email == "advanced1@acme.example"
