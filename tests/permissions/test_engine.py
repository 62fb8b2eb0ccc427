"""The engine's four questions: can, explain, visible, holders (AZ-5, AZ-8 and the paths)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.scoping import tenant_scope
from permissions import compiled, engine, planner
from permissions.engine import PathKind
from permissions.models import Resource
from permissions.services import grants as grant_services
from permissions.services import modules as module_services
from permissions.services import roles as role_services
from permissions.versioning import request_versions
from permissions.vocabulary import Action
from tests.permissions.conftest import add_to_group, make_resource

A = Action


def give(actor, **kwargs):
    with tenant_scope(kwargs["module"].tenant):
        return grant_services.grant(actor=actor, reason="customer needs it", **kwargs)


def test_builtin_matrices(acme_admin, acme_advanced, acme_basic):
    assert engine.can(acme_basic, A.VIEW, "products")
    assert not engine.can(acme_basic, A.EXPORT, "products")
    assert not engine.can(acme_basic, A.VIEW, "reports")
    assert engine.can(acme_advanced, A.EXPORT, "reports")
    assert not engine.can(acme_advanced, A.CHANGE, "reports")
    assert not engine.can(acme_advanced, A.VIEW, "users")
    for key in ("users", "roles", "groups", "grants", "audit", "settings"):
        assert engine.can(acme_admin, A.VIEW, key)
    assert engine.can(acme_admin, A.APPROVE, "grants")
    assert not engine.can(acme_admin, A.VIEW, "no-such-module")


def test_inactive_users_can_do_nothing(acme_admin, acme_admin2, report):
    account_services.deactivate_user(acme_admin2, actor=acme_admin)
    assert not engine.can(acme_admin2, A.VIEW, "users")
    assert not engine.can(acme_admin2, A.VIEW, report)
    with tenant_scope(report.tenant):
        assert not engine.visible(acme_admin2, A.VIEW, Resource.objects.all()).exists()
    assert engine.explain(acme_admin2, A.VIEW, report).allowed is False


def test_other_tenants_and_operators_get_nothing(acme_admin, globex_admin, globex_report, report):
    """AZ-1/AZ-8 at the engine: an administrator of one tenant holds nothing in another."""
    assert not engine.can(acme_admin, A.VIEW, globex_report)
    assert engine.can(globex_admin, A.VIEW, globex_report)
    assert not engine.can(globex_admin, A.VIEW, report)
    with tenant_scope(report.tenant):
        from permissions.models import Module

        acme_reports = Module.objects.get(key="reports")
    assert not engine.can(globex_admin, A.VIEW, acme_reports)
    assert not engine.can(AnonymousUser(), A.VIEW, "products")
    with tenant_scope(globex_report.tenant):
        assert list(engine.visible(acme_admin, A.VIEW, Resource.objects.all())) == []


def test_direct_resource_grant_gives_that_resource_only(acme_admin, acme_customer, reports, report, other_report):
    assert not engine.can(acme_customer, A.VIEW, report)
    grant = give(acme_admin, module=reports, resource=report, user=acme_customer, actions=[A.VIEW])
    assert engine.can(acme_customer, A.VIEW, report)
    assert not engine.can(acme_customer, A.EXPORT, report)
    assert not engine.can(acme_customer, A.VIEW, other_report)
    assert not engine.can(acme_customer, A.VIEW, "reports")
    assert acme_customer.has_perm("reports.view", report)
    assert not acme_customer.has_perm("reports.view", other_report)
    assert not acme_customer.has_perm("products.view", report)
    with tenant_scope(report.tenant):
        assert list(engine.visible(acme_customer, A.VIEW, Resource.objects.all())) == [report]
        [path] = engine.explain(acme_customer, A.VIEW, report).paths
    assert path.kind == PathKind.USER_RESOURCE_GRANT and path.grant == grant
    assert f"#{grant.pk}" in path.text and "admin@acme.example" in path.text


def test_group_grant_reaches_members_only(acme_admin, acme_customer, acme_basic, reports, report, customer_company):
    add_to_group(customer_company, acme_customer)
    grant = give(acme_admin, module=reports, resource=report, group=customer_company, actions=[A.VIEW, A.EXPORT])
    assert engine.can(acme_customer, A.EXPORT, report)
    assert not engine.can(acme_basic, A.VIEW, report)
    explanation = engine.explain(acme_customer, A.EXPORT, report)
    [path] = explanation.paths
    assert path.kind == PathKind.GROUP_RESOURCE_GRANT and path.group_name == "Initech"
    assert "via group Initech" in path.text and f"#{grant.pk}" in path.text
    by_user = {h.user: h.paths for h in engine.holders(A.EXPORT, report)}
    assert set(by_user) == {acme_admin, acme_customer}
    assert by_user[acme_customer][0].grant == grant
    assert by_user[acme_admin][0].kind == PathKind.ROLE


def test_module_grants_direct_and_via_group(acme_admin, acme_customer, acme_basic, reports, report, customer_company):
    direct = give(acme_admin, module=reports, user=acme_customer, actions=[A.VIEW])
    add_to_group(customer_company, acme_basic)
    via_group = give(acme_admin, module=reports, group=customer_company, actions=[A.VIEW])
    assert engine.can(acme_customer, A.VIEW, "reports") and engine.can(acme_customer, A.VIEW, report)
    assert engine.can(acme_basic, A.VIEW, "reports")
    assert [p.kind for p in engine.explain(acme_customer, A.VIEW, report).paths] == [PathKind.USER_MODULE_GRANT]
    [path] = engine.explain(acme_basic, A.VIEW, reports).paths
    assert path.kind == PathKind.GROUP_MODULE_GRANT and path.grant == via_group
    assert direct.pk in {p.grant.pk for h in engine.holders(A.VIEW, reports) for p in h.paths if p.grant}


def test_role_path_is_explained(acme_advanced, acme_basic, reports):
    [path] = engine.explain(acme_advanced, A.EXPORT, reports).paths
    assert path.kind == PathKind.ROLE and path.role.key == "advanced"
    assert "Role Advanced user → Reports: Export" == path.text
    refused = engine.explain(acme_basic, A.VIEW, reports)
    assert not refused.allowed and refused.reasons == ["No role, group or grant gives this action."]


def test_expiry_is_exact_to_the_instant(acme_admin, acme_customer, reports, report):
    """AZ-5: allowed one second before the expiry, refused at it and one second after, even when cached."""
    expires = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    grant = give(acme_admin, module=reports, resource=report, user=acme_customer, actions=[A.VIEW], expires_at=expires)
    module_grant = give(acme_admin, module=reports, user=acme_customer, actions=[A.EXPORT], expires_at=expires)
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        assert engine.can(acme_customer, A.VIEW, report)  # warms the cache
        assert engine.can(acme_customer, A.EXPORT, "reports")
        with tenant_scope(report.tenant):
            assert engine.visible(acme_customer, A.VIEW, Resource.objects.all()).count() == 1
        assert acme_customer in [h.user for h in engine.holders(A.VIEW, report)]
    with time_machine.travel(expires, tick=False):
        assert not engine.can(acme_customer, A.VIEW, report)
        assert not engine.can(acme_customer, A.EXPORT, "reports")
    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        assert not engine.can(acme_customer, A.VIEW, report)
        assert not engine.can(acme_customer, A.EXPORT, "reports")
        with tenant_scope(report.tenant):
            assert engine.visible(acme_customer, A.VIEW, Resource.objects.all()).count() == 0
        assert acme_customer not in [h.user for h in engine.holders(A.VIEW, report)]
        explanation = engine.explain(acme_customer, A.VIEW, report)
        assert not explanation.allowed
        assert any(f"Grant #{grant.pk} expired" in reason for reason in explanation.reasons)
    assert module_grant.expires_at == expires


def test_revocation_is_obeyed_on_the_next_check(acme_admin, acme_customer, reports, report):
    """AZ-5 in one process: a warm cached answer does not survive a revocation."""
    grant = give(acme_admin, module=reports, resource=report, user=acme_customer, actions=[A.VIEW])
    assert engine.can(acme_customer, A.VIEW, report)
    with tenant_scope(report.tenant):
        grant_services.revoke(grant, actor=acme_admin, reason="left the project")
    assert not engine.can(acme_customer, A.VIEW, report)
    explanation = engine.explain(acme_customer, A.VIEW, report)
    assert f"Grant #{grant.pk} was revoked." in explanation.reasons


def test_cache_entries_are_per_tenant_and_user(acme_admin, acme_customer, acme_basic, reports, report):
    """AZ-8: one user's cached set never answers for another user."""
    give(acme_admin, module=reports, resource=report, user=acme_customer, actions=[A.VIEW])
    assert engine.can(acme_customer, A.VIEW, report)
    assert not engine.can(acme_basic, A.VIEW, report)
    keys = set(engine._sets)
    assert (acme_customer.tenant_id, acme_customer.pk) in keys and (acme_basic.tenant_id, acme_basic.pk) in keys


def test_cold_check_is_one_query_and_warm_none(acme_customer, report, django_assert_num_queries):
    """In a request: the tenant's version row once, a cold set in one query, warm checks in none."""
    engine.clear_process_cache()
    other = make_resource(report.tenant, "reports", "another")
    with request_versions():
        with django_assert_num_queries(2):  # the version row, then the set
            assert not engine.can(acme_customer, A.VIEW, report)
        with django_assert_num_queries(0):
            assert not engine.can(acme_customer, A.VIEW, report)
            assert engine.can(acme_customer, A.VIEW, "products")
        with django_assert_num_queries(0):  # the set holds all of the user's (few) object rows: complete
            assert not engine.can(acme_customer, A.VIEW, other)
    # Outside a request every check reads the version row (FC-1: the database decides), and only that.
    with django_assert_num_queries(1):
        assert not engine.can(acme_customer, A.VIEW, report)


def test_a_user_with_more_object_rows_than_the_bound_asks_per_resource(
    acme, acme_admin, acme_customer, report, monkeypatch, django_assert_num_queries
):
    """Over MAX_COMPLETE_OBJECT_ROWS object rows the set is incomplete: a resource it has not answered yet
    costs a query, and the answers are the same as a complete set's."""
    first = make_resource(report.tenant, "reports", "first")
    second = make_resource(report.tenant, "reports", "second")
    with tenant_scope(acme):
        for item in (first, second):
            grant_services.grant(
                actor=acme_admin,
                module=item.module,
                resource=item,
                user=acme_customer,
                actions=[A.VIEW],
                reason="t",
            )
    for bound, queries in ((2, 0), (1, 1)):
        monkeypatch.setattr(compiled, "MAX_COMPLETE_OBJECT_ROWS", bound)
        engine.clear_process_cache()
        with request_versions():
            assert engine.can(acme_customer, A.VIEW, first)
            assert engine.compiled_for(acme_customer).complete is (bound == 2)
            with django_assert_num_queries(queries):
                assert engine.can(acme_customer, A.VIEW, second)
            with django_assert_num_queries(queries):
                assert not engine.can(acme_customer, A.VIEW, report)


def test_a_role_matrix_change_or_a_new_module_is_seen_by_the_next_check(acme, acme_admin, acme_advanced):
    """A compiled set holds the tenant's module keys and the user's role matrix; both change only through
    services that bump the tenant's version, so the next check sees them, even later in the same request."""
    advanced = acme_advanced.role
    with request_versions():
        assert engine.can(acme_advanced, A.EXPORT, "reports")
        assert not engine.can(acme_admin, A.VIEW, "contracts")
        with tenant_scope(acme):
            role_services.set_role_matrix(advanced, {"reports": [A.VIEW], "products": [A.VIEW]}, actor=acme_admin)
        assert not engine.can(acme_advanced, A.EXPORT, "reports")
        assert engine.can(acme_advanced, A.VIEW, "reports")
        assert not engine.can(acme_advanced, A.VIEW, "analytics")
        with tenant_scope(acme):
            contracts = module_services.create_module(actor=acme_admin, tenant=acme, name="Contracts")
        assert engine.can(acme_admin, A.VIEW, "contracts")  # the Administrator role holds every new module
        assert not engine.can(acme_advanced, A.VIEW, contracts)
        with tenant_scope(acme):
            role_services.set_role_matrix(advanced, {"contracts": [A.VIEW, A.EXPORT]}, actor=acme_admin)
        assert engine.can(acme_advanced, A.EXPORT, "contracts")
        assert not engine.can(acme_advanced, A.VIEW, "reports")


@pytest.mark.postgres
def test_on_postgresql_the_cold_query_is_one_prepared_statement(acme, acme_admin, acme_customer, report):
    """The cold query is bound on the server with fixed parameter types: after psycopg's threshold it is
    one prepared statement per connection, for every user (its plan is not made again on each check)."""
    users = [acme_admin, acme_customer]
    for n in range(8):
        engine.clear_process_cache()
        assert engine.can(users[n % 2], A.VIEW, report) is (n % 2 == 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE NOT from_sql AND statement LIKE %s",
            ["SELECT 0,%permissions_resourceuserpermission%"],
        )
        prepared = cursor.fetchall()
    assert len(prepared) == 1
    assert set(prepared[0][0]) == {"bigint", "bigint[]", "timestamp with time zone"}


@pytest.mark.postgres
def test_without_prepared_statements_the_engine_binds_on_the_client(acme, acme_customer, report, monkeypatch):
    """DATABASE_PREPARED_STATEMENTS=false (a pooler that cannot keep them): same answers, nothing prepared."""

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql")
            return cursor.fetchone()[0]

    before = prepared()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    rows = [report, *(make_resource(acme, "reports", f"r{n}") for n in range(3))]
    with tenant_scope(acme):
        grant_services.grant(
            actor=None, module=report.module, resource=rows[2], user=acme_customer, actions=[A.VIEW], reason="r"
        )
    for _ in range(8):
        engine.clear_process_cache()
        engine.prefetch(acme_customer, rows)
        assert [engine.can(acme_customer, A.VIEW, r) for r in rows] == [False, False, True, False]
    assert prepared() == before


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("count", [3, 30])
def test_visible_is_one_query_whatever_the_length(
    acme, acme_admin, acme_customer, reports, count, dense, monkeypatch, django_assert_num_queries, customer_company
):
    """A page of visible() is one statement, for 3 or 30 objects, in either plan (sparse or dense)."""
    monkeypatch.setattr(planner, "DENSE_AT", 0 if dense else 2_000)
    add_to_group(customer_company, acme_customer)
    for n in range(count):
        resource = make_resource(acme, "reports", f"report {n}")
        give(acme_admin, module=reports, resource=resource, user=acme_customer, actions=[A.VIEW])
        give(acme_admin, module=reports, resource=resource, group=customer_company, actions=[A.VIEW])
    make_resource(acme, "reports", "not shared")
    with tenant_scope(acme):
        listing = Resource.objects.filter(module=reports).order_by("id")
        with request_versions():
            engine.visible(acme_customer, A.VIEW, listing)  # compiles the set and counts the object rows once
            with django_assert_num_queries(1):
                rows = list(engine.visible(acme_customer, A.VIEW, listing)[:50])
            with django_assert_num_queries(1):
                everything = list(engine.visible(acme_customer, A.VIEW, Resource.objects.order_by("id"))[:50])
    assert len(rows) == count
    assert [r.title for r in everything if r.module_id == reports.pk] == [r.title for r in rows]


def test_visible_composes_with_caller_filters(acme, acme_advanced, report, other_report):
    with tenant_scope(acme):
        page = engine.visible(acme_advanced, A.VIEW, Resource.objects.filter(title__startswith="Q4"))
        assert list(page) == [other_report]
        assert list(engine.visible(acme_advanced, A.DELETE, Resource.objects.all())) == []


def test_backend_has_perm_agrees(acme_basic, acme_advanced, report):
    assert acme_basic.has_perm("products.view")
    assert not acme_basic.has_perm("products.export")
    assert acme_advanced.has_perm("reports.export", report)
    assert not acme_advanced.has_perm("reports.bogus")
    assert not acme_advanced.has_perm("reports.view", object())


@pytest.mark.parametrize("complete", [True, False])
def test_prefetch_loads_a_page_in_one_query(acme, acme_customer, django_assert_num_queries, monkeypatch, complete):
    """A complete set needs nothing more; an incomplete one (a user over the bound) one query per page."""
    if not complete:
        monkeypatch.setattr(compiled, "MAX_COMPLETE_OBJECT_ROWS", -1)
    engine.clear_process_cache()
    rows = [make_resource(acme, "reports", f"r{n}") for n in range(10)]
    with request_versions():
        engine.can(acme_customer, A.VIEW, "products")
        assert engine.compiled_for(acme_customer).complete is complete
        with django_assert_num_queries(0 if complete else 1):
            engine.prefetch(acme_customer, rows)
        with django_assert_num_queries(0):
            assert not any(engine.can(acme_customer, A.VIEW, r) for r in rows)


def test_sets_compiled_for_many_users_are_complete_within_the_bound(
    acme, acme_admin, acme_customer, acme_basic, report, monkeypatch
):
    """prefetch_many (a page of people, a batch of checks) reads each user's object rows, numbered per user:
    within the bound the set is complete; over it, it is not, and answers stay right either way."""
    first = make_resource(report.tenant, "reports", "first")
    second = make_resource(report.tenant, "reports", "second")
    with tenant_scope(acme):
        for item in (first, second):
            grant_services.grant(
                actor=acme_admin, module=item.module, resource=item, user=acme_customer, actions=[A.VIEW], reason="t"
            )
    for bound in (2, 1):
        monkeypatch.setattr(compiled, "MAX_COMPLETE_OBJECT_ROWS", bound)
        engine.clear_process_cache()
        with request_versions():
            engine.prefetch_many([acme_customer, acme_basic])
            assert engine.compiled_for(acme_customer).complete is (bound == 2)
            assert engine.compiled_for(acme_basic).complete  # no object rows at all
            assert engine.can(acme_customer, A.VIEW, first) and engine.can(acme_customer, A.VIEW, second)
            assert not engine.can(acme_customer, A.VIEW, report)
            assert not engine.can(acme_basic, A.VIEW, first)
