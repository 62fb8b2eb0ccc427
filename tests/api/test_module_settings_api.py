"""PATCH /api/v1/modules/{id}: sensitive attributes and owners through the module service (modules: change)."""

from accounts.scoping import tenant_scope
from permissions.models import Module
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory


def _patch(client, module_id, body):
    return client.patch(f"/api/v1/modules/{module_id}", body, content_type="application/json")


def test_an_administrators_key_sets_sensitive_attributes_and_owners(api_acme, acme):
    owner = UserFactory(tenant=acme)
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports")
    response = _patch(api_acme, reports.pk, {"sensitive_attributes": ["revenue", "margin"], "owners": [owner.pk]})
    assert response.status_code == 200, response.content
    assert response.json()["sensitive_attributes"] == ["margin", "revenue"]
    assert response.json()["owners"] == [owner.pk]
    assert api_acme.get(f"/api/v1/modules/{reports.pk}").json()["owners"] == [owner.pk]


def test_foreign_owners_fixed_fields_and_a_key_without_change_are_refused(api_acme, acme, acme_admin, globex):
    foreign = UserFactory(tenant=globex)
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports")
    refused = _patch(api_acme, reports.pk, {"owners": [foreign.pk]})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "owners"
    assert _patch(api_acme, reports.pk, {"key": "figures"}).status_code == 400
    assert _patch(api_acme, reports.pk, {"actions": ["view"]}).status_code == 400
    reader = bearer(issue(acme_admin, scopes={"modules": ["view"]})[1])
    assert _patch(reader, reports.pk, {"sensitive_attributes": []}).status_code == 403
    with tenant_scope(acme):
        unchanged = Module.objects.get(pk=reports.pk)
        assert unchanged.sensitive_attributes == ["revenue"] and not unchanged.owners.exists()
