"""Step-up before console escalations (issue 5, item 5): granting system-module rights, adding system actions
to a role's matrix, joining someone to a group that holds them, making an administrator. Whoever proposes
the change must have passed an MFA check in the last 10 minutes; nothing is proposed before, and the form
comes back filled in after the check. Changes that give no console right need no step-up."""

import datetime as dt

import pytest
import time_machine

from accounts.scoping import tenant_scope
from permissions.models import Grant, PendingChange
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from tests.accounts.mfa_helpers import device_of, fresh_code
from tests.console.conftest import messages_of, module, role_with
from tests.factories import builtin_role

STEP_UP = "/accounts/mfa/step-up/"


@pytest.fixture
def stale(admin_client_acme):
    """The administrator's login MFA step is 11 minutes old (the clock moves on, ticking)."""
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        yield admin_client_acme


def step_up(client, user, next_url):
    device = device_of(user)
    response = client.post(STEP_UP, {"device": device.persistent_id, "code": fresh_code(device), "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    return response


def pending(tenant):
    with tenant_scope(tenant):
        return list(PendingChange.objects.filter(status="pending"))


def asked_to_step_up(response, form_path):
    assert response.status_code == 302
    assert response["Location"] == f"{STEP_UP}?next={form_path.replace('/', '%2F')}%3Fresume%3D1"


def test_a_system_module_grant_asks_for_a_step_up_and_comes_back_filled_in(stale, acme, acme_admin, acme_customer):
    audit_module = module(acme, "audit")
    data = {"user": acme_customer.email, "module": audit_module.pk, "actions": ["view"], "reason": "quarter audit"}
    asked_to_step_up(stale.post("/console/grants/new/", data), "/console/grants/new/")
    assert pending(acme) == []
    with tenant_scope(acme):
        assert not Grant.objects.exists()
    step_up(stale, acme_admin, "/console/grants/new/?resume=1")
    form = stale.get("/console/grants/new/?resume=1").context["form"]
    assert form["user"].value() == acme_customer.email and form["reason"].value() == "quarter audit"
    assert str(form["module"].value()) == str(audit_module.pk) and form["actions"].value() == ["view"]
    assert stale.get("/console/grants/new/?resume=1").context["form"].is_bound is False  # kept once only
    response = stale.post("/console/grants/new/", data, follow=True)
    assert "waits for a second administrator" in " ".join(messages_of(response))
    assert [change.kind for change in pending(acme)] == ["grant"]


def test_a_business_module_grant_needs_no_step_up(stale, acme, acme_customer):
    data = {"user": acme_customer.email, "module": module(acme, "reports").pk, "actions": ["view"], "reason": "QBR"}
    response = stale.post("/console/grants/new/", data)
    assert response.status_code == 302 and not response["Location"].startswith(STEP_UP)
    with tenant_scope(acme):
        assert Grant.objects.filter(user=acme_customer, module__key="reports").count() == 1


def test_adding_a_system_action_to_a_matrix_asks_for_a_step_up(stale, acme, acme_admin):
    role = role_with(acme, "Sales", {"reports": ["view"]})
    url = f"/console/roles/{role.pk}/matrix/"
    cells = {"cell:reports:view": "on", "cell:audit:view": "on"}
    asked_to_step_up(stale.post(url, {**cells, "step": "preview"}), url)
    asked_to_step_up(stale.post(url, {**cells, "step": "confirm", "reason": "x"}), url)
    assert pending(acme) == []
    step_up(stale, acme_admin, f"{url}?resume=1")
    grid = stale.get(f"{url}?resume=1").context["grid"]
    checked = {cell.name for row in grid.rows for cell in row.cells if cell.checked}
    assert checked == {"cell:reports:view", "cell:audit:view"}
    response = stale.post(url, {**cells, "step": "confirm", "reason": "auditors"}, follow=True)
    assert "waits for a second administrator" in " ".join(messages_of(response))
    assert [change.kind for change in pending(acme)] == ["matrix"]


def test_removing_a_system_action_or_changing_business_cells_needs_no_step_up(stale, acme):
    role = role_with(acme, "Auditors", {"audit": ["view"], "reports": ["view"]})
    url = f"/console/roles/{role.pk}/matrix/"
    response = stale.post(url, {"cell:reports:view": "on", "cell:reports:export": "on", "step": "preview"})
    assert response.status_code == 200 and response.templates[0].name == "console/role_preview.html"


def test_joining_a_group_that_holds_console_rights_asks_for_a_step_up(stale, acme, acme_admin, acme_customer):
    with tenant_scope(acme):
        group = group_services.create_group(actor=None, tenant=acme, name="Auditors")
        grant_services.grant(actor=None, module=module(acme, "audit"), group=group, actions=["view"], reason="x")
        plain = group_services.create_group(actor=None, tenant=acme, name="Initech")
    url = f"/console/groups/{group.pk}/members/"
    asked_to_step_up(stale.post(url, {"user": acme_customer.email}), url)
    assert pending(acme) == []
    response = stale.post(f"/console/groups/{plain.pk}/members/", {"user": acme_customer.email})
    assert response.status_code == 302 and not response["Location"].startswith(STEP_UP)
    step_up(stale, acme_admin, f"{url}?resume=1")
    assert stale.get(f"{url}?resume=1").context["form"]["user"].value() == acme_customer.email


def test_making_someone_administrator_keeps_the_reason_through_the_step_up(stale, acme, acme_admin, acme_customer):
    administrator = builtin_role(acme, "administrator")
    url = f"/console/users/{acme_customer.pk}/role/"
    asked_to_step_up(stale.post(url, {"role": administrator.pk, "reason": "runs the account"}), url)
    step_up(stale, acme_admin, f"{url}?resume=1")
    form = stale.get(f"{url}?resume=1").context["form"]
    assert str(form["role"].value()) == str(administrator.pk) and form["reason"].value() == "runs the account"


def test_a_form_kept_for_one_page_is_not_shown_on_another(stale, acme, acme_admin, acme_customer):
    data = {"user": acme_customer.email, "module": module(acme, "audit").pk, "actions": ["view"], "reason": "x"}
    stale.post("/console/grants/new/", data)
    step_up(stale, acme_admin, "/console/grants/new/?resume=1")
    url = f"/console/users/{acme_customer.pk}/role/?resume=1"
    assert stale.get(url).context["form"].is_bound is False


def test_the_audit_export_asks_for_a_step_up(stale, acme):
    response = stale.post("/audit/export/", {"proofs": "1"})
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
