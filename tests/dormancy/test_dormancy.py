"""Issue 17 item 6: dormant accounts. A tenant policy (default 90 days without a login) warns a customer, then
deactivates them (audited, sessions ended); the exception list and holders of console rights are left alone; a
login starts a new stretch; the job is idempotent under two concurrent runs and a crash mid-run; dormancy is
review evidence."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client
from django.utils import timezone

from accessrequests.models import Notice
from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from dormancy import jobs, services
from dormancy.models import DormancyWarning
from permissions.models import BuiltinRole
from permissions.services.errors import AccessRefused
from portal import jobs as runner
from tests.conftest import login
from tests.dormancy.conftest import idle

DAY = timedelta(days=1)


def _active(user) -> bool:
    return User.objects.dangerously_all_tenants().get(pk=user.pk).is_active


def test_the_policy_defaults_to_90_days_with_a_14_day_warning_and_is_validated(acme):
    assert (acme.dormancy_days, acme.dormancy_warning_days, acme.appeal_due_days) == (90, 14, 3)
    for days, warning in ((10, 5), (90, 90)):
        acme.dormancy_days, acme.dormancy_warning_days = days, warning
        with pytest.raises(ValidationError):
            acme.full_clean()
    acme.dormancy_days, acme.dormancy_warning_days = 0, 14  # off: any warning time goes
    acme.full_clean()


def test_the_job_is_registered_with_the_scheduler():
    assert "dormancy.warn_and_deactivate" in {job.name for job in runner.registered()}


def test_warned_at_76_days_then_deactivated_at_90_audited_and_told(
    in_acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    sleeper = idle(in_acme, "sleeper@acme.example", 75)
    now = timezone.now()
    assert jobs.warn_and_deactivate(in_acme, now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.warn_and_deactivate(in_acme, now=now + DAY) == 1  # 76 days: the warning
    assert jobs.warn_and_deactivate(in_acme, now=now + 2 * DAY) == 0  # once
    [warning] = Notice.objects.filter(user=sleeper, kind=Notice.Kind.DORMANCY_WARNING)
    assert warning.params["days"] == 76 and len(mailoutbox) == 1
    assert jobs.warn_and_deactivate(in_acme, now=now + 14 * DAY) == 0  # 89 days
    assert jobs.warn_and_deactivate(in_acme, now=now + 15 * DAY) == 1  # 90 days
    assert not _active(sleeper)
    [event] = AuditEvent.objects.filter(event_type="user.deactivated", target_id=str(sleeper.pk))
    assert event.actor_id is None and "Dormant account: no login for 90 days" in event.payload["reason"]
    assert AuditEvent.objects.filter(event_type="dormancy.warned", target_id=str(sleeper.pk)).count() == 1
    assert Notice.objects.filter(user=sleeper, kind=Notice.Kind.DORMANCY_DEACTIVATED).count() == 1
    assert jobs.warn_and_deactivate(in_acme, now=now + 16 * DAY) == 0


def test_a_late_warning_still_gives_the_full_warning_time(in_acme):
    """An account already 200 days idle when the policy starts is warned first, deactivated 14 days later."""
    old = idle(in_acme, "old@acme.example", 200)
    now = timezone.now()
    assert jobs.warn_and_deactivate(in_acme, now=now) == 1 and _active(old)
    assert jobs.warn_and_deactivate(in_acme, now=now + 13 * DAY) == 0 and _active(old)
    assert jobs.warn_and_deactivate(in_acme, now=now + 14 * DAY) == 1 and not _active(old)


def test_a_login_after_the_warning_starts_a_new_stretch(in_acme):
    sleeper = idle(in_acme, "sleeper@acme.example", 80)
    now = timezone.now()
    assert jobs.warn_and_deactivate(in_acme, now=now) == 1
    User.objects.filter(pk=sleeper.pk).update(last_login=now + DAY)
    assert jobs.warn_and_deactivate(in_acme, now=now + 20 * DAY) == 0 and _active(sleeper)


def test_exceptions_privileged_accounts_and_a_policy_turned_off_are_left_alone(in_acme, acme_admin):
    exempt = idle(in_acme, "seasonal@acme.example", 300)
    admin = idle(in_acme, "old-admin@acme.example", 300, role_key=BuiltinRole.ADMINISTRATOR)
    services.add_exception(exempt, actor=acme_admin, reason="Seasonal: logs in each December")
    assert jobs.warn_and_deactivate(in_acme, now=timezone.now() + 30 * DAY) == 0
    assert _active(exempt) and _active(admin) and not DormancyWarning.objects.exists()
    services.remove_exception(exempt, actor=acme_admin)
    in_acme.dormancy_days = 0
    assert jobs.warn_and_deactivate(in_acme, now=timezone.now() + 30 * DAY) == 0
    kinds = list(AuditEvent.objects.filter(target_id=str(exempt.pk)).values_list("event_type", flat=True))
    assert "dormancy.exception_added" in kinds and "dormancy.exception_removed" in kinds


def test_only_holders_of_users_change_manage_exceptions(in_acme, acme_basic):
    sleeper = idle(in_acme, "sleeper@acme.example", 10)
    with pytest.raises(AccessRefused):
        services.add_exception(sleeper, actor=acme_basic, reason="friend")
    with pytest.raises(AccessRefused):
        services.remove_exception(sleeper, actor=acme_basic)


def test_a_crash_mid_run_leaves_the_done_ones_done_and_the_next_run_finishes(in_acme, monkeypatch):
    sleepers = [idle(in_acme, f"s{i}@acme.example", 120) for i in range(3)]
    now = timezone.now()
    jobs.warn_and_deactivate(in_acme, now=now)
    real, calls = jobs._deactivate, []

    def crash_on_the_second(*args):
        calls.append(args[0].pk)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return real(*args)

    monkeypatch.setattr(jobs, "_deactivate", crash_on_the_second)
    with pytest.raises(RuntimeError):
        jobs.warn_and_deactivate(in_acme, now=now + 14 * DAY)
    assert [_active(s) for s in sleepers].count(False) == 1
    monkeypatch.setattr(jobs, "_deactivate", real)
    assert jobs.warn_and_deactivate(in_acme, now=now + 14 * DAY) == 2
    assert not any(_active(s) for s in sleepers)
    assert AuditEvent.objects.filter(event_type="user.deactivated").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_warn_and_deactivate_each_account_once(acme, acme_admin):
    sleepers = [idle(acme, f"s{i}@acme.example", 120) for i in range(3)]
    barrier, results = threading.Barrier(2), []

    def run(now):
        try:
            barrier.wait()
            with tenant_scope(acme):
                results.append(jobs.warn_and_deactivate(acme, now=now))
        finally:
            connections.close_all()

    for now in (timezone.now(), timezone.now() + 15 * DAY):
        threads = [threading.Thread(target=run, args=(now,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sum(results) == 6  # three warnings, three deactivations, whoever did them
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="dormancy.warned").count() == 3
        assert AuditEvent.objects.filter(event_type="user.deactivated").count() == 3
    assert not any(_active(s) for s in sleepers)


def test_the_console_page_lists_idle_accounts_and_manages_exceptions(in_acme, acme_admin, acme_basic):
    idle(in_acme, "sleeper@acme.example", 80)
    admin = login(Client(), acme_admin)
    page = admin.get("/console/dormancy/").content.decode()
    assert "sleeper@acme.example" in page and "90 days" in page
    admin.post("/console/dormancy/exceptions/add/", {"email": "sleeper@acme.example", "reason": "On leave"})
    assert "On leave" in admin.get("/console/dormancy/").content.decode()
    sleeper = User.objects.get(email="sleeper@acme.example")
    assert admin.get(f"/console/dormancy/exceptions/{sleeper.pk}/remove/").status_code == 302  # GET changes nothing
    assert "On leave" in admin.get("/console/dormancy/").content.decode()
    asked = admin.post(f"/console/dormancy/exceptions/{sleeper.pk}/remove/")  # what removing does, first
    assert asked.status_code == 200 and "On leave" in admin.get("/console/dormancy/").content.decode()
    admin.post(f"/console/dormancy/exceptions/{sleeper.pk}/remove/", {"confirmed": "yes"})
    assert "On leave" not in admin.get("/console/dormancy/").content.decode()
    assert login(Client(), acme_basic).get("/console/dormancy/").status_code == 403


def test_dormancy_is_review_evidence(in_acme, acme_admin):
    from reviews.evidence import collect
    from reviews.presenting import reason_text
    from tests.reviews.helpers import grant_on, make_policy

    sleeper = idle(in_acme, "sleeper@acme.example", 120)
    awake = idle(in_acme, "awake@acme.example", 3)
    for user in (sleeper, awake):
        grant_on(in_acme, user)
    policy = make_policy(in_acme, fallback=acme_admin, include_roles=False)
    candidates, _world = collect(policy, timezone.now())
    by_user = {c.user_id: c for c in candidates}
    assert by_user[sleeper.pk].evidence["dormant"] is True
    assert by_user[awake.pk].evidence["dormant"] is False
    [reason] = [r for r in by_user[sleeper.pk].reasons if r[0] == "dormant"]
    assert reason_text(*reason) == "Dormant: no login for 120 days (the dormancy policy deactivates customers)."
    Tenant.objects.filter(pk=in_acme.pk).update(dormancy_days=0)
    in_acme.dormancy_days = 0
    candidates, _world = collect(policy, timezone.now())
    assert not any(c.evidence["dormant"] for c in candidates)
