"""Every console screen: an administrator is served, a basic user is refused (403), an anonymous visitor
is sent to log in (AZ-3 through the engine); the menu shows the console only to those who may use it;
another tenant's rows never appear in a list."""

import pytest
from django.test import Client

from accounts.scoping import tenant_scope
from permissions.models import PendingChange
from permissions.services import roles as role_services
from tests.console.conftest import make_resource, module
from tests.factories import UserFactory, builtin_role


@pytest.fixture
def objects(acme, acme_customer, customer_company, report, acme_admin):
    with tenant_scope(acme):
        change = role_services.change_user_role(acme_customer, builtin_role(acme, "administrator"), actor=acme_admin)
    assert isinstance(change, PendingChange)
    return {
        "user": acme_customer.pk,
        "role": builtin_role(acme, "advanced").pk,
        "group": customer_company.pk,
        "module": module(acme, "reports").pk,
        "resource": report.pk,
        "change": change.pk,
    }


def screens(o):
    return [
        "/console/users/",
        "/console/users/invite/",
        f"/console/users/{o['user']}/",
        f"/console/users/{o['user']}/role/",
        f"/console/users/{o['user']}/status/",
        f"/console/users/{o['user']}/why/{o['resource']}/",
        "/console/roles/",
        "/console/roles/new/",
        f"/console/roles/{o['role']}/",
        f"/console/roles/{o['role']}/matrix/",
        f"/console/roles/{o['role']}/clone/",
        "/console/groups/",
        "/console/groups/new/",
        f"/console/groups/{o['group']}/",
        f"/console/groups/{o['group']}/members/",
        "/console/modules/",
        "/console/modules/new/",
        f"/console/modules/{o['module']}/",
        f"/console/modules/{o['module']}/new/",
        f"/console/resources/{o['resource']}/",
        f"/console/resources/{o['resource']}/edit/",
        "/console/grants/new/",
        "/console/approvals/",
        f"/console/approvals/{o['change']}/",
    ]


def test_an_administrator_is_served_every_screen(admin_client_acme, objects):
    for url in screens(objects):
        response = admin_client_acme.get(url)
        assert response.status_code == 200, url


def test_az3_a_basic_user_is_refused_every_screen(basic_client, objects):
    for url in screens(objects):
        response = basic_client.get(url)
        assert response.status_code in (403, 404), url  # 404: a resource they may not even view


def test_az3_anonymous_visitors_are_sent_to_log_in(objects):
    for url in screens(objects):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_menu_offers_the_console_to_administrators_only(admin_client_acme, basic_client):
    home = admin_client_acme.get("/").content.decode()
    for url in ("/console/users/", "/console/roles/", "/console/groups/", "/console/modules/", "/console/approvals/"):
        assert f'href="{url}"' in home
    assert "/console/" not in basic_client.get("/").content.decode()


def test_a_user_manager_sees_only_the_screens_their_role_gives(acme):
    """Menus and screens follow the engine: users: view alone shows Users, not Roles."""
    with tenant_scope(acme):
        role = role_services.create_role(actor=None, tenant=acme, name="Helpdesk")
        role_services.set_role_matrix(role, {"users": ["view"]}, actor=None)
    helpdesk = UserFactory(tenant=acme, email="helpdesk@acme.example", role=role)
    from tests.conftest import login

    client = login(Client(), helpdesk)
    home = client.get("/").content.decode()
    assert 'href="/console/users/"' in home and 'href="/console/roles/"' not in home
    assert client.get("/console/users/").status_code == 200
    assert client.get("/console/roles/").status_code == 403
    assert client.get("/console/users/invite/").status_code == 403


def test_lists_show_nothing_of_another_tenant(admin_client_acme, globex, objects):
    UserFactory(tenant=globex, email="secret@globex.example")
    make_resource(globex, "reports", "Globex balance sheet")
    for url in ("/console/users/", "/console/roles/", "/console/groups/", "/console/approvals/"):
        body = admin_client_acme.get(url).content.decode()
        assert "globex" not in body.lower(), url
    body = admin_client_acme.get(f"/console/modules/{objects['module']}/").content.decode()
    assert "Q3 revenue" in body and "Globex balance sheet" not in body
