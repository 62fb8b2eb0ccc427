"""A two-stage review in the browser: the administrator sets the stages on the policy form; Initech's
administrator (advanced1) decides first; the administrator ends the stage; the tenant's reviewer sees the
first stage's decision, decides what it kept, and the campaign closes and applies both revocations."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import Module
from permissions.services import grants
from reviews.models import ReviewCampaign
from reviews.services import campaigns
from tests.e2e.conftest import log_in, log_out
from tests.e2e.pickers import pick
from tests.workspace.conftest import person

NAME = "Initech two-stage review"


def _row(page, email):
    return page.locator(f'tr.review-row[data-kind="organisation"][data-user="{email}"]')


def _my_reviews(page, live_server):
    page.goto(f"{live_server.url}/reviews/mine/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My reviews")
    tab = page.get_by_role("link", name=NAME)
    if tab.count():
        tab.first.click()


def _policy_with_two_stages(page, live_server):
    page.goto(f"{live_server.url}/reviews/policies/new/")
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Review role memberships", exact=True).uncheck()
    page.get_by_label("Review grants", exact=True).uncheck()
    page.get_by_label("Review organisation memberships", exact=True).check()
    page.get_by_label("Start date").fill(timezone.now().date().isoformat())
    page.get_by_label("Reviewers", exact=True).select_option(label="Administrators of the user's organisation")
    pick(page, "Fallback reviewer", "admin@acme.example")
    page.get_by_label("Stage 2: reviewers", exact=True).select_option(label="Chosen users")
    pick(page, "Stage 2: chosen reviewers", "reviewer@acme.example")
    pick(page, "Stage 2: fallback reviewer", "admin@acme.example")
    page.get_by_label("Stage 2: duration (days)", exact=True).fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("policy-form").locator(".field-error")).to_have_text("A stage lasts 3 to 90 days.")
    page.get_by_label("Stage 2: duration (days)", exact=True).fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text(f"Policy {NAME} saved.")


def test_the_organisation_administrator_then_the_reviewer_decide(page, browser, live_server, demo):
    """The administrator works in a window of their own (one login: each login spends an MFA code)."""
    orgadmin = person("advanced1@acme.example")
    acme = orgadmin.tenant
    with tenant_scope(acme):
        grants.grant(
            actor=None,
            user=orgadmin,
            module=Module.objects.get(key="reviews"),
            actions=["view", "review"],
            reason="Initech's administrator reviews its members",
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    admin = context.new_page()
    log_in(admin, live_server, "admin@acme.example")
    _policy_with_two_stages(admin, live_server)
    with tenant_scope(acme):
        assert campaigns.open_due_campaigns(acme) == 1  # the scheduler's run
        campaign = ReviewCampaign.objects.get(name__startswith=NAME, state="open")

    # stage 1: Initech's administrator, never on their own membership
    log_in(page, live_server, "advanced1@acme.example")
    _my_reviews(page, live_server)
    expect(_row(page, "basic1@acme.example")).to_be_visible()
    expect(_row(page, "advanced1@acme.example")).to_have_count(0)
    expect(_row(page, "basic6@acme.example")).to_have_count(0)  # Umbrella's: not theirs
    leaving = _row(page, "basic5@acme.example")
    leaving.get_by_test_id("justification").fill("Left Initech in October")
    leaving.get_by_test_id("revoke").click()
    expect(_row(page, "basic5@acme.example").get_by_test_id("decision")).to_have_text("Revoke")
    staying = _row(page, "basic1@acme.example")
    staying.get_by_test_id("justification").fill("Still on the Initech contract")
    staying.get_by_test_id("keep").click()
    expect(_row(page, "basic1@acme.example").get_by_test_id("decision")).to_have_text("Keep")
    log_out(page)

    # the administrator ends stage 1
    admin.goto(f"{live_server.url}/reviews/campaigns/{campaign.pk}/")
    expect(admin.get_by_test_id("campaign-stage")).to_contain_text("stage 1 of 2")
    admin.get_by_test_id("end-stage").click()
    expect(admin.get_by_test_id("campaign-stage")).to_contain_text("stage 2 of 2")

    # stage 2: the reviewer sees what stage 1 decided; what it revoked is not asked again
    log_in(page, live_server, "reviewer@acme.example")
    _my_reviews(page, live_server)
    kept = _row(page, "basic1@acme.example")
    expect(kept.get_by_test_id("earlier-stage")).to_have_text(
        "Stage 1: Keep by advanced1@acme.example (Still on the Initech contract)"
    )
    expect(_row(page, "basic5@acme.example")).to_have_count(0)
    kept.get_by_test_id("justification").fill("The contract ended with the last invoice")
    kept.get_by_test_id("revoke").click()
    expect(_row(page, "basic1@acme.example").get_by_test_id("decision")).to_have_text("Revoke")

    admin.goto(f"{live_server.url}/reviews/campaigns/{campaign.pk}/")
    admin.get_by_test_id("close-campaign").click()
    expect(admin.get_by_test_id("close-consequences")).to_be_visible()  # what closing does, before it does it
    admin.get_by_test_id("close-confirm").click()
    expect(admin.get_by_test_id("campaign-state")).to_have_text("Applied")
    admin.get_by_role("link", name="Report", exact=True).click()
    report = admin.get_by_test_id("report-items")
    expect(report.locator("tr", has_text="basic5@acme.example")).to_contain_text("Removed from the organisation")
    expect(report.locator("tr", has_text="basic1@acme.example")).to_contain_text("The contract ended")
    with tenant_scope(acme):
        assert User.objects.get(email="basic1@acme.example").organisation_id is None
        assert User.objects.get(email="basic5@acme.example").organisation_id is None
    context.close()


def test_the_reviewer_delegates_their_reviews_for_a_holiday_then_ends_it(page, live_server, demo):
    log_in(page, live_server, "reviewer@acme.example")
    page.goto(f"{live_server.url}/reviews/mine/")
    page.get_by_test_id("delegations-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delegate my reviews")
    today = timezone.now().date()
    page.get_by_label("Delegate to (e-mail)").fill("reviewer@acme.example")
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("Until", exact=True).fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Reason", exact=True).fill("Two weeks of holiday")
    page.get_by_test_id("delegate").click()
    expect(page.get_by_test_id("delegation-form").get_by_role("alert")).to_have_text("Choose someone else.")
    page.get_by_label("Delegate to (e-mail)").fill("admin@acme.example")
    page.get_by_test_id("delegate").click()
    expect(page.locator(".message-success")).to_have_text("Your reviews are delegated.")
    expect(page.get_by_test_id("delegations")).to_contain_text("Two weeks of holiday")
    page.get_by_role("link", name="My reviews").first.click()
    expect(page.get_by_test_id("delegating")).to_contain_text("Your reviews go to admin@acme.example")
    page.get_by_test_id("delegations-link").click()
    page.get_by_role("button", name="End now").click()
    expect(page.get_by_test_id("confirm-consequences")).to_contain_text("come to you again")
    page.get_by_test_id("confirm-button").click()
    expect(page.locator(".message-success")).to_have_text("Delegation ended.")
    expect(page.get_by_test_id("delegations")).to_contain_text("ended")
