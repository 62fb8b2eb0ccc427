"""FC-2: every API error is problem+json (SCIM's own error schema under /scim), with the status a client
expects — 404 unknown paths, 405, 406, 413, 414, 415, 431 — and a 500 is answered safely: problem+json with
the request id on the API, an HTML page that reads no tenant data elsewhere, the request id always logged.
Every operation documents its 4xx answers in the OpenAPI schema."""

import json
import logging

import pytest
from django.test import Client

from tests.api.conftest import bearer, issue
from tests.conftest import login

PROBLEM = "application/problem+json"
SCIM = "application/scim+json"


@pytest.fixture
def api(acme_admin):
    return bearer(issue(acme_admin, scim=True, rate_per_minute=1_000_000)[1])


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _scim_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == str(status)
    return body


def test_unknown_api_paths_are_problem_404_even_without_a_key(api):
    _problem(api.get("/api/v1/nothing-here"), 404)
    _problem(Client().get("/api/v9/users"), 404)
    _scim_error(api.get("/scim/v2/Nothing"), 404)


def test_method_not_allowed_is_problem_405(api):
    _problem(api.put("/api/v1/grants", "{}", content_type="application/json"), 405)
    _scim_error(api.post("/scim/v2/ServiceProviderConfig", "{}", content_type=SCIM), 405)


def test_not_acceptable_is_problem_406(api):
    _problem(api.get("/api/v1/users", HTTP_ACCEPT="text/html"), 406)


def test_wrong_content_type_is_problem_415(api):
    _problem(api.post("/api/v1/groups", "name=x", content_type="application/x-www-form-urlencoded"), 415)
    _scim_error(api.post("/scim/v2/Users", "<user/>", content_type="application/xml"), 415)


def test_a_body_over_the_limit_is_problem_413_and_creates_nothing(api, acme):
    from accounts.scoping import tenant_scope
    from permissions.models import Group

    big = json.dumps({"name": "big", "description": "x" * (1024 * 1024)})
    _problem(api.post("/api/v1/groups", big, content_type="application/json"), 413)
    _scim_error(api.post("/scim/v2/Groups", big, content_type=SCIM), 413)
    with tenant_scope(acme):
        assert not Group.objects.filter(name="big").exists()


def test_an_over_long_url_is_problem_414_and_large_headers_431(api):
    _problem(api.get("/api/v1/users?module=" + "x" * 5000), 414)
    _scim_error(api.get("/scim/v2/Users?filter=" + "x" * 5000), 414)
    headers = {f"HTTP_X_FILLER_{n}": "y" * 4000 for n in range(5)}
    _problem(api.get("/api/v1/users", **headers), 431)


def test_api_500_is_problem_json_with_the_request_id_and_logged(api, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr("api.views.records.clear_values", boom)
    api.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = api.get("/api/v1/audit-events", HTTP_X_REQUEST_ID="fault-injected-0001")
    body = _problem(response, 500)
    assert body["request_id"] == "fault-injected-0001" and "fault-injected-0001" in body["detail"]
    assert response["X-Request-ID"] == "fault-injected-0001"
    assert "injected fault" not in response.content.decode()  # no trace to the client
    assert any(getattr(r, "request_id", None) == "fault-injected-0001" for r in caplog.records)


def test_html_500_page_reads_no_tenant_data_and_shows_the_request_id(client, acme_admin, monkeypatch, caplog):
    """The layout's context processor would query the tenant's menu after the tenant scope closed: the 500
    page renders without it, so the handler itself never fails."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, acme_admin)
    fault_at = []

    def boom(*args, **kwargs):
        fault_at.append(len(queries.captured_queries))
        raise RuntimeError("injected fault")

    monkeypatch.setattr("portal.views.render", boom)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR), CaptureQueriesContext(connection) as queries:
        response = client.get("/", HTTP_X_REQUEST_ID="fault-injected-0002")
    assert response.status_code == 500
    assert "fault-injected-0002" in response.content.decode() and "injected fault" not in response.content.decode()
    assert any(getattr(r, "request_id", None) == "fault-injected-0002" for r in caplog.records)
    after_fault = [q["sql"] for q in queries.captured_queries[fault_at[0] :]]
    assert not [sql for sql in after_fault if "permissions_" in sql or "accounts_tenant" in sql], after_fault


def test_every_operation_documents_its_4xx_answers_as_problems():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [(p, m, op) for p, item in schema["paths"].items() for m, op in item.items()]
    assert len(operations) >= 45
    for path, method, operation in operations:
        codes = set(operation["responses"])
        expected = {"400", "401", "403", "404", "405", "406", "414", "429", "431"}
        if method in ("post", "put", "patch"):
            expected |= {"409", "413", "415"}
        assert expected <= codes, (method, path, expected - codes)
        content = operation["responses"]["400"]["content"]
        assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
