"""The demo administrator reads the audit log: filters it, opens an event, and verifies the chain."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in


@pytest.fixture
def audit_key(settings, tmp_path):
    """A signing key of this test, set before the demo is seeded (the demo's review campaigns sign checkpoints)."""
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"


def test_admin_filters_the_audit_log_opens_an_event_and_verifies(page, live_server, audit_key, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_test_id("event-count")).not_to_have_text("0 events")

    page.get_by_label("Event").select_option(label="User created")
    page.get_by_label("Text").fill("basic3@acme")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("event-count")).to_have_text("1 event")
    expect(page.get_by_test_id("audit-events")).not_to_contain_text("Globex")

    page.get_by_test_id("audit-events").get_by_role("link", name="User created").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"Event #\d+: User created"))
    expect(page.get_by_test_id("event-diff")).to_contain_text("basic3@acme.example")

    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("OK")


def test_a_basic_user_has_no_audit_menu(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
