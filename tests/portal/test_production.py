"""Production settings (DP-5, DP-6) and the dependencies /healthz reports."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone

from portal.tasks import HEARTBEAT_KEY

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-production-secret-key-for-the-deploy-check-" + "q" * 20,
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "DATABASE_URL": "postgres://app:secret@127.0.0.1:5432/portcullis",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # Production signs audit checkpoints with a key from the environment (or a file outside var/): FC-4.
    "AUDIT_SIGNING_KEY": "mdr9oWb0cV6wUhaRfqXfoY5DoFyKrNQkdQ8x1Iv9O3Y=",
}


def test_dp5_check_deploy_reports_nothing_with_production_settings(tmp_path):
    """DP-5: HTTPS redirect, HSTS, secure cookies, CSP, nosniff, frame-ancestors: `check --deploy` is silent."""
    env = {**os.environ, **PRODUCTION_ENV, "PORTCULLIS_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PORTCULLIS_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests of this same run
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _boom(request):
    raise RuntimeError("SELECT secret FROM internals -- should never be shown")


urlpatterns = [path("boom/", _boom)]
handler500 = "portal.errors.server_error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_dp6_error_page_shows_no_trace_or_sql(db):
    """DP-6: with DEBUG off, a server error shows a plain page."""
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Traceback" not in body and "SELECT" not in body and "RuntimeError" not in body
    assert "Something went wrong" in body


def test_csp_header_from_django_csp(client, db):
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


@override_settings(REDIS_URL="redis://127.0.0.1:6379/14")
def test_healthz_reports_redis(client, db):
    assert client.get("/healthz").json()["checks"]["redis"] == "ok"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_degraded_not_failed_when_redis_is_down(client, db):
    """FC-1: the portal answers from the database without Redis: 200, "degraded", naming Redis."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "degraded": ["redis"],
        "checks": {"database": "ok", "redis": "error"},
    }


@override_settings(CELERY_ENABLED=True)
@pytest.mark.parametrize(
    ("age_minutes", "expected", "status"),
    [(None, "stale", "degraded"), (1, "ok", "ok"), (5, "stale", "degraded")],
)
def test_healthz_reports_the_celery_heartbeat(client, db, age_minutes, expected, status):
    """A stale worker defers background work: the portal is degraded (200), not down."""
    cache.delete(HEARTBEAT_KEY)
    if age_minutes is not None:
        cache.set(HEARTBEAT_KEY, (timezone.now() - datetime.timedelta(minutes=age_minutes)).isoformat())
    response = client.get("/healthz")
    assert response.json()["checks"]["celery"] == expected
    assert response.status_code == 200
    assert response.json()["status"] == status
