"""A module's settings: a custom module's name, which attributes are sensitive (resources re-sealed in the
same transaction: a newly sensitive value leaves the clear column) and its owners, who then approve
access requests for it. Audited; needs modules: change; console modules stay read-only."""

import pytest
from django.db import connection

from accessrequests import rules
from accessrequests.models import AccessRequest
from accessrequests.services import submit
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Module, Resource
from permissions.sensitive import MASK
from permissions.services.errors import AccessRefused
from permissions.services.modules import create_resource, set_resource_owner, update_module
from tests.console.conftest import module, person, role_with
from tests.factories import UserFactory


def raw_columns(resource_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT attributes, sealed_attributes FROM permissions_resource WHERE id = %s", [resource_id])
        return cursor.fetchone()


@pytest.fixture
def ledger(acme):
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports")
        return create_resource(
            actor=None, module=reports, title="Ledger", attributes={"region": "EMEA", "margin": "31%", "revenue": "9M"}
        )


def test_marking_an_attribute_sensitive_moves_it_into_encrypted_storage_and_back(acme, acme_admin, ledger):
    assert "31%" in str(raw_columns(ledger.pk)[0])
    with tenant_scope(acme):
        update_module(module(acme, "reports"), actor=acme_admin, sensitive_attributes=["revenue", "margin"])
    plain, sealed = raw_columns(ledger.pk)
    assert "31%" not in str(plain) and "31%" not in str(sealed) and "9M" not in str(sealed)
    with tenant_scope(acme):
        assert Resource.objects.get(pk=ledger.pk).attributes == {"region": "EMEA", "margin": "31%", "revenue": "9M"}
        event = AuditEvent.objects.get(event_type="module.changed")
        assert event.before == {"sensitive": ["revenue"]}
        assert event.after == {"sensitive": ["margin", "revenue"], "resources_resealed": 1}
        update_module(module(acme, "reports"), actor=acme_admin, sensitive_attributes=[])
    plain, sealed = raw_columns(ledger.pk)
    assert "31%" in str(plain) and "9M" in str(plain) and sealed is None


def test_a_reader_without_view_sensitive_sees_the_new_sensitive_attribute_masked(admin_client_acme, acme, ledger):
    reader_role = role_with(acme, "Catalogue", {"modules": ["view"], "reports": ["view"]})
    _, client = person(acme, "catalogue@acme.example", reader_role)
    url = f"/console/resources/{ledger.pk}/"
    assert "31%" in client.get(url).content.decode()
    reports = module(acme, "reports")
    response = admin_client_acme.post(
        f"/console/modules/{reports.pk}/edit/", {"name": reports.name, "sensitive": "revenue, margin", "owners": ""}
    )
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert "31%" not in body and MASK in body and "EMEA" in body


def test_owners_approve_requests_for_their_module(admin_client_acme, acme, acme_basic):
    owner = UserFactory(tenant=acme, email="Owner@acme.example")  # matched whatever the case
    analytics = module(acme, "analytics")
    response = admin_client_acme.post(
        f"/console/modules/{analytics.pk}/edit/",
        {"name": analytics.name, "sensitive": "customer_emails", "owners": "OWNER@acme.example"},
    )
    assert response.status_code == 302
    assert owner.email in admin_client_acme.get(f"/console/modules/{analytics.pk}/").content.decode()
    with tenant_scope(acme):
        asked = submit(actor=acme_basic, module=analytics, actions=["view"], reason="Dashboards", duration_days=7)
        assert rules.is_approver(owner, asked)
        assert AuditEvent.objects.get(event_type="module.changed").after == {"owners": [owner.email]}


def test_unknown_or_foreign_owners_are_refused_and_nothing_changes(admin_client_acme, acme, globex):
    foreign = UserFactory(tenant=globex, email="spy@globex.example")
    analytics = module(acme, "analytics")
    response = admin_client_acme.post(
        f"/console/modules/{analytics.pk}/edit/", {"name": analytics.name, "sensitive": "x", "owners": foreign.email}
    )
    assert response.status_code == 200
    assert "No active user of this tenant has these addresses: spy@globex.example" in response.content.decode()
    with tenant_scope(acme):
        assert not Module.objects.get(pk=analytics.pk).owners.exists()
        assert Module.objects.get(pk=analytics.pk).sensitive_attributes == ["customer_emails"]
        with pytest.raises(AccessRefused):
            update_module(analytics, actor=None, owners=[foreign])
        assert not AuditEvent.objects.filter(event_type="module.changed").exists()


def test_a_custom_module_is_renamed_a_builtin_one_is_not(acme, acme_admin):
    from permissions.services.modules import create_module

    with tenant_scope(acme):
        contracts = create_module(actor=acme_admin, tenant=acme, name="Contracts")
        update_module(contracts, actor=acme_admin, name="Customer contracts")
        assert Module.objects.get(pk=contracts.pk).name == "Customer contracts"
        with pytest.raises(AccessRefused):
            update_module(module(acme, "reports"), actor=acme_admin, name="Figures")


def test_console_modules_have_no_settings_screen(admin_client_acme, acme):
    users_module = module(acme, "users")
    assert admin_client_acme.get(f"/console/modules/{users_module.pk}/edit/").status_code == 404
    with tenant_scope(acme), pytest.raises(AccessRefused):
        update_module(users_module, actor=None, owners=[UserFactory(tenant=acme)])


def test_without_modules_change_the_screen_and_the_service_refuse(acme):
    viewer_role = role_with(acme, "Viewer", {"modules": ["view"], "reports": ["view"]})
    viewer, client = person(acme, "viewer@acme.example", viewer_role)
    reports = module(acme, "reports")
    assert client.get(f"/console/modules/{reports.pk}/edit/").status_code == 403
    assert "Module settings" not in client.get(f"/console/modules/{reports.pk}/").content.decode()
    with tenant_scope(acme), pytest.raises(AccessRefused):
        update_module(reports, actor=viewer, sensitive_attributes=["region"])


def test_an_administrator_names_a_resource_owner_who_then_decides_its_requests(admin_client_acme, acme, ledger):
    owner = UserFactory(tenant=acme, email="ledger-owner@acme.example")
    requester = UserFactory(tenant=acme)
    page = admin_client_acme.get(f"/console/resources/{ledger.pk}/").content.decode()
    assert 'data-testid="owner-form"' in page
    response = admin_client_acme.post(f"/console/resources/{ledger.pk}/owner/", {"owner": "LEDGER-owner@acme.example"})
    assert response.status_code == 302
    assert "ledger-owner@acme.example" in admin_client_acme.get(f"/console/resources/{ledger.pk}/").content.decode()
    with tenant_scope(acme):
        asked = submit(
            actor=requester, module=ledger.module, resource=ledger, actions=["view"], reason="Audit", duration_days=7
        )
        assert rules.is_approver(owner, AccessRequest.objects.get(pk=asked.pk))
        event = AuditEvent.objects.get(event_type="resource.owner_changed")
        assert (event.before, event.after) == ({"owner": None}, {"owner": "ledger-owner@acme.example"})
    admin_client_acme.post(f"/console/resources/{ledger.pk}/owner/", {"owner": ""})
    with tenant_scope(acme):
        assert Resource.objects.get(pk=ledger.pk).owner_id is None


def test_a_resource_owner_is_of_this_tenant_and_set_by_modules_change_only(admin_client_acme, acme, globex, ledger):
    spy = UserFactory(tenant=globex, email="spy@globex.example")
    refused = admin_client_acme.post(f"/console/resources/{ledger.pk}/owner/", {"owner": spy.email}, follow=True)
    assert "No active user of this tenant has these addresses: spy@globex.example" in refused.content.decode()
    with tenant_scope(acme):
        with pytest.raises(AccessRefused):
            set_resource_owner(ledger, spy, actor=None)
        assert Resource.objects.get(pk=ledger.pk).owner_id is None
    editor_role = role_with(acme, "Report editor", {"modules": ["view"], "reports": ["view", "change"]})
    editor, client = person(acme, "editor@acme.example", editor_role)
    assert 'data-testid="owner-form"' not in client.get(f"/console/resources/{ledger.pk}/").content.decode()
    assert client.post(f"/console/resources/{ledger.pk}/owner/", {"owner": editor.email}).status_code == 403
    with tenant_scope(acme):
        assert Resource.objects.get(pk=ledger.pk).owner_id is None
