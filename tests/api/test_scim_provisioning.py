"""SCIM Users and Groups as identity providers use them: userName and the login address, externalId,
PATCH in every path form, attributes/excludedAttributes, .search, ETags, group DELETE — each through the
audited services, each refusal SCIM-shaped and changing nothing."""

import pytest

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Grant, Group, Module
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from tests.api.conftest import bearer, issue
from tests.api.scimkit import GROUP, USER, error_of, patch_body, send
from tests.factories import UserFactory


def _events(tenant, **filters) -> list[str]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(**filters).order_by("seq").values_list("event_type", flat=True))


def _create(scim, **body):
    return send(scim, "post", "/scim/v2/Users", {"schemas": [USER], **body})


# userName and the login address -----------------------------------------------------------------------


def test_a_user_name_that_is_not_an_address_takes_the_primary_email_as_login(scim, acme):
    response = _create(
        scim,
        userName="bjensen",
        externalId="00u1",
        name={"givenName": "Barbara", "familyName": "Jensen"},
        emails=[
            {"value": "home@example.com", "type": "home"},
            {"value": "Barbara.Jensen@Example.com", "type": "work", "primary": True},
        ],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["userName"] == "bjensen" and body["externalId"] == "00u1"
    assert body["emails"] == [{"value": "barbara.jensen@example.com", "type": "work", "primary": True}]
    assert body["name"] == {"formatted": "Barbara Jensen", "givenName": "Barbara", "familyName": "Jensen"}
    assert response["Location"] == body["meta"]["location"] and response["ETag"] == body["meta"]["version"]
    with tenant_scope(acme):
        user = User.objects.get(pk=body["id"])
    assert user.email == "barbara.jensen@example.com" and user.scim_user_name == "bjensen"
    found = scim.get('/scim/v2/Users?filter=userName eq "BJENSEN"').json()
    assert [r["id"] for r in found["Resources"]] == [body["id"]]
    error_of(_create(scim, userName="BJensen", emails=[{"value": "other@example.com"}]), 409, "uniqueness")


@pytest.mark.parametrize(
    "emails",
    [None, [], [{"value": "not an address", "primary": True}], [{"type": "work"}]],
)
def test_no_address_anywhere_is_refused_clearly(scim, acme, emails):
    before = _events(acme)
    body = {"userName": "jdoe"} | ({"emails": emails} if emails is not None else {})
    detail = error_of(_create(scim, **body), 400, "invalidValue")["detail"]
    assert "userName" in detail and "emails" in detail
    assert _events(acme) == before


def test_the_first_work_address_when_none_is_primary(scim):
    body = _create(
        scim,
        userName="DOMAIN\\jdoe",
        emails=[{"value": "j@h.example", "type": "home"}, {"value": "j@w.example", "type": "work"}],
    )
    assert body.json()["emails"][0]["value"] == "j@w.example"


def test_user_name_as_an_address_is_returned_as_sent(scim):
    body = _create(scim, userName="Mixed.Case@Example.com").json()
    assert body["userName"] == "Mixed.Case@Example.com" and body["emails"][0]["value"] == "mixed.case@example.com"
    assert scim.get('/scim/v2/Users?filter=userName eq "mixed.case@example.com"').json()["totalResults"] == 1


# externalId ---------------------------------------------------------------------------------------------


def test_external_id_is_read_written_filtered_and_unique_per_tenant(scim, acme, globex, globex_admin):
    user = UserFactory(tenant=acme)
    url = f"/scim/v2/Users/{user.pk}"
    response = send(scim, "patch", url, patch_body({"op": "add", "path": "externalId", "value": "X-1"}))
    assert response.status_code == 200 and response.json()["externalId"] == "X-1"
    response = send(scim, "patch", url, patch_body({"op": "replace", "value": {"externalId": "X-2"}}))
    assert response.json()["externalId"] == "X-2"
    assert scim.get('/scim/v2/Users?filter=externalId eq "X-2"').json()["Resources"][0]["id"] == str(user.pk)
    other = UserFactory(tenant=acme)
    refused = send(
        scim, "patch", f"/scim/v2/Users/{other.pk}", patch_body({"op": "add", "path": "externalId", "value": "X-2"})
    )
    error_of(refused, 409, "uniqueness")
    response = send(scim, "patch", url, patch_body({"op": "remove", "path": "externalId"}))
    assert "externalId" not in response.json()
    with tenant_scope(acme):
        assert _events(acme, target_id=str(user.pk)).count("user.changed") == 3
    # another tenant may use the same externalId
    _key, token = issue(globex_admin, scopes={"users": ["view", "create"]}, scim=True)
    assert _create(bearer(token), userName="g@globex.example", externalId="X-1").status_code == 201


def test_group_external_id(scim, acme):
    response = send(scim, "post", "/scim/v2/Groups", {"schemas": [GROUP], "displayName": "Ops", "externalId": "g-1"})
    assert response.status_code == 201 and response.json()["externalId"] == "g-1"
    gid = response.json()["id"]
    error_of(send(scim, "post", "/scim/v2/Groups", {"displayName": "Other", "externalId": "g-1"}), 409, "uniqueness")
    patched = send(
        scim, "patch", f"/scim/v2/Groups/{gid}", patch_body({"op": "replace", "path": "externalId", "value": "g-2"})
    )
    assert patched.json()["externalId"] == "g-2"
    assert scim.get('/scim/v2/Groups?filter=externalId eq "g-2"').json()["totalResults"] == 1
    assert "group.changed" in _events(acme, target_id=gid)


# PATCH path forms ------------------------------------------------------------------------------------------


@pytest.fixture
def person(acme):
    user = UserFactory(tenant=acme, email="pat@acme.example", full_name="Pat Doe")
    with tenant_scope(acme):
        User.objects.filter(pk=user.pk).update(given_name="Pat", family_name="Doe")
    return user


@pytest.mark.parametrize(
    ("operation", "check"),
    [
        (
            {"op": "replace", "path": "name.givenName", "value": "Patricia"},
            lambda b: b["name"]["givenName"] == "Patricia",
        ),
        ({"op": "Replace", "path": "displayName", "value": "P. Doe"}, lambda b: b["displayName"] == "P. Doe"),
        ({"op": "replace", "path": "name", "value": {"formatted": "Dr P"}}, lambda b: b["displayName"] == "Dr P"),
        ({"op": "add", "path": "name", "value": {"familyName": "Roe"}}, lambda b: b["name"]["givenName"] == "Pat"),
        ({"op": "remove", "path": "name.familyName"}, lambda b: "familyName" not in b["name"]),
        (
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": "False"},
            lambda b: b["active"] is False,
        ),
        (
            {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Z"}},
            lambda b: b["displayName"] == "Z",
        ),
        ({"op": "replace", "path": 'emails[type eq "work"].value', "value": "PAT@acme.example"}, lambda b: b["active"]),
        (
            {"op": "replace", "path": "emails[primary eq true].value", "value": "pat@acme.example"},
            lambda b: b["active"],
        ),
        (
            {
                "op": "add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "value": "Sales",
            },
            lambda b: b["active"],
        ),
    ],
)
def test_patch_path_forms_on_a_user(scim, person, operation, check):
    response = send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body(operation))
    assert response.status_code == 200, response.content
    assert check(response.json()), response.json()


@pytest.mark.parametrize(
    ("operation", "status", "scim_type"),
    [
        ({"op": "remove"}, 400, "noTarget"),
        ({"op": "replace", "path": "nickName", "value": "x"}, 400, "invalidPath"),
        ({"op": "replace", "path": "emails[type eq", "value": "x"}, 400, "invalidPath"),
        ({"op": "replace", "path": 'emails[type eq "home"].value', "value": "x@y.example"}, 400, "noTarget"),
        ({"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@acme.example"}, 400, "mutability"),
        ({"op": "add", "path": "emails", "value": [{"value": "second@acme.example"}]}, 400, "mutability"),
        ({"op": "remove", "path": "emails"}, 400, "mutability"),
        ({"op": "remove", "path": "active"}, 400, "mutability"),
        ({"op": "replace", "path": "active", "value": "maybe"}, 400, "invalidValue"),
        ({"op": "replace", "path": "id", "value": "1"}, 400, "mutability"),
        ({"op": "move", "path": "active", "value": True}, 400, "invalidSyntax"),
        ({"op": "replace", "path": "urn:example:other:displayName", "value": "x"}, 400, "invalidPath"),
        ({"op": "replace", "path": "name.givenName", "value": "x" * 101}, 400, "invalidValue"),
    ],
)
def test_patches_that_cannot_apply_are_refused_and_change_nothing(scim, acme, person, operation, status, scim_type):
    before = (_events(acme), scim.get(f"/scim/v2/Users/{person.pk}").json())
    error_of(send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body(operation)), status, scim_type)
    assert (_events(acme), scim.get(f"/scim/v2/Users/{person.pk}").json()) == before


def test_patch_body_must_be_a_patch_op(scim, person):
    error_of(send(scim, "patch", f"/scim/v2/Users/{person.pk}", {"Operations": []}), 400, "invalidSyntax")
    error_of(send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body()), 400, "invalidSyntax")


def test_group_membership_by_every_path_form(scim, acme):
    alice, bob, carol = (UserFactory(tenant=acme) for _ in range(3))
    gid = send(scim, "post", "/scim/v2/Groups", {"displayName": "Crew"}).json()["id"]
    url = f"/scim/v2/Groups/{gid}"

    def members(response):
        assert response.status_code == 200, response.content
        return sorted(int(m["value"]) for m in response.json()["members"])

    ops = [{"op": "add", "value": {"members": [{"value": str(alice.pk)}, {"value": str(bob.pk)}]}}]
    assert members(send(scim, "patch", url, patch_body(*ops))) == sorted([alice.pk, bob.pk])
    ops = [{"op": "add", "path": "members", "value": [{"value": str(alice.pk)}]}]  # already there: nothing
    assert members(send(scim, "patch", url, patch_body(*ops))) == sorted([alice.pk, bob.pk])
    ops = [{"op": "remove", "path": f'members[value eq "{alice.pk}"]'}]
    assert members(send(scim, "patch", url, patch_body(*ops))) == [bob.pk]
    ops = [{"op": "remove", "path": "members", "value": [{"value": str(bob.pk)}]}]  # Entra's form
    assert members(send(scim, "patch", url, patch_body(*ops))) == []
    ops = [{"op": "replace", "path": "members", "value": [{"value": str(carol.pk)}]}]
    assert members(send(scim, "patch", url, patch_body(*ops))) == [carol.pk]
    ops = [{"op": "remove", "path": "members"}]
    assert members(send(scim, "patch", url, patch_body(*ops))) == []
    ops = [{"op": "add", "path": "members", "value": [{"value": "999999"}]}]
    error_of(send(scim, "patch", url, patch_body(*ops)), 400, "invalidValue")
    ops = [{"op": "remove", "path": 'members[value eq "1" or display co "x"]'}]  # matches nothing: nothing to do
    assert members(send(scim, "patch", url, patch_body(*ops))) == []
    types = _events(acme, target_id=gid)
    assert types.count("group.member_added") == 3 and types.count("group.member_removed") == 3


# attributes, .search, ETags ----------------------------------------------------------------------------


def test_attributes_and_excluded_attributes(scim, person):
    body = scim.get(f"/scim/v2/Users/{person.pk}?attributes=userName,name.givenName").json()
    assert set(body) == {"schemas", "id", "userName", "name"} and body["name"] == {"givenName": "Pat"}
    body = scim.get(f"/scim/v2/Users/{person.pk}?excludedAttributes=emails,name.familyName,meta").json()
    assert "emails" not in body and "meta" not in body and body["name"] == {"formatted": "Pat Doe", "givenName": "Pat"}
    listed = scim.get("/scim/v2/Users?attributes=urn:ietf:params:scim:schemas:core:2.0:User:userName").json()
    assert all(set(r) == {"schemas", "id", "userName"} for r in listed["Resources"])


def test_post_search(scim, person):
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'name.familyName eq "doe"',
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
    }
    found = send(scim, "post", "/scim/v2/Users/.search", body).json()
    assert found["totalResults"] == 1 and found["Resources"][0] == {
        "schemas": [USER],
        "id": str(person.pk),
        "userName": "pat@acme.example",
    }
    error_of(send(scim, "post", "/scim/v2/Users/.search", {**body, "filter": "bad"}), 400, "invalidFilter")
    error_of(send(scim, "post", "/scim/v2/Users/.search", {"filter": "userName pr"}), 400, "invalidSyntax")
    assert (
        send(
            scim, "post", "/scim/v2/Groups/.search", {**body, "filter": "displayName pr", "attributes": []}
        ).status_code
        == 200
    )


def test_etags_and_if_match(scim, acme, person):
    url = f"/scim/v2/Users/{person.pk}"
    response = scim.get(url)
    version = response.json()["meta"]["version"]
    assert response["ETag"] == version and version.startswith('W/"')
    op = patch_body({"op": "replace", "path": "displayName", "value": "New"})
    before = _events(acme)
    error_of(send(scim, "patch", url, op, HTTP_IF_MATCH='W/"stale"'), 412)
    error_of(send(scim, "put", url, {"userName": person.email}, HTTP_IF_MATCH='W/"stale"'), 412)
    error_of(send(scim, "delete", url, HTTP_IF_MATCH='W/"stale"'), 412)
    assert _events(acme) == before
    changed = send(scim, "patch", url, op, HTTP_IF_MATCH=version)
    assert changed.status_code == 200 and changed["ETag"] != version
    assert send(scim, "patch", url, op, HTTP_IF_MATCH="*").status_code == 200
    error_of(send(scim, "patch", url, op, HTTP_IF_MATCH=version), 412)


def test_unknown_paths_and_methods_are_scim_errors(scim):
    error_of(scim.get("/scim/v2/Nothing"), 404)
    error_of(scim.get("/scim/v2/Users/1/extra"), 404)
    error_of(scim.get("/scim/v2/Users/999999999"), 404)
    error_of(send(scim, "put", "/scim/v2/Users", {}), 405)
    error_of(send(scim, "delete", "/scim/v2/Users/.search"), 405)


# Group DELETE -------------------------------------------------------------------------------------------------


@pytest.fixture
def granted_group(acme, acme_admin):
    with tenant_scope(acme):
        group = group_services.create_group(actor=None, tenant=acme, name="Reporters", kind=Group.Kind.TEAM)
        member = UserFactory(tenant=acme, email="member@acme.example")
        group_services.add_member(group, member, actor=None)
        grant = grant_services.grant(
            actor=acme_admin, group=group, module=Module.objects.get(key="reports"), actions=["view"], reason="test"
        )
    return group, member, grant


def test_group_delete_revokes_its_grants_removes_its_members_and_records_the_impact(scim, acme, granted_group):
    group, member, grant = granted_group
    assert scim.delete(f"/scim/v2/Groups/{group.pk}").status_code == 204
    error_of(scim.get(f"/scim/v2/Groups/{group.pk}"), 404)
    with tenant_scope(acme):
        assert not Group.objects.filter(pk=group.pk).exists()
        assert not Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).exists()
        deleted = AuditEvent.objects.get(event_type="group.deleted", target_id=str(group.pk))
        types = list(AuditEvent.objects.filter(target_id=str(grant.pk)).values_list("event_type", flat=True))
    assert deleted.before["name"] == "Reporters" and len(deleted.before["members"]) == 1
    assert deleted.before["grants_revoked"][0]["grant"] == grant.pk
    assert "grant.revoked" in types
    assert "group.member_removed" in _events(acme, target_id=str(group.pk))


def test_group_delete_needs_groups_delete_and_grants_delete(acme, acme_admin, granted_group):
    group, _member, _grant = granted_group
    for scopes in (
        {"groups": ["view", "change"], "grants": ["delete"]},
        {"groups": ["view", "delete"]},  # the group holds grants: revoking them needs grants: delete too
    ):
        _key, token = issue(acme_admin, scopes=scopes, scim=True)
        error_of(bearer(token).delete(f"/scim/v2/Groups/{group.pk}"), 403)
    with tenant_scope(acme):
        assert (
            Group.objects.filter(pk=group.pk).exists() and Grant.objects.filter(group=group, revoked_at=None).exists()
        )


# Deleted users, POST /.search at the root ------------------------------------------------------------------------


def test_a_deleted_user_is_a_404_and_may_be_provisioned_again(scim, acme):
    created = _create(scim, userName="gone", emails=[{"value": "gone@acme.example"}], externalId="e-9").json()
    url = f"/scim/v2/Users/{created['id']}"
    gid = send(scim, "post", "/scim/v2/Groups", {"displayName": "G", "members": [{"value": created["id"]}]}).json()[
        "id"
    ]
    assert scim.delete(url).status_code == 204
    for method in ("get", "put", "patch", "delete"):
        error_of(send(scim, method, url, patch_body({"op": "replace", "path": "active", "value": True})), 404)
    assert scim.get('/scim/v2/Users?filter=userName eq "gone"').json()["totalResults"] == 0
    assert scim.get(f"/scim/v2/Groups/{gid}").json()["members"] == []
    with tenant_scope(acme):
        user = User.objects.get(pk=created["id"])
        assert not user.is_active and user.scim_deleted
    again = _create(scim, userName="gone-again", emails=[{"value": "gone@acme.example"}])
    assert again.status_code == 201 and again.json()["id"] == created["id"] and again.json()["active"] is True
    assert again.json()["userName"] == "gone-again" and "externalId" not in again.json()
    assert scim.get(url).status_code == 200
    assert {"user.deactivated", "user.changed", "user.reactivated"} <= set(_events(acme, target_id=created["id"]))


def test_root_search_over_users_and_groups(scim, acme, acme_admin):
    send(scim, "post", "/scim/v2/Groups", {"displayName": "Zeta"})
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    everything = send(scim, "post", "/scim/v2/.search", {**search, "count": 10}).json()
    assert everything["totalResults"] == 2
    assert [r["schemas"][0] for r in everything["Resources"]] == [USER, GROUP]
    second = send(scim, "post", "/scim/v2/.search", {**search, "startIndex": 2, "count": 1}).json()
    assert [r.get("displayName") for r in second["Resources"]] == ["Zeta"]
    only_groups = send(scim, "post", "/scim/v2/.search", {**search, "filter": 'displayName eq "Zeta"'}).json()
    assert only_groups["totalResults"] == 1  # no user is named Zeta
    users_only = send(scim, "post", "/scim/v2/.search", {**search, "filter": "userName pr"}).json()
    assert users_only["totalResults"] == 1  # a group has no userName: none of them
    error_of(send(scim, "post", "/scim/v2/.search", {**search, "filter": "nickName pr"}), 400, "invalidFilter")
    _key, token = issue(acme_admin, scopes={"users": ["view"]}, scim=True)
    assert send(bearer(token), "post", "/scim/v2/.search", search).json()["totalResults"] == 1  # no groups: view


def test_group_delete_waits_for_pending_changes_naming_the_group(scim, acme, acme_admin, granted_group):
    group, _member, _grant = granted_group
    with tenant_scope(acme):
        from permissions.services.changes import request_change

        request_change(
            actor=acme_admin,
            kind="membership",
            payload={"group": group.pk, "user": _member.pk, "owner": False},
            summary="x",
            reason="",
        )
    before = _events(acme)
    error_of(scim.delete(f"/scim/v2/Groups/{group.pk}"), 409)
    assert scim.get(f"/scim/v2/Groups/{group.pk}").status_code == 200
    assert _events(acme) == before
