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


@pytest.fixture
def evidence(log):
    """A witness's cosignature and an authority's token on the log's checkpoint (rows as the services write them)."""
    from django.utils import timezone

    from audit.models import Timestamp, Witness, WitnessSubmission

    with tenant_scope(log):
        checkpoint = Checkpoint.objects.get()
        witness = Witness.objects.create(tenant=log, name="w", vkey="w+00000000+AAAA", url="https://w.example/add")
        WitnessSubmission.objects.create(
            tenant=log, checkpoint=checkpoint, witness=witness, status=WitnessSubmission.COSIGNED, cosignature="— w x"
        )
        Timestamp.objects.create(
            tenant=log, checkpoint=checkpoint, authority="https://tsa.example", token="AAAA", gen_time=timezone.now()
        )
    return log


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_witnesssubmission SET cosignature = '— forged'",
        "UPDATE audit_witnesssubmission SET status = 'refused'",
        "DELETE FROM audit_witnesssubmission",
        "UPDATE audit_timestamp SET gen_time = '2000-01-01'",
        "UPDATE audit_timestamp SET token = 'BBBB'",
        "DELETE FROM audit_timestamp",
    ],
)
def test_log2_cosignatures_and_timestamps_are_append_only_too(evidence, statement):
    """A witness's cosignature and a trusted timestamp are evidence once written: neither is rewritten or
    removed (a later one is added instead)."""
    from audit.models import Timestamp, WitnessSubmission

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)
    with tenant_scope(evidence):
        submission, stamp = WitnessSubmission.objects.get(), Timestamp.objects.get()
    assert (submission.status, submission.cosignature) == (WitnessSubmission.COSIGNED, "— w x")
    assert stamp.token == "AAAA"


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["audit_witnesssubmission", "audit_timestamp"])
def test_log2_evidence_tables_refuse_truncate_on_postgresql(evidence, table):
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(f"TRUNCATE {table} CASCADE")
