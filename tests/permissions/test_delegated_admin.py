"""Delegated administration: "organisation: manage" (groups: change on the organisation's row) lets its
holder invite, deactivate and change the role of their own organisation's members, within the roles the
tenant allows organisations to assign and their own rights; a foreign organisation's people are 404."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import BuiltinRole, Resource, Role
from permissions.services import delegated, grants
from permissions.services import organisations as orgs
from permissions.services.errors import AccessRefused, ErrorCode
from tests.conftest import login
from tests.factories import UserFactory


@pytest.fixture
def setup(acme, acme_admin):
    """Initech (advanced1 administers it; basic1, basic2 members) and Umbrella (basic6)."""
    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
        umbrella = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Umbrella")
        Role.objects.filter(key__in=["basic", "advanced"]).update(organisation_assignable=True)
    people = {}
    for email, role, org in [
        ("advanced1", BuiltinRole.ADVANCED, initech),
        ("basic1", BuiltinRole.BASIC, initech),
        ("basic2", BuiltinRole.BASIC, initech),
        ("basic6", BuiltinRole.BASIC, umbrella),
    ]:
        user = UserFactory(tenant=acme, email=f"{email}@acme.example", role_key=role)
        with tenant_scope(acme):
            orgs.set_user_organisation(user, org, actor=None)
        user.refresh_from_db()
        people[email] = user
    with tenant_scope(acme):
        grants.grant(
            actor=None,
            user=people["advanced1"],
            module=initech.resource.module,
            resource=Resource.objects.get(pk=initech.resource_id),
            actions=["change"],
            reason="Initech's administrator",
        )
    return {"initech": initech, "umbrella": umbrella, **people}


def roles(acme):
    with tenant_scope(acme):
        return {r.key: r for r in Role.objects.all()}


def test_the_right_is_held_for_one_organisation_only(acme, setup):
    admin = setup["advanced1"]
    with tenant_scope(acme):
        assert delegated.manages(admin, setup["initech"]) and not delegated.manages(admin, setup["umbrella"])
        assert list(delegated.managed_organisations(admin)) == [setup["initech"]]
        assert [r.key for r in delegated.assignable_roles(admin)] == ["advanced", "basic"]


def test_invite_change_role_and_deactivate_members_are_audited(acme, setup):
    admin, basic1 = setup["advanced1"], setup["basic1"]
    with tenant_scope(acme):
        new = delegated.invite_member(
            actor=admin, org=setup["initech"], email="new@acme.example", role=roles(acme)["basic"]
        )
        delegated.change_member_role(actor=admin, org=setup["initech"], user=basic1, role=roles(acme)["advanced"])
        delegated.deactivate_member(actor=admin, org=setup["initech"], user=setup["basic2"], reason="left")
        events = set(AuditEvent.objects.filter(actor_id=str(admin.pk)).values_list("event_type", flat=True))
    assert new.organisation_id == setup["initech"].pk and not new.is_active
    basic1.refresh_from_db()
    assert basic1.role.key == "advanced"
    assert not User.objects.dangerously_all_tenants().get(pk=setup["basic2"].pk).is_active
    assert {"user.invited", "user.organisation_changed", "user.role_changed", "user.deactivated"} <= events


def test_nothing_outside_their_organisation(acme, setup):
    admin = setup["advanced1"]
    with tenant_scope(acme):
        for call in (
            lambda: delegated.deactivate_member(actor=admin, org=setup["umbrella"], user=setup["basic6"]),
            lambda: delegated.deactivate_member(actor=admin, org=setup["initech"], user=setup["basic6"]),
            lambda: delegated.invite_member(
                actor=admin, org=setup["umbrella"], email="x@acme.example", role=roles(acme)["basic"]
            ),
        ):
            with pytest.raises(AccessRefused) as refused:
                call()
            assert refused.value.code == ErrorCode.NOT_ALLOWED
    assert User.objects.dangerously_all_tenants().get(pk=setup["basic6"].pk).is_active


def test_never_beyond_their_own_rights(acme, setup):
    admin = setup["advanced1"]
    with tenant_scope(acme):
        Role.objects.filter(key="administrator").update(organisation_assignable=True)
        for role in ("administrator",):  # console rights: never, even when the tenant allows it
            with pytest.raises(AccessRefused):
                delegated.change_member_role(
                    actor=admin, org=setup["initech"], user=setup["basic1"], role=roles(acme)[role]
                )
        with pytest.raises(AccessRefused) as refused:  # themselves
            delegated.change_member_role(actor=admin, org=setup["initech"], user=admin, role=roles(acme)["basic"])
        assert refused.value.code == ErrorCode.SELF_ROLE
        Role.objects.filter(key="advanced").update(organisation_assignable=False)
        with pytest.raises(AccessRefused):  # the tenant does not let organisations assign it
            delegated.change_member_role(
                actor=admin, org=setup["initech"], user=setup["basic1"], role=roles(acme)["advanced"]
            )
    setup["basic1"].refresh_from_db()
    assert setup["basic1"].role.key == "basic"


def test_a_member_holding_more_cannot_be_touched(acme, setup):
    admin, basic1 = setup["advanced1"], setup["basic1"]
    with tenant_scope(acme):
        from permissions.models import Module

        grants.grant(actor=None, user=basic1, module=Module.objects.get(key="reports"), actions=["delete"], reason="r")
        with pytest.raises(AccessRefused) as refused:
            delegated.deactivate_member(actor=admin, org=setup["initech"], user=basic1)
    assert refused.value.code == ErrorCode.OUTRANKED


def test_console_screens_show_only_their_people_and_404_elsewhere(acme, setup):
    client = login(Client(), setup["advanced1"])  # an organisation administrator must pass MFA
    page = client.get(f"/console/my-organisations/{setup['initech'].pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "basic1@acme.example" in body and "basic6@acme.example" not in body
    assert client.get(f"/console/my-organisations/{setup['umbrella'].pk}/").status_code == 404
    # Acting on Umbrella's person through Initech's page: 404, nothing changed.
    response = client.post(
        f"/console/my-organisations/{setup['initech'].pk}/", {"user": setup["basic6"].pk, "op": "deactivate"}
    )
    assert response.status_code == 404
    assert User.objects.dangerously_all_tenants().get(pk=setup["basic6"].pk).is_active
    response = client.post(
        f"/console/my-organisations/{setup['initech'].pk}/",
        {"op": "invite", "email": "colleague@acme.example", "role": roles(acme)["basic"].pk},
    )
    assert response.status_code == 302
    with tenant_scope(acme):
        assert User.objects.get(email="colleague@acme.example").organisation_id == setup["initech"].pk


def test_a_customer_without_the_right_gets_404(acme, setup):
    client = login(Client(), setup["basic1"])
    assert client.get(f"/console/my-organisations/{setup['initech'].pk}/").status_code == 404
    assert client.get("/console/my-organisations/").status_code == 200


def test_the_tenant_decides_which_roles_organisations_may_assign(acme, acme_admin, setup):
    with tenant_scope(acme):
        custom = Role.objects.create(tenant=acme, key="custom", name="Custom")
        delegated.set_organisation_assignable(custom, actor=acme_admin, assignable=True)
        with pytest.raises(AccessRefused):  # never a role with console rights
            delegated.set_organisation_assignable(roles(acme)["administrator"], actor=acme_admin, assignable=True)
        with pytest.raises(AccessRefused) as refused:
            delegated.set_organisation_assignable(custom, actor=setup["advanced1"], assignable=False)
        assert refused.value.code == ErrorCode.NOT_ALLOWED
        assert AuditEvent.objects.filter(event_type="role.organisation_assignable_changed").count() == 1
    custom.refresh_from_db()
    assert custom.organisation_assignable


def test_changes_need_a_recent_mfa_check(acme, setup):
    import time

    from django.urls import reverse

    from accounts.stepup import MFA_VERIFIED_AT

    client = login(Client(), setup["advanced1"])
    session = client.session
    session[MFA_VERIFIED_AT] = time.time() - 3600
    session.save()
    url = f"/console/my-organisations/{setup['initech'].pk}/"
    response = client.post(url, {"user": setup["basic2"].pk, "op": "deactivate"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:stepup"))
    assert User.objects.dangerously_all_tenants().get(pk=setup["basic2"].pk).is_active


def test_the_organisation_page_names_its_administrators(acme, acme_admin, setup):
    client = login(Client(), acme_admin)
    page = client.get(f"/console/organisations/{setup['initech'].pk}/").content.decode()
    admins = page.split('data-testid="organisation-administrators"')[1].split("</table>")[0]
    assert "advanced1@acme.example" in admins and "admin@acme.example" not in admins
    assert f"/console/grants/new/?resource={setup['initech'].resource_id}" in page
    form = client.get(f"/console/grants/new/?resource={setup['initech'].resource_id}")
    assert form.status_code == 200 and "Initech" in form.content.decode()
    # Granting "organisation: manage" is a console right: it waits for a second administrator.
    response = client.post(
        "/console/grants/new/",
        {
            "user": setup["basic1"].email,
            "resource": setup["initech"].resource_id,
            "actions": ["change"],
            "reason": "Second administrator of Initech",
        },
    )
    assert response.status_code == 302
    from permissions.models import PendingChange

    with tenant_scope(acme):
        assert PendingChange.objects.filter(status="pending").count() == 1
        assert not delegated.manages(setup["basic1"], setup["initech"])
