"""Browser stories of the review policies: an administrator creates one (a refused combination first) and
edits it; the reviewer, who may review but not set policies, reads them without any way to change them."""

from django.utils import timezone
from playwright.sync_api import expect

from accounts.scoping import tenant_scope
from reviews.models import ReviewPolicy
from tests.e2e.conftest import log_in
from tests.e2e.pickers import pick
from tests.workspace.conftest import person

NAME = "Monthly risky access"


def open_policies(page):
    page.get_by_role("navigation").get_by_role("link", name="Access reviews").click()
    page.get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review policies")


def test_admin_creates_a_review_policy_then_edits_it(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    open_policies(page)
    expect(page.get_by_test_id("policies")).to_contain_text("Quarterly access review")

    page.get_by_role("link", name="New policy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New review policy")
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Scope", exact=True).select_option(
        label="Only risky access (system modules, sensitive data, administrators)"
    )
    page.get_by_label("Cadence").select_option(label="Monthly")
    page.get_by_label("Start date").fill(timezone.localdate().isoformat())
    page.get_by_label("Reviewers", exact=True).select_option(label="Self-review (low-risk scopes only)")
    pick(page, "Fallback reviewer", "admin@acme.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("policy-form").locator(".field-error")).to_have_text(
        "Self-review is only for low-risk scopes: risky access needs another reviewer."
    )

    page.get_by_label("Reviewers", exact=True).select_option(label="Tenant administrators")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text(f"Policy {NAME} saved.")
    row = page.get_by_test_id("policies").locator("tr", has_text=NAME)
    expect(row).to_contain_text("Monthly")
    expect(row).to_contain_text("Only risky access")

    row.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.get_by_label("Cadence")).to_have_value("monthly")
    page.get_by_label("Cadence").select_option(label="Quarterly")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text(f"Policy {NAME} saved.")
    expect(page.get_by_test_id("policies").locator("tr", has_text=NAME)).to_contain_text("Quarterly")


def test_the_reviewer_reads_the_policies_but_cannot_create_or_edit_them(page, live_server, demo):
    acme = person("reviewer@acme.example").tenant
    with tenant_scope(acme):
        policy = ReviewPolicy.objects.get(name="Quarterly access review")
    log_in(page, live_server, "reviewer@acme.example")
    open_policies(page)
    policies = page.get_by_test_id("policies")
    expect(policies).to_contain_text("Quarterly access review")
    expect(policies.get_by_role("link")).to_have_count(0)  # names are not links to the form
    expect(page.get_by_role("link", name="New policy")).to_have_count(0)
    assert page.goto(f"{live_server.url}/reviews/policies/new/").status == 403
    assert page.goto(f"{live_server.url}/reviews/policies/{policy.pk}/").status == 403
