"""Separation of duties over the API, SCIM and the check API: refusals as problem+json / SCIM errors naming
the rule, the check API's explain, the violations list and rules CRUD; another tenant's rule is 404."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import GroupMembership, SodRule
from permissions.services import groups as group_services
from tests.api.conftest import bearer, issue
from tests.api.scimkit import SCIM, SCOPES
from tests.sodkit import give, make_payments, no_self_approval_rule


@pytest.fixture
def payments(acme):
    return make_payments(acme)


@pytest.fixture
def no_self_approval(acme, acme_admin, payments):
    return no_self_approval_rule(acme, acme_admin, payments)


def test_scim_group_membership_refused_naming_the_rule(acme, acme_admin, acme_basic, payments, no_self_approval):
    _key, token = issue(acme_admin, scopes=SCOPES, scim=True, rate_per_minute=1_000_000)
    give(acme, acme_basic, payments, ["create"])
    with tenant_scope(acme):
        group = group_services.create_group(actor=acme_admin, tenant=acme, name="Approvers")
    give(acme, None, payments, ["approve"], group=group)
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": str(acme_basic.pk)}]}],
    }
    response = bearer(token).patch(f"/scim/v2/Groups/{group.pk}", body, content_type=SCIM)
    assert response.status_code == 403
    assert no_self_approval.name in response.json()["detail"]
    with tenant_scope(acme):
        assert not GroupMembership.objects.filter(group=group, user=acme_basic).exists()


def test_api_grant_refused_as_problem_json_naming_the_rule(acme, acme_admin, acme_basic, payments, no_self_approval):
    give(acme, acme_basic, payments, ["create"])
    _key, token = issue(acme_admin)
    body = {"user": acme_basic.pk, "module": "payments", "actions": ["approve"], "reason": "month end"}
    response = bearer(token).post("/api/v1/grants", body, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "sod_conflict"
    assert no_self_approval.name in response.json()["detail"]


def test_check_api_explain_names_the_rule(acme, acme_admin, acme_basic, payments, no_self_approval):
    give(acme, acme_basic, payments, ["create"])
    _key, token = issue(acme_admin)
    body = {"subject": acme_basic.pk, "action": "approve", "target": "payments"}
    response = bearer(token).post("/api/v1/check?explain=true", body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["allowed"] is False
    assert any(no_self_approval.name in reason for reason in response.json()["reasons"])


def test_violations_api_lists_and_isolates_tenants(
    acme, acme_admin, acme_basic, globex_admin, payments, no_self_approval
):
    give(acme, acme_basic, payments, ["create"])
    response = bearer(issue(acme_admin)[1]).get("/api/v1/sod/violations")
    assert response.status_code == 200
    assert {row["email"] for row in response.json()} == {acme_admin.email}
    globex = bearer(issue(globex_admin)[1])
    assert globex.get("/api/v1/sod/violations").json() == []
    assert globex.get(f"/api/v1/sod/rules/{no_self_approval.pk}").status_code == 404
    assert globex.delete(f"/api/v1/sod/rules/{no_self_approval.pk}").status_code == 404
    assert SodRule.objects.dangerously_all_tenants().count() == 1


def test_rules_api_creates_and_refuses(acme, acme_admin, payments):
    api = bearer(issue(acme_admin)[1])
    body = {
        "name": "API rule",
        "reason": "r",
        "severity": "low",
        "first_module": "payments",
        "first_actions": ["approve"],
        "second_module": "payments",
        "second_actions": ["create"],
    }
    response = api.post("/api/v1/sod/rules", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["first_actions"] == ["approve"]
    again = api.post("/api/v1/sod/rules", body, content_type="application/json")
    assert again.status_code == 400
