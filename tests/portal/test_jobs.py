"""The scheduler entry point: per-tenant scope (AZ-7), isolation of failures, one runner at a time."""

import threading

import pytest
from django.core.management import call_command

from accounts.models import User
from portal import jobs


@pytest.fixture
def clean_registry():
    saved = dict(jobs._REGISTRY)
    jobs._REGISTRY.clear()
    yield
    jobs._REGISTRY.clear()
    jobs._REGISTRY.update(saved)


def test_per_tenant_jobs_run_inside_each_tenants_scope(clean_registry, acme_admin, globex_admin):
    seen = []
    jobs.register("count-users", lambda tenant, now: seen.append((tenant.slug, User.objects.count())) or 1)
    assert jobs.run_due_jobs() == {"count-users": 2}
    assert sorted(seen) == [("acme", 1), ("globex", 1)]


def test_platform_jobs_run_without_a_tenant_and_cannot_read_tenant_rows(clean_registry, acme_admin):
    from accounts.scoping import ScopeError

    errors = []

    def platform_job(now):
        try:
            User.objects.count()
        except ScopeError as exc:
            errors.append(exc)
        return 0

    jobs.register("platform", platform_job, per_tenant=False)
    jobs.run_due_jobs()
    assert len(errors) == 1


def test_a_failing_job_does_not_stop_the_others(clean_registry, acme_admin):
    def broken(tenant, now):
        raise RuntimeError("boom")

    jobs.register("broken", broken)
    jobs.register("fine", lambda tenant, now: 1)
    assert jobs.run_due_jobs() == {"broken": 0, "fine": 1}


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_take_turns(clean_registry):
    """Two runners at once: the second calls run_due_jobs while the first is inside its job (a handshake, so the
    runs really overlap), and its job starts only after the first one's has ended (the runner lock)."""
    from tests.factories import TenantFactory

    TenantFactory()
    inside, second_calling, second_inside = threading.Event(), threading.Event(), threading.Event()
    timeline, lock = [], threading.Lock()

    def slow(tenant, now):
        with lock:
            first = not timeline
            timeline.append("start")
        if first:
            inside.set()
            assert second_calling.wait(timeout=30), "the second runner never started"
            # The second runner is calling now: with the runner lock it cannot get in; give it a bounded chance.
            second_inside.wait(timeout=1.0)
        else:
            second_inside.set()
        with lock:
            timeline.append("end")
        return 1

    jobs.register("slow", slow)

    def run(after=None):
        from django.db import connection

        try:
            if after is not None:
                assert after.wait(timeout=30)
                second_calling.set()
            jobs.run_due_jobs()
        finally:
            connection.close()

    threads = [threading.Thread(target=run), threading.Thread(target=run, args=(inside,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert second_calling.is_set()  # the runs overlapped: the second was called while the first was inside
    assert timeline == ["start", "end", "start", "end"]  # …and their jobs did not


def test_command_runs_once(clean_registry, acme_admin, capsys):
    jobs.register("noop", lambda tenant, now: 0)
    call_command("run_due_jobs")
    assert "nothing due" in capsys.readouterr().out


def test_the_scheduler_records_expired_grants(acme_admin, acme_basic):
    """The grant-expiry job is registered with the one scheduler entry point."""
    import datetime

    from django.utils import timezone

    from accounts.scoping import tenant_scope
    from audit.events import EventType
    from audit.models import AuditEvent
    from permissions.models import Module
    from permissions.services import grants
    from permissions.vocabulary import Action

    with tenant_scope(acme_admin.tenant):
        reports = Module.objects.get(key="reports")
    grants.grant(
        actor=acme_admin,
        user=acme_basic,
        module=reports,
        actions=[Action.VIEW],
        reason="quarter close",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert jobs.run_due_jobs()["expire-grants"] == 0
    later = timezone.now() + datetime.timedelta(hours=2)
    assert jobs.run_due_jobs(now=later)["expire-grants"] == 1
    assert jobs.run_due_jobs(now=later)["expire-grants"] == 0  # idempotent
    with tenant_scope(acme_admin.tenant):
        assert AuditEvent.objects.filter(event_type=EventType.GRANT_EXPIRED).count() == 1
