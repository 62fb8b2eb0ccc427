"""FC-1 in one process: the authorization version is a database row that commits with the change (or
not at all); no cache decides anything; compiled sets live a bounded time."""

from datetime import timedelta
from unittest.mock import patch

import time_machine
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions import engine, versioning
from permissions.compiled import MAX_SET_SECONDS
from permissions.models import AuthzVersion, ResourceUserPermission
from permissions.services import grants
from permissions.versioning import current_version, request_versions, stored_version
from permissions.vocabulary import Action as A
from tests.permissions.conftest import module

DEAD_REDIS = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def give(admin, user, resource):
    return grants.grant(
        actor=admin, module=module(admin.tenant, "reports"), resource=resource, user=user, actions=[A.VIEW], reason="t"
    )


def test_the_version_row_commits_with_the_change_or_not_at_all(acme, acme_admin, acme_customer, report):
    start = stored_version(acme.pk)
    with transaction.atomic():
        give(acme_admin, acme_customer, report)
        assert stored_version(acme.pk) == start + 1  # in the change's own transaction
        transaction.set_rollback(True)
    assert stored_version(acme.pk) == start
    assert not engine.can(acme_customer, A.VIEW, report)
    give(acme_admin, acme_customer, report)
    assert stored_version(acme.pk) == start + 1
    assert AuthzVersion._base_manager.get(tenant_id=acme.pk).version == start + 1


def test_another_tenants_change_leaves_the_version_alone(acme, globex, acme_admin, acme_customer, report):
    before = stored_version(globex.pk)
    give(acme_admin, acme_customer, report)
    assert stored_version(globex.pk) == before


def test_a_change_committed_elsewhere_is_seen_on_the_next_request(acme, acme_admin, acme_customer, report):
    """Another process commits a revocation: all this process can see of it is the database (its own
    local generation does not move). The next request reads the row and refuses."""
    give(acme_admin, acme_customer, report)
    with request_versions():
        assert engine.can(acme_customer, A.VIEW, report)
    # What another process's revocation leaves here: the row gone and the version raised, in SQL.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ResourceUserPermission._meta.db_table} WHERE user_id = %s", [acme_customer.pk])
        cursor.execute(
            f"UPDATE {AuthzVersion._meta.db_table} SET version = version + 1 WHERE tenant_id = %s", [acme.pk]
        )
    with request_versions():
        assert not engine.can(acme_customer, A.VIEW, report)


def test_a_set_cached_in_a_rolled_back_transaction_is_never_used_after_it(acme, acme_admin, acme_customer, report):
    """A check made after a grant, inside the grant's transaction, caches a set holding that grant. The
    transaction rolls back; later another process commits a change that raises the version to the number
    the rolled-back transaction had seen. The cached set must not come back."""
    start = stored_version(acme.pk)
    with transaction.atomic():
        give(acme_admin, acme_customer, report)
        assert engine.can(acme_customer, A.VIEW, report)  # cached during the transaction
        transaction.set_rollback(True)
    with connection.cursor() as cursor:  # another process's committed change
        cursor.execute(
            f"UPDATE {AuthzVersion._meta.db_table} SET version = version + 1 WHERE tenant_id = %s", [acme.pk]
        )
    assert stored_version(acme.pk) == start + 1
    assert not engine.can(acme_customer, A.VIEW, report)


def test_inside_the_changing_transaction_checks_stay_warm(
    acme, acme_admin, acme_customer, report, django_assert_num_queries
):
    """What a transaction caches after its own change is reused by it (not a query per check)."""
    with transaction.atomic():
        give(acme_admin, acme_customer, report)
        with request_versions():
            assert engine.can(acme_customer, A.VIEW, report)
            with django_assert_num_queries(0):
                assert engine.can(acme_customer, A.VIEW, report)
        assert len(current_version(acme.pk)) == 3  # the version names the open transaction
    assert len(current_version(acme.pk)) == 2


def test_compiled_sets_live_a_bounded_time(acme, acme_admin, acme_customer, report, django_assert_num_queries):
    """A change that did not raise the version (written by hand in SQL) is obeyed once the set's lifetime
    is over, and not before: the lifetime is what bounds it."""
    give(acme_admin, acme_customer, report)
    with request_versions():
        assert engine.can(acme_customer, A.VIEW, report)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ResourceUserPermission._meta.db_table} WHERE user_id = %s", [acme_customer.pk])
    with request_versions():
        assert engine.can(acme_customer, A.VIEW, report)  # still the cached set: the version did not move
    with time_machine.travel(timezone.now() + timedelta(seconds=MAX_SET_SECONDS + 1)), request_versions():
        with django_assert_num_queries(2):  # the version row, then the set built again
            assert not engine.can(acme_customer, A.VIEW, report)


@override_settings(CACHES=DEAD_REDIS)
def test_no_cache_takes_part_in_a_decision(acme, acme_admin, acme_customer, report):
    """With the cache pointing at a Redis that is down, checks answer and a revocation is obeyed at once."""
    grant = give(acme_admin, acme_customer, report)
    with request_versions():
        assert engine.can(acme_customer, A.VIEW, report)
    with tenant_scope(acme):
        grants.revoke(grant, actor=acme_admin, reason="over")
    with request_versions():
        assert not engine.can(acme_customer, A.VIEW, report)


def test_requests_reuse_a_version_read_for_at_most_the_max_age(acme, acme_admin, acme_customer, report, settings):
    """Production reuses the row a request read for AUTHZ_VERSION_MAX_AGE (0.25 s) in the process's next
    requests: a change committed by another process is obeyed once that age has passed, never later."""
    settings.AUTHZ_VERSION_MAX_AGE = 0.25
    now = [1000.0]
    with patch.object(versioning, "_clock", lambda: now[0]):
        versioning._recent.clear()
        give(acme_admin, acme_customer, report)
        with request_versions():
            assert engine.can(acme_customer, A.VIEW, report)
        with connection.cursor() as cursor:  # another process's committed revocation
            cursor.execute(
                f"DELETE FROM {ResourceUserPermission._meta.db_table} WHERE user_id = %s", [acme_customer.pk]
            )
            cursor.execute(
                f"UPDATE {AuthzVersion._meta.db_table} SET version = version + 1 WHERE tenant_id = %s", [acme.pk]
            )
        now[0] += 0.2
        with request_versions():
            assert engine.can(acme_customer, A.VIEW, report)  # read 0.2 s ago: still reused
        now[0] += 0.06
        with request_versions():
            assert not engine.can(acme_customer, A.VIEW, report)  # 0.26 s: read again, refused
        versioning._recent.clear()


def test_a_change_made_by_this_process_is_obeyed_at_once_despite_the_reuse(
    acme, acme_admin, acme_customer, report, settings
):
    settings.AUTHZ_VERSION_MAX_AGE = 0.25
    versioning._recent.clear()
    grant = give(acme_admin, acme_customer, report)
    with request_versions():
        assert engine.can(acme_customer, A.VIEW, report)
    with tenant_scope(acme):
        grants.revoke(grant, actor=acme_admin, reason="done")
    with request_versions():
        assert not engine.can(acme_customer, A.VIEW, report)
    versioning._recent.clear()
