"""Modules and resources (custom modules; sensitive attributes masked without View sensitive fields, AZ-9;
owner/module/tenant never set from a form, AZ-4; constant queries) and pending approvals (step-up, a
second administrator, nobody approves their own change, AZ-6)."""

import datetime as dt

import time_machine
from django.test import Client

from accounts.scoping import tenant_scope
from permissions.models import Module, PendingChange, Resource
from permissions.sensitive import MASK
from permissions.services import roles as role_services
from tests.conftest import login
from tests.console.conftest import make_resource, messages_of, module, person, role_with
from tests.factories import builtin_role
from tests.querycount import assert_constant_queries


def test_an_administrator_creates_a_custom_module_and_its_resources(admin_client_acme, acme):
    response = admin_client_acme.post(
        "/console/modules/new/",
        {"key": "contracts", "name": "Contracts", "actions": ["view", "create", "change"], "sensitive": "value, iban"},
    )
    with tenant_scope(acme):
        contracts = Module.objects.get(key="contracts")
    assert response["Location"] == f"/console/modules/{contracts.pk}/"
    assert contracts.kind == "custom" and contracts.sensitive_attributes == ["iban", "value"]
    assert [a.value for a in contracts.applicable_actions] == ["view", "create", "change"]
    response = admin_client_acme.post(
        f"/console/modules/{contracts.pk}/new/",
        {"title": "MSA Initech", "external_id": "C-1", "attributes": "value = 120000\nterm = 2 years"},
    )
    with tenant_scope(acme):
        msa = Resource.objects.get(external_id="C-1")
    assert msa.attributes == {"value": 120000, "term": "2 years"} and msa.module_id == contracts.pk


def test_system_modules_are_read_only(admin_client_acme, acme):
    users_module = module(acme, "users")
    body = admin_client_acme.get("/console/modules/").content.decode()
    assert f'href="/console/modules/{users_module.pk}/"' not in body
    assert admin_client_acme.get(f"/console/modules/{users_module.pk}/new/").status_code == 404


def catalogue_manager(acme):
    """Sees the modules screen and may view and change reports, but not their sensitive fields."""
    role = role_with(acme, "Catalogue", {"modules": ["view"], "reports": ["view", "change"]})
    return person(acme, "catalogue@acme.example", role)


def test_az9_sensitive_attributes_are_masked_without_the_right(admin_client_acme, acme, report):
    _, client = catalogue_manager(acme)
    reports = module(acme, "reports")
    for url in (f"/console/modules/{reports.pk}/", f"/console/resources/{report.pk}/"):
        body = client.get(url).content.decode()
        assert "EMEA" in body and MASK in body and "1.2M" not in body, url
        assert "1.2M" in admin_client_acme.get(url).content.decode()
    assert "1.2M" not in client.get(f"/console/resources/{report.pk}/edit/").content.decode()


def test_az9_an_editor_who_cannot_see_a_value_does_not_overwrite_it(acme, report):
    _, client = catalogue_manager(acme)
    client.post(
        f"/console/resources/{report.pk}/edit/",
        {"title": "Q3 revenue (final)", "attributes": f"revenue = {MASK}\nregion = APAC"},
    )
    report.refresh_from_db()
    assert report.title == "Q3 revenue (final)"
    assert report.attributes == {"revenue": "1.2M", "region": "APAC"}


def test_az4_owner_module_and_tenant_are_not_set_from_the_form(admin_client_acme, acme, globex, report, acme_admin):
    products = module(acme, "products")
    admin_client_acme.post(
        f"/console/resources/{report.pk}/edit/",
        {"title": "Q3", "owner": acme_admin.pk, "module": products.pk, "tenant": globex.pk, "attributes": ""},
    )
    report.refresh_from_db()
    assert report.title == "Q3" and report.owner_id is None
    assert report.module.key == "reports" and report.tenant_id == acme.pk


def test_resource_list_has_a_constant_number_of_queries(acme, report):
    _, client = catalogue_manager(acme)  # masking asks the engine for every row: still constant
    reports = module(acme, "reports")

    def grow():
        for n in range(40):
            make_resource(acme, "reports", f"Report {n}", revenue=f"{n}M")

    assert_constant_queries(client, f"/console/modules/{reports.pk}/", grow)


def test_resource_pages_are_windows_not_counts(admin_client_acme, acme, report):
    for n in range(30):
        make_resource(acme, "reports", f"Report {n:02}")
    url = f"/console/modules/{module(acme, 'reports').pk}/"
    first = admin_client_acme.get(url).context
    assert len(first["rows"]) == 25 and first["page"].has_next
    second = admin_client_acme.get(url + "?page=2").context
    assert [r.title for r, _ in second["rows"]] == [f"Report {n:02}" for n in range(24, 30)]
    assert not second["page"].has_next
    assert admin_client_acme.get(url + "?page=x").status_code == 200


def test_resource_detail_says_who_can_view_it_and_why(admin_client_acme, acme, report):
    body = admin_client_acme.get(f"/console/resources/{report.pk}/").content.decode()
    assert "admin@acme.example" in body and "Role Administrator → Reports: View" in body


def request_admin_role(acme, requester, subject):
    with tenant_scope(acme):
        return role_services.change_user_role(
            subject, builtin_role(acme, "administrator"), actor=requester, reason="runs the account"
        )


def test_a_second_administrator_approves_after_step_up(acme, acme_admin, acme_admin2, acme_customer):
    change = request_admin_role(acme, acme_admin, acme_customer)
    client = login(Client(), acme_admin2)
    response = client.get("/console/approvals/")
    assert [c.subject for c in response.context["page"].object_list] == ["customer@acme.example"]
    body = response.content.decode()
    assert "customer@acme.example" in body and "admin@acme.example" in body and "runs the account" in body
    url = f"/console/approvals/{change.pk}/"
    assert client.get(url).context["buttons"]["approve"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):
        response = client.post(url, {"op": "approve"})
    assert response["Location"].startswith("/accounts/mfa/step-up/")
    acme_customer.refresh_from_db()
    assert acme_customer.role.key == "basic"
    response = client.post(url, {"op": "approve"}, follow=True)
    assert "approved and applied" in " ".join(messages_of(response))
    acme_customer.refresh_from_db()
    assert acme_customer.role.key == "administrator"


def test_az6_nobody_approves_their_own_change(admin_client_acme, acme, acme_admin, acme_customer):
    change = request_admin_role(acme, acme_admin, acme_customer)
    url = f"/console/approvals/{change.pk}/"
    buttons = admin_client_acme.get(url).context["buttons"]
    assert not buttons["approve"] and buttons["withdraw"]
    response = admin_client_acme.post(url, {"op": "approve"}, follow=True)
    assert "Nobody can approve their own change." in " ".join(messages_of(response))
    change.refresh_from_db()
    acme_customer.refresh_from_db()
    assert change.status == "pending" and acme_customer.role.key == "basic"
    admin_client_acme.post(url, {"op": "reject", "reason": "asked the wrong person"})
    change.refresh_from_db()
    assert change.status == "rejected"


def test_approval_list_has_a_constant_number_of_queries(admin_client_acme, acme, acme_admin, acme_admin2):
    from tests.factories import UserFactory

    request_admin_role(acme, acme_admin2, UserFactory(tenant=acme, email="first@acme.example"))

    def grow():
        for n in range(15):
            request_admin_role(acme, acme_admin2, UserFactory(tenant=acme, email=f"c{n}@acme.example"))

    assert_constant_queries(admin_client_acme, "/console/approvals/", grow)
    with tenant_scope(acme):
        assert PendingChange.objects.filter(status="pending").count() == 16


def test_a_reader_with_object_grants_only_sees_just_those_resources(acme, report):
    """The resource list narrows through engine.visible when no whole-module right covers the reader."""
    from permissions.services import grants as grant_services
    from permissions.vocabulary import Action

    other = make_resource(acme, "reports", "Q4 forecast")
    role = role_with(acme, "Module viewer", {"modules": ["view"]})
    viewer, client = person(acme, "viewer@acme.example", role)
    url = f"/console/modules/{module(acme, 'reports').pk}/"
    assert client.get(url).context["rows"] == []
    with tenant_scope(acme):
        grant_services.grant(
            actor=None, module=module(acme, "reports"), resource=other, user=viewer, actions=[Action.VIEW], reason="x"
        )
    assert [r.title for r, _ in client.get(url).context["rows"]] == ["Q4 forecast"]
    assert client.get(f"/console/resources/{report.pk}/").status_code == 404
