"""FC-4 on the demo: `make run` starts a local witness (its own process, state under var/witness/) and
`audit_demo_witness` wires every tenant to it, so that a plain `audit_verify` reports a deleted checkpoint
table or a cut tail."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.scoping import tenant_scope
from audit.models import Checkpoint
from tests.audit.conftest import fill, sql, triggers_off

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(acme, globex, witnesses, settings, tmp_path):
    witness = witnesses("portcullis-demo-witness")
    vkey_file = tmp_path / "vkey"
    vkey_file.write_text(witness.vkey + "\n")
    settings.AUDIT_DEMO_WITNESS_FILE = tmp_path / "trusted.txt"
    fill(acme, 3)
    out = StringIO()
    call_command(
        "audit_demo_witness", "--vkey-file", vkey_file, "--logs", witness.logs, "--url", witness.url, stdout=out
    )
    assert "acme: checkpoint 0 cosigned by 1 of quorum 1" in out.getvalue()
    return witness


def verify():
    out = StringIO()
    try:
        call_command("audit_verify", stdout=out)
        return 0, out.getvalue()
    except CommandError as error:
        return error.returncode, out.getvalue()


def test_fc4_the_demo_witness_makes_plain_audit_verify_a_root_of_trust_check(demo, acme):
    assert verify()[0] == 0
    with triggers_off():
        sql("DELETE FROM audit_witnesssubmission")
        sql("DELETE FROM audit_checkpoint")
    code, out = verify()
    assert code == 1 and "acme: rollback" in out and "globex: rollback" in out


def test_fc4_the_demo_witness_sees_a_cut_tail(demo, acme):
    with tenant_scope(acme):
        size = Checkpoint.objects.get().tree_size
    with triggers_off():
        sql("DELETE FROM audit_witnesssubmission WHERE tenant_id = %s", [acme.pk])
        sql("DELETE FROM audit_checkpoint WHERE tenant_id = %s", [acme.pk])
        sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq >= %s", [acme.pk, size - 2])
    code, out = verify()
    assert code == 1 and f"fewer than the {size} of a checkpoint kept outside it" in out


def test_the_demo_command_is_refused_in_production(settings, tmp_path):
    settings.AUDIT_DEMO_KEYS = False
    with pytest.raises(CommandError, match="demo only"):
        call_command("audit_demo_witness", "--vkey-file", tmp_path / "v", "--logs", tmp_path / "l", "--url", "http://x")


def test_the_makefile_starts_the_witness_as_its_own_process_with_state_under_var():
    makefile = (ROOT / "Makefile").read_text()
    assert "-m audit.witness" in makefile and "--state var/witness/state.sqlite3" in makefile
    assert "audit_demo_witness" in makefile
