"""Issue 17 item 5: access requests no longer expire silently: a day before, the requester is told (once, audited)
and the approvers' queue flags what is about to expire; at expiry the requester is told again."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accessrequests import services
from accessrequests.jobs import expire_pending_requests, warn_expiring_requests
from accessrequests.models import AccessRequest, Notice
from accessrequests.notify import notice_text
from audit.models import AuditEvent
from portal import jobs
from tests.conftest import login
from tests.permissions.conftest import module


def _ask(user, module):
    return services.submit(actor=user, module=module, actions=["view"], reason="Q3 close", duration_days=7)


def test_the_warning_job_is_registered_before_the_expiry():
    names = [job.name for job in jobs.registered()]
    assert names.index("accessrequests.warn_expiring") < names.index("accessrequests.expire_pending")


def test_the_requester_is_told_once_a_day_before_and_again_at_expiry(
    in_acme, acme_basic, reports, mailoutbox, django_capture_on_commit_callbacks
):
    asked = _ask(acme_basic, reports)
    assert warn_expiring_requests(in_acme, now=asked.pending_until - timedelta(days=1, seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert warn_expiring_requests(in_acme, now=asked.pending_until - timedelta(hours=20)) == 1
    assert warn_expiring_requests(in_acme, now=asked.pending_until - timedelta(hours=2)) == 0  # once
    [notice] = Notice.objects.filter(user=acme_basic, kind=Notice.Kind.REQUEST_EXPIRING)
    assert "is still undecided and expires on" in notice_text(notice.kind, notice.params)
    assert len(mailoutbox) == 1 and f"/requests/{asked.pk}/" in mailoutbox[0].body
    assert AuditEvent.objects.filter(event_type="request.expiry_warned", target_id=str(asked.pk)).count() == 1
    assert expire_pending_requests(in_acme, now=asked.pending_until) == 1
    assert Notice.objects.filter(user=acme_basic, kind=Notice.Kind.EXPIRED).count() == 1


def test_a_decided_request_gets_no_warning(in_acme, acme_admin, acme_basic, reports):
    asked = _ask(acme_basic, reports)
    services.deny(asked, actor=acme_admin, reason="No")
    assert warn_expiring_requests(in_acme, now=asked.pending_until - timedelta(hours=1)) == 0


def test_the_queue_flags_requests_about_to_expire(in_acme, acme_admin, acme_basic, reports):
    later = _ask(acme_basic, module(in_acme, "analytics"))
    admin = login(Client(), acme_admin)
    assert 'data-testid="expiring-soon"' not in admin.get("/requests/queue/").content.decode()
    soon = _ask(acme_basic, reports)
    AccessRequest.objects.filter(pk=soon.pk).update(pending_until=timezone.now() + timedelta(hours=5))
    page = admin.get("/requests/queue/").content.decode()
    assert 'data-testid="expiring-soon"' in page and "1 request expires undecided within a day" in page
    assert page.count('data-testid="expires-soon"') == 1 and f"/requests/{later.pk}/" in page


def test_a_crash_mid_run_warns_nobody_and_the_next_run_warns_each_once(in_acme, acme, reports, monkeypatch):
    """One transaction for the run: a worker that dies on the second notice leaves no marker, no notice and no
    event behind; the next run tells each requester once."""

    from accessrequests import jobs as request_jobs
    from permissions.models import BuiltinRole
    from tests.factories import UserFactory

    asked = [_ask(UserFactory(tenant=acme, role_key=BuiltinRole.BASIC), reports) for _ in range(2)]
    now = max(a.pending_until for a in asked) - timedelta(hours=20)
    real, calls = request_jobs.notify, []

    def crash_on_the_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(request_jobs, "notify", crash_on_the_second)
    with pytest.raises(RuntimeError):
        warn_expiring_requests(in_acme, now=now)
    assert not AccessRequest.objects.filter(expiry_warned_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(event_type="request.expiry_warned").exists()
    monkeypatch.setattr(request_jobs, "notify", real)
    assert warn_expiring_requests(in_acme, now=now) == 2
    assert warn_expiring_requests(in_acme, now=now) == 0
    assert AuditEvent.objects.filter(event_type="request.expiry_warned").count() == 2
    assert Notice.objects.filter(kind=Notice.Kind.REQUEST_EXPIRING).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_warn_each_requester_once(acme):
    import threading

    from django.db import connections

    from accounts.scoping import tenant_scope
    from permissions.models import BuiltinRole
    from tests.factories import UserFactory

    reports = module(acme, "reports")
    with tenant_scope(acme):
        asked = [_ask(UserFactory(tenant=acme, role_key=BuiltinRole.BASIC), reports) for _ in range(3)]
    now = max(a.pending_until for a in asked) - timedelta(hours=20)
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            with tenant_scope(acme):
                results.append(warn_expiring_requests(acme, now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and sum(results) == 3  # each requester warned once, by one runner or the other
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="request.expiry_warned").count() == 3
        assert Notice.objects.filter(kind=Notice.Kind.REQUEST_EXPIRING).count() == 3
