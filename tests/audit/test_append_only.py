"""LOG-2: the database itself refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit rows."""

import pytest
from django.db import DatabaseError, transaction

from accounts.scoping import tenant_scope
from audit.checkpoints import make_checkpoint
from audit.models import AuditEvent, Checkpoint
from tests.audit.conftest import fill, sql


@pytest.fixture
def log(acme):
    fill(acme, 3)
    make_checkpoint(acme)
    return acme


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET event_type = 'x'",
        "UPDATE audit_auditevent SET canonical = '{}' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 2",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_checkpoint SET tree_size = 1",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_log2_update_and_delete_are_refused_by_the_database(log, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)
    with tenant_scope(log):
        assert AuditEvent.objects.count() == 4 and Checkpoint.objects.count() == 1


def test_log2_the_orm_cannot_update_or_delete_either(log):
    with tenant_scope(log):
        event = AuditEvent.objects.first()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(event_type="x")
        with pytest.raises(DatabaseError), transaction.atomic():
            event.delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            Checkpoint.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_checkpoint"])
def test_log2_truncate_is_refused_on_postgresql(log, table):
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # run the pending foreign-key checks of the rows just made
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(f"TRUNCATE {table} CASCADE")
