"""Console screens of organisations and sharing rules: create, edit, members, owned records; a rule's
impact preview before it is saved; deletion with who loses what; denials and other tenants' ids."""

from accounts.models import Organisation, User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import SharingRule
from permissions.services import organisations as orgs
from tests.console.conftest import make_resource, messages_of
from tests.factories import UserFactory


def test_create_edit_and_members(admin_client_acme, acme, acme_customer):
    response = admin_client_acme.post("/console/organisations/new/", {"name": "Initech", "external_id": "INI"})
    with tenant_scope(acme):
        initech = Organisation.objects.get(name="Initech")
    assert response.status_code == 302 and response.url == f"/console/organisations/{initech.pk}/"
    admin_client_acme.post(f"/console/organisations/{initech.pk}/members/", {"user": acme_customer.email})
    acme_customer.refresh_from_db()
    assert acme_customer.organisation_id == initech.pk
    report = make_resource(acme, "reports", "Initech · TPS")
    with tenant_scope(acme):
        orgs.set_resource_organisation(report, initech, actor=None)
    page = admin_client_acme.get(f"/console/organisations/{initech.pk}/").content.decode()
    assert "customer@acme.example" in page and "Initech · TPS" in page
    response = admin_client_acme.post(
        f"/console/organisations/{initech.pk}/edit/",
        {"name": "Initech Ltd", "external_id": "INI", "status": "suspended", "parent": ""},
    )
    assert response.status_code == 302
    initech.refresh_from_db()
    assert (initech.name, initech.status) == ("Initech Ltd", "suspended")
    admin_client_acme.post(
        f"/console/organisations/{initech.pk}/members/{acme_customer.pk}/remove/", {"confirmed": "yes"}
    )
    acme_customer.refresh_from_db()
    assert acme_customer.organisation_id is None
    assert "Initech Ltd" in admin_client_acme.get("/console/organisations/").content.decode()


def test_a_cycle_is_refused_with_a_message(admin_client_acme, acme):
    with tenant_scope(acme):
        top = orgs.create_organisation(actor=None, tenant=acme, name="Top")
        child = orgs.create_organisation(actor=None, tenant=acme, name="Child", parent=top)
    response = admin_client_acme.post(
        f"/console/organisations/{top.pk}/edit/",
        {"name": "Top", "external_id": "", "status": "active", "parent": child.pk},
        follow=True,
    )
    assert any("The change is not valid." in m for m in messages_of(response))
    top.refresh_from_db()
    assert top.parent_id is None


def test_customers_cannot_open_the_screens(basic_client, acme):
    with tenant_scope(acme):
        org = orgs.create_organisation(actor=None, tenant=acme, name="Initech")
    for url in (
        "/console/organisations/",
        "/console/organisations/new/",
        f"/console/organisations/{org.pk}/",
        "/console/sharing-rules/",
        "/console/sharing-rules/new/",
    ):
        assert basic_client.get(url).status_code == 403, url


def test_a_foreign_user_cannot_be_made_a_member(admin_client_acme, acme, globex_admin):
    with tenant_scope(acme):
        org = orgs.create_organisation(actor=None, tenant=acme, name="Initech")
    response = admin_client_acme.post(f"/console/organisations/{org.pk}/members/", {"user": globex_admin.email})
    assert response.status_code == 200 and "user" in response.context["form"].errors
    assert User.objects.dangerously_all_tenants().get(pk=globex_admin.pk).organisation_id is None


def test_a_rule_shows_its_impact_then_applies_and_is_audited(admin_client_acme, acme):
    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=None, tenant=acme, name="Initech")
    peter = UserFactory(tenant=acme, email="peter@acme.example")
    report = make_resource(acme, "reports", "Initech · TPS")
    with tenant_scope(acme):
        orgs.set_user_organisation(peter, initech, actor=None)
        orgs.set_resource_organisation(report, initech, actor=None)
        reports = report.module
    form = {"name": "Own reports", "kind": "own", "module": reports.pk, "actions": ["view"], "reason": "customers"}
    preview = admin_client_acme.post("/console/sharing-rules/new/", form)
    assert preview.status_code == 200 and "peter@acme.example" in preview.content.decode()
    assert "Reports: 1 record" in preview.content.decode()
    with tenant_scope(acme):
        assert not SharingRule.objects.exists()
    confirmed = admin_client_acme.post("/console/sharing-rules/new/", {**form, "step": "confirm"})
    assert confirmed.status_code == 302
    peter.refresh_from_db()
    report.refresh_from_db()
    assert engine.can(peter, "view", report)
    with tenant_scope(acme):
        rule = SharingRule.objects.get()
        assert AuditEvent.objects.filter(event_type="sharing_rule.created", target_id=str(rule.pk)).exists()
    page = admin_client_acme.get(f"/console/sharing-rules/{rule.pk}/delete/").content.decode()
    assert "peter@acme.example" in page
    admin_client_acme.post(f"/console/sharing-rules/{rule.pk}/delete/", {"reason": "ended"})
    assert not engine.can(peter, "view", report)


def test_a_bad_rule_changes_nothing(admin_client_acme, acme):
    with tenant_scope(acme):
        reports = make_resource(acme, "reports", "R").module
    form = {"name": "Bad", "kind": "criteria", "module": reports.pk, "actions": ["view"], "reason": "r"}
    response = admin_client_acme.post("/console/sharing-rules/new/", {**form, "step": "confirm"}, follow=True)
    assert any("The change is not valid." in m for m in messages_of(response))
    with tenant_scope(acme):
        assert not SharingRule.objects.exists()


def test_a_resources_owner_organisation_is_set_on_its_page(admin_client_acme, acme, globex):
    from tests.api.foreign import make

    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=None, tenant=acme, name="Initech")
    report = make_resource(acme, "reports", "TPS")
    url = f"/console/resources/{report.pk}/organisation/"
    admin_client_acme.post(url, {"organisation": initech.pk})
    report.refresh_from_db()
    assert report.owner_organisation_id == initech.pk
    assert "Initech" in admin_client_acme.get(f"/console/resources/{report.pk}/").content.decode()
    foreign, _name = make(globex, "organisation")
    response = admin_client_acme.post(url, {"organisation": foreign}, follow=True)
    assert messages_of(response)
    report.refresh_from_db()
    assert report.owner_organisation_id == initech.pk
    assert admin_client_acme.get(url).status_code == 405
