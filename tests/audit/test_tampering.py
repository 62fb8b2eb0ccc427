"""LOG-3: the verifier finds each kind of tampering, by position and kind, and exits non-zero; the
standalone export verifier agrees with ``audit_verify`` on the same export."""

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.scoping import tenant_scope
from audit import merkle
from audit.chain import chain_hash
from audit.checkpoints import make_checkpoint
from audit.export import write_export
from audit.models import AuditEvent
from audit.verify import verify_tenant
from audit.verify_export import verify_lines
from tests.audit.conftest import fill, sql, triggers_off

SHIFT = 1_000_000


@pytest.fixture
def log(acme):
    """Twelve events (positions 0..11) under a signed checkpoint."""
    fill(acme, 11)
    make_checkpoint(acme)
    return acme


def row(tenant, seq):
    with tenant_scope(tenant):
        return AuditEvent.objects.get(seq=seq)


def rehash(tenant, first, last, edit):
    """Rewrite events first..last with ``edit`` and recompute their leaf and chain hashes (no key needed)."""
    previous = row(tenant, first - 1).chain_hash
    for seq in range(first, last + 1):
        canonical = edit(row(tenant, seq).canonical)
        leaf = merkle.leaf_hash(canonical.encode())
        previous = chain_hash(previous, leaf).hex()
        sql(
            "UPDATE audit_auditevent SET canonical = %s, leaf_hash = %s, chain_hash = %s "
            "WHERE tenant_id = %s AND seq = %s",
            [canonical, leaf.hex(), previous, tenant.pk, seq],
        )


def edit_field(tenant):
    sql("UPDATE audit_auditevent SET canonical = REPLACE(canonical, '\"change 4\"', '\"nothing\"') WHERE seq = 5")


def edit_column(tenant):
    sql("UPDATE audit_auditevent SET event_type = 'auth.logout' WHERE seq = 5")


def delete_row(tenant):
    sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq = 5", [tenant.pk])


def insert_row(tenant):
    """Make room at position 5 and slip in a forged event whose own hashes are right."""
    forged_canonical = row(tenant, 4).canonical.replace('"seq":4', '"seq":5').replace('"change 3"', '"forged"')
    leaf = merkle.leaf_hash(forged_canonical.encode())
    chain = chain_hash(row(tenant, 4).chain_hash, leaf).hex()
    template = row(tenant, 4)
    sql("UPDATE audit_auditevent SET seq = seq + %s WHERE tenant_id = %s AND seq >= 5", [SHIFT, tenant.pk])
    sql("UPDATE audit_auditevent SET seq = seq - %s WHERE tenant_id = %s AND seq >= %s", [SHIFT - 1, tenant.pk, SHIFT])
    sql(
        "INSERT INTO audit_auditevent (tenant_id, seq, event_type, occurred_at, actor_id, target_type, target_id, "
        "canonical, leaf_hash, chain_hash) VALUES (%s, 5, %s, %s, NULL, %s, %s, %s, %s, %s)",
        [
            tenant.pk,
            template.event_type,
            template.occurred_at,
            template.target_type,
            template.target_id,
            forged_canonical,
            leaf.hex(),
            chain,
        ],
    )


def swap_rows(tenant):
    sql("UPDATE audit_auditevent SET seq = %s WHERE tenant_id = %s AND seq = 5", [SHIFT, tenant.pk])
    sql("UPDATE audit_auditevent SET seq = 5 WHERE tenant_id = %s AND seq = 6", [tenant.pk])
    sql("UPDATE audit_auditevent SET seq = 6 WHERE tenant_id = %s AND seq = %s", [tenant.pk, SHIFT])


def cut_tail(tenant):
    sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq >= 10", [tenant.pk])


def replace_tail_and_rehash(tenant):
    rehash(tenant, 9, 11, lambda text: text.replace('"reason":"change', '"reason":"rewritten'))


def break_signature(tenant):
    """The log's signature line replaced by another of the same key hash (its signature bytes zeroed)."""
    from audit.models import Checkpoint

    with tenant_scope(tenant):
        note = Checkpoint.objects.get(index=0).note
    text, line = note.split("\n\n")
    dash, name, encoded = line.strip().split(" ")
    forged = base64.b64encode(base64.b64decode(encoded)[:4] + bytes(64)).decode()
    sql(
        "UPDATE audit_checkpoint SET note = %s WHERE tenant_id = %s", [f"{text}\n\n{dash} {name} {forged}\n", tenant.pk]
    )


def sign_a_fork(tenant):
    """A second checkpoint, genuinely signed, for a tree that does not extend the first (a split view)."""
    from audit import keys, signednote
    from audit.models import Checkpoint
    from audit.verify_export import log_origin

    with tenant_scope(tenant):
        first = Checkpoint.objects.get(index=0)
    forged_root = merkle.node_hash(bytes(32), bytes(32))
    origin = log_origin(tenant.pk)
    note = signednote.sign_note(signednote.Checkpoint(origin, 13, forged_root).text, origin, keys.signing_key().private)
    Checkpoint.objects.create(
        tenant=tenant,
        index=1,
        tree_size=13,
        root_hash=forged_root.hex(),
        created_at=first.created_at,
        key_id=keys.signing_key().key_id,
        note=note,
        signature=note.split(" ")[-1].strip(),
        consistency=[merkle.node_hash(bytes(32), bytes(32)).hex()],
    )


CASES = [
    (edit_field, ("modified", 5)),
    (delete_row, ("missing", 5)),
    (insert_row, ("inserted", 5)),
    (swap_rows, ("reordered", 5)),
    (cut_tail, ("truncated", 10)),
    (replace_tail_and_rehash, ("rewritten", 11)),
    (break_signature, ("bad_signature", None)),
    (sign_a_fork, ("inconsistent_checkpoints", None)),
]


def found(problems):
    return {(p.kind, p.position) for p in problems}


def test_an_untouched_log_verifies(log, capsys):
    assert verify_tenant(log).ok
    call_command("audit_verify", "--tenant", "acme")
    assert "acme: OK (12 events, 1 checkpoints)" in capsys.readouterr().out


@pytest.mark.parametrize(("tamper", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_log3_each_kind_of_tampering_is_found_with_its_position(log, tamper, expected, capsys):
    with triggers_off():
        tamper(log)
    report = verify_tenant(log)
    assert expected in found(report.problems), report.problems
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", "--tenant", "acme")
    assert failure.value.returncode == 1
    assert expected[0] in capsys.readouterr().out


def test_log3_the_rehashed_tail_is_caught_only_by_the_signed_checkpoint(log):
    with triggers_off():
        replace_tail_and_rehash(log)
    assert {p.kind for p in verify_tenant(log).problems} == {"rewritten"}


def test_log3_a_column_edited_apart_from_the_hashed_bytes_is_found(log):
    with triggers_off():
        edit_column(log)
    assert ("modified", 5) in found(verify_tenant(log).problems)


def test_tampering_with_a_clear_personal_value_is_found(acme_admin):
    tenant = acme_admin.tenant
    sql("UPDATE audit_personalvalue SET \"values\" = REPLACE(\"values\", 'admin@acme', 'mallory@evil')")
    assert {p.kind for p in verify_tenant(tenant).problems} == {"modified"}


def export_of(tenant, proofs=False):
    buffer = io.StringIO()
    write_export(tenant, buffer, proofs=proofs)
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize(("tamper", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_the_standalone_verifier_agrees_with_audit_verify(log, tamper, expected):
    with triggers_off():
        tamper(log)
    _header, problems = verify_lines(export_of(log))
    assert found(problems) == found(verify_tenant(log).problems)
    assert expected in found(problems)


def test_the_standalone_verifier_agrees_on_an_intact_export_with_proofs(log):
    fill(log, 3)
    lines = export_of(log, proofs=True)
    header, problems = verify_lines(lines)
    assert problems == [] and header["events"] == 15
    proofs = [json.loads(line)["proof"] for line in lines if '"proof"' in line]
    assert len(proofs) == 12  # every event under the latest checkpoint carries its inclusion proof


def test_a_tampered_inclusion_proof_is_refused(log):
    lines = export_of(log, proofs=True)
    record = json.loads(lines[-1])
    record["proof"]["path"][0] = "00" * 32
    lines[-1] = json.dumps(record)
    _header, problems = verify_lines(lines)
    assert ("modified", 11) in found(problems)


def test_an_event_that_is_not_a_readable_event_is_modified(log):
    with triggers_off():
        sql('UPDATE audit_auditevent SET canonical = REPLACE(canonical, \'"seq":3,\', \'"seq":"3",\') WHERE seq = 3')
        sql("UPDATE audit_auditevent SET canonical = '[1, 2]' WHERE seq = 7")
    kinds = found(verify_tenant(log).problems)
    assert ("modified", 3) in kinds and ("modified", 7) in kinds
    _header, problems = verify_lines(export_of(log))
    assert ("modified", 3) in found(problems) and ("modified", 7) in found(problems)
