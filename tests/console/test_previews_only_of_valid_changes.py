"""Issue 19: the impact preview is shown only for a grant the service would accept. A group grant the
service refuses (beyond the granter's rights, to a group the granter belongs to) is refused at once, with
the reason, instead of a preview of who would gain what followed by the refusal."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import Grant
from permissions.services import groups as group_services
from tests.console.conftest import messages_of, module, person, role_with

pytestmark = pytest.mark.django_db


def grants_of(tenant, **filters):
    with tenant_scope(tenant):
        return list(Grant.objects.filter(**filters))


def test_a_group_grant_beyond_the_granters_rights_is_refused_before_any_preview(acme, customer_company):
    granter = role_with(acme, "Grant desk", {"grants": ["view", "create"], "reports": ["view"]})
    _, client = person(acme, "desk@acme.example", granter)
    data = {"group": customer_company.pk, "module": module(acme, "reports").pk, "reason": "QBR"}
    response = client.post("/console/grants/new/", {**data, "actions": ["view", "export"]})
    body = response.content.decode()
    assert "You cannot give permissions you do not hold yourself." in " ".join(messages_of(response))
    assert "gains access" not in body and 'name="step"' not in body  # no preview, no confirm button
    assert not grants_of(acme)
    preview = client.post("/console/grants/new/", {**data, "actions": ["view"]}).content.decode()
    assert "1 user gains access" in preview  # what it may give is previewed, as before


def test_a_group_grant_to_the_granters_own_group_is_refused_before_any_preview(
    admin_client_acme, acme, acme_admin, customer_company
):
    with tenant_scope(acme):
        group_services.add_member(customer_company, acme_admin, actor=None)
    data = {"group": customer_company.pk, "module": module(acme, "reports").pk, "reason": "QBR", "actions": ["view"]}
    response = admin_client_acme.post("/console/grants/new/", data)
    assert "Nobody can grant themselves anything." in " ".join(messages_of(response))
    assert "gains access" not in response.content.decode()
    assert not grants_of(acme)
