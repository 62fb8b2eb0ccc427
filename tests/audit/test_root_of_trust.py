"""FC-4: verification with a root of trust outside the database. Each test is an attacker who can write the
database (append-only triggers set aside) and, where said, holds the signing key; each attack is reported by
``audit_verify`` given the witness's key and state, and by the standalone verifier given the witness keys."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit import keys, merkle, signednote
from audit.chain import chain_hash
from audit.checkpoints import make_checkpoint
from audit.export import write_export
from audit.models import AuditEvent, Checkpoint
from audit.verify import configured_trust, verify_tenant
from audit.verify_export import log_origin
from tests.audit.conftest import fill, sql, triggers_off, use_witnesses

ROOT = Path(__file__).resolve().parents[2]
NO_DJANGO = (
    "import sys, runpy; sys.modules['django'] = None; sys.argv = ['verify_export', *sys.argv[1:]]; "
    "runpy.run_module('audit.verify_export', run_name='__main__')"
)


@pytest.fixture
def witnessed(acme, witnesses):
    """Acme's log, two checkpoints each cosigned by a witness running as its own process (quorum 1)."""
    witness = witnesses()
    use_witnesses(acme, witness)
    fill(acme, 4)
    make_checkpoint(acme)
    fill(acme, 4)
    make_checkpoint(acme)
    fill(acme, 1)  # one event after the last checkpoint, as usual between two checkpoints
    assert witness.latest(acme) is not None
    return acme, witness


def audit_verify(tenant, witness, *extra):
    """``manage.py audit_verify`` given the witness's key and its state (its latest cosigned checkpoint)."""
    from io import StringIO

    out = StringIO()
    args = ["--tenant", tenant.slug, "--witness", witness.vkey, "--witness-url", witness.url, *extra]
    try:
        call_command("audit_verify", *args, stdout=out)
        return 0, out.getvalue()
    except CommandError as error:
        return error.returncode, out.getvalue()


def standalone(tenant, witness, tmp_path, *extra):
    """The standalone verifier (no Django) on a fresh export, given the pinned log keys and the witness key."""
    export = tmp_path / "export.jsonl"
    with export.open("w", encoding="utf-8") as handle:
        write_export(tenant, handle)
    pinned = tmp_path / "keys.json"
    pinned.write_text(json.dumps({"keys": keys.published_keys()}))
    args = [export, "--public-keys", pinned, "--witness", witness.vkey, "--witness-url", witness.url, *extra]
    result = subprocess.run(
        [sys.executable, "-c", NO_DJANGO, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.returncode, result.stdout + result.stderr


def both_report(tenant, witness, tmp_path, *kinds):
    code, out = audit_verify(tenant, witness)
    assert code == 1 and all(f"{kind}" in out for kind in kinds), out
    code, out = standalone(tenant, witness, tmp_path)
    assert code == 1 and all(f"{kind}" in out for kind in kinds), out


def test_fc4_an_untouched_witnessed_log_verifies_everywhere(witnessed, tmp_path):
    tenant, witness = witnessed
    assert audit_verify(tenant, witness)[0] == 0
    code, out = standalone(tenant, witness, tmp_path)
    assert code == 0, out


def test_fc4_deleting_every_checkpoint_row_is_reported(witnessed, tmp_path):
    tenant, witness = witnessed
    with triggers_off():
        sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s", [tenant.pk])
        sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s", [tenant.pk])
    assert verify_tenant(tenant).ok  # without a root of trust the log looks fine: the finding
    both_report(tenant, witness, tmp_path, "rollback")


def test_fc4_cutting_the_tail_with_its_checkpoints_is_reported(witnessed, tmp_path):
    tenant, witness = witnessed
    with tenant_scope(tenant):
        first = Checkpoint.objects.get(index=0)
    with triggers_off():
        sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s AND checkpoint_id <> %s", [tenant.pk, first.pk])
        sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s AND id <> %s", [tenant.pk, first.pk])
        sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq >= %s", [tenant.pk, first.tree_size + 1])
    assert verify_tenant(tenant).ok
    both_report(tenant, witness, tmp_path, "rollback")


def rewrite_and_resign(tenant, private, key_id, *, when=None):
    """Rewrite every event (rehashed), drop the checkpoints, and sign the forged log with ``private``."""
    with tenant_scope(tenant):
        rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "canonical"))
    previous, leaves = "00" * 32, []
    for seq, canonical in rows:
        forged = canonical.replace('"reason":"change', '"reason":"forged')
        leaf = merkle.leaf_hash(forged.encode())
        previous = chain_hash(previous, leaf).hex()
        leaves.append(leaf)
        sql(
            "UPDATE audit_auditevent SET canonical = %s, leaf_hash = %s, chain_hash = %s WHERE tenant_id = %s "
            "AND seq = %s",
            [forged, leaf.hex(), previous, tenant.pk, seq],
        )
    sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s", [tenant.pk])
    sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s", [tenant.pk])
    origin = log_origin(tenant.pk)
    root = merkle.root(leaves)
    note = signednote.sign_note(signednote.Checkpoint(origin, len(leaves), root).text, origin, private)
    Checkpoint.objects.create(
        tenant=tenant,
        index=0,
        tree_size=len(leaves),
        root_hash=root.hex(),
        created_at=when or timezone.now(),
        key_id=key_id,
        note=note,
        signature=note.split(" ")[-1].strip(),
        consistency=[],
    )


def test_fc4_re_signing_with_the_stolen_signing_key_is_reported(witnessed, tmp_path):
    tenant, witness = witnessed
    key = keys.signing_key()
    with triggers_off():
        rewrite_and_resign(tenant, key.private, key.key_id)
    assert verify_tenant(tenant).ok  # genuinely signed with the genuine key: only a root of trust sees it
    both_report(tenant, witness, tmp_path, "fork", "unwitnessed")


def test_fc4_re_signing_with_a_retired_key_is_reported(witnessed, tmp_path):
    tenant, witness = witnessed
    old = keys.signing_key()
    call_command("audit_rotate_key")  # the old key is retired now, with the time of its retirement
    assert keys.trusted_keys()[old.key_id]["retired_at"]
    with triggers_off():  # the thief of the old key back-dates a forged checkpoint to before the rotation
        rewrite_and_resign(tenant, old.private, old.key_id, when=timezone.now() - timedelta(days=1))
    both_report(tenant, witness, tmp_path, "retirement", "unwitnessed", "fork")


def test_fc4_a_forged_checkpoint_time_is_reported(witnessed, tmp_path):
    tenant, witness = witnessed
    with triggers_off():  # claim the first checkpoint was made two days earlier
        with tenant_scope(tenant):
            first = Checkpoint.objects.get(index=0)
        sql(
            "UPDATE audit_checkpoint SET created_at = %s WHERE id = %s",
            [first.created_at - timedelta(days=2), first.pk],
        )
    assert verify_tenant(tenant).ok
    both_report(tenant, witness, tmp_path, "bad_time")


def test_fc4_a_log_older_than_the_interval_without_a_checkpoint_is_stale(acme, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_INTERVAL_MINUTES = 60
    fill(acme, 2)
    later = timezone.now() + timedelta(hours=3)
    trust = configured_trust(acme, fetch=False, now=later.timestamp())
    assert [p.kind for p in verify_tenant(acme, trust).problems] == ["stale"]
    assert verify_tenant(acme).ok  # the log is fresh now
    make_checkpoint(acme)
    assert verify_tenant(acme, trust).ok  # covered by a checkpoint


def test_fc4_a_checkpoint_without_its_quorum_is_unwitnessed(witnessed, witnesses, tmp_path):
    tenant, witness = witnessed
    other = witnesses("witness-b")  # trusted by the auditor, but it never cosigned: quorum 2 is not met
    code, out = audit_verify(tenant, witness, "--witness", other.vkey, "--quorum", "2")
    assert code == 1 and "unwitnessed" in out


def test_fc4_an_earlier_export_is_a_root_of_trust(witnessed, tmp_path):
    tenant, witness = witnessed
    earlier = tmp_path / "earlier.jsonl"
    with earlier.open("w", encoding="utf-8") as handle:
        write_export(tenant, handle)
    with triggers_off():
        sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s", [tenant.pk])
        sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s", [tenant.pk])
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", "--tenant", tenant.slug, "--trusted-checkpoint", str(earlier), stdout=out)
    assert "rollback" in out.getvalue()


def test_a_kept_checkpoint_signed_by_nobody_trusted_is_refused(witnessed):
    tenant, _ = witnessed
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    origin = log_origin(tenant.pk)
    fake = signednote.sign_note(
        signednote.Checkpoint(origin, 999, bytes(32)).text, origin, Ed25519PrivateKey.generate()
    )
    trust = configured_trust(tenant, fetch=False, checkpoints=[fake])
    assert {p.kind for p in verify_tenant(tenant, trust).problems} == {"bad_signature"}
