"""The request sequences that Microsoft Entra ID's and Okta's SCIM provisioning documentation describe,
replayed with their bodies, and the answers they document; and a resync that changes nothing writes
nothing (no audit event, no authorization version)."""

from urllib.parse import quote

import pytest

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Group
from permissions.versioning import stored_version
from tests.api.scimkit import GROUP, USER, error_of, patch_body, send
from tests.factories import UserFactory

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _trail(tenant) -> tuple[int, int]:
    with tenant_scope(tenant):
        return AuditEvent.objects.count(), stored_version(tenant.pk)


def test_entra_id_user_sequence(scim, acme):
    # "Create User" (Entra's SCIM validator body; userName is not an address: the work e-mail is the login)
    created = send(
        scim,
        "post",
        "/scim/v2/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            ENTERPRISE: {"department": "Sales", "employeeNumber": "1"},
        },
    )
    assert created.status_code == 201, created.content
    user = created.json()
    assert user["userName"] == "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
    assert user["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" and user["active"] is True
    url = f"/scim/v2/Users/{user['id']}"
    # "Get User" and "Get User by query" (one and zero results)
    assert scim.get(url).json()["id"] == user["id"]
    found = scim.get("/scim/v2/Users?filter=" + quote('userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'))
    assert found.json()["totalResults"] == 1 and found.json()["Resources"][0]["id"] == user["id"]
    assert scim.get("/scim/v2/Users?filter=" + quote('userName eq "non-existent user"')).json()["totalResults"] == 0
    # "Update User [Multi-valued attributes]": the login address is kept (the same value is accepted)
    ops = patch_body(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "test_user_fd0ea19b@testuser.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    )
    response = send(scim, "patch", url, ops)
    assert response.status_code == 200 and response.json()["name"]["familyName"] == "updatedFamilyName"
    other = patch_body({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"})
    error_of(send(scim, "patch", url, other), 400, "mutability")  # the login address is changed in the portal only
    # "Update User [Single-valued attributes]"
    ops = patch_body({"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59"})
    assert send(scim, "patch", url, ops).json()["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59"
    # "Disable User": Entra sends replace without a path, and the boolean as a string
    ops = patch_body({"op": "Replace", "value": {"active": "False"}})
    response = send(scim, "patch", url, ops)
    assert response.status_code == 200 and response.json()["active"] is False
    ops = patch_body({"op": "Replace", "path": "active", "value": "True"})
    assert send(scim, "patch", url, ops).json()["active"] is True
    # "Delete User"
    assert scim.delete(url).status_code == 204
    with tenant_scope(acme):
        assert not User.objects.get(pk=user["id"]).is_active


def test_entra_id_group_sequence(scim, acme):
    member = UserFactory(tenant=acme)
    created = send(
        scim,
        "post",
        "/scim/v2/Groups",
        {
            "schemas": [GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
    )
    assert created.status_code == 201 and created.json()["members"] == []
    url = f"/scim/v2/Groups/{created.json()['id']}"
    assert "members" not in scim.get(url + "?excludedAttributes=members").json()
    listed = scim.get("/scim/v2/Groups?excludedAttributes=members&filter=" + quote('displayName eq "displayName"'))
    assert listed.json()["totalResults"] == 1 and "members" not in listed.json()["Resources"][0]
    ops = patch_body({"op": "Replace", "path": "displayName", "value": "updatedDisplayName"})
    assert send(scim, "patch", url, ops).json()["displayName"] == "updatedDisplayName"
    ops = patch_body({"op": "Add", "path": "members", "value": [{"$ref": None, "value": str(member.pk)}]})
    assert [m["value"] for m in send(scim, "patch", url, ops).json()["members"]] == [str(member.pk)]
    ops = patch_body({"op": "Remove", "path": f'members[value eq "{member.pk}"]'})
    assert send(scim, "patch", url, ops).json()["members"] == []
    ops = patch_body({"op": "Add", "path": "members", "value": [{"value": str(member.pk)}]})
    send(scim, "patch", url, ops)
    ops = patch_body({"op": "Remove", "path": "members", "value": [{"$ref": None, "value": str(member.pk)}]})
    assert send(scim, "patch", url, ops).json()["members"] == []
    assert scim.delete(url).status_code == 204
    error_of(scim.get(url), 404)


def test_okta_user_and_group_sequence(scim, acme):
    # "Determine if the user already exists"
    query = "/scim/v2/Users?filter=" + quote('userName eq "test.user@okta.local"') + "&startIndex=1&count=100"
    assert scim.get(query).json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    # "Create the user"
    body = {
        "schemas": [USER],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    created = send(scim, "post", "/scim/v2/Users", body)
    assert created.status_code == 201, created.content
    user = created.json()
    url = f"/scim/v2/Users/{user['id']}"
    assert scim.get(query).json()["totalResults"] == 1
    # "Update a specific user (PUT)": Okta sends the whole user back, with id and meta
    replaced = send(
        scim, "put", url, {**user, "name": {"givenName": "Another", "familyName": "User"}, "displayName": ""}
    )
    assert replaced.status_code == 200 and replaced.json()["name"]["givenName"] == "Another"
    assert replaced.json()["displayName"] == "Another User"
    # "Update a specific user (PATCH)": deactivate and reactivate
    for active in (False, True):
        ops = patch_body({"op": "replace", "value": {"active": active}})
        assert send(scim, "patch", url, ops).json()["active"] is active
    # Groups: create, rename (Okta repeats the id in the value), add and remove members, delete
    group = send(scim, "post", "/scim/v2/Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})
    assert group.status_code == 201
    gurl = f"/scim/v2/Groups/{group.json()['id']}"
    ops = patch_body({"op": "replace", "value": {"id": group.json()["id"], "displayName": "Test SCIMv2 renamed"}})
    assert send(scim, "patch", gurl, ops).json()["displayName"] == "Test SCIMv2 renamed"
    ops = patch_body(
        {"op": "add", "path": "members", "value": [{"value": user["id"], "display": "test.user@okta.local"}]}
    )
    assert [m["value"] for m in send(scim, "patch", gurl, ops).json()["members"]] == [user["id"]]
    ops = patch_body({"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    assert send(scim, "patch", gurl, ops).json()["members"] == []
    assert scim.delete(gurl).status_code == 204
    with tenant_scope(acme):
        assert not Group.objects.filter(pk=group.json()["id"]).exists()


@pytest.mark.parametrize("style", ["okta-put", "entra-patch"])
def test_a_resync_that_changes_nothing_writes_nothing(scim, acme, style):
    ids = []
    for n in range(15):
        body = {
            "schemas": [USER],
            "userName": f"sync{n}",
            "externalId": f"ext-{n}",
            "name": {"givenName": f"Given{n}", "familyName": "Family"},
            "displayName": f"Given{n} Family",
            "emails": [{"value": f"sync{n}@acme.example", "type": "work", "primary": True}],
            "active": n % 3 != 0,
        }
        ids.append((body, send(scim, "post", "/scim/v2/Users", body).json()["id"]))
    gid = send(scim, "post", "/scim/v2/Groups", {"displayName": "Synced", "members": [{"value": i} for _b, i in ids]})
    gid = gid.json()["id"]
    before = _trail(acme)
    for body, pk in ids:
        found = scim.get("/scim/v2/Users?filter=" + quote(f'userName eq "{body["userName"]}"')).json()
        assert found["Resources"][0]["id"] == pk
        if style == "okta-put":
            assert send(scim, "put", f"/scim/v2/Users/{pk}", body).status_code == 200
        else:
            ops = patch_body(
                {"op": "Replace", "path": "active", "value": str(body["active"])},
                {"op": "Replace", "path": "displayName", "value": body["displayName"]},
                {"op": "Replace", "path": "name.givenName", "value": body["name"]["givenName"]},
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": body["emails"][0]["value"]},
                {"op": "Replace", "path": "externalId", "value": body["externalId"]},
                {"op": "Replace", "value": {"userName": body["userName"]}},
            )
            assert send(scim, "patch", f"/scim/v2/Users/{pk}", ops).status_code == 200
    members = [{"value": pk} for _b, pk in ids]
    assert send(scim, "put", f"/scim/v2/Groups/{gid}", {"displayName": "Synced", "members": members}).status_code == 200
    ops = patch_body({"op": "add", "path": "members", "value": members[:5]})
    assert send(scim, "patch", f"/scim/v2/Groups/{gid}", ops).status_code == 200
    assert _trail(acme) == before
    # the control: a real change is written and audited
    send(
        scim, "patch", f"/scim/v2/Users/{ids[0][1]}", patch_body({"op": "replace", "path": "displayName", "value": "X"})
    )
    assert _trail(acme)[0] == before[0] + 1
