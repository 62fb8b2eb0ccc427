"""Random PATCH operations, bodies and bulk requests: every answer is a SCIM answer below 500, and a refused
request changes nothing."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from tests.api.scimkit import patch_body, send
from tests.factories import UserFactory

PATHS = st.sampled_from(
    [
        "",
        "active",
        "displayName",
        "externalId",
        "userName",
        "name",
        "name.givenName",
        "emails",
        "emails.value",
        'emails[type eq "work"].value',
        'emails[value co "@"]',
        "members",
        'members[value eq "1"]',
        'members[value eq "1"].display',
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "meta.created",
        "id",
        "x[",
        "a.b.c",
        '"',
    ]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8) | st.sampled_from(["True", "false", "1"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "displayName", "active", "x", "givenName", "members"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
OPERATION = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "Replace", "move", ""])},
    optional={"path": PATHS, "value": JSON},
)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _checked(response):
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/scim+json"), response["Content-Type"]
    return response


@SETTINGS
@given(ops=st.lists(OPERATION, min_size=1, max_size=3), on_group=st.booleans())
def test_random_patches_are_answered_and_refusals_change_nothing(scim, acme, ops, on_group):
    user = UserFactory(tenant=acme)
    if on_group:
        url = "/scim/v2/Groups/" + send(scim, "post", "/scim/v2/Groups", {"displayName": f"G{user.pk}"}).json()["id"]
    else:
        url = f"/scim/v2/Users/{user.pk}"
    before = scim.get(url).json()
    with tenant_scope(acme):
        events = AuditEvent.objects.count()
    response = _checked(send(scim, "patch", url, patch_body(*ops)))
    if response.status_code >= 400:
        assert scim.get(url).json() == before
        with tenant_scope(acme):
            assert AuditEvent.objects.count() == events


@SETTINGS
@given(body=JSON, method=st.sampled_from(["post", "put"]), kind=st.sampled_from(["Users", "Groups"]))
def test_random_bodies_are_answered(scim, acme, body, method, kind):
    url = f"/scim/v2/{kind}" if method == "post" else f"/scim/v2/{kind}/{UserFactory(tenant=acme).pk}"
    _checked(send(scim, method, url, body))


@SETTINGS
@given(
    operations=st.lists(
        st.fixed_dictionaries(
            {
                "method": st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "GET", 1]),
                "path": st.sampled_from(["/Users", "/Groups", "/Users/1", "/Groups/bulkId:a", "/x", None]),
            },
            optional={"bulkId": st.sampled_from(["a", "b", 3]), "data": JSON, "version": JSON},
        ),
        max_size=4,
    ),
    fail_on=st.none() | st.integers(-1, 3),
)
def test_random_bulk_requests_are_answered(scim, operations, fail_on):
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations}
    if fail_on is not None:
        body["failOnErrors"] = fail_on
    response = _checked(send(scim, "post", "/scim/v2/Bulk", body))
    if response.status_code == 200:
        assert all(int(r["status"]) < 500 for r in response.json()["Operations"]), json.dumps(response.json())[:300]
