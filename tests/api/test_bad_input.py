"""FC-2: every API and SCIM route, sent each family of bad input, answers a 4xx in its error format
(problem+json; SCIM's error schema under /scim) and the database is exactly as it was.

The routes come from the OpenAPI schema (every operation, with its documented query parameters) and from
the SCIM URL patterns; a minimum count keeps the walk from passing empty. Ids in paths are the tenant's own
objects, so a refusal is the input's fault, not a missing row's.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.apps import apps
from django.db import connection
from django.urls import get_resolver

from tests.api.conftest import bearer, issue
from tests.test_tenant_isolation import own_kwargs, walk

PROBLEM = "application/problem+json"
SCIM = "application/scim+json"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
WRITES = ("post", "put", "patch")
# Bookkeeping of the request itself, not a change it made: an API key's last use, and the daily record
# that a right was used (written when the key's permission check passes, before the input is read).
VOLATILE = {"last_used_at"}
VOLATILE_TABLES = {"permissions_usagerecord"}

# (family, raw body bytes, content type) sent to every operation that takes a body.
BODY_FAMILIES = [
    ("nul", b'{"name": "a\\u0000b", "title": "x"}', "application/json"),
    ("control", b'{"name": "a\\u001bb"}', "application/json"),
    ("lone surrogate", b'{"name": "\\ud800"}', "application/json"),
    ("surrogate key", b'{"\\udfff": 1}', "application/json"),
    ("invalid utf-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("deep objects", b'{"a":' * 2000 + b"1" + b"}" * 2000, "application/json"),
    ("duplicate keys", b'{"name": "a", "name": "b"}', "application/json"),
    ("beyond bigint", b'{"subject": 99999999999999999999999, "id": 1}', "application/json"),
    ("NaN", b'{"subject": NaN}', "application/json"),
    ("float overflow", b'{"days": 1e999}', "application/json"),
    ("truncated", b'{"name": ', "application/json"),
    ("two documents", b"{} {}", "application/json"),
    ("wrong content type", b"name=x", "application/x-www-form-urlencoded"),
    ("text", b"hello", "text/plain"),
    ("too large", b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}', "application/json"),
]
# (family, query string) sent to every operation.
QUERY_FAMILIES = [
    ("nul in query", "q=%00"),
    ("control in query", "q=a%1Bb"),
    ("invalid utf-8 in query", "q=%FF%FE"),
    ("encoded surrogate", "q=%ED%A0%80"),
    ("long query value", "q=" + "x" * 1001),
    ("repeated parameter", "q=1&q=2"),
]


def _bad_values(schema: dict) -> list[str]:
    """Values a documented query parameter of this type must refuse."""
    kind = schema.get("type")
    if "enum" in schema:
        return ["not-in-the-enum"]
    if kind == "integer":
        return ["\u0663", "\u00b2", "99999999999999999999999", "-1x", "1.5"]
    if kind == "boolean":
        return ["maybe", "2"]
    return []


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _api_operations(tenant) -> list[tuple[str, str, list[dict], bool]]:
    """(method, url, query parameters, takes a body) of every operation in the OpenAPI document."""
    made: dict = {}
    operations = []
    for template, item in _schema()["paths"].items():
        keywords = re.findall(r"{(\w+)}", template)
        kwargs = own_kwargs(keywords, tenant, made)
        url = template
        for keyword, value in kwargs.items():
            url = url.replace("{" + keyword + "}", str(value))
        for method, operation in item.items():
            params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            operations.append((method, url, params, "requestBody" in operation or method in WRITES))
    return operations


def _scim_operations(tenant) -> list[tuple[str, str]]:
    from tests.factories import UserFactory

    user = UserFactory(tenant=tenant, email="scim-target@acme.example")
    from accounts.scoping import tenant_scope
    from permissions.models import Group

    with tenant_scope(tenant):
        group = Group.objects.create(auth_group=Group.new_auth_group(), tenant=tenant, name="SCIM target")
    fill = {"pk": None, "name": "User", "urn": "urn:ietf:params:scim:schemas:core:2.0:User"}
    operations = []
    for route, _name, keywords in walk(get_resolver()):
        if not route.startswith("scim/v2/"):
            continue
        url = "/" + route
        for keyword in keywords:
            value = fill[keyword] or (user.pk if "Users" in route else group.pk)
            url = re.sub(r"<(\w+:)?" + keyword + ">", str(value), url)
        for method in ("get", "post", "put", "patch", "delete"):
            operations.append((method, url))
    return operations


def _fingerprint() -> dict[str, str]:
    """Per table, its row count and a digest of its rows: equal before and after means nothing changed."""
    tables = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in tables or table in VOLATILE_TABLES:
                continue
            columns = ", ".join(
                f'"{field.column}"'
                for field in model._meta.local_concrete_fields
                if field.column not in VOLATILE  # bookkeeping of the request itself, not a change it made
            )
            cursor.execute(f'SELECT {columns} FROM "{table}" ORDER BY 1')  # noqa: S608 (the models' own tables)
            rows = cursor.fetchall()
            tables[table] = f"{len(rows)}:{hashlib.sha256(repr(rows).encode()).hexdigest()}"
    return tables


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


def _assert_refused(response, *, scim: bool, what: str):
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if scim:
        assert response["Content-Type"].startswith(SCIM), f"{what}: {response['Content-Type']}"
        assert response.json()["schemas"] == [SCIM_ERROR], what
    else:
        assert response["Content-Type"].startswith(PROBLEM), f"{what}: {response['Content-Type']}"
        body = response.json()
        assert body["status"] == response.status_code and body["detail"], what


def _send(client, method, url, body: bytes | None = None, content_type: str = "application/json"):
    return client.generic(method.upper(), url, body or b"", content_type=content_type)


@pytest.fixture
def caller(acme_admin):
    _key, token = issue(acme_admin, scim=True, rate_per_minute=1_000_000)
    return bearer(token)


@pytest.mark.django_db
def test_every_api_route_refuses_every_bad_input_family_and_changes_nothing(caller, acme, acme_admin):
    operations = _api_operations(acme)
    assert len(operations) >= 45, len(operations)  # the walk cannot come back empty
    sent = 0
    for method, url, params, takes_body in operations:
        before = _fingerprint()
        for family, query in QUERY_FAMILIES:
            response = _send(caller, method, f"{url}?{query}")
            _assert_refused(response, scim=False, what=f"{method} {url} {family}")
            sent += 1
        for param in params:
            for value in _bad_values(param.get("schema", {})):
                response = _send(caller, method, f"{url}?{param['name']}={value}")
                _assert_refused(response, scim=False, what=f"{method} {url} ?{param['name']}={value}")
                sent += 1
            # a malformed value followed by an empty one (the 10-minute run: `?limit=true&limit=` was a 200)
            response = _send(caller, method, f"{url}?{param['name']}=%E2%85%A0&{param['name']}=")
            _assert_refused(response, scim=False, what=f"{method} {url} {param['name']} repeated")
            sent += 1
        if takes_body:
            for family, body, content_type in BODY_FAMILIES:
                response = _send(caller, method, url, body, content_type)
                _assert_refused(response, scim=False, what=f"{method} {url} {family}")
                sent += 1
        assert not _changed(before, _fingerprint()), f"{method} {url} changed {_changed(before, _fingerprint())}"
    assert sent >= 600, sent


@pytest.mark.django_db
def test_every_scim_route_refuses_every_bad_input_family_and_changes_nothing(caller, acme):
    operations = _scim_operations(acme)
    assert len(operations) >= 45, len(operations)
    for method, url in operations:
        before = _fingerprint()
        for family, query in QUERY_FAMILIES:
            _assert_refused(_send(caller, method, f"{url}?{query}"), scim=True, what=f"{method} {url} {family}")
        if method in WRITES:
            for family, body, content_type in BODY_FAMILIES:
                response = _send(
                    caller, method, url, body, SCIM if content_type == "application/json" else content_type
                )
                _assert_refused(response, scim=True, what=f"{method} {url} {family}")
        assert not _changed(before, _fingerprint()), f"{method} {url} changed {_changed(before, _fingerprint())}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/users/\u0663",
        "/api/v1/users/99999999999999999999999",
        "/api/v1/users/1%00",
        "/api/v1/no-such-thing",
        "/api/v2/users",
        "/api/nothing",
    ],
)
def test_unknown_or_malformed_api_paths_are_problem_404(caller, url):
    response = caller.get(url)
    assert response.status_code in (400, 404)
    _assert_refused(response, scim=False, what=url)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/scim/v2/Users/\u0663", "/scim/v2/Users/99999999999999999999999", "/scim/v2/Nothing", "/scim/v1/Users"]
)
def test_unknown_or_malformed_scim_paths_are_scim_404(caller, url):
    response = caller.get(url)
    assert response.status_code in (400, 404)
    _assert_refused(response, scim=True, what=url)


def _over(model_label: str, field: str) -> str:
    """A value one character longer than the column (its length read from the model)."""
    return "x" * (apps.get_model(model_label)._meta.get_field(field).max_length + 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", "/api/v1/users/{user}", lambda: {"full_name": _over("accounts.User", "full_name")}),
        ("post", "/api/v1/groups", lambda: {"name": _over("permissions.Group", "name"), "kind": "team"}),
        ("post", "/api/v1/roles", lambda: {"name": _over("permissions.Role", "name")}),
        ("post", "/api/v1/modules", lambda: {"name": _over("permissions.Module", "name")}),
        ("post", "/api/v1/resources", lambda: {"module": "products", "title": _over("permissions.Resource", "title")}),
        (
            "post",
            "/api/v1/resources/bulk",
            lambda: {"module": "products", "items": [{"external_id": "A", "title": "x" * 201}]},
        ),
        ("post", "/api/v1/users", lambda: {"email": "a" * 250 + "@example.com"}),
        ("post", "/api/v1/users", lambda: {"email": "ADMIN@acme.example"}),  # differs from a user only by case
    ],
)
def test_over_long_values_and_taken_addresses_are_refused_and_change_nothing(
    caller, acme, acme_admin, globex_admin, method, url, body
):
    before = _fingerprint()
    response = _send(caller, method, url.format(user=acme_admin.pk), json.dumps(body()).encode())
    assert response.status_code in (400, 409), response.content[:300]
    _assert_refused(response, scim=False, what=url)
    assert not _changed(before, _fingerprint())


@pytest.mark.django_db
def test_another_tenants_address_is_invited_like_a_fresh_one(caller, acme, acme_admin, globex_admin):
    """E-mail addresses are unique per tenant (INS-7): another tenant's address says nothing about it."""
    response = _send(caller, "post", "/api/v1/users", json.dumps({"email": "admin@globex.example"}).encode())
    assert response.status_code == 201, response.content[:300]
    assert response.json()["email"] == "admin@globex.example"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/scim/v2/Groups", {"displayName": "x" * 151}),
        ("post", "/scim/v2/Users", {"userName": "ADMIN@ACME.EXAMPLE"}),  # the same user, differently cased
        ("post", "/scim/v2/Users", {"userName": "new@acme.example", "active": "yes"}),
        ("post", "/scim/v2/Users", {"userName": ["not", "a", "string"]}),
        (
            "patch",
            "/scim/v2/Users/{user}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": "no"}],
            },
        ),
    ],
)
def test_scim_bad_values_are_refused_and_change_nothing(caller, acme, acme_admin, method, url, body):
    before = _fingerprint()
    response = _send(caller, method, url.format(user=acme_admin.pk), json.dumps(body).encode(), SCIM)
    _assert_refused(response, scim=True, what=f"{url} {body}")
    assert not _changed(before, _fingerprint())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        'filter=userName eq "a\\u0000b"',
        'filter=userName eq "bad \\x escape"',
        'filter=active eq "yes"',
        "filter=userName eq true",
        "startIndex=99999999999999999999999",
        "startIndex=\u0663",
        "count=1e3",
    ],
)
def test_scim_filters_and_paging_refuse_bad_values(caller, query):
    from urllib.parse import quote

    name, _sep, value = query.partition("=")
    response = caller.get(f"/scim/v2/Users?{name}={quote(value)}")
    assert response.status_code == 400, response.content[:300]
    _assert_refused(response, scim=True, what=query)


@pytest.mark.django_db
def test_scim_finds_a_user_by_a_differently_cased_user_name_and_pages_past_the_end(caller, acme_admin):
    from urllib.parse import quote

    found = caller.get("/scim/v2/Users?filter=" + quote('userName eq "ADMIN@acme.example"')).json()
    assert [r["id"] for r in found["Resources"]] == [str(acme_admin.pk)]
    beyond = caller.get("/scim/v2/Users?startIndex=999999999999999999").json()
    assert beyond["Resources"] == [] and beyond["totalResults"] >= 1


@pytest.mark.django_db
def test_patching_a_resource_onto_a_taken_external_id_is_a_400_not_a_500(caller, acme):
    """Found by the 10-minute schemathesis run: the unique (module, external id) raised in the database."""
    from accounts.scoping import tenant_scope
    from permissions.models import Module
    from permissions.services.modules import create_resource

    with tenant_scope(acme):
        products = Module.objects.get(key="products")
        create_resource(actor=None, module=products, title="One", external_id="P-001")
        other = create_resource(actor=None, module=products, title="Two", external_id="P-002")
    before = _fingerprint()
    response = _send(caller, "patch", f"/api/v1/resources/{other.pk}", b'{"external_id": "P-001"}')
    assert response.status_code == 400, response.content[:300]
    _assert_refused(response, scim=False, what="taken external id")
    assert not _changed(before, _fingerprint())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("0200-03-16T18:44:26-19:55", 200),  # an offset PostgreSQL refuses: read in UTC (the 10-minute run's 500)
        ("0001-01-01T00:00:00+01:00", 400),  # before year 1 in UTC
        ("2026-01-01T00:00:00", 400),  # no offset
        ("yesterday", 400),
    ],
)
def test_audit_event_times_are_read_in_utc_or_refused(caller, value, status):
    from urllib.parse import quote

    response = caller.get(f"/api/v1/audit-events?since={quote(value)}&until={quote(value)}")
    assert response.status_code == status, response.content[:300]
    if status != 200:
        _assert_refused(response, scim=False, what=value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("component", "field", "url", "body"),
    [
        ("BatchCheckRequestRequest", "checks", "/api/v1/check/batch", {"checks": []}),
        ("BulkRequestRequest", "items", "/api/v1/resources/bulk", {"module": "products", "items": []}),
    ],
)
def test_documented_list_sizes_are_the_enforced_ones(caller, component, field, url, body):
    """Found by the 10-minute run: `{"checks": []}` was schema-valid but refused, as the document did not
    state a nested list's limits (minItems/maxItems). Both ends are refused as documented, nothing changed."""
    from api.check import MAX_BATCH
    from api.views.catalogue import MAX_BULK

    prop = _schema()["components"]["schemas"][component]["properties"][field]
    assert (prop["minItems"], prop["maxItems"]) == (1, MAX_BATCH if field == "checks" else MAX_BULK)
    item = {"module": "products", "action": "view"} if field == "checks" else {"external_id": "x", "title": "x"}
    for size in (prop["minItems"] - 1, prop["maxItems"] + 1):
        before = _fingerprint()
        sized = {**body, field: [item] * size}
        response = _send(caller, "post", url, json.dumps(sized).encode())
        assert response.status_code == 400, response.content[:300]
        _assert_refused(response, scim=False, what=f"{url} {size} items")
        assert field in {error["field"] for error in response.json()["errors"]}, response.content[:300]
        assert not _changed(before, _fingerprint())


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/check", "/api/v1/check/batch"])
@pytest.mark.parametrize("external_id", ["", 5, None])
def test_a_malformed_external_id_is_refused_even_beside_a_resource_id(caller, acme_admin, url, external_id):
    """Found by the 3-minute schemathesis run: `{"resource": 0, "external_id": ""}` answered not_found (the
    resource id was looked up, the external id never read); every given part of a target is checked."""
    target = {"module": "products", "resource": 0, "external_id": external_id}
    check = {"subject": acme_admin.pk, "action": "view", "target": target}
    body = {"checks": [check]} if url.endswith("batch") else check
    response = _send(caller, "post", url, json.dumps(body).encode())
    if external_id is None:  # null is left out (documented: nullable): the resource id alone, which does not exist
        part = _schema()["components"]["schemas"]["_TargetRequest"]["properties"]["external_id"]
        assert part["nullable"] is True
        assert response.status_code == (200 if url.endswith("batch") else 404), response.content[:300]
        return
    assert response.status_code == 400, response.content[:300]
    _assert_refused(response, scim=False, what=f"{url} {target}")
    assert any("external_id" in error["field"] for error in response.json()["errors"]), response.content[:300]
