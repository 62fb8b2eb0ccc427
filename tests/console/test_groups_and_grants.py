"""Groups (members by e-mail, owners, group grants with a preview) and the grant and revoke forms:
reason and expiry, and the refusals: self-grants, beyond one's own rights, other tenants' ids (AZ-2, AZ-6)."""

import datetime as dt

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions import engine
from permissions.models import Grant, GroupMembership, PendingChange
from tests.console.conftest import messages_of, module, person, role_with
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries


def grants_of(tenant, **filters):
    with tenant_scope(tenant):
        return list(Grant.objects.filter(**filters))


def members(group):
    with tenant_scope(group.tenant):
        return {m.user.email: m.is_owner for m in GroupMembership.objects.filter(group=group).select_related("user")}


def test_members_are_added_by_email_made_owners_and_removed(admin_client_acme, acme, customer_company):
    UserFactory(tenant=acme, email="dana@acme.example")
    url = f"/console/groups/{customer_company.pk}/members/"
    admin_client_acme.post(url, {"user": " Dana@ACME.example "})
    assert members(customer_company) == {"customer@acme.example": False, "dana@acme.example": False}
    dana = User.objects.dangerously_all_tenants().get(email="dana@acme.example")
    member_url = f"/console/groups/{customer_company.pk}/members/{dana.pk}/"
    admin_client_acme.post(member_url, {"op": "owner"})
    assert members(customer_company)["dana@acme.example"] is True
    admin_client_acme.post(member_url, {"op": "remove", "confirmed": "yes"})
    assert "dana@acme.example" not in members(customer_company)
    assert admin_client_acme.get(member_url).status_code == 405  # GET never changes state


def test_az2_a_user_of_another_tenant_cannot_be_added(admin_client_acme, customer_company, globex_admin):
    response = admin_client_acme.post(f"/console/groups/{customer_company.pk}/members/", {"user": globex_admin.email})
    assert response.status_code == 200 and "user" in response.context["form"].errors
    assert members(customer_company) == {"customer@acme.example": False}


def test_az6_nobody_adds_themselves_to_a_group(admin_client_acme, customer_company, acme_admin):
    response = admin_client_acme.post(
        f"/console/groups/{customer_company.pk}/members/", {"user": acme_admin.email}, follow=True
    )
    assert "Nobody can grant themselves anything." in " ".join(messages_of(response))
    assert acme_admin.email not in members(customer_company)


def test_group_list_has_a_constant_number_of_queries(admin_client_acme, acme, customer_company):
    from permissions.services import groups as group_services

    def grow():
        with tenant_scope(acme):
            for n in range(30):
                group_services.create_group(actor=None, tenant=acme, name=f"Company {n}")

    assert_constant_queries(admin_client_acme, "/console/groups/", grow)


def test_a_group_grant_shows_who_gains_before_it_is_applied(admin_client_acme, acme, customer_company, report):
    data = {"group": customer_company.pk, "resource": report.pk, "actions": ["view"], "reason": "QBR", "expiry": "30"}
    response = admin_client_acme.post("/console/grants/new/", data)
    body = response.content.decode()
    assert "1 user gains access" in body and "customer@acme.example" in body
    assert not grants_of(acme, group=customer_company)
    response = admin_client_acme.post("/console/grants/new/", {**data, "step": "confirm"})
    assert response["Location"] == f"/console/groups/{customer_company.pk}/"
    [grant] = grants_of(acme, group=customer_company)
    assert grant.resource_id == report.pk and grant.reason == "QBR"
    assert abs(grant.expires_at - (dt.datetime.now(dt.UTC) + dt.timedelta(days=30))) < dt.timedelta(minutes=1)


def test_a_grant_to_a_user_with_a_chosen_expiry(admin_client_acme, acme, acme_customer, report):
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    response = admin_client_acme.post(
        "/console/grants/new/",
        {
            "user": acme_customer.email,
            "resource": report.pk,
            "actions": ["view", "export"],
            "reason": "board pack",
            "expiry": "custom",
            "expires_on": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response["Location"] == f"/console/users/{acme_customer.pk}/"
    [grant] = grants_of(acme, user=acme_customer)
    assert grant.expires_at == when and [a.value for a in grant.action_list] == ["view", "export"]
    acme_customer.refresh_from_db()
    assert engine.can(acme_customer, "export", report)


def test_az6_nobody_grants_themselves(admin_client_acme, acme, acme_admin):
    response = admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_admin.email, "module": module(acme, "reports").pk, "actions": ["view"], "reason": "me"},
    )
    assert "Nobody can grant themselves anything." in " ".join(messages_of(response))
    assert not grants_of(acme)


def test_az6_nobody_grants_beyond_their_own_rights(acme, acme_customer):
    granter = role_with(acme, "Grant desk", {"grants": ["view", "create"], "reports": ["view"]})
    _, client = person(acme, "desk@acme.example", granter)
    data = {"user": acme_customer.email, "module": module(acme, "reports").pk, "reason": "x"}
    response = client.post("/console/grants/new/", {**data, "actions": ["view", "export"]})
    assert "You cannot give permissions you do not hold yourself." in " ".join(messages_of(response))
    assert "Export" in " ".join(messages_of(response))
    assert not grants_of(acme)
    client.post("/console/grants/new/", {**data, "actions": ["view"]})
    assert len(grants_of(acme)) == 1


def test_az2_ids_of_another_tenant_in_the_grant_form_are_refused(admin_client_acme, acme, globex, acme_customer):
    from permissions.services import groups as group_services
    from tests.console.conftest import make_resource

    with tenant_scope(globex):
        foreign_group = group_services.create_group(actor=None, tenant=globex, name="Hooli")
    foreign_report = make_resource(globex, "reports", "Hooli revenue")
    for data in (
        {"group": foreign_group.pk, "module": module(acme, "reports").pk},
        {"user": acme_customer.email, "resource": foreign_report.pk},
        {"user": acme_customer.email, "module": module(globex, "reports").pk},
    ):
        response = admin_client_acme.post(
            "/console/grants/new/", {**data, "actions": ["view"], "reason": "x", "step": "confirm"}
        )
        assert response.status_code == 200 and response.context["form"].errors, data
    assert not grants_of(acme)


def test_a_system_module_grant_waits_for_a_second_administrator(admin_client_acme, acme, acme_customer):
    response = admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "module": module(acme, "audit").pk, "actions": ["view"], "reason": "audit"},
        follow=True,
    )
    assert "waits for a second administrator" in " ".join(messages_of(response))
    assert not grants_of(acme)
    with tenant_scope(acme):
        assert PendingChange.objects.filter(kind="grant").count() == 1


def test_revoke_shows_who_loses_and_needs_a_reason(admin_client_acme, acme, acme_customer, report):
    admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "resource": report.pk, "actions": ["view"], "reason": "QBR"},
    )
    [grant] = grants_of(acme)
    url = f"/console/grants/{grant.pk}/revoke/"
    body = admin_client_acme.get(url).content.decode()
    assert "1 user loses access" in body and "customer@acme.example" in body
    assert admin_client_acme.post(url, {"reason": ""}).status_code == 200
    assert grants_of(acme)[0].revoked_at is None
    admin_client_acme.post(url, {"reason": "project over"})
    assert grants_of(acme)[0].revoked_at is not None
    acme_customer.refresh_from_db()
    assert not engine.can(acme_customer, "view", report)


def test_the_revoke_preview_names_the_module_in_the_readers_language(admin_client_acme, acme, acme_customer):
    """Who loses what reads "Products · Export" (产品 · 导出 in Chinese), never the module's key."""
    admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "module": module(acme, "products").pk, "actions": ["export"], "reason": "QBR"},
    )
    [grant] = grants_of(acme)
    url = f"/console/grants/{grant.pk}/revoke/"
    body = admin_client_acme.get(url).content.decode().replace("<strong>", "").replace("</strong>", "")
    assert "customer@acme.example: Products · Export" in body
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    body = admin_client_acme.get(url).content.decode().replace("<strong>", "").replace("</strong>", "")
    assert "customer@acme.example: 产品 · 导出" in body
    assert "products" not in body.split('data-testid="impact"')[1]


def test_az9_the_grant_form_names_no_resource_its_user_may_not_view(acme, acme_customer):
    """A holder of grants: create who may not view a resource: ?resource= does not show its title, and a POST
    naming it is not a valid choice (the form's resources come through the read door, restrict)."""
    from tests.console.conftest import make_resource

    hidden = make_resource(acme, "products", "Project Nightingale pricing")
    granter = role_with(acme, "Grant desk", {"grants": ["view", "create"], "reports": ["view"]})
    _, client = person(acme, "desk@acme.example", granter)
    page = client.get(f"/console/grants/new/?resource={hidden.pk}")
    assert page.status_code == 200
    assert "Project Nightingale" not in page.content.decode()
    seen = make_resource(acme, "reports", "Q4 outlook")
    page = client.get(f"/console/grants/new/?resource={seen.pk}")
    assert "Q4 outlook" in page.content.decode()  # the control: a resource they may view is named
    data = {"user": acme_customer.email, "resource": hidden.pk, "actions": ["view"], "reason": "x"}
    response = client.post("/console/grants/new/", data)
    assert response.status_code == 200 and "resource" in response.context["form"].errors
    assert "Project Nightingale" not in response.content.decode()
    assert not grants_of(acme)
