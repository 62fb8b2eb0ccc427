"""Issue 13 items 1, 5, 6, 7 and issue 22's matrix approval, at the services (INS-1, INS-2, INS-3, INS-5,
INS-6): the hierarchy of rights, the last administrator, deprovisioning, privileged by rights, and
approvers who approve only what they hold. Each test failed on the code before the change."""

import pytest
from django.utils import timezone

from accounts import auth_services
from accounts import services as accounts_services
from accounts.auth_models import EmailToken
from accounts.mfa import services as mfa_services
from accounts.models import Tenant, User
from accounts.policy import is_privileged, mfa_required
from accounts.scoping import tenant_scope
from api import keys
from api.services import update_user
from permissions.models import BuiltinRole, GroupMembership, PendingChange
from permissions.services import changes, grants, groups, roles
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import has_active_administrator, is_administrator
from permissions.vocabulary import SYSTEM_ACTIONS, actions_of
from tests.factories import UserFactory, builtin_role
from tests.permissions.conftest import module

ALL_CONSOLE = {str(key): list(actions) for key, actions in SYSTEM_ACTIONS.items()}


def refused(code, call, *args, **kwargs) -> AccessRefused:
    with pytest.raises(AccessRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def fresh(user):
    return User.objects.select_related("role").get(pk=user.pk)


def give(user, key, actions, **kwargs):
    """A direct grant applied by the system (no pending change): how a grant approved earlier looks."""
    return grants.grant(actor=None, module=module(user.tenant, key), actions=actions, reason="approved", user=user)


@pytest.fixture
def mallory(acme):
    """The finding's insider: a Basic user holding an approved grant users: view, change."""
    user = UserFactory(tenant=acme, email="mallory@acme.example")
    with tenant_scope(acme):
        give(user, "users", ["view", "change"])
    return user


# ---------------------------------------------------------------- INS-1: the hierarchy of rights


def test_ins1_a_grant_holder_cannot_demote_deactivate_or_edit_an_administrator(in_acme, mallory, acme_admin):
    """The finding: a Basic user with users: view, change demoted an Administrator and deactivated
    another. Now every verb is refused, naming the rights the actor lacks, and nothing changed."""
    error = refused(ErrorCode.OUTRANKED, roles.change_user_role, acme_admin, builtin_role(in_acme), actor=mallory)
    assert any(str(right) == "roles:change" for right in error.missing)
    refused(ErrorCode.OUTRANKED, accounts_services.deactivate_user, acme_admin, actor=mallory)
    refused(ErrorCode.OUTRANKED, update_user, acme_admin, actor=mallory, full_name="pwned")
    refused(ErrorCode.OUTRANKED, update_user, acme_admin, actor=mallory, is_active=False)
    refused(ErrorCode.OUTRANKED, mfa_services.reset_mfa, acme_admin, actor=mallory)
    admin = fresh(acme_admin)
    assert admin.role.key == BuiltinRole.ADMINISTRATOR and admin.is_active and admin.full_name != "pwned"


def test_ins1_rights_are_compared_not_role_names(in_acme, acme_admin, acme_advanced):
    """Two Basic users: one holds a grant on reports the other lacks, so the other cannot touch them;
    once the actor holds the same (through a group), they can."""
    actor = UserFactory(tenant=in_acme, email="actor@acme.example")
    target = UserFactory(tenant=in_acme, email="target@acme.example")
    give(actor, "users", ["view", "change"])
    give(target, "reports", ["view", "export"])
    error = refused(ErrorCode.OUTRANKED, update_user, target, actor=actor, full_name="x")
    assert {str(r) for r in error.missing} == {"reports:view", "reports:export"}
    team = groups.create_group(actor=None, tenant=in_acme, name="Readers")
    grants.grant(actor=None, module=module(in_acme, "reports"), actions=["view", "export"], reason="r", group=team)
    groups.add_member(team, actor, actor=None)
    update_user(target, actor=actor, full_name="Renamed")
    assert fresh(target).full_name == "Renamed"


def test_ins1_object_level_rights_count_too(in_acme, acme_admin, report):
    actor = UserFactory(tenant=in_acme, email="actor@acme.example")
    target = UserFactory(tenant=in_acme, email="target@acme.example")
    give(actor, "users", ["view", "change"])
    grants.grant(actor=None, module=report.module, resource=report, actions=["view"], reason="r", user=target)
    error = refused(ErrorCode.OUTRANKED, accounts_services.deactivate_user, target, actor=actor)
    assert [str(r) for r in error.missing] == [f"reports:view ({report.title})"]


def test_ins1_group_and_grant_changes_on_a_stronger_user_are_refused(in_acme, acme_admin, acme_admin2):
    holder = UserFactory(tenant=in_acme, email="groupie@acme.example")
    give(holder, "groups", ["view", "change"])
    give(holder, "grants", ["view", "create", "delete"])
    team = groups.create_group(actor=None, tenant=in_acme, name="Team")
    groups.add_member(team, acme_admin2, actor=None)
    refused(ErrorCode.OUTRANKED, groups.remove_member, team, acme_admin2, actor=holder)
    direct = give(acme_admin2, "products", ["view"])
    refused(ErrorCode.OUTRANKED, grants.revoke, direct, actor=holder, reason="no")
    assert GroupMembership.objects.filter(group=team, user=acme_admin2).exists()


def test_ins1_an_administrator_still_manages_weaker_users(in_acme, acme_admin, acme_customer):
    accounts_services.deactivate_user(acme_customer, actor=acme_admin, reason="left")
    accounts_services.reactivate_user(acme_customer, actor=acme_admin, reason="back")
    roles.change_user_role(acme_customer, builtin_role(in_acme, BuiltinRole.ADVANCED), actor=acme_admin)
    assert fresh(acme_customer).role.key == BuiltinRole.ADVANCED


# ---------------------------------------------------------------- INS-2: never zero active administrators


def test_ins2_last_administrator_by_deactivation_is_refused(in_acme, acme_admin):
    error = refused(ErrorCode.LAST_ADMINISTRATOR, accounts_services.deactivate_user, acme_admin, actor=None)
    assert "without an active administrator" in str(error)
    assert fresh(acme_admin).is_active


def test_ins2_last_administrator_by_role_change_is_refused(in_acme, acme_admin):
    refused(ErrorCode.LAST_ADMINISTRATOR, roles.change_user_role, acme_admin, builtin_role(in_acme), actor=None)
    assert fresh(acme_admin).role.key == BuiltinRole.ADMINISTRATOR


def test_ins2_a_second_administrator_makes_the_change_possible(in_acme, acme_admin, acme_admin2):
    roles.change_user_role(acme_admin2, builtin_role(in_acme), actor=acme_admin)
    assert has_active_administrator(in_acme.pk)
    refused(ErrorCode.LAST_ADMINISTRATOR, accounts_services.deactivate_user, acme_admin, actor=None)


@pytest.fixture
def admin_by_group(in_acme, acme_admin):
    """The tenant's only administrator holds their console rights through a group; the built-in
    Administrator left (deactivated by the system while this one existed)."""
    ops = UserFactory(tenant=in_acme, email="ops@acme.example")
    team = groups.create_group(actor=None, tenant=in_acme, name="Operators")
    for key, actions in ALL_CONSOLE.items():
        grants.grant(actor=None, module=module(in_acme, key), actions=actions, reason="ops", group=team)
    groups.add_member(team, ops, actor=None)
    assert is_administrator(ops)
    accounts_services.deactivate_user(acme_admin, actor=None, reason="left")
    return ops, team


def test_ins2_rights_through_groups_and_grants_count(in_acme, admin_by_group):
    ops, team = admin_by_group
    assert has_active_administrator(in_acme.pk)
    refused(ErrorCode.LAST_ADMINISTRATOR, groups.remove_member, team, ops, actor=ops)
    users_grant = team.grants.get(module__key="users")
    refused(ErrorCode.LAST_ADMINISTRATOR, grants.revoke, users_grant, actor=None, reason="tidy")
    assert is_administrator(fresh(ops))


def test_ins2_a_custom_role_matrix_cannot_strip_the_last_administrator(in_acme, acme_admin):
    ops_role = roles.create_role(actor=None, tenant=in_acme, name="Operators")
    roles.set_role_matrix(ops_role, ALL_CONSOLE, actor=None)
    ops = UserFactory(tenant=in_acme, email="ops@acme.example", role=ops_role)
    accounts_services.deactivate_user(acme_admin, actor=None)
    refused(ErrorCode.LAST_ADMINISTRATOR, roles.set_role_matrix, ops_role, {"users": ["view"]}, actor=None)
    assert is_administrator(fresh(ops))


def test_ins2_review_application_is_guarded_by_the_same_rule(in_acme, acme_admin, admin_by_group):
    """Review application (actor=None) revoking the group's console grant: guarded, not applied."""
    from reviews.services.applying import _apply_grant  # the per-item step

    ops, team = admin_by_group

    class Item:
        final_decision = "revoke"
        decided_by_id = None
        justification = ""
        pk = 1

    class Campaign:
        pk = 1
        name = "Q1"
        tenant = in_acme

    grant = team.grants.get(module__key="roles")
    result, _detail = _apply_grant(Item(), Campaign(), timezone.now(), grant)
    assert result == "guarded"
    assert is_administrator(fresh(ops))


# ---------------------------------------------------------------- INS-3: approvers approve only what they hold


@pytest.fixture
def approver(in_acme):
    """Holds grants: approve and roles/users rights, but not audit: export."""
    role = roles.create_role(actor=None, tenant=in_acme, name="Approver")
    matrix = {key: list(actions) for key, actions in ALL_CONSOLE.items() if key != "audit"}
    matrix["audit"] = ["view"]
    roles.set_role_matrix(role, matrix, actor=None)
    return UserFactory(tenant=in_acme, email="approver@acme.example", role=role)


def test_ins3_matrix_change_giving_what_the_approver_lacks_is_refused(in_acme, acme_admin, approver):
    auditors = roles.create_role(actor=None, tenant=in_acme, name="Auditors")
    change = roles.set_role_matrix(auditors, {"audit": ["view", "export"]}, actor=acme_admin)
    assert isinstance(change, PendingChange)
    error = refused(ErrorCode.APPROVER_LACKS, changes.approve_change, change, actor=approver)
    assert [str(r) for r in error.missing] == ["audit:export"]
    assert roles.matrix_of(auditors) == {}
    change.refresh_from_db()
    assert change.status == PendingChange.Status.PENDING


def test_ins3_membership_giving_what_the_approver_lacks_is_refused(in_acme, acme_admin, approver, acme_customer):
    team = groups.create_group(actor=None, tenant=in_acme, name="Auditors")
    grants.grant(actor=None, module=module(in_acme, "audit"), actions=["view", "export"], reason="a", group=team)
    change = groups.add_member(team, acme_customer, actor=acme_admin)
    assert isinstance(change, PendingChange)
    error = refused(ErrorCode.APPROVER_LACKS, changes.approve_change, change, actor=approver)
    assert [str(r) for r in error.missing] == ["audit:export"]
    assert not GroupMembership.objects.filter(group=team, user=acme_customer).exists()


def test_ins3_grant_and_role_change_name_what_the_approver_lacks(in_acme, acme_admin, approver, acme_customer):
    change = grants.grant(
        actor=acme_admin, module=module(in_acme, "audit"), actions=["export"], reason="r", user=acme_customer
    )
    error = refused(ErrorCode.APPROVER_LACKS, changes.approve_change, change, actor=approver)
    assert [str(r) for r in error.missing] == ["audit:export"]
    change = roles.change_user_role(acme_customer, builtin_role(in_acme, BuiltinRole.ADMINISTRATOR), actor=acme_admin)
    error = refused(ErrorCode.APPROVER_LACKS, changes.approve_change, change, actor=approver)
    assert "audit:export" in [str(r) for r in error.missing]


def test_ins3_an_approver_holding_everything_approves(in_acme, acme_admin, acme_admin2):
    auditors = roles.create_role(actor=None, tenant=in_acme, name="Auditors")
    change = roles.set_role_matrix(auditors, {"audit": ["view", "export"]}, actor=acme_admin)
    changes.approve_change(change, actor=acme_admin2)
    assert roles.matrix_of(auditors) == {"audit": 0b10001}


def test_issue22_matrix_approval_keeps_later_edits(in_acme, acme_admin, acme_admin2):
    """Issue 22: approving re-applied the request's snapshot, silently undoing later edits."""
    role = roles.create_role(actor=None, tenant=in_acme, name="Analysts")
    roles.set_role_matrix(role, {"reports": ["view"]}, actor=None)
    change = roles.set_role_matrix(role, {"reports": ["view"], "audit": ["view"]}, actor=acme_admin)
    assert isinstance(change, PendingChange)
    # a later, non-escalating edit by someone else: products added, reports view kept
    roles.set_role_matrix(role, {"reports": ["view", "export"], "products": ["view"]}, actor=acme_admin2)
    changes.approve_change(change, actor=acme_admin2)
    readable = {key: sorted(a.value for a in actions_of(mask)) for key, mask in roles.matrix_of(role).items()}
    assert readable == {"reports": ["export", "view"], "products": ["view"], "audit": ["view"]}


# ---------------------------------------------------------------- INS-5: deprovisioning


def _invite(tenant, actor, email="invitee@acme.example"):
    return accounts_services.invite_user(tenant=tenant, email=email, role=builtin_role(tenant), actor=actor)


def _raw_link(mailbox):
    import re

    return re.search(r"/accounts/invitation/([^/\s]+)/", mailbox[-1].body).group(1)


def test_ins5_deactivating_an_invited_user_cancels_the_invitation(
    in_acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitee = _invite(in_acme, acme_admin)
    raw = _raw_link(mailoutbox)
    assert auth_services.find_token(raw, EmailToken.Purpose.INVITATION) is not None
    accounts_services.deactivate_user(invitee, actor=acme_admin, reason="wrong person")
    assert auth_services.find_token(raw, EmailToken.Purpose.INVITATION) is None
    assert auth_services.why_unusable(raw, EmailToken.Purpose.INVITATION) == "cancelled"


def test_ins5_a_superseded_link_says_so(in_acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitee = _invite(in_acme, acme_admin)
    first = _raw_link(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.send_invitation(invitee, actor=acme_admin)
    assert auth_services.why_unusable(first, EmailToken.Purpose.INVITATION) == "superseded"
    assert auth_services.why_unusable(_raw_link(mailoutbox), EmailToken.Purpose.INVITATION) == ""


def test_ins5_reactivation_revives_no_api_key(in_acme, acme_admin, acme_admin2):
    issued = keys.create_key(actor=acme_admin2, name="ci", scopes={"users": ["view"]})
    assert keys.verify(issued.token) is not None
    accounts_services.deactivate_user(acme_admin2, actor=acme_admin, reason="left")
    accounts_services.reactivate_user(acme_admin2, actor=acme_admin, reason="back")
    keys.forget_verified()
    assert keys.verify(issued.token) is None
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is not None and issued.key.revoked_by_id == acme_admin.pk


def test_ins5_reactivation_revives_no_reset_link(in_acme, acme_admin, acme_customer):
    raw = auth_services.issue_token(acme_customer, EmailToken.Purpose.PASSWORD_RESET)
    accounts_services.deactivate_user(acme_customer, actor=acme_admin)
    accounts_services.reactivate_user(acme_customer, actor=acme_admin)
    assert auth_services.find_token(raw, EmailToken.Purpose.PASSWORD_RESET) is None
    assert auth_services.why_unusable(raw, EmailToken.Purpose.PASSWORD_RESET) == "cancelled"


# ---------------------------------------------------------------- INS-6: privileged by rights


@pytest.mark.parametrize("how", ["grant", "group", "custom_role"])
def test_ins6_console_rights_from_anywhere_make_a_user_privileged(in_acme, how):
    in_acme.mfa_policy = Tenant.MfaPolicy.PRIVILEGED
    in_acme.save(update_fields=["mfa_policy"])
    user = UserFactory(tenant=in_acme, email="quiet@acme.example")
    assert not mfa_required(fresh(user))
    if how == "grant":
        give(user, "users", ["view"])
    elif how == "group":
        team = groups.create_group(actor=None, tenant=in_acme, name="Helpdesk")
        grants.grant(actor=None, module=module(in_acme, "audit"), actions=["view"], reason="h", group=team)
        groups.add_member(team, user, actor=None)
    else:
        role = roles.create_role(actor=None, tenant=in_acme, name="Helpdesk")
        roles.set_role_matrix(role, {"users": ["view"], "products": ["view"]}, actor=None)
        roles.change_user_role(user, role, actor=None)
    user = fresh(user)
    assert is_privileged(user) and mfa_required(user)


def test_ins6_business_rights_alone_are_not_privileged(in_acme):
    user = UserFactory(tenant=in_acme, email="seller@acme.example", role_key=BuiltinRole.ADVANCED)
    assert not is_privileged(user)
