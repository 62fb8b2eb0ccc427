"""The batched last-use writer (production: USAGE_FLUSH_SECONDS > 0): uses are queued off the answer's path and
written many rows to a statement, by the process's writer thread or at exit."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.scoping import tenant_scope
from permissions import usage
from permissions.models import Resource, UsageRecord
from permissions.services import modules
from permissions.vocabulary import Action


@pytest.fixture
def batched(settings):
    settings.USAGE_FLUSH_SECONDS = 30  # the writer thread waits: the test decides when to write
    settings.USAGE_FLUSH_ROWS = 1000
    settings.USAGE_COUNTS_GATHER_SECONDS = 0  # counts written at each of the writer's rounds
    usage.forget_seen()
    usage.flush()
    yield settings
    settings.USAGE_FLUSH_SECONDS = 0  # the writer thread, woken by the flush, closes its connection at once
    usage.flush()
    usage.forget_seen()


def _rows(acme):
    with tenant_scope(acme):
        return set(UsageRecord.objects.values_list("user_id", "target_key", "action"))


def test_uses_are_queued_then_written_in_one_statement(
    transactional_db, batched, acme, acme_advanced, acme_basic, report
):
    with tenant_scope(acme):
        with CaptureQueriesContext(connection) as answered:
            assert usage.record_use(acme_advanced, Action.VIEW, report)
            assert usage.record_use(acme_basic, Action.VIEW, report)
            assert usage.record_use(acme_advanced, Action.EXPORT, "reports")
            assert not usage.record_use(acme_advanced, Action.VIEW, report)  # already today
        assert not [q for q in answered.captured_queries if "usagerecord" in (q["sql"] or "").lower()]
    assert _rows(acme) == set()  # nothing written on the answer's path
    with CaptureQueriesContext(connection) as written:
        assert usage.flush() == 3
    inserts = [q for q in written.captured_queries if "usagerecord" in (q["sql"] or "").lower()]
    assert len(inserts) == 1
    reports_id = report.module_id
    assert _rows(acme) == {
        (acme_advanced.pk, f"r{report.pk}", "view"),
        (acme_basic.pk, f"r{report.pk}", "view"),
        (acme_advanced.pk, f"m{reports_id}", "export"),
    }
    assert usage.flush() == 0


def test_the_writer_thread_writes_without_a_request(transactional_db, batched, acme, acme_advanced, report):
    batched.USAGE_FLUSH_SECONDS = 0.05
    with tenant_scope(acme):
        usage.record_use(acme_advanced, Action.VIEW, report)
    deadline = time.monotonic() + 10
    while not _rows(acme) and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    assert _rows(acme) == {(acme_advanced.pk, f"r{report.pk}", "view")}


def test_a_use_of_a_deleted_resource_is_dropped_and_the_others_written(
    transactional_db, batched, acme, acme_admin, acme_advanced, report, reports
):
    with tenant_scope(acme):
        doomed = modules.create_resource(actor=acme_admin, module=reports, title="Soon gone")
        usage.record_use(acme_advanced, Action.VIEW, doomed)
        usage.record_use(acme_advanced, Action.VIEW, report)
        Resource.objects.filter(pk=doomed.pk).delete()
    usage.flush()
    assert _rows(acme) == {(acme_advanced.pk, f"r{report.pk}", "view")}


def test_the_writer_thread_also_writes_the_use_counts(transactional_db, batched, acme, acme_advanced, report):
    """Intelligence's per-hour use counts ride on the same thread (a nudge), not a timer thread per flush."""
    from intelligence.models import UsageCount

    batched.USAGE_FLUSH_SECONDS = 0.05
    with tenant_scope(acme):
        usage.record_use(acme_advanced, Action.VIEW, report)
        usage.record_use(acme_advanced, Action.VIEW, report)  # a second use: counted, no new last-use mark

    def counted():
        with tenant_scope(acme):
            return sum(UsageCount.objects.filter(user=acme_advanced).values_list("count", flat=True))

    deadline = time.monotonic() + 10
    while counted() < 2 and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    assert counted() == 2
    assert _rows(acme) == {(acme_advanced.pk, f"r{report.pk}", "view")}
    names = [thread.name for thread in threading.enumerate()]
    assert names.count("usage-writer") == 1
    assert not [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer)]


def test_flush_soon_has_the_writer_write_before_its_interval_ends(
    transactional_db, batched, acme, acme_advanced, report
):
    """A gunicorn worker about to retire asks for it (portal/gunicorn.conf.py): the interval here is 30 s."""
    with tenant_scope(acme):
        usage.record_use(acme_advanced, Action.VIEW, report)
    threading.Event().wait(0.2)
    assert _rows(acme) == set()  # the writer waits out its interval
    usage.flush_soon()
    deadline = time.monotonic() + 10
    while not _rows(acme) and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    assert _rows(acme) == {(acme_advanced.pk, f"r{report.pk}", "view")}


def test_counts_gather_between_the_writers_rounds_and_an_explicit_flush_writes_them(
    transactional_db, batched, acme, acme_advanced, report
):
    from intelligence import counting
    from intelligence.models import UsageCount

    batched.USAGE_FLUSH_SECONDS = 0  # no writer thread round in between: this test makes the rounds
    batched.USAGE_COUNTS_GATHER_SECONDS = 60
    counting.forget()
    with tenant_scope(acme):
        usage.record_use(acme_advanced, Action.VIEW, report)
    assert counting.flush(periodic=True) == 1  # the first round writes
    with tenant_scope(acme):
        usage.record_use(acme_advanced, Action.VIEW, report)
    assert counting.flush(periodic=True) == 0  # within GATHER_SECONDS of the last write: kept
    assert counting.flush() == 1  # an exit, a job or a test writes at once
    with tenant_scope(acme):
        assert sum(UsageCount.objects.filter(user=acme_advanced).values_list("count", flat=True)) == 2
