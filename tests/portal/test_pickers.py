"""Issue 19, item 3: the pickers' search endpoint answers only what the asking user may see and assign, in their
tenant, with a constant number of queries and a limited list; the forms render the pickers over fields that post
the same values as before."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.scoping import tenant_scope
from permissions.models import Module
from permissions.services import groups as group_services
from permissions.services import roles
from portal.pickers.registry import LIMIT
from tests.conftest import login
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource


def results(client, name, **params):
    response = client.get(f"/pickers/{name}/", params)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/json"
    return response.json()["results"]


def role_with(tenant, name, matrix):
    with tenant_scope(tenant):
        role = roles.create_role(actor=None, tenant=tenant, name=name)
        roles.set_role_matrix(role, matrix, actor=None)
    return role


@pytest.fixture
def granter(acme):
    """May create grants and view products, nothing else: no users, no reports, no review policies."""
    role = role_with(acme, "Granter", {"grants": ["view", "create"], "products": ["view"]})
    return UserFactory(tenant=acme, email="granter@acme.example", full_name="Gina Granter", role=role)


@pytest.fixture
def reviewer(acme):
    role = role_with(acme, "Reviewer", {"reviews": ["view", "review"]})
    return UserFactory(tenant=acme, email="rita@acme.example", full_name="Rita Reviewer", role=role)


def test_people_are_found_by_email_or_name_in_the_tenant_only(acme_admin, acme_basic, globex):
    UserFactory(tenant=acme_admin.tenant, email="zoe.miller@acme.example", full_name="Zoë Miller")
    UserFactory(tenant=globex, email="zoe.miller@globex.example", full_name="Zoë Miller")
    client = login(Client(), acme_admin)
    found = results(client, "people", q="miller")
    assert found == [{"value": "zoe.miller@acme.example", "label": "Zoë Miller", "detail": "zoe.miller@acme.example"}]
    assert [row["value"] for row in results(client, "people", q="Zoë")] == ["zoe.miller@acme.example"]
    assert results(client, "people", q="globex") == []  # the other tenant's address is never found
    everyone = {row["value"] for row in results(client, "people")}
    assert "basic1@acme.example" in everyone and not any("globex" in value for value in everyone)


def test_inactive_people_are_not_offered(acme_admin):
    from accounts import services

    gone = UserFactory(tenant=acme_admin.tenant, email="gone@acme.example")
    with tenant_scope(acme_admin.tenant):
        services.deactivate_user(gone, actor=None)
    assert results(login(Client(), acme_admin), "people", q="gone") == []


def test_the_list_is_limited(acme_admin):
    for n in range(LIMIT + 5):
        UserFactory(tenant=acme_admin.tenant, email=f"many{n:02d}@acme.example")
    found = results(login(Client(), acme_admin), "people", q="many")
    assert len(found) == LIMIT and found[0]["value"] == "many00@acme.example"


def _queries(client, name, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        results(client, name, **params)
    return len(queries)


@pytest.mark.parametrize("name", ["people", "reviewers", "groups", "resources"])
def test_a_search_asks_a_constant_number_of_queries(acme_admin, name):
    tenant = acme_admin.tenant
    client = login(Client(), acme_admin)
    results(client, name, q="a")  # the session, the compiled rights: warm
    before = _queries(client, name, q="a")
    with tenant_scope(tenant):
        for n in range(25):
            UserFactory(tenant=tenant, email=f"a{n}@acme.example")
            group_services.create_group(actor=None, tenant=tenant, name=f"Team a{n}")
    for n in range(25):
        make_resource(tenant, "products", f"Article a{n}")
    assert _queries(client, name, q="a") == before


def test_without_the_rights_the_search_is_refused(acme_basic, reviewer, granter):
    basic = login(Client(), acme_basic)
    for name in ("people", "reviewers", "groups", "resources", "attributes"):
        assert basic.get(f"/pickers/{name}/", {"q": "a"}).status_code == 403
    rita = login(Client(), reviewer)  # a reviewer chooses a delegate, never a policy's reviewers
    assert rita.get("/pickers/people/", {"q": "a"}).status_code == 200
    assert rita.get("/pickers/reviewers/", {"q": "a"}).status_code == 403
    assert rita.get("/pickers/resources/", {"q": "a"}).status_code == 403
    gina = login(Client(), granter)
    assert gina.get("/pickers/attributes/", {"q": "a"}).status_code == 403
    assert gina.get("/pickers/no-such-picker/").status_code == 404
    anonymous = Client().get("/pickers/people/", {"q": "a"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_resources_are_those_the_user_may_view(acme, globex, acme_admin, granter):
    make_resource(acme, "products", "Blue widget")
    make_resource(acme, "reports", "Blue report")
    make_resource(globex, "products", "Blue globex widget")
    admin_found = {row["label"] for row in results(login(Client(), acme_admin), "resources", q="blue")}
    assert admin_found == {"Blue widget", "Blue report"}
    found = results(login(Client(), granter), "resources", q="blue")
    assert [(row["label"], row["detail"]) for row in found] == [("Blue widget", "Products")]


def test_resources_of_one_module(acme, acme_admin):
    widget = make_resource(acme, "products", "Blue widget")
    make_resource(acme, "reports", "Blue report")
    with tenant_scope(acme):
        products = Module.objects.get(key="products")
    client = login(Client(), acme_admin)
    assert results(client, "resources", q="blue", module=str(products.pk)) == [
        {"value": str(widget.pk), "label": "Blue widget", "detail": "Products"}
    ]
    assert results(client, "resources", q="blue", module="not-a-number") != []  # ignored, not an error


def test_groups_and_reviewers_answer_ids(acme, acme_admin):
    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Night shift")
    client = login(Client(), acme_admin)
    assert results(client, "groups", q="night") == [{"value": str(team.pk), "label": "Night shift", "detail": ""}]
    found = results(client, "reviewers", q="admin@")
    assert [row["value"] for row in found] == [str(acme_admin.pk)]


def test_attribute_names_of_a_module_and_never_of_another_tenants(acme, globex, acme_admin):
    make_resource(acme, "products", "Widget", colour="blue", list_price=3)
    make_resource(globex, "products", "Gadget", secret_formula="x")
    with tenant_scope(acme):
        products = Module.objects.get(key="products")
    with tenant_scope(globex):
        theirs = Module.objects.get(key="products")
    client = login(Client(), acme_admin)
    names = [row["value"] for row in results(client, "attributes", module=str(products.pk))]
    assert names == ["colour", "cost_price", "list_price", "supplier"]
    assert [row["value"] for row in results(client, "attributes", q="PRICE", module=str(products.pk))] == [
        "cost_price",
        "list_price",
    ]
    assert results(client, "attributes", module=str(theirs.pk)) == []  # another tenant's module: nothing


def test_control_characters_are_not_searched(acme_admin):
    assert len(results(login(Client(), acme_admin), "people", q="a\x00b")) >= 1  # the first people instead


def test_forms_render_pickers_over_the_same_fields(admin_client_acme, acme):
    page = admin_client_acme.get("/console/grants/new/").content.decode()
    assert 'name="user"' in page and 'data-picker="/pickers/people/"' in page
    assert '<select name="group"' in page and 'data-picker="/pickers/groups/"' in page
    assert 'type="hidden" name="resource"' in page and 'data-picker-params="module=id_module"' in page
    with tenant_scope(acme):
        products = Module.objects.get(key="products")
    settings_page = admin_client_acme.get(f"/console/modules/{products.pk}/edit/").content.decode()
    assert f'data-picker="/pickers/attributes/?module={products.pk}"' in settings_page
    assert 'name="sensitive"' in settings_page and 'data-picker-separator="comma"' in settings_page
    assert '<textarea name="owners"' in settings_page
    policy = admin_client_acme.get("/reviews/policies/new/").content.decode()
    assert 'data-picker="/pickers/reviewers/"' in policy and 'name="reviewers"' in policy
    assert "<script>" not in page and "onclick" not in page  # CSP: our static files only


def test_the_grant_form_takes_a_picked_resource(admin_client_acme, acme, acme_basic):
    widget = make_resource(acme, "products", "Blue widget")
    page = admin_client_acme.get(f"/console/grants/new/?resource={widget.pk}").content.decode()
    assert 'data-picker-label="Blue widget"' in page and f'value="{widget.pk}"' in page
    response = admin_client_acme.post(
        "/console/grants/new/",
        {"user": "basic1@acme.example", "resource": widget.pk, "actions": ["change"], "reason": "Price update"},
    )
    assert response.status_code == 302
    with tenant_scope(acme):
        assert acme_basic.grants.filter(resource=widget, module__key="products").exists()


@pytest.mark.parametrize("module", ["²", "١٢", "9" * 40, "-1", "1.5"])
def test_a_module_that_is_not_an_ascii_id_filters_nothing_and_never_fails(acme_admin, client, module):
    """``str.isdigit`` accepts "²" and "١", which ``int`` then refuses or reads: ids are ASCII digits only."""
    login(client, acme_admin)
    assert results(client, "attributes", module=module) == []
    assert isinstance(results(client, "resources", module=module), list)
