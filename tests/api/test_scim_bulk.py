"""SCIM Bulk (RFC 7644 §3.7): bulkId references, failOnErrors, the advertised limits; each operation is
checked and audited like its single call, and a failed one leaves nothing behind."""

from accounts.models import User
from accounts.scoping import tenant_scope
from api.scim.bulk import MAX_OPERATIONS, MAX_PAYLOAD
from audit.models import AuditEvent
from permissions.models import Group
from tests.api.conftest import bearer, issue
from tests.api.scimkit import error_of, patch_body, send

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def _bulk(client, operations, **extra):
    return send(client, "post", "/scim/v2/Bulk", {"schemas": [BULK], "Operations": operations, **extra})


def test_service_provider_config_advertises_bulk_and_etags(scim):
    config = scim.get("/scim/v2/ServiceProviderConfig").json()
    assert config["bulk"] == {"supported": True, "maxOperations": MAX_OPERATIONS, "maxPayloadSize": MAX_PAYLOAD}
    assert config["etag"]["supported"] is True


def test_rfc7644_bulk_example_with_bulk_id_references(scim, acme):
    # RFC 7644 §3.7.2, shortened: the group refers to a user created later in the same request.
    response = _bulk(
        scim,
        [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "ytrewq",
                "data": {"displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]},
            },
            {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": {"userName": "alice@acme.example"}},
            {
                "method": "PATCH",
                "path": "/Groups/bulkId:ytrewq",
                "data": patch_body({"op": "replace", "path": "displayName", "value": "Guides"}),
            },
        ],
    )
    assert response.status_code == 200, response.content
    results = response.json()["Operations"]
    assert [r["status"] for r in results] == ["201", "201", "200"]
    assert all(r["location"] and r["version"].startswith('W/"') for r in results)
    with tenant_scope(acme):
        alice = User.objects.get(email="alice@acme.example")
        group = Group.objects.get(name="Guides")
        assert list(group.memberships.values_list("user_id", flat=True)) == [alice.pk]
        types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"user.created", "group.created", "group.member_added", "group.renamed"} <= types


def test_fail_on_errors_stops_and_a_failed_operation_leaves_nothing(scim, acme):
    response = _bulk(
        scim,
        [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "no-address"}},
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {"displayName": "G", "members": [{"value": "0"}]},
            },
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "b@acme.example"}},
        ],
        failOnErrors=2,
    )
    results = response.json()["Operations"]
    assert [r["status"] for r in results] == ["400", "400"]
    assert results[0]["response"]["scimType"] == "invalidValue"
    with tenant_scope(acme):
        assert not Group.objects.filter(name="G").exists()
        assert not User.objects.filter(email="b@acme.example").exists()


def test_without_fail_on_errors_every_operation_runs(scim, acme):
    response = _bulk(
        scim,
        [
            {"method": "DELETE", "path": "/Users/999999"},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "b@acme.example"}},
            {"method": "PATCH", "path": "/Users/bulkId:nothing", "data": patch_body({"op": "remove", "path": "x"})},
            {"method": "GET", "path": "/Users"},
        ],
    )
    statuses = [r["status"] for r in response.json()["Operations"]]
    assert statuses == ["404", "201", "409", "400"]


def test_each_operation_needs_the_keys_scope(acme, acme_admin):
    _key, token = issue(acme_admin, scopes={"users": ["view", "create"]}, scim=True)
    response = _bulk(
        bearer(token),
        [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a@acme.example"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G"}},
            {"method": "DELETE", "path": f"/Users/{acme_admin.pk}"},
        ],
    )
    assert [r["status"] for r in response.json()["Operations"]] == ["201", "403", "403"]
    _key, token = issue(acme_admin, scopes={"users": ["view", "create"]})  # no SCIM flag
    error_of(_bulk(bearer(token), []), 403)


def test_limits_and_shape(scim):
    ops = [{"method": "DELETE", "path": "/Users/1"}] * (MAX_OPERATIONS + 1)
    error_of(_bulk(scim, ops), 413, "tooMany")
    error_of(send(scim, "post", "/scim/v2/Bulk", {"Operations": []}), 400, "invalidSyntax")
    error_of(_bulk(scim, [], failOnErrors=0), 400, "invalidValue")
    error_of(_bulk(scim, ["x"]), 400, "invalidSyntax")
