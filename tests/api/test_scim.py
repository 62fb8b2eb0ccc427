"""SCIM 2.0 (RFC 7643/7644): the RFC's example requests work; provisioning goes through the services
and the audit trail; a SCIM key is needed; other tenants' ids are 404."""

import pytest

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Group
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory

SCIM = "application/scim+json"
SCIM_SCOPES = {"users": ["view", "create", "change", "delete"], "groups": ["view", "create", "change"]}


@pytest.fixture
def scim(acme_admin):
    _key, token = issue(acme_admin, scopes=SCIM_SCOPES, scim=True)
    return bearer(token)


def _post(client, url, body):
    return client.post(url, body, content_type=SCIM)


# RFC 7644 §3.3 (creating a User), trimmed to the attributes this service keeps.
RFC_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "bjensen@example.com",
    "externalId": "bjensen",
    "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
}


def test_rfc7644_create_user_then_read_it(scim, acme):
    response = _post(scim, "/scim/v2/Users", RFC_USER)
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == SCIM
    created = response.json()
    assert created["userName"] == "bjensen@example.com" and created["active"] is True
    assert created["name"]["formatted"] == "Ms. Barbara J Jensen III"
    assert created["meta"]["resourceType"] == "User" and created["meta"]["location"].endswith(created["id"])
    assert scim.get(f"/scim/v2/Users/{created['id']}").json()["userName"] == "bjensen@example.com"
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="user.created", target_id=created["id"]).exists()
    assert _post(scim, "/scim/v2/Users", RFC_USER).status_code == 409


def test_rfc7644_filter_username_eq_and_pagination(scim, acme):
    for n in range(5):
        UserFactory(tenant=acme, email=f"person{n}@acme.example")
    body = scim.get('/scim/v2/Users?filter=userName eq "person3@acme.example"').json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == 1 and body["Resources"][0]["userName"] == "person3@acme.example"
    page = scim.get("/scim/v2/Users?startIndex=2&count=2").json()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2 and page["totalResults"] == 6
    assert scim.get('/scim/v2/Users?filter=userName co "person"').json()["totalResults"] == 5
    response = scim.get('/scim/v2/Users?filter=nickName co "person"')
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"


def test_rfc7644_patch_deactivate_and_delete(scim, acme):
    user = UserFactory(tenant=acme)
    # RFC 7644 §3.5.2 with Azure/Okta's common shape: replace without a path
    response = scim.patch(
        f"/scim/v2/Users/{user.pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
        content_type=SCIM,
    )
    assert response.status_code == 200 and response.json()["active"] is False
    user.refresh_from_db()
    assert not user.is_active
    response = scim.patch(
        f"/scim/v2/Users/{user.pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": True}],
        },
        content_type=SCIM,
    )
    assert response.json()["active"] is True
    assert scim.delete(f"/scim/v2/Users/{user.pk}").status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    with tenant_scope(acme):
        types = set(AuditEvent.objects.filter(target_id=str(user.pk)).values_list("event_type", flat=True))
    assert {"user.deactivated", "user.reactivated"} <= types


def test_rfc7644_put_replaces_the_name(scim, acme):
    user = UserFactory(tenant=acme, full_name="Old")
    response = scim.put(
        f"/scim/v2/Users/{user.pk}",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user.email,
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": True,
        },
        content_type=SCIM,
    )
    assert response.status_code == 200 and response.json()["displayName"] == "Barbara Jensen"
    response = scim.put(  # the login address stays; userName may change
        f"/scim/v2/Users/{user.pk}",
        {"userName": "other@x.example", "emails": [{"value": "other@x.example"}]},
        content_type=SCIM,
    )
    assert response.status_code == 200 and response.json()["emails"][0]["value"] == user.email
    assert response.json()["userName"] == "other@x.example"


def test_rfc7644_groups_create_patch_members(scim, acme):
    alice, bob = UserFactory(tenant=acme), UserFactory(tenant=acme)
    # RFC 7644 §3.3 group example shape
    response = _post(
        scim,
        "/scim/v2/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Tour Guides",
            "members": [{"value": str(alice.pk), "display": alice.email}],
        },
    )
    assert response.status_code == 201, response.content
    group = response.json()
    assert [m["value"] for m in group["members"]] == [str(alice.pk)]
    # RFC 7644 §3.5.2.1 add members, §3.5.2.2 remove one member by filter
    ops = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": str(bob.pk)}]}],
    }
    response = scim.patch(f"/scim/v2/Groups/{group['id']}", ops, content_type=SCIM)
    assert sorted(m["value"] for m in response.json()["members"]) == sorted([str(alice.pk), str(bob.pk)])
    ops = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": f'members[value eq "{alice.pk}"]'}],
    }
    response = scim.patch(f"/scim/v2/Groups/{group['id']}", ops, content_type=SCIM)
    assert [m["value"] for m in response.json()["members"]] == [str(bob.pk)]
    ops = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Guides"}],
    }
    assert scim.patch(f"/scim/v2/Groups/{group['id']}", ops, content_type=SCIM).json()["displayName"] == "Guides"
    body = scim.get('/scim/v2/Groups?filter=displayName eq "Guides"').json()
    assert body["totalResults"] == 1
    with tenant_scope(acme):
        types = list(AuditEvent.objects.filter(target_type="permissions.group").values_list("event_type", flat=True))
    assert types.count("group.member_added") == 2 and "group.member_removed" in types and "group.renamed" in types


def test_discovery_endpoints(scim):
    config = scim.get("/scim/v2/ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["filter"]["supported"] is True
    types = scim.get("/scim/v2/ResourceTypes").json()
    assert {r["id"] for r in types["Resources"]} == {"User", "Group"}
    schemas = scim.get("/scim/v2/Schemas").json()
    assert "urn:ietf:params:scim:schemas:core:2.0:User" in {s["id"] for s in schemas["Resources"]}


def test_scim_needs_a_scim_key(acme_admin, admin_client_acme):
    _key, token = issue(acme_admin, scopes=SCIM_SCOPES)  # no SCIM flag
    assert bearer(token).get("/scim/v2/Users").status_code == 403
    response = bearer("").get("/scim/v2/Users")
    assert response.status_code == 401 and response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    session = admin_client_acme.get("/scim/v2/Users")  # a session is not SCIM
    assert session.status_code == 403 and session.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "Resources" not in session.json()


def test_az1_az2_scim_other_tenants_ids(scim, acme, globex):
    stranger = UserFactory(tenant=globex, email="stranger@globex.example")
    assert scim.get(f"/scim/v2/Users/{stranger.pk}").status_code == 404
    assert scim.delete(f"/scim/v2/Users/{stranger.pk}").status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
    assert "stranger@globex.example" not in scim.get("/scim/v2/Users").content.decode()
    response = _post(scim, "/scim/v2/Groups", {"displayName": "Mixed", "members": [{"value": str(stranger.pk)}]})
    assert response.status_code == 400
    with tenant_scope(acme):
        assert not Group.objects.filter(name="Mixed").exists()
    with tenant_scope(globex):
        assert User.objects.filter(pk=stranger.pk).exists()
