"""The request pages: the prefilled form, duplicates, who sees a request, the queue, decisions,
step-up for system-module decisions, and GET never deciding anything (SES-2)."""

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from accessrequests import services
from accessrequests.models import AccessRequest
from permissions.models import Grant
from tests.conftest import login
from tests.factories import UserFactory


def ask(user, module, resource=None, actions=("view",), days=14):
    return services.submit(
        actor=user,
        module=module,
        resource=resource,
        actions=list(actions),
        reason="Quarterly review",
        duration_days=days,
    )


def test_the_form_is_prefilled_two_weeks_by_default_and_hides_the_title(client, acme_basic, report):
    login(client, acme_basic)
    response = client.get(f"/requests/new/?module=reports&resource={report.pk}&actions=view")
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<input[^>]*value="14"[^>]*checked', body)
    assert f"#{report.pk}" in body and "Q3 revenue" not in body  # no title for someone who cannot view it
    for label in ("1 day", "1 week", "2 weeks", "30 days", "90 days"):
        assert label in body


def test_submitting_the_form_then_a_duplicate_links_to_the_existing_request(client, acme, acme_basic, report):
    login(client, acme_basic)
    data = {"module": "reports", "resource": report.pk, "actions": ["view"], "duration_days": 14, "reason": "Review"}
    response = client.post("/requests/new/", data)
    [request] = AccessRequest.objects.dangerously_all_tenants().filter(tenant=acme)
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    again = client.post("/requests/new/", data)
    assert again.status_code == 200
    assert f'href="/requests/{request.pk}/"' in again.content.decode()
    assert AccessRequest.objects.dangerously_all_tenants().filter(tenant=acme).count() == 1
    no_reason = client.post("/requests/new/", {**data, "reason": "", "actions": ["export"]})
    assert no_reason.status_code == 200 and AccessRequest.objects.dangerously_all_tenants().count() == 1


def test_a_request_is_seen_by_its_requester_and_its_approvers_only(
    acme, acme_admin, acme_basic, reports, report, in_acme
):
    request = ask(acme_basic, reports, report)
    other = UserFactory(tenant=acme)
    assert login(Client(), other).get(f"/requests/{request.pk}/").status_code == 404
    mine = login(Client(), acme_basic).get(f"/requests/{request.pk}/")
    assert mine.status_code == 200 and "approve-form" not in mine.content.decode()
    admin = login(Client(), acme_admin)
    page = admin.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="approve-form"' in page and 'data-testid="current-access"' in page
    assert "Q3 revenue" in page  # approvers see what is asked for


def test_the_approve_note_and_the_denial_reason_are_distinct_labelled_fields(acme_admin, acme_basic, reports, in_acme):
    """Both forms sit on one page: each label points at its own field (one id each), so a denial reason
    typed after clicking its label never lands in the approval note."""
    request = ask(acme_basic, reports)
    page = login(Client(), acme_admin).get(f"/requests/{request.pk}/").content.decode()
    ids = re.findall(r'\bid="(id_[^"]+)"', page)
    assert len(ids) == len(set(ids)), ids
    assert re.search(r'<label for="id_deny_reason">Reason for the denial</label>', page)
    assert re.search(r'<textarea name="reason"[^>]*id="id_deny_reason"', page)
    assert re.search(r'<label for="id_approve_reason">Note \(optional\)</label>', page)


def test_the_queue_lists_pending_requests_with_current_access_and_risk(
    acme, acme_admin, acme_advanced, acme_basic, reports, report, users_module, in_acme
):
    ask(acme_basic, reports, report, actions=("view", "view_sensitive"))
    ask(acme_advanced, users_module, days=7)
    assert login(Client(), acme_basic).get("/requests/queue/").status_code == 403
    page = login(Client(), acme_admin).get("/requests/queue/").content.decode()
    assert page.count('data-testid="queue-row"') == 2
    assert "Sensitive data" in page and "System module" in page


def test_get_never_decides_and_a_post_approves(acme_admin, acme_basic, reports, report, in_acme):
    request = ask(acme_basic, reports, report)
    admin = login(Client(), acme_admin)
    assert admin.get(f"/requests/{request.pk}/approve/").status_code == 302
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.PENDING
    response = admin.post(f"/requests/{request.pk}/approve/", {"days": 7, "reason": ""})
    assert response.status_code == 302 and response["Location"] == "/requests/queue/"
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.APPROVED and request.granted_days == 7
    assert login(Client(), acme_basic).get(f"/m/reports/{report.pk}/").status_code == 200


def test_requester_cannot_approve_through_the_page(acme_admin, reports, report, in_acme):
    """AZ-6 through the pages: a module owner's own request is not theirs to approve."""
    owner = UserFactory(tenant=acme_admin.tenant, role_key="advanced")
    reports.owners.add(owner)
    own = ask(owner, reports, report, actions=("view_sensitive",))
    client = login(Client(), owner)
    client.post(f"/requests/{own.pk}/approve/", {"days": 14})
    assert AccessRequest.objects.get(pk=own.pk).status == AccessRequest.Status.PENDING
    assert not Grant.objects.exists()


def test_system_module_decisions_need_step_up(acme_admin, acme_advanced, users_module, in_acme):
    request = ask(acme_advanced, users_module, days=7)
    admin = login(Client(), acme_admin)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = admin.post(f"/requests/{request.pk}/approve/", {"days": 7}, HTTP_REFERER=f"/requests/{request.pk}/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    assert AccessRequest.objects.get(pk=request.pk).first_approver is None
    response = admin.post(f"/requests/{request.pk}/approve/", {"days": 7})  # MFA fresh from the login
    assert response.status_code == 302
    assert AccessRequest.objects.get(pk=request.pk).first_approver == acme_admin


def test_deny_through_the_page_needs_a_reason(acme_admin, acme_basic, reports, report, in_acme):
    request = ask(acme_basic, reports, report)
    admin = login(Client(), acme_admin)
    admin.post(f"/requests/{request.pk}/deny/", {"reason": ""})
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.PENDING
    admin.post(f"/requests/{request.pk}/deny/", {"reason": "Not for this customer"})
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.DENIED


def test_my_requests_and_the_queue_are_paginated_oldest_reachable(acme, acme_admin, acme_basic, in_acme):
    from permissions.models import Module
    from permissions.services.modules import create_resource

    reports = Module.objects.get(key="reports")
    made = [ask(acme_basic, reports, create_resource(actor=None, module=reports, title=f"R{n}")) for n in range(52)]
    mine = login(Client(), acme_basic)
    first = mine.get("/requests/").content.decode()
    assert f"/requests/{made[-1].pk}/" in first and f"/requests/{made[0].pk}/" not in first
    assert "Page 1 of 2" in first
    assert f"/requests/{made[0].pk}/" in mine.get("/requests/?page=2").content.decode()
    admin = login(Client(), acme_admin)
    queue = admin.get("/requests/queue/").content.decode()
    assert "(52)" in queue and "Page 1 of 2" in queue
    assert queue.count('data-testid="queue-row"') == 50
    assert admin.get("/requests/queue/?page=2").content.decode().count('data-testid="queue-row"') == 2


def test_the_queue_costs_the_same_queries_whatever_the_number_of_requesters(acme, acme_admin, in_acme):
    """What each requester holds now is loaded for the whole page in one query (no query per person)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permissions import engine
    from permissions.models import Module
    from permissions.services.modules import create_resource

    reports = Module.objects.get(key="reports")

    def ask_as_new_people(count):
        for n in range(count):
            person = UserFactory(tenant=acme)
            resource = create_resource(actor=None, module=reports, title=f"Queue {n}") if n % 2 else None
            ask(person, reports, resource)

    def cold_queries(client) -> int:  # as after any permission change: no compiled set in memory yet
        client.get("/requests/queue/")
        engine.clear_process_cache()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/requests/queue/").status_code == 200
        return len(captured.captured_queries)

    ask_as_new_people(2)
    admin = login(Client(), acme_admin)
    before = cold_queries(admin)
    ask_as_new_people(6)
    assert cold_queries(admin) == before


def test_a_reader_with_requests_view_reads_a_request_but_is_offered_no_decision(acme, acme_basic, reports, in_acme):
    """The portal and the API read requests by one rule (rules.readable): holders of requests: view read
    every request; only approvers get the decision forms, only the requester the withdraw button."""
    from permissions.models import Module
    from permissions.services import grants

    asked = ask(acme_basic, reports)
    reader = UserFactory(tenant=acme)
    grants.grant(actor=None, module=Module.objects.get(key="requests"), user=reader, actions=["view"], reason="Audit")
    client = login(Client(), reader)
    body = client.get(f"/requests/{asked.pk}/").content.decode()
    assert "Quarterly review" in body
    assert f"/requests/{asked.pk}/approve/" not in body and f"/requests/{asked.pk}/cancel/" not in body
    client.post(f"/requests/{asked.pk}/approve/", {"days": 14})
    asked.refresh_from_db()
    assert asked.status == "pending"
    outsider = login(Client(), UserFactory(tenant=acme))
    assert outsider.get(f"/requests/{asked.pk}/").status_code == 404
