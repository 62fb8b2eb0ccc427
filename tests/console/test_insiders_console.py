"""Issue 13's findings through the console (INS-1, INS-2, INS-3, INS-5): each failed on the code before."""

import re

import pytest
from django.test import Client

from accounts import services as accounts_services
from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, GroupMembership, PendingChange
from permissions.services import grants, groups, roles
from permissions.vocabulary import SYSTEM_ACTIONS
from tests.conftest import login
from tests.console.conftest import messages_of, module, role_with
from tests.factories import UserFactory, builtin_role


def give(user, key, actions, group=None):
    with tenant_scope(user.tenant if user else group.tenant):
        return grants.grant(
            actor=None,
            module=module((user or group).tenant, key),
            actions=actions,
            reason="ok",
            user=None if group else user,
            group=group,
        )


def fresh(user):
    return User.objects.dangerously_all_tenants().select_related("role").get(pk=user.pk)


@pytest.fixture
def mallory(acme):
    user = UserFactory(tenant=acme, email="mallory@acme.example")
    give(user, "users", ["view", "change"])
    return user


@pytest.fixture
def mallory_client(mallory):
    return login(Client(), mallory)


def test_ins1_console_offers_and_allows_nothing_on_a_stronger_user(acme, acme_admin, mallory_client):
    page = mallory_client.get(f"/console/users/{acme_admin.pk}/")
    assert page.status_code == 200
    assert not any(page.context["buttons"][b] for b in ("change_role", "deactivate", "reset_mfa"))
    response = mallory_client.post(
        f"/console/users/{acme_admin.pk}/role/", {"role": builtin_role(acme).pk, "reason": "x"}, follow=True
    )
    assert any("rights you do not hold" in m for m in messages_of(response)), messages_of(response)
    response = mallory_client.post(f"/console/users/{acme_admin.pk}/status/", {"reason": "x"}, follow=True)
    text = " ".join(messages_of(response))
    assert "rights you do not hold" in text and "Missing:" in text
    response = mallory_client.post(f"/accounts/users/{acme_admin.pk}/reset-mfa/", {"reason": "x"}, follow=True)
    assert any("rights you do not hold" in m for m in messages_of(response)), response.status_code
    admin = fresh(acme_admin)
    assert admin.is_active and admin.role.key == BuiltinRole.ADMINISTRATOR


def test_ins1_console_still_lets_a_grant_holder_manage_weaker_users(acme, acme_basic, mallory_client):
    page = mallory_client.get(f"/console/users/{acme_basic.pk}/")
    assert page.context["buttons"]["deactivate"]
    mallory_client.post(f"/console/users/{acme_basic.pk}/status/", {"reason": "left"})
    assert not fresh(acme_basic).is_active


def test_ins2_console_refuses_to_remove_the_last_administrator_from_their_group(acme, acme_admin):
    ops = UserFactory(tenant=acme, email="ops@acme.example")
    with tenant_scope(acme):
        team = groups.create_group(actor=None, tenant=acme, name="Operators")
    for key, actions in SYSTEM_ACTIONS.items():
        give(None, str(key), actions, group=team)
    with tenant_scope(acme):
        groups.add_member(team, ops, actor=None)
        accounts_services.deactivate_user(acme_admin, actor=None)
    client = login(Client(), ops)
    response = client.post(
        f"/console/groups/{team.pk}/members/{ops.pk}/", {"op": "remove", "confirmed": "yes"}, follow=True
    )
    assert any("without an active administrator" in m for m in messages_of(response)), messages_of(response)
    with tenant_scope(acme):
        assert GroupMembership.objects.filter(group=team, user=ops).exists()


def test_ins3_console_approval_names_what_the_approver_lacks(acme, acme_admin):
    matrix = {str(key): list(actions) for key, actions in SYSTEM_ACTIONS.items() if key != "audit"}
    approver = UserFactory(tenant=acme, email="approver@acme.example", role=role_with(acme, "Approver", matrix))
    with tenant_scope(acme):
        auditors = roles.create_role(actor=None, tenant=acme, name="Auditors")
        change = roles.set_role_matrix(auditors, {"audit": ["view", "export"]}, actor=acme_admin)
    assert isinstance(change, PendingChange)
    client = login(Client(), approver)
    response = client.post(f"/console/approvals/{change.pk}/", {"op": "approve", "reason": ""}, follow=True)
    text = " ".join(messages_of(response))
    assert "rights you do not hold" in text and "Audit trail: View" in text and "Audit trail: Export" in text
    with tenant_scope(acme):
        change.refresh_from_db()
        assert change.status == PendingChange.Status.PENDING and roles.matrix_of(auditors) == {}


def test_ins5_console_cancelling_an_invitation_kills_its_link(
    admin_client_acme, acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_acme.post(
            "/console/users/invite/", {"email": "ina@acme.example", "full_name": "Ina", "role": builtin_role(acme).pk}
        )
    link = re.search(r"(/accounts/invitation/[^/\s]+/)", mailoutbox[-1].body).group(1)
    invitee = User.objects.dangerously_all_tenants().get(email="ina@acme.example")
    assert admin_client_acme.get(f"/console/users/{invitee.pk}/").context["buttons"]["cancel_invitation"]
    response = admin_client_acme.post(f"/console/users/{invitee.pk}/status/", {"reason": "wrong address"}, follow=True)
    assert any("was cancelled" in m for m in messages_of(response)), messages_of(response)
    page = Client().get(link)
    assert page.status_code == 404 and b'data-why="cancelled"' in page.content
