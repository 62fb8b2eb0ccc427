"""The separation-of-duties screens: rules created and deleted through the form (audited), the violations
page, a refused grant that names the rule, denials for customers and 404 for another tenant's rule."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import SodRule
from permissions.services import modules as module_services
from permissions.services import sod_rules
from tests.conftest import login
from tests.permissions.conftest import module


@pytest.fixture
def payments(acme):
    with tenant_scope(acme):
        return module_services.create_module(
            actor=None, tenant=acme, name="Payments", key="payments", actions=["view", "create", "approve"]
        )


def rule_form(payments, **extra):
    return {
        "name": "No self-approved payments",
        "severity": "critical",
        "reason": "whoever creates a payment must not approve it",
        "first_module": payments.pk,
        "first_actions": ["approve"],
        "second_module": payments.pk,
        "second_actions": ["create"],
        **extra,
    }


def test_admin_creates_a_rule_sees_violations_and_a_refused_grant(admin_client_acme, acme, acme_customer, payments):
    response = admin_client_acme.post("/console/sod-rules/new/", rule_form(payments))
    assert response.status_code == 302
    listing = admin_client_acme.get("/console/sod-rules/").content.decode()
    assert "No self-approved payments" in listing and "Critical" in listing
    violations = admin_client_acme.get("/console/sod-rules/violations/").content.decode()
    assert "admin@acme.example" in violations  # the Administrator role holds both sides of a custom module
    admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "module": payments.pk, "actions": ["create"], "reason": "clerk"},
    )
    page = admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "module": payments.pk, "actions": ["approve"], "reason": "approver"},
        follow=True,
    ).content.decode()
    assert "No self-approved payments" in page and "whoever creates a payment must not approve it" in page


def test_a_bad_rule_is_refused_by_the_form_and_changes_nothing(admin_client_acme, acme, payments):
    response = admin_client_acme.post("/console/sod-rules/new/", rule_form(payments, first_actions=[]))
    assert response.status_code == 200
    assert not SodRule.objects.dangerously_all_tenants().exists()


def test_rule_deletion_through_the_form(admin_client_acme, acme, acme_admin, payments):
    admin_client_acme.post("/console/sod-rules/new/", rule_form(payments))
    rule = SodRule.objects.dangerously_all_tenants().get()
    assert admin_client_acme.get(f"/console/sod-rules/{rule.pk}/delete/").status_code == 200
    response = admin_client_acme.post(f"/console/sod-rules/{rule.pk}/delete/", {"reason": "replaced"})
    assert response.status_code == 302
    assert not SodRule.objects.dangerously_all_tenants().exists()


def test_customers_cannot_open_the_screens(client, acme, acme_customer):
    login(client, acme_customer)
    for url in ["/console/sod-rules/", "/console/sod-rules/new/", "/console/sod-rules/violations/"]:
        assert client.get(url).status_code == 403


def test_another_tenants_rule_is_404(admin_client_acme, globex, globex_admin):
    with tenant_scope(globex):
        theirs = sod_rules.create_rule(
            actor=globex_admin,
            tenant=globex,
            name="Theirs",
            reason="r",
            first_module=module(globex, "reports"),
            first_actions=["export"],
            second_module=module(globex, "reports"),
            second_actions=["delete"],
        )
    assert admin_client_acme.get(f"/console/sod-rules/{theirs.pk}/delete/").status_code == 404
    assert admin_client_acme.post(f"/console/sod-rules/{theirs.pk}/delete/", {"reason": "x"}).status_code == 404
    assert "Theirs" not in admin_client_acme.get("/console/sod-rules/").content.decode()
    assert SodRule.objects.dangerously_all_tenants().filter(pk=theirs.pk).exists()


def test_a_role_change_needing_an_exception_waits_with_its_justification(
    admin_client_acme, acme, acme_admin, acme_customer
):
    """The role form's justification turns an exception into a pending change for a second administrator."""
    from permissions.models import PendingChange
    from permissions.services import roles as role_services
    from tests.sodkit import give

    reports = module(acme, "reports")
    with tenant_scope(acme):
        sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="Export or delete",
            reason="exporters do not erase",
            allow_exceptions=True,
            first_module=reports,
            first_actions=["export"],
            second_module=reports,
            second_actions=["delete"],
        )
        eraser = role_services.create_role(actor=acme_admin, tenant=acme, name="Eraser")
        role_services.set_role_matrix(eraser, {"reports": ["view", "delete"]}, actor=acme_admin)
    give(acme, acme_customer, reports, ["export"])
    url = f"/console/users/{acme_customer.pk}/role/"
    page = admin_client_acme.post(url, {"role": eraser.pk, "reason": "clean-up"}, follow=True).content.decode()
    assert "needs a justification and a second administrator" in page
    response = admin_client_acme.post(url, {"role": eraser.pk, "reason": "clean-up", "justification": "two weeks"})
    assert response.status_code == 302
    with tenant_scope(acme):
        change = PendingChange.objects.get()
    assert change.payload["justification"] == "two weeks"
    acme_customer.refresh_from_db()
    assert acme_customer.role_id != eraser.pk
    assert 'data-testid="sod-exception"' in admin_client_acme.get(f"/console/approvals/{change.pk}/").content.decode()
