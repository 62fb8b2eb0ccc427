"""Issue 17 item 5: access requests no longer expire silently: a day before, the requester is told (once, audited)
and the approvers' queue flags what is about to expire; at expiry the requester is told again."""

from datetime import timedelta

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
