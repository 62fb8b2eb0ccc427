"""AZ-1 for SCIM: the walk over every ``scim/v2/`` URL pattern (the tenant-isolation walker skips them because
SCIM answers keys only). Each pattern's keywords must be known here; with another tenant's id, every method
answers a SCIM 404, nothing of the other tenant leaks and nothing of it changes. Collections, search, filters
and bulk never reach another tenant's rows."""

import json
import re
from urllib.parse import quote

import pytest
from django.urls import get_resolver

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Group
from permissions.services import groups as group_services
from tests.api.conftest import bearer, issue
from tests.api.scimkit import GROUP, USER, error_of, patch_body, send
from tests.factories import UserFactory
from tests.test_tenant_isolation import walk

# keyword → the foreign object's id in the route (the route names its resource), or a fixed value
NAMED = {"name": "User", "urn": USER}
MINIMUM_ROUTES = 12


def _foreign(globex):
    with tenant_scope(globex):
        user = UserFactory(tenant=globex, email="secret.person@globex.example", full_name="Secret Person")
        User.objects.filter(pk=user.pk).update(external_id="globex-ext")
        group = group_services.create_group(actor=None, tenant=globex, name="Globex secret team", kind=Group.Kind.TEAM)
        group_services.add_member(group, user, actor=None)
    return user, group


def _routes():
    return [(route, keywords) for route, _name, keywords in walk(get_resolver()) if route.startswith("scim/v2/")]


def test_every_scim_keyword_is_covered_and_the_walk_is_not_empty():
    routes = _routes()
    assert len(routes) >= MINIMUM_ROUTES, routes
    unknown = {kw for _r, kws in routes for kw in kws if kw not in NAMED and kw != "pk"}
    assert not unknown, f"add these SCIM URL keywords to the walk: {unknown}"


def _snapshot(globex) -> tuple:
    with tenant_scope(globex):
        return (
            list(User.objects.order_by("pk").values()),
            list(Group.objects.order_by("pk").values()),
            list(AuditEvent.objects.order_by("seq").values_list("event_type", flat=True)),
        )


@pytest.mark.parametrize(("route", "keywords"), [r for r in _routes() if "pk" in r[1]], ids=lambda v: str(v))
def test_another_tenants_id_is_a_scim_404_for_every_method(scim, acme, globex, route, keywords):
    user, group = _foreign(globex)
    own = UserFactory(tenant=acme)
    pk = user.pk if "Users" in route else group.pk
    url = "/" + re.sub(r"<(\w+:)?pk>", str(pk), route)
    own_url = "/" + re.sub(r"<(\w+:)?pk>", str(own.pk if "Users" in route else _own_group(acme).pk), route)
    assert scim.get(own_url).status_code == 200, own_url  # the control: an own id answers
    before = _snapshot(globex)
    bodies = {
        "put": {"schemas": [USER if "Users" in route else GROUP], "userName": "x@acme.example", "displayName": "X"},
        "patch": patch_body({"op": "replace", "path": "displayName", "value": "Taken over"}),
    }
    for method in ("get", "put", "patch", "delete"):
        response = send(scim, method, url, bodies.get(method))
        error_of(response, 404)
        for secret in ("secret.person", "Secret Person", "Globex secret team", "globex-ext"):
            assert secret not in response.content.decode(), (method, url)
    assert _snapshot(globex) == before


def _own_group(acme):
    with tenant_scope(acme):
        return group_services.create_group(actor=None, tenant=acme, name="Own", kind=Group.Kind.TEAM)


def test_collections_search_filters_and_references_never_reach_another_tenant(scim, acme, globex):
    user, group = _foreign(globex)
    before = _snapshot(globex)
    for url in (
        "/scim/v2/Users?count=200",
        "/scim/v2/Groups?count=200",
        "/scim/v2/Users?filter=" + quote('externalId eq "globex-ext" or userName co "secret"'),
        "/scim/v2/Users?filter=" + quote(f'id eq "{user.pk}"'),
        "/scim/v2/Groups?filter=" + quote(f'members[value eq "{user.pk}"] or displayName co "Globex"'),
    ):
        body = scim.get(url).json()
        assert str(user.pk) not in {r["id"] for r in body["Resources"] if "Users" in url}
        for secret in ("secret.person", "Globex secret team", "globex-ext"):
            assert secret not in json.dumps(body), url
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName pr"}
    assert "secret.person" not in send(scim, "post", "/scim/v2/Users/.search", search).content.decode()
    own = send(scim, "post", "/scim/v2/Groups", {"displayName": "Mine"}).json()["id"]
    ops = patch_body({"op": "add", "path": "members", "value": [{"value": str(user.pk)}]})
    error_of(send(scim, "patch", f"/scim/v2/Groups/{own}", ops), 400, "invalidValue")
    bulk = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "DELETE", "path": f"/Groups/{group.pk}"},
            {
                "method": "PATCH",
                "path": f"/Users/{user.pk}",
                "data": patch_body({"op": "replace", "path": "active", "value": False}),
            },
        ],
    }
    results = send(scim, "post", "/scim/v2/Bulk", bulk).json()["Operations"]
    assert [r["status"] for r in results] == ["404", "404"]
    assert _snapshot(globex) == before


def test_every_scim_route_refuses_a_key_without_the_scim_flag_and_a_session(acme_admin, admin_client_acme):
    _key, token = issue(acme_admin, scopes={"users": ["view", "create", "change", "delete"], "groups": ["view"]})
    plain = bearer(token)
    for route, _keywords in _routes():
        url = "/" + re.sub(r"<(\w+:)?(\w+)>", lambda m: str(NAMED.get(m[2], acme_admin.pk)), route)
        for client in (plain, admin_client_acme):
            method = "post" if route.endswith(("Bulk", ".search")) else "get"
            response = send(client, method, url, {})
            assert response.status_code in (401, 403), (url, response.status_code)
            assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
