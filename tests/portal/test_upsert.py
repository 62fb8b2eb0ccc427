"""portal.upsert: the fixed-shape statement (PostgreSQL's unnest) and the VALUES form (SQLite) add rows,
update the ones whose key exists, keep NULLs, and take any number of rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence.counting import COLUMNS
from intelligence.models import UsageCount
from permissions.models import Module
from portal.upsert import CHUNK_ROWS, upsert


@pytest.fixture
def reports(acme):
    with tenant_scope(acme):
        return Module.objects.get(key="reports")


def _add(rows):
    table = UsageCount._meta.db_table
    upsert(
        table,
        COLUMNS,
        rows,
        conflict="tenant_id, user_id, module_id, action, hour",
        update=f"count = {table}.count + excluded.count",
    )


@pytest.mark.django_db
def test_rows_are_added_then_updated_in_place(acme, acme_basic, reports):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    _add(
        [(acme.pk, acme_basic.pk, reports.pk, "view", hour, 2), (acme.pk, acme_basic.pk, reports.pk, "export", hour, 1)]
    )
    _add([(acme.pk, acme_basic.pk, reports.pk, "view", hour, 3)])
    with tenant_scope(acme):
        counts = dict(UsageCount.objects.filter(user=acme_basic).values_list("action", "count"))
        assert counts == {"view": 5, "export": 1}
        assert UsageCount.objects.get(user=acme_basic, action="view").hour == hour


@pytest.mark.django_db
def test_more_rows_than_one_values_statement_holds(acme, acme_basic, reports):
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = [
        (acme.pk, acme_basic.pk, reports.pk, "view", start - timedelta(hours=n), n + 1) for n in range(CHUNK_ROWS + 7)
    ]
    _add(rows)
    with tenant_scope(acme):
        assert UsageCount.objects.filter(user=acme_basic).count() == CHUNK_ROWS + 7
        assert sum(UsageCount.objects.filter(user=acme_basic).values_list("count", flat=True)) == sum(
            r[5] for r in rows
        )


@pytest.mark.django_db
def test_nothing_to_write_sends_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        upsert("anything", COLUMNS, [], conflict="x", update="x = 1")
