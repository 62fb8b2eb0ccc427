"""Four-eyes end to end on the demo (issue 13, "Done when"): admin proposes making a customer an
Administrator, admin2 approves it after a step-up, and the audit trail shows both, each with its actor."""

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import PendingChange
from tests.e2e.conftest import enter_code, log_in, log_out


@pytest.fixture
def audit_key(settings, tmp_path):
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"


def person(email):
    with dangerously_unscoped():
        return User.objects.select_related("tenant", "role").get(email=email)


def test_admin_proposes_admin2_approves_after_step_up_and_the_trail_shows_both(page, live_server, audit_key, demo):
    target = person("basic5@acme.example")

    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/{target.pk}/")
    page.get_by_role("link", name="Change role").click()
    page.get_by_label("New role").select_option(label="Administrator")
    page.get_by_label("Reason").fill("Takes over the customer accounts")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator(".message-info")).to_contain_text("waits for a second administrator's approval")
    assert person("basic5@acme.example").role.key == "basic"
    with tenant_scope(target.tenant):
        change = PendingChange.objects.get(status="pending", payload__user=target.pk)
    page.goto(f"{live_server.url}/console/approvals/{change.pk}/")
    expect(page.get_by_test_id("own-change")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # never one's own
    expect(page.get_by_test_id("break-glass-form")).to_have_count(0)  # admin2 exists: no break-glass
    log_out(page)

    log_in(page, live_server, "admin2@acme.example")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):  # admin2's login MFA is no longer recent: approving asks again
        page.get_by_role("link", name="Pending approvals").click()
        page.get_by_test_id("approvals").get_by_role("link", name=change.summary).click()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
        enter_code(page, "admin2@acme.example", button="Continue")
        page.get_by_role("button", name="Approve").click()
        expect(page.locator(".message-success")).to_contain_text("The change was approved and applied.")
        assert person("basic5@acme.example").role.key == "administrator"

        page.get_by_role("link", name="Audit log").click()
        page.get_by_label("Text").fill("basic5@acme")
        page.get_by_role("button", name="Filter").click()
        rows = page.get_by_test_id("audit-events")
        requested = rows.locator("tr", has_text="Change awaiting approval")
        expect(requested).to_contain_text("admin@acme.example")
        expect(rows.locator("tr", has_text="Change approved")).to_contain_text("admin2@acme.example")
    with tenant_scope(target.tenant):
        changed = AuditEvent.objects.filter(event_type=EventType.USER_ROLE_CHANGED, target_id=str(target.pk))
        assert changed.count() == 1
