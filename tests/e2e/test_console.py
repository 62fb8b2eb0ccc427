"""Browser stories of the console: an administrator edits a role's matrix (preview, then confirm), grants a
report to a customer with an expiry and reads why the customer can see it, and is asked to step up before
making someone an Administrator (which then waits for a second administrator)."""

import datetime as dt
import re

import time_machine
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.models import PendingChange
from permissions.services.roles import matrix_of
from tests.e2e.conftest import enter_code, log_in


def user(email):
    with dangerously_unscoped():
        return User.objects.select_related("tenant", "role").get(email=email)


def test_admin_edits_a_role_matrix_sees_the_impact_then_confirms(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Roles").click()
    page.get_by_test_id("roles").get_by_role("link", name="Advanced user").click()
    page.get_by_role("link", name="Edit the matrix").click()
    page.get_by_label("Reports: Export").uncheck()
    page.get_by_label("Products: Change").check()
    page.get_by_role("button", name="Preview the impact").click()

    expect(page.get_by_test_id("matrix-changes")).to_contain_text("Products + Change")
    expect(page.get_by_test_id("matrix-changes")).to_contain_text("Reports − Export")
    impact = page.get_by_test_id("impact")
    expect(impact).to_contain_text("4 users gain access")
    expect(impact).to_contain_text("4 users lose access")
    expect(impact).to_contain_text("advanced1@acme.example")
    advanced = user("advanced1@acme.example").role
    with tenant_scope(advanced.tenant):
        assert matrix_of(advanced)["reports"] == 0b10001  # view + export: nothing changed yet

    page.get_by_label("Reason").fill("Partners maintain the catalogue")
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.locator(".message-success")).to_contain_text("The matrix of Advanced user was changed.")
    with tenant_scope(advanced.tenant):
        changed = matrix_of(advanced)
    assert changed["reports"] == 0b1 and changed["products"] & 0b100


def test_admin_grants_a_report_to_a_customer_with_an_expiry_and_reads_why(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Modules and resources").click()
    page.get_by_test_id("modules").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Churn analysis").click()
    page.get_by_role("link", name="Grant access").click()
    expect(page.get_by_test_id("grant-resource")).to_contain_text("Churn analysis")
    page.get_by_label("User (email)").fill("basic3@acme.example")
    page.get_by_label("View", exact=True).check()
    page.get_by_label("Reason").fill("Churn workshop with the customer")
    page.get_by_label("Expires").select_option(label="In 7 days")
    page.get_by_role("button", name="Grant").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Blake Basic 3")
    access = page.get_by_test_id("resource-access")
    expect(access).to_contain_text(
        re.compile(r"Direct grant #\d+ → Churn analysis: View, by admin@acme\.example \(expires")
    )
    expect(access).to_contain_text("via group Initech → Q3 revenue: View")
    expect(page.get_by_test_id("user-grants")).to_contain_text("Churn workshop with the customer")

    access.locator("li", has_text="Churn analysis").get_by_role(
        "link", name="Why?"
    ).first.click()  # the reviews demo gave basic3 an older grant too
    expect(page.get_by_test_id("why-view")).to_contain_text("Allowed")
    expect(page.get_by_test_id("why-view")).to_contain_text("Churn analysis: View, by admin@acme.example (expires")
    expect(page.get_by_test_id("why-export")).to_contain_text("No role, group or grant gives this action.")


def test_step_up_is_asked_before_making_someone_an_administrator(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    target = user("basic4@acme.example")
    with tenant_scope(target.tenant):
        administrator = target.tenant.roles.get(key="administrator")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):  # the login's MFA step is no longer recent
        page.goto(f"{live_server.url}/console/users/{target.pk}/")
        page.get_by_role("link", name="Change role").click()
        page.get_by_label("New role").select_option(label="Administrator")
        page.get_by_label("Reason").fill("Runs the customer's account")
        page.get_by_role("button", name="Change role").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
        enter_code(page, "admin@acme.example", button="Continue")
        expect(page.get_by_role("heading", level=1)).to_have_text("Change the role of Blake Basic 4")
        expect(page.get_by_label("New role")).to_have_value(str(administrator.pk))
        page.get_by_label("Reason").fill("Runs the customer's account")
        page.get_by_role("button", name="Change role").click()
        expect(page.locator(".message-info")).to_contain_text("waits for a second administrator's approval")
    assert user("basic4@acme.example").role.key == "basic"
    with tenant_scope(target.tenant):
        assert PendingChange.objects.filter(status="pending", payload__user=target.pk).count() == 1
