"""The SQL planner of visible() on its own: the module filter it reads from a queryset, the bounded count that
picks the plan, and the two plans giving the same rows (expired and foreign rows left out)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions import engine, planner
from permissions.models import Resource
from permissions.services import grants
from permissions.vocabulary import BITS, Action
from tests.permissions.conftest import add_to_group, make_resource

A = Action
VIEW = BITS[A.VIEW]


def test_module_filter_reads_top_level_module_filters(in_acme, reports, products):
    assert planner.module_filter(Resource.objects.filter(module=reports)) == {reports.pk}
    assert planner.module_filter(Resource.objects.filter(module_id=reports.pk)) == {reports.pk}
    both = Resource.objects.filter(module__in=[reports, products])
    assert planner.module_filter(both) == {reports.pk, products.pk}
    assert planner.module_filter(both.filter(module=products)) == {products.pk}  # AND: the intersection
    assert planner.module_filter(Resource.objects.filter(title="x")) is None
    assert planner.module_filter(Resource.objects.filter(Q(module=reports) | Q(title="x"))) is None  # OR: none
    assert planner.module_filter(Resource.objects.exclude(module=reports)) is None


@pytest.fixture
def shared(acme, acme_admin, acme_customer, reports, customer_company):
    """Five reports: two for the customer directly, one for their group, one expiring soon, one for nobody."""
    add_to_group(customer_company, acme_customer)
    rows = [make_resource(acme, "reports", f"report {n}") for n in range(5)]
    soon = timezone.now() + timedelta(hours=1)
    with tenant_scope(acme):
        for resource, subject, expires in [
            (rows[0], {"user": acme_customer}, None),
            (rows[1], {"user": acme_customer}, None),
            (rows[2], {"group": customer_company}, None),
            (rows[3], {"user": acme_customer}, soon),
        ]:
            grants.grant(
                actor=acme_admin,
                module=reports,
                resource=resource,
                actions=[A.VIEW],
                reason="r",
                expires_at=expires,
                **subject,
            )
    return rows, soon


def _ids(queryset):
    return sorted(queryset.values_list("pk", flat=True))


def test_the_two_plans_give_the_same_rows_and_drop_expired_ones(in_acme, acme_customer, reports, shared):
    rows, soon = shared
    entry = engine.compiled_for(acme_customer)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    listing = Resource.objects.filter(module=reports)
    sparse = listing.filter(planner.sparse_condition(entry, acme_customer, VIEW, now, []))
    dense = listing.filter(planner.dense_condition(entry, acme_customer, VIEW, now, []))
    assert _ids(sparse) == _ids(dense) == [r.pk for r in rows[:4]]
    later = connection.ops.adapt_datetimefield_value(soon + timedelta(minutes=1))
    assert _ids(listing.filter(planner.sparse_condition(entry, acme_customer, VIEW, later, []))) == [
        r.pk for r in rows[:3]
    ]
    assert _ids(listing.filter(planner.dense_condition(entry, acme_customer, VIEW, later, []))) == [
        r.pk for r in rows[:3]
    ]
    # whole modules join the object rows (an OR): every report when reports is held wholesale
    whole = [reports.pk]
    assert _ids(listing.filter(planner.sparse_condition(entry, acme_customer, VIEW, now, whole))) == _ids(listing)


def test_the_bounded_count_picks_the_plan(in_acme, acme_customer, reports, shared, monkeypatch):
    entry = engine.compiled_for(acme_customer)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    assert planner.object_row_count(entry, acme_customer, VIEW, now) == 4  # 3 own rows + 1 group row
    assert entry.counts[VIEW] == 4  # cached on the set (per version)
    listing = Resource.objects.filter(module=reports)
    monkeypatch.setattr(planner, "DENSE_AT", 3)
    assert "EXISTS" in str(planner.narrow(listing, entry, acme_customer, VIEW, []).query)
    monkeypatch.setattr(planner, "DENSE_AT", 4)
    assert "UNION ALL" in str(planner.narrow(listing, entry, acme_customer, VIEW, []).query)


def test_narrow_adds_nothing_inside_modules_held_wholesale(in_acme, acme_admin, reports, products):
    entry = engine.compiled_for(acme_admin)
    listing = Resource.objects.filter(module=reports)
    assert str(planner.narrow(listing, entry, acme_admin, VIEW, [reports.pk, products.pk]).query) == str(listing.query)


def test_narrow_keeps_the_callers_order_and_slices(in_acme, acme_customer, reports, shared):
    rows, soon = shared
    entry = engine.compiled_for(acme_customer)
    with time_machine.travel(soon + timedelta(minutes=1)):
        engine.clear_process_cache()
        entry = engine.compiled_for(acme_customer)
        page = planner.narrow(Resource.objects.filter(module=reports).order_by("-id"), entry, acme_customer, VIEW, [])
        assert list(page[:2]) == [rows[2], rows[1]]
