"""Two web processes and a worker behave as one portal (issue 8: stateless web processes)."""

import time

import pytest
import requests

from accounts import services
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import http_login

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
