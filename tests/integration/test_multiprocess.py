"""Two web processes and a worker behave as one portal (issue 8: stateless web processes)."""

import time

import pytest
import requests

from accounts import services
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import http_login, obeyed_within

pytestmark = pytest.mark.postgres


def _on(base_url, session, path="/"):
    return session.get(f"{base_url}{path}", allow_redirects=False, timeout=10)


def test_a_session_from_one_process_works_on_the_other(cluster, acme):
    customer = UserFactory(tenant=acme)
    session = http_login(cluster.a, customer, PASSWORD)
    response = _on(cluster.b, session)
    assert response.status_code == 200
    assert "Acme Trading" in response.text


def test_a_user_deactivated_through_one_process_is_refused_by_the_other_at_once(cluster, acme):
    acme_admin = UserFactory(tenant=acme, role_key="administrator")
    customer = UserFactory(tenant=acme)
    session = http_login(cluster.a, customer, PASSWORD)
    assert _on(cluster.b, session).status_code == 200
    services.deactivate_user(customer, actor=acme_admin, reason="multi-process test")
    assert _on(cluster.b, session).status_code == 302
    assert _on(cluster.a, session).status_code == 302


def test_the_worker_runs_the_due_jobs_and_reports_its_heartbeat(cluster, db):
    from portal.tasks import run_due_jobs_task

    run_due_jobs_task.apply_async()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = requests.get(f"{cluster.a}/healthz", timeout=5).json()
        if health["checks"].get("celery") == "ok":
            break
        time.sleep(0.3)
    assert health == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "celery": "ok"}}


def test_a_grant_revoked_through_one_process_is_refused_by_the_other(cluster, acme):
    """Issue 8: an administrator revokes on web process A; the customer's next request on B is refused."""
    from accounts.scoping import tenant_scope
    from permissions.models import Module
    from permissions.services import grants, modules
    from permissions.vocabulary import Action
    from tests.integration.conftest import post_form

    admin = UserFactory(tenant=acme, role_key="administrator")
    customer = UserFactory(tenant=acme)
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports")
        report = modules.create_resource(actor=None, module=reports, title="Board pack")
    grant = grants.grant(
        actor=admin, user=customer, module=reports, resource=report, actions=[Action.VIEW], reason="board meeting"
    )
    customer_on_b = http_login(cluster.b, customer, PASSWORD)
    assert _on(cluster.b, customer_on_b, f"/m/reports/{report.pk}/").status_code == 200

    admin_on_a = http_login(cluster.a, admin, PASSWORD)
    revoked = post_form(admin_on_a, f"{cluster.a}/console/grants/{grant.pk}/revoke/", {"reason": "meeting over"})
    assert revoked.status_code == 302, revoked.text[:300]
    obeyed_within(lambda: _on(cluster.b, customer_on_b, f"/m/reports/{report.pk}/").status_code == 404)


def test_a_due_review_campaign_is_opened_by_the_worker(cluster, acme):
    """Issue 8: beat's task, run by the Celery worker process, opens a campaign that is due."""
    import datetime

    from django.utils import timezone

    from accounts.scoping import tenant_scope
    from portal.tasks import run_due_jobs_task
    from reviews.models import ReviewCampaign
    from tests.reviews.helpers import make_policy

    admin = UserFactory(tenant=acme, role_key="administrator")
    UserFactory(tenant=acme, role_key="advanced")
    policy = make_policy(
        acme, fallback=admin, cadence="once", start_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    run_due_jobs_task.apply_async()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_scope(acme):
            campaign = ReviewCampaign.objects.filter(policy=policy).first()
        if campaign is not None and campaign.state == "open":
            break
        time.sleep(0.5)
    assert campaign is not None and campaign.state == "open"
    with tenant_scope(acme):
        assert campaign.items.count() >= 1


def test_a_subject_deactivated_elsewhere_is_refused_by_the_check_api_of_both_processes(cluster, acme):
    """The check API remembers subjects per authorization version; a deactivation made by another process
    raises that version (a database row) at commit, so both web processes refuse within a second."""
    from accounts.scoping import tenant_scope
    from api import keys

    admin = UserFactory(tenant=acme, role_key="administrator")
    customer = UserFactory(tenant=acme)
    with tenant_scope(acme):
        token = keys.create_key(actor=admin, name="integration", scopes={"grants": ["view"]}).token
    body = {"subject": customer.pk, "action": "view", "target": "products"}
    headers = {"Authorization": f"Bearer {token}"}

    def allowed(base_url):
        response = requests.post(f"{base_url}/api/v1/check", json=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text[:300]
        return response.json()["allowed"]

    for _ in range(3):  # every worker of both processes remembers the subject
        assert allowed(cluster.a) is True and allowed(cluster.b) is True
    services.deactivate_user(customer, actor=admin, reason="multi-process test")
    obeyed_within(lambda: allowed(cluster.a) is False and allowed(cluster.b) is False)
