"""Scheduled jobs: expiry notices 7 days and 1 day before a grant ends (once each), registered with the
runner and run inside each tenant's scope (AZ-7)."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from accessrequests.jobs import send_expiry_notices
from accessrequests.models import ExpiryNotice, Notice
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.services import grants, groups
from permissions.vocabulary import Action
from portal import jobs


def test_jobs_are_registered_with_the_runner():
    names = {job.name for job in jobs.registered()}
    assert {"accessrequests.expire_pending", "accessrequests.expiry_notices"} <= names


def test_expiry_notices_go_out_seven_days_and_one_day_before_once_each(
    in_acme, acme_admin, acme_basic, reports, report, mailoutbox, django_capture_on_commit_callbacks
):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        grant = grants.grant(
            actor=acme_admin,
            module=reports,
            resource=report,
            user=acme_basic,
            actions=[Action.VIEW],
            reason="review",
            expires_at=start + timedelta(days=10),
        )
        assert send_expiry_notices(in_acme) == 0  # ten days left: nothing yet
    with time_machine.travel(grant.expires_at - timedelta(days=7), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_expiry_notices(in_acme) == 1
        assert send_expiry_notices(in_acme) == 0  # once
    with time_machine.travel(grant.expires_at - timedelta(days=1, seconds=1), tick=False):
        assert send_expiry_notices(in_acme) == 0
    with time_machine.travel(grant.expires_at - timedelta(days=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_expiry_notices(in_acme) == 1
        assert send_expiry_notices(in_acme) == 0
    with time_machine.travel(grant.expires_at, tick=False):
        assert send_expiry_notices(in_acme) == 0  # an expired grant gets no notice
    assert sorted(ExpiryNotice.objects.values_list("days", flat=True)) == [1, 7]
    notices = Notice.objects.filter(user=acme_basic, kind=Notice.Kind.GRANT_EXPIRING)
    assert [n.params["days"] for n in notices.order_by("created_at")] == [7, 1]
    assert len(mailoutbox) == 2 and all(f"extend={grant.pk}" in m.body for m in mailoutbox)
    assert AuditEvent.objects.filter(event_type=EventType.GRANT_EXPIRY_NOTICE).count() == 2


def test_members_of_a_group_hear_about_its_grant_and_a_short_grant_gets_one_notice(
    in_acme, acme_admin, acme_basic, reports, report
):
    company = groups.create_group(actor=acme_admin, tenant=in_acme, name="Initech")
    groups.add_member(company, acme_basic, actor=acme_admin)
    grants.grant(
        actor=acme_admin,
        module=reports,
        resource=report,
        group=company,
        actions=[Action.VIEW],
        reason="pilot",
        expires_at=timezone.now() + timedelta(hours=20),
    )
    assert send_expiry_notices(in_acme) == 1  # inside the last day: the 1-day notice only
    assert send_expiry_notices(in_acme) == 0
    assert sorted(ExpiryNotice.objects.filter(user=acme_basic).values_list("days", flat=True)) == [1, 7]


def test_az7_the_runner_sends_notices_per_tenant(acme, acme_admin, acme_basic, globex, globex_admin):
    from tests.factories import UserFactory
    from tests.permissions.conftest import make_resource, module

    globex_user = UserFactory(tenant=globex)
    for tenant, admin, user in ((acme, acme_admin, acme_basic), (globex, globex_admin, globex_user)):
        report = make_resource(tenant, "reports", f"{tenant.slug} report")
        with tenant_scope(tenant):
            grants.grant(
                actor=admin,
                module=module(tenant, "reports"),
                resource=report,
                user=user,
                actions=[Action.VIEW],
                reason="r",
                expires_at=timezone.now() + timedelta(days=2),
            )
    results = jobs.run_due_jobs()
    assert results["accessrequests.expiry_notices"] == 2
    for tenant, user in ((acme, acme_basic), (globex, globex_user)):
        with tenant_scope(tenant):
            assert list(Notice.objects.values_list("user_id", flat=True)) == [user.pk]
