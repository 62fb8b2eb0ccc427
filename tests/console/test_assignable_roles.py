"""The console screen of the roles organisations may assign (issue 16): the tenant's list, an addition and a
removal, each after a recent MFA check and audited; a role with console rights is never offered (nor taken
when posted), another tenant's role is a 404, and someone without roles: change changes nothing."""

import datetime as dt

import pytest
import time_machine

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Role
from permissions.services import delegated
from tests.console.conftest import messages_of, person, role_with
from tests.console.test_step_up import asked_to_step_up, step_up
from tests.factories import builtin_role

URL = "/console/organisations/assignable-roles/"


def _assignable(tenant) -> set[str]:
    with tenant_scope(tenant):
        return set(Role.objects.filter(organisation_assignable=True).values_list("key", flat=True))


def _events(tenant) -> list:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type="role.organisation_assignable_changed").order_by("id"))


@pytest.fixture
def allowed_basic(acme, acme_admin):
    with tenant_scope(acme):
        delegated.set_organisation_assignable(builtin_role(acme, "basic"), actor=acme_admin, assignable=True)
    return builtin_role(acme, "basic")


def test_the_list_shows_the_allowed_roles_and_offers_only_roles_without_console_rights(
    admin_client_acme, acme, allowed_basic
):
    role_with(acme, "Support desk", {"products": ["view", "change"]})
    auditor = role_with(acme, "Auditor", {"audit": ["view"]})  # console rights: never offered
    response = admin_client_acme.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    listed = page.split('data-testid="assignable-roles"')[1].split("</table>")[0]
    assert "Basic user" in listed and "Products: View" in listed and "Support desk" not in listed
    offered = {str(role) for role in response.context["form"].fields["role"].queryset}
    assert offered == {"Advanced user", "Support desk"} and str(auditor) not in offered
    assert '<label for="id_role">Role</label>' in page


def test_add_and_remove_are_audited(admin_client_acme, acme, acme_admin, allowed_basic):
    advanced = builtin_role(acme, "advanced")
    response = admin_client_acme.post(URL, {"op": "add", "role": advanced.pk}, follow=True)
    assert "Organisations may now assign the role Advanced user." in messages_of(response)
    assert _assignable(acme) == {"basic", "advanced"}
    response = admin_client_acme.post(URL, {"op": "remove", "role": allowed_basic.pk}, follow=True)
    assert "Organisations may no longer assign the role Basic user." in messages_of(response)
    assert _assignable(acme) == {"advanced"}
    events = _events(acme)[-2:]
    assert [e.after for e in events] == [{"organisation_assignable": True}, {"organisation_assignable": False}]
    assert {e.actor for e in events} == {acme_admin}


def test_a_change_needs_a_recent_mfa_check_and_comes_back_filled_in(admin_client_acme, acme, acme_admin):
    advanced = builtin_role(acme, "advanced")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        asked_to_step_up(admin_client_acme.post(URL, {"op": "add", "role": advanced.pk}), URL)
        assert _assignable(acme) == set() and _events(acme) == []
        step_up(admin_client_acme, acme_admin, f"{URL}?resume=1")
        form = admin_client_acme.get(f"{URL}?resume=1").context["form"]
        assert str(form["role"].value()) == str(advanced.pk)
        admin_client_acme.post(URL, {"op": "add", "role": advanced.pk})
    assert _assignable(acme) == {"advanced"}


def test_console_roles_foreign_roles_and_roles_not_on_the_list_are_404(admin_client_acme, acme, globex, allowed_basic):
    administrator = builtin_role(acme, "administrator")
    foreign = builtin_role(globex, "advanced")
    advanced = builtin_role(acme, "advanced")
    for data in (
        {"op": "add", "role": administrator.pk},  # console rights
        {"op": "add", "role": foreign.pk},  # another tenant's
        {"op": "add", "role": allowed_basic.pk},  # already on the list
        {"op": "remove", "role": advanced.pk},  # not on the list
        {"op": "remove", "role": foreign.pk},
        {"op": "promote", "role": advanced.pk},
        {"op": "add", "role": "x"},
    ):
        assert admin_client_acme.post(URL, data).status_code == 404, data
    assert _assignable(acme) == {"basic"} and len(_events(acme)) == 1
    with tenant_scope(globex):
        assert not Role.objects.filter(organisation_assignable=True).exists()


def test_without_roles_change_nothing_changes_and_without_roles_view_no_page(acme, allowed_basic):
    viewer_role = role_with(acme, "Role viewer", {"roles": ["view"]})
    _viewer, viewer = person(acme, "viewer@acme.example", viewer_role)
    page = viewer.get(URL)
    assert page.status_code == 200 and 'data-testid="add-assignable-role"' not in page.content.decode()
    assert "Remove" not in page.content.decode().split('data-testid="assignable-roles"')[1]
    response = viewer.post(URL, {"op": "remove", "role": allowed_basic.pk}, follow=True)
    assert "You are not allowed to do this." in messages_of(response)
    assert _assignable(acme) == {"basic"}
    _basic, basic = person(acme, "someone@acme.example", builtin_role(acme, "basic"))
    assert basic.get(URL).status_code == 403
    assert basic.post(URL, {"op": "remove", "role": allowed_basic.pk}).status_code == 403
    assert _assignable(acme) == {"basic"}


def test_links_from_the_organisations_and_roles_lists(admin_client_acme):
    assert URL in admin_client_acme.get("/console/organisations/").content.decode()
    assert URL in admin_client_acme.get("/console/roles/").content.decode()
