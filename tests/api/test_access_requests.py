"""/api/v1/access-requests: submit, read, approve, deny, cancel through the same services as the portal.

Everyone may ask for access and follow their own requests (as in the portal); approvers read and decide
what they may decide; nobody approves their own request; console rights need two approvers and a fresh
MFA check, which a key cannot show.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accessrequests.models import AccessRequest
from accessrequests.services import submit
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import BuiltinRole, Grant, Module
from permissions.vocabulary import Action
from tests.api.conftest import bearer, issue
from tests.api.foreign import make
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries

URL = "/api/v1/access-requests"


def _ask(client, **body):
    payload = {"module": "reports", "actions": ["view"], "reason": "Quarterly close", "duration_days": 7, **body}
    return client.post(URL, payload, content_type="application/json")


def _request_of(tenant, user, module_key="reports", actions=("view",), reason="Month-end figures"):
    with tenant_scope(tenant):
        module = Module.objects.get(key=module_key)
        return submit(actor=user, module=module, actions=list(actions), reason=reason, duration_days=14)


@pytest.fixture
def basic_session(acme_basic):
    return login(Client(), acme_basic)


def test_a_customer_asks_through_the_api_and_an_administrators_key_approves_for_less_time(
    acme, acme_basic, basic_session, api_acme
):
    asked = _ask(basic_session)
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["status"] == "pending" and body["actions"] == ["view"] and body["requester"] == acme_basic.pk
    queue = api_acme.get(f"{URL}?decidable=1").json()["results"]
    assert [r["id"] for r in queue] == [body["id"]]

    approved = api_acme.post(f"{URL}/{body['id']}/approve", {"days": 3}, content_type="application/json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["granted_days"] == 3
    with tenant_scope(acme):
        grant = Grant.objects.get(pk=approved.json()["grant"])
        assert grant.reference == f"request:{body['id']}"
        assert abs(grant.expires_at - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)
        assert engine.can(acme_basic, Action.VIEW, Module.objects.get(key="reports"))
        kinds = list(
            AuditEvent.objects.filter(target_type="accessrequests.accessrequest", target_id=str(body["id"]))
            .order_by("seq")
            .values_list("event_type", flat=True)
        )
    assert kinds == ["request.submitted", "request.approved"]
    # decided: approving again is a conflict, and the queue is empty
    again = api_acme.post(f"{URL}/{body['id']}/approve", {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert api_acme.get(f"{URL}?decidable=1").json()["results"] == []


def test_a_duplicate_is_a_conflict_that_points_to_the_pending_request(basic_session):
    first = _ask(basic_session).json()
    duplicate = _ask(basic_session, reason="Again")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate" and duplicate.json()["existing"] == first["id"]
    assert duplicate["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"actions": []}, "actions"),
        ({"actions": ["fly"]}, "actions.[0]"),
        ({"module": "no-such-module"}, "module"),
        ({"duration_days": 0}, "duration_days"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(acme, basic_session, body, field):
    response = _ask(basic_session, **body)
    assert response.status_code == 400
    assert field.split(".")[0] in {e["field"].split(".")[0].split("[")[0] for e in response.json()["errors"]}
    with tenant_scope(acme):
        assert not AccessRequest.objects.exists()


def test_rules_of_the_service_answer_with_their_code(acme, basic_session):
    too_long = _ask(basic_session, duration_days=acme.request_max_days + 1)
    assert too_long.status_code == 400 and too_long.json()["code"] == "invalid"
    held = _ask(basic_session, module="products")  # basic users view products already
    assert held.status_code == 409 and held.json()["code"] == "already_held"


def test_a_resource_of_another_module_or_tenant_is_refused(acme, globex, basic_session):
    foreign_id, _title = make(globex, "resource")
    response = _ask(basic_session, resource=foreign_id)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "resource"
    with tenant_scope(acme):
        from permissions.services.modules import create_resource

        product = create_resource(actor=None, module=Module.objects.get(key="products"), title="Widget")
    wrong_module = _ask(basic_session, resource=product.pk)
    assert wrong_module.status_code == 400
    with tenant_scope(acme):
        assert not AccessRequest.objects.exists()


def test_a_customer_reads_only_their_own_requests(acme, acme_basic, basic_session):
    mine = _request_of(acme, acme_basic)
    other = _request_of(acme, UserFactory(tenant=acme), reason="Someone else's reason")
    listed = basic_session.get(URL)
    assert [r["id"] for r in listed.json()["results"]] == [mine.pk]
    assert "Someone else's reason" not in listed.content.decode()
    assert basic_session.get(f"{URL}/{other.pk}").status_code == 404
    assert basic_session.post(f"{URL}/{other.pk}/approve", {}, content_type="application/json").status_code == 404


def test_nobody_approves_their_own_request(acme, acme_basic, basic_session):
    own = _request_of(acme, acme_basic)
    response = basic_session.post(f"{URL}/{own.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "self_approval"
    with tenant_scope(acme):
        assert AccessRequest.objects.get(pk=own.pk).status == "pending"


def test_a_module_owner_decides_requests_for_their_module_only(acme, acme_basic):
    owner = UserFactory(tenant=acme, role_key=BuiltinRole.ADVANCED)
    with tenant_scope(acme):
        Module.objects.get(key="analytics").owners.add(owner)
    for_analytics = _request_of(acme, acme_basic, "analytics")
    for_reports = _request_of(acme, acme_basic, "reports")
    client = login(Client(), owner)
    assert [r["id"] for r in client.get(f"{URL}?decidable=1").json()["results"]] == [for_analytics.pk]
    assert client.get(f"{URL}/{for_reports.pk}").status_code == 404
    denied = client.post(
        f"{URL}/{for_analytics.pk}/deny", {"reason": "Not this quarter"}, content_type="application/json"
    )
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    assert denied.json()["decision_reason"] == "Not this quarter"


def test_a_denial_needs_a_reason(acme, acme_basic, api_acme):
    pending = _request_of(acme, acme_basic)
    response = api_acme.post(f"{URL}/{pending.pk}/deny", {"reason": ""}, content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    with tenant_scope(acme):
        assert AccessRequest.objects.get(pk=pending.pk).status == "pending"


def test_the_requester_cancels_and_nobody_else_can(acme, acme_basic, basic_session, api_acme):
    pending = _request_of(acme, acme_basic)
    refused = api_acme.post(f"{URL}/{pending.pk}/cancel", content_type="application/json")
    assert refused.status_code == 403
    done = basic_session.post(f"{URL}/{pending.pk}/cancel", content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"


def test_console_rights_need_two_approvers_with_a_fresh_mfa_check_never_a_key(acme, acme_admin, api_acme):
    advanced = UserFactory(tenant=acme, role_key=BuiltinRole.ADVANCED)
    pending = _request_of(acme, advanced, "audit", reason="Audit preparation")
    by_key = api_acme.post(f"{URL}/{pending.pk}/approve", {}, content_type="application/json")
    assert by_key.status_code == 403 and by_key.json()["code"] == "step_up_required"

    first = login(Client(), acme_admin)  # a session that has just passed MFA
    recorded = first.post(f"{URL}/{pending.pk}/approve", {"days": 7}, content_type="application/json")
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["status"] == "pending" and recorded.json()["first_approver"] == acme_admin.pk
    same = first.post(f"{URL}/{pending.pk}/approve", {}, content_type="application/json")
    assert same.status_code == 403 and same.json()["code"] == "same_approver"

    second = login(Client(), UserFactory(tenant=acme, role_key=BuiltinRole.ADMINISTRATOR))
    final = second.post(f"{URL}/{pending.pk}/approve", {}, content_type="application/json")
    assert final.status_code == 200 and final.json()["status"] == "approved" and final.json()["granted_days"] == 7
    assert engine.can(advanced, Action.VIEW, "audit")


def test_a_stale_session_cannot_approve_console_rights(acme, acme_admin, time_machine):
    pending = _request_of(acme, UserFactory(tenant=acme, role_key=BuiltinRole.ADVANCED), "audit")
    time_machine.move_to(timezone.now(), tick=False)
    client = login(Client(), acme_admin)
    time_machine.shift(11 * 60)  # past the ten minutes of the last MFA check (and within the session's idle time)
    response = client.post(f"{URL}/{pending.pk}/approve", {}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "step_up_required"


def test_a_key_needs_the_requests_scope(acme, acme_admin, acme_basic):
    _request_of(acme, acme_basic)
    _key, token = issue(acme_admin, scopes={"reports": ["view"]})
    assert bearer(token).get(URL).status_code == 403
    _key, token = issue(acme_admin, scopes={"requests": ["view"]})
    client = bearer(token)
    assert client.get(URL).status_code == 200
    pending = client.get(URL).json()["results"][0]["id"]
    assert client.post(f"{URL}/{pending}/approve", {}, content_type="application/json").status_code == 403


def test_other_tenants_requests_are_404_and_absent(api_acme, globex):
    foreign_id, reason = make(globex, "access_request")
    assert api_acme.get(f"{URL}/{foreign_id}").status_code == 404
    for action in ("approve", "deny", "cancel"):
        response = api_acme.post(f"{URL}/{foreign_id}/{action}", {"reason": "x"}, content_type="application/json")
        assert response.status_code == 404
    assert reason not in api_acme.get(URL).content.decode()


def test_the_list_costs_the_same_queries_whatever_its_length(acme, api_acme):
    _request_of(acme, UserFactory(tenant=acme))

    def grow():
        for _ in range(5):
            _request_of(acme, UserFactory(tenant=acme))

    assert_constant_queries(api_acme, URL, grow)
