"""The check API's common case is answered by ``api.lean`` (no DRF request machinery); everything else falls
back to the DRF view. Both must answer alike: same status, body, content type and Allow header, same usage
recorded, same refusals."""

import json

import pytest
from django.test import Client

from accounts.scoping import tenant_scope
from api import lean
from api.views import check as check_views
from permissions import usage
from permissions.models import Module, UsageRecord
from permissions.services import modules
from tests.api.conftest import issue

JSON = "application/json"


@pytest.fixture
def report(acme):
    with tenant_scope(acme):
        return modules.create_resource(actor=None, module=Module.objects.get(key="reports"), title="Q3")


@pytest.fixture
def drf_counter(monkeypatch):
    """How many requests the DRF views answered."""
    calls = []
    for view in (check_views.CheckView, check_views.BatchCheckView):
        original = view.post

        def post(self, request, _original=original):
            calls.append(request.path)
            return _original(self, request)

        monkeypatch.setattr(view, "post", post)
    return calls


def _cases(acme_basic, acme_admin, report):
    single = "/api/v1/check"
    batch = "/api/v1/check/batch"
    good = {"subject": acme_basic.pk, "action": "view", "target": "products"}
    return [
        (single, good, True),
        (single, {"subject": acme_basic.pk, "action": "export", "target": "reports"}, True),
        (
            single,
            {"subject": acme_admin.pk, "action": "view", "target": {"module": "reports", "resource": report.pk}},
            True,
        ),
        (single, {"subject": 10**9, "action": "view", "target": "products"}, False),  # 404
        (single, {"subject": acme_basic.pk, "action": "fly", "target": "products"}, False),  # 400
        (single, {"subject": acme_basic.pk, "action": "view", "target": "nowhere"}, False),  # 404
        (single, [good], False),  # 400: not an object
        (batch, {"checks": [good, {"subject": 10**9, "action": "view", "target": "products"}]}, True),
        (batch, {"checks": [good, {"subject": acme_basic.pk, "action": "fly", "target": "x"}]}, False),  # 400
        (batch, {"checks": []}, False),  # 400
    ]


def _ask(client, path, body):
    response = client.post(path, json.dumps(body), content_type=JSON)
    return (
        response.status_code,
        {k: v for k, v in response.json().items() if k not in {"request_id", "instance"}},
        response["Content-Type"],
        response.get("Allow"),
    )


def test_lean_and_drf_answer_alike_and_lean_takes_only_the_common_case(
    acme, acme_admin, acme_basic, report, drf_counter, monkeypatch
):
    _key, token = issue(acme_admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    cases = _cases(acme_basic, acme_admin, report)
    lean_answers = []
    for path, body, common in cases:
        before = len(drf_counter)
        lean_answers.append(_ask(client, path, body))
        assert (len(drf_counter) == before) is common, (path, body)  # the lean path answered exactly these
    with tenant_scope(acme):
        lean_usage = set(UsageRecord.objects.values_list("user_id", "target_key", "action"))
        UsageRecord.objects.all().delete()
    usage.forget_seen()
    monkeypatch.setattr(lean, "respond", lambda request, batch: None)  # the DRF views answer everything
    drf_answers = [_ask(client, path, body) for path, body, _common in cases]
    assert lean_answers == drf_answers
    with tenant_scope(acme):
        assert set(UsageRecord.objects.values_list("user_id", "target_key", "action")) == lean_usage
    assert lean_usage  # the allowed answers were recorded


def test_lean_leaves_explain_bad_keys_refusals_and_throttling_to_drf(acme, acme_admin, acme_basic, drf_counter):
    body = json.dumps({"subject": acme_basic.pk, "action": "view", "target": "products"})
    _key, token = issue(acme_admin)
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        .post("/api/v1/check?explain=true", body, content_type=JSON)["Content-Type"]
        .startswith("application/json")
    )
    assert (
        Client(HTTP_AUTHORIZATION="Bearer pck_1_0123456789ab_nope")
        .post("/api/v1/check", body, content_type=JSON)
        .status_code
        == 401
    )
    _key, narrow = issue(acme_admin, scopes={"users": ["view"]})  # no grants: view
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {narrow}").post("/api/v1/check", body, content_type=JSON).status_code == 403
    )
    assert len(drf_counter) == 1  # explain only: refusals stop before the view
    _key, slow = issue(acme_admin, rate_per_minute=2)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {slow}")
    statuses = [client.post("/api/v1/check", body, content_type=JSON).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post("/api/v1/check", body, content_type=JSON)["Retry-After"]
