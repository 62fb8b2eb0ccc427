"""Issue 17 item 5: an overdue case is escalated by a job, once (two runners at once, a crash mid-run), with an
e-mail to the administrators; a resolved case the customer leaves alone closes after 14 days."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.scoping import tenant_scope
from appeals import jobs, services
from appeals.models import Case
from audit.models import AuditEvent
from portal import jobs as runner


def _open(customer, subject="Cannot see Q3"):
    return services.open_case(actor=customer, kind=Case.Kind.MISSING, subject=subject, body="Please look.")


def test_the_jobs_are_registered_with_the_scheduler():
    names = {job.name for job in runner.registered()}
    assert {"appeals.escalate_overdue", "appeals.close_resolved"} <= names


def test_an_overdue_case_is_escalated_once_and_the_administrators_are_mailed(
    in_acme, customer, acme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    case = _open(customer)
    assert jobs.escalate_overdue(in_acme, now=case.due_at - timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.escalate_overdue(in_acme, now=case.due_at) == 1
    assert jobs.escalate_overdue(in_acme, now=case.due_at + timedelta(hours=1)) == 0
    case.refresh_from_db()
    assert case.escalated_at == case.due_at
    [mail] = mailoutbox
    assert mail.to == [acme_admin.email] and f"/appeals/{case.pk}/" in mail.body
    assert AuditEvent.objects.filter(event_type="appeal.escalated", target_id=str(case.pk)).count() == 1


def test_an_answered_case_is_not_escalated_and_a_reopened_one_may_be_again(in_acme, customer, acme_admin):
    case = _open(customer)
    services.reply(case, actor=acme_admin, body="Answered in time")
    assert jobs.escalate_overdue(in_acme, now=case.due_at + timedelta(days=1)) == 0
    services.reply(case, actor=customer, body="Still missing")
    case.refresh_from_db()
    assert jobs.escalate_overdue(in_acme, now=case.due_at) == 1


def test_a_crash_mid_run_leaves_the_escalated_marked_and_the_next_run_finishes(
    in_acme, customer, other_customer, monkeypatch
):
    first, second = _open(customer, "first"), _open(other_customer, "second")
    now = max(first.due_at, second.due_at)
    real, calls = jobs._mail_administrators, []

    def crash_on_the_second(case, tenant):
        calls.append(case.pk)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        real(case, tenant)

    monkeypatch.setattr(jobs, "_mail_administrators", crash_on_the_second)
    with pytest.raises(RuntimeError):
        jobs.escalate_overdue(in_acme, now=now)
    assert Case.objects.filter(escalated_at__isnull=False).count() == 1  # the first committed, the second rolled back
    monkeypatch.setattr(jobs, "_mail_administrators", real)
    assert jobs.escalate_overdue(in_acme, now=now) == 1
    assert AuditEvent.objects.filter(event_type="appeal.escalated").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_escalate_each_case_once(acme, acme_admin):
    from tests.factories import UserFactory

    customers = [UserFactory(tenant=acme) for _ in range(3)]
    with tenant_scope(acme):
        cases = [_open(c) for c in customers]
    now = max(c.due_at for c in cases)
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            with tenant_scope(acme):
                results.append(jobs.escalate_overdue(acme, now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 3
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="appeal.escalated").count() == 3


def test_resolved_cases_close_after_fourteen_days(in_acme, customer, acme_admin):
    case = _open(customer)
    services.resolve(case, actor=acme_admin, outcome=Case.Outcome.UPHELD, body="The policy stands.")
    case.refresh_from_db()
    assert jobs.close_resolved(in_acme, now=case.resolved_at + timedelta(days=13)) == 0
    assert jobs.close_resolved(in_acme, now=timezone.now() + timedelta(days=15)) == 1
    assert jobs.close_resolved(in_acme, now=timezone.now() + timedelta(days=16)) == 0
    case.refresh_from_db()
    assert (case.state, case.outcome) == (Case.State.CLOSED, Case.Outcome.UPHELD)


def test_a_crash_while_closing_resolved_cases_closes_none_and_the_next_run_closes_each_once(
    in_acme, customer, other_customer, acme_admin, monkeypatch
):
    import audit as audit_module

    cases = [_open(customer, "first"), _open(other_customer, "second")]
    for case in cases:
        services.resolve(case, actor=acme_admin, outcome=Case.Outcome.UPHELD, body="The policy stands.")
    later = timezone.now() + timedelta(days=15)
    real, calls = audit_module.record, []

    def crash_on_the_second(*args, **kwargs):
        calls.append(kwargs.get("target"))
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_module, "record", crash_on_the_second)
    with pytest.raises(RuntimeError):
        jobs.close_resolved(in_acme, now=later)
    monkeypatch.setattr(audit_module, "record", real)
    assert not Case.objects.filter(state=Case.State.CLOSED).exists()  # one transaction: nothing half-done
    assert jobs.close_resolved(in_acme, now=later) == 2
    assert jobs.close_resolved(in_acme, now=later) == 0
    assert AuditEvent.objects.filter(event_type="appeal.closed").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_close_each_resolved_case_once(acme, acme_admin):
    from tests.factories import UserFactory

    with tenant_scope(acme):
        cases = [_open(UserFactory(tenant=acme)) for _ in range(3)]
        for case in cases:
            services.resolve(case, actor=acme_admin, outcome=Case.Outcome.UPHELD, body="The policy stands.")
    later = timezone.now() + timedelta(days=15)
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            with tenant_scope(acme):
                results.append(jobs.close_resolved(acme, now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and sum(results) == 3
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="appeal.closed").count() == 3
