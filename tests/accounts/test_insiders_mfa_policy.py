"""INS-6 through the login: under "administrators and reviewers", a user whose console rights come from a
grant, a group or a custom role is sent to MFA enrolment, not into the console (before: the role's name
decided, and they used the console with a password alone)."""

import pytest

from accounts.models import Tenant
from accounts.scoping import tenant_scope
from permissions.services import grants, groups, roles
from tests.accounts.conftest import password_only
from tests.factories import UserFactory
from tests.permissions.conftest import module


@pytest.fixture
def policy_privileged(acme):
    acme.mfa_policy = Tenant.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    return acme


def _holds_console_rights(tenant, user, how):
    with tenant_scope(tenant):
        if how == "grant":
            grants.grant(actor=None, module=module(tenant, "users"), actions=["view"], reason="r", user=user)
        elif how == "group":
            team = groups.create_group(actor=None, tenant=tenant, name="Helpdesk")
            grants.grant(actor=None, module=module(tenant, "users"), actions=["view"], reason="r", group=team)
            groups.add_member(team, user, actor=None)
        else:
            role = roles.create_role(actor=None, tenant=tenant, name="Helpdesk")
            roles.set_role_matrix(role, {"users": ["view"]}, actor=None)
            roles.change_user_role(user, role, actor=None)


@pytest.mark.parametrize("how", ["grant", "group", "custom_role"])
def test_ins6_console_rights_however_obtained_need_mfa_at_login(policy_privileged, how):
    user = UserFactory(tenant=policy_privileged, email=f"{how}@acme.example")
    _holds_console_rights(policy_privileged, user, how)
    client, response = password_only(user)
    assert response["Location"].startswith("/accounts/mfa/"), response["Location"]
    console = client.get("/console/users/")
    assert console.status_code == 302 and console["Location"].startswith("/accounts/mfa/")


def test_ins6_business_rights_alone_still_log_in_with_a_password(policy_privileged):
    user = UserFactory(tenant=policy_privileged, email="seller@acme.example", role_key="advanced")
    client, response = password_only(user)
    assert not response["Location"].startswith("/accounts/mfa/")
    assert client.get("/").status_code == 200
