"""The export verifier runs alone: no Django, no database; its exit status says OK or not."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.checkpoints import make_checkpoint
from audit.export import write_export
from tests.audit.conftest import fill, sql, triggers_off

ROOT = Path(__file__).resolve().parents[2]
# Runs the verifier with Django made unimportable: proof that it needs only the stdlib and cryptography.
NO_DJANGO = (
    "import sys, runpy; sys.modules['django'] = None; sys.argv = ['verify_export', *sys.argv[1:]]; "
    "runpy.run_module('audit.verify_export', run_name='__main__')"
)


def run_verifier(*args):
    return subprocess.run(
        [sys.executable, "-c", NO_DJANGO, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def export_file(acme, tmp_path):
    fill(acme, 6)
    make_checkpoint(acme)
    fill(acme, 2)

    def write(name="export.jsonl", proofs=True):
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as handle:
            write_export(acme, handle, proofs=proofs)
        return path

    return write


def test_an_intact_export_verifies_without_django(export_file):
    result = run_verifier(export_file())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "acme: OK (9 events)"


def test_pinned_public_keys_are_used(export_file, tmp_path, client):
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(client.get("/audit/keys.json").content.decode())
    assert run_verifier(export_file(), "--public-keys", keys_file).returncode == 0
    keys_file.write_text(json.dumps({"keys": []}))  # an auditor who trusts none of our keys
    result = run_verifier(export_file(), "--public-keys", keys_file)
    assert result.returncode == 1 and "bad_signature" in result.stdout


def test_a_tampered_export_fails_with_its_problems(export_file, acme):
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE seq = 3")
    result = run_verifier(export_file())
    assert result.returncode == 1
    assert "missing at position 3" in result.stdout and "FAILED" in result.stdout


def test_an_edited_export_file_fails(export_file):
    path = export_file()
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace('"seq":8', '"seq":9')
    path.write_text("\n".join(lines) + "\n")
    assert run_verifier(path).returncode == 1


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text('{"hello": "world"}\n')
    assert run_verifier(path).returncode == 1
    assert run_verifier(tmp_path / "missing.jsonl").returncode == 2


def test_export_command_writes_the_same_format(acme, tmp_path):
    from django.core.management import call_command

    fill(acme, 2)
    target = tmp_path / "cmd.jsonl"
    call_command("audit_export", "--tenant", "acme", "--output", str(target))
    buffer = io.StringIO()
    write_export(acme, buffer)
    strip = [json.loads(line) for line in buffer.getvalue().splitlines()]
    written = [json.loads(line) for line in target.read_text().splitlines()]
    for record in (*strip, *written):
        record.pop("exported_at", None)
    assert written == strip
