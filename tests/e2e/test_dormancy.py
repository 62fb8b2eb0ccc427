"""Issue 17 item 6 in the browser: a customer idle for four months is warned and then deactivated by the
scheduler's job; the administrator finds the account on the dormancy page and the deactivation in the trail."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped
from portal.jobs import run_due_jobs
from tests.e2e.conftest import log_in


@pytest.fixture
def audit_key(settings, tmp_path):
    """A signing key of this test, set before the demo is seeded (the demo's review campaigns sign checkpoints)."""
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"


def test_a_dormant_account_is_deactivated_by_the_job_and_shows_in_the_trail(page, live_server, audit_key, demo):
    now = timezone.now()
    with dangerously_unscoped():  # test set-up: basic9 last logged in four months ago
        sleeper = User.objects.get(email="basic9@acme.example")
        User.objects.filter(pk=sleeper.pk).update(
            last_login=now - timedelta(days=120), date_joined=now - timedelta(days=400)
        )
    assert run_due_jobs(now=now)["dormancy.warn_and_deactivate"] == 1  # the warning
    assert run_due_jobs(now=now + timedelta(days=14))["dormancy.warn_and_deactivate"] == 1  # the deactivation
    with dangerously_unscoped():
        assert not User.objects.get(pk=sleeper.pk).is_active

    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Dormant accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dormant accounts")
    expect(page.get_by_test_id("dormancy-policy")).to_contain_text("90 days")
    expect(page.get_by_test_id("dormant-deactivated")).to_contain_text("basic9@acme.example")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Event").select_option(label="User deactivated")
    page.get_by_label("Text").fill("Blake Basic 9")  # the event names its target by name
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("event-count")).to_have_text("1 event")
    page.get_by_test_id("audit-events").get_by_role("link", name="User deactivated").click()
    expect(page.locator("main")).to_contain_text("Dormant account: no login for 134 days (tenant policy: 90 days)")
    expect(page.locator("main")).to_contain_text("system")

    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_label("Event").select_option(label="Dormant account warned")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("event-count")).to_have_text("1 event")
