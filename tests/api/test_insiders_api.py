"""Issue 13's findings through the API and SCIM (INS-1, INS-2, INS-5): each failed on the code before."""

import re

import pytest

from accounts import services as accounts_services
from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from permissions.services import grants, groups
from permissions.vocabulary import SYSTEM_ACTIONS
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory, builtin_role
from tests.permissions.conftest import module

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def give(user, key, actions):
    with tenant_scope(user.tenant):
        return grants.grant(actor=None, module=module(user.tenant, key), actions=actions, reason="ok", user=user)


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)


@pytest.fixture
def mallory(acme):
    """A Basic user with an approved grant users: view, change (and settings: change, to hold a key)."""
    user = UserFactory(tenant=acme, email="mallory@acme.example")
    give(user, "users", ["view", "change"])
    give(user, "settings", ["view", "change"])
    return user


@pytest.fixture
def api_mallory(mallory):
    return bearer(issue(mallory, scopes={"users": ["view", "change"]})[1])


@pytest.fixture
def scim_mallory(mallory):
    return bearer(issue(mallory, scopes={"users": ["view", "change"]}, scim=True)[1])


def role_of(user):
    return User.objects.dangerously_all_tenants().select_related("role").get(pk=user.pk)


def test_ins1_api_a_grant_holder_cannot_demote_or_deactivate_administrators(acme, acme_admin, acme_admin2, api_mallory):
    """The finding, replayed: PATCH role=Basic on the second Administrator, then is_active=false on the other."""
    basic = builtin_role(acme)
    response = api_mallory.patch(f"/api/v1/users/{acme_admin2.pk}", {"role": basic.pk}, content_type="application/json")
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "outranked" and "roles:change" in body["missing"]
    response = api_mallory.patch(
        f"/api/v1/users/{acme_admin.pk}", {"is_active": False}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "outranked"
    response = api_mallory.patch(
        f"/api/v1/users/{acme_admin.pk}", {"full_name": "pwned"}, content_type="application/json"
    )
    assert response.status_code == 403
    for admin in (acme_admin, acme_admin2):
        now = role_of(admin)
        assert now.role.key == BuiltinRole.ADMINISTRATOR and now.is_active and now.full_name != "pwned"


def test_ins1_api_a_grant_holder_still_manages_a_weaker_user(acme, acme_basic, api_mallory):
    response = api_mallory.patch(
        f"/api/v1/users/{acme_basic.pk}", {"full_name": "Renamed"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["full_name"] == "Renamed"


def test_ins1_scim_a_grant_holder_cannot_deprovision_an_administrator(acme, acme_admin, acme_admin2, scim_mallory):
    response = scim_mallory.patch(
        f"/scim/v2/Users/{acme_admin.pk}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        content_type=SCIM,
    )
    assert response.status_code == 403, response.content
    assert "rights you do not hold" in response.json()["detail"]
    response = scim_mallory.put(
        f"/scim/v2/Users/{acme_admin2.pk}",
        {"userName": acme_admin2.email, "displayName": "pwned", "active": False},
        content_type=SCIM,
    )
    assert response.status_code == 403
    assert role_of(acme_admin).is_active and role_of(acme_admin2).is_active


@pytest.fixture
def sole_admin_by_group(acme, acme_admin):
    """The only active administrator holds their console rights through a group."""
    ops = UserFactory(tenant=acme, email="ops@acme.example")
    with tenant_scope(acme):
        team = groups.create_group(actor=None, tenant=acme, name="Operators")
        for key, actions in SYSTEM_ACTIONS.items():
            grants.grant(actor=None, module=module(acme, str(key)), actions=actions, reason="ops", group=team)
        groups.add_member(team, ops, actor=None)
        accounts_services.deactivate_user(acme_admin, actor=None, reason="left")
    return ops, team


def test_ins2_api_and_scim_refuse_to_remove_the_last_administrator(acme, sole_admin_by_group):
    ops, team = sole_admin_by_group
    api = bearer(issue(ops)[1])
    response = api.post(f"/api/v1/groups/{team.pk}/members/remove", {"user": ops.pk}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "last_administrator", response.content
    scim = bearer(issue(ops, scopes={"users": ["view", "change"], "groups": ["view", "change"]}, scim=True)[1])
    response = scim.patch(
        f"/scim/v2/Groups/{team.pk}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{ops.pk}"]'}]},
        content_type=SCIM,
    )
    assert response.status_code == 403 and "without an active administrator" in response.json()["detail"]
    with tenant_scope(acme):
        assert team.memberships.filter(user=ops).exists()


def _invite(acme, acme_admin, mailoutbox, capture):
    with tenant_scope(acme), capture(execute=True):
        user = accounts_services.invite_user(
            tenant=acme, email="invitee@acme.example", role=builtin_role(acme), actor=acme_admin
        )
    return user, re.search(r"(/accounts/invitation/[^/\s]+/)", mailoutbox[-1].body).group(1)


@pytest.mark.parametrize("how", ["api_delete", "api_patch", "scim_delete", "scim_patch"])
def test_ins5_deprovisioning_an_invited_user_cancels_the_invitation(
    acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks, client, how
):
    invitee, link = _invite(acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks)
    if how.startswith("api"):
        api = bearer(issue(acme_admin)[1])
        if how == "api_delete":
            response = api.delete(f"/api/v1/users/{invitee.pk}")
        else:
            response = api.patch(f"/api/v1/users/{invitee.pk}", {"is_active": False}, content_type="application/json")
    else:
        scim = bearer(issue(acme_admin, scopes={"users": ["view", "change", "delete"]}, scim=True)[1])
        if how == "scim_delete":
            response = scim.delete(f"/scim/v2/Users/{invitee.pk}")
        else:
            response = scim.patch(
                f"/scim/v2/Users/{invitee.pk}",
                {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]},
                content_type=SCIM,
            )
    assert response.status_code in (200, 204), response.content
    page = client.get(link)
    assert page.status_code == 404
    assert b'data-why="cancelled"' in page.content


def test_ins5_api_reactivation_revives_no_key(acme, acme_admin, acme_admin2):
    _key, token = issue(acme_admin2, scopes={"users": ["view"]})
    assert bearer(token).get("/api/v1/users").status_code == 200
    api = bearer(issue(acme_admin)[1])
    assert api.delete(f"/api/v1/users/{acme_admin2.pk}").status_code == 204
    response = api.patch(f"/api/v1/users/{acme_admin2.pk}", {"is_active": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert bearer(token).get("/api/v1/users").status_code == 401
