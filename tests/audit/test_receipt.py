"""FC-4: a customer's receipt from My access: the events about their own access, each proved included in a
witnessed checkpoint, checkable with the standalone verifier (no Django)."""

import json
import subprocess
import sys
from pathlib import Path

from django.db import transaction
from django.test import Client

import audit
from audit import keys
from audit.checkpoints import make_checkpoint
from audit.events import EventType
from tests.audit.conftest import fill, use_witnesses
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
NO_DJANGO = (
    "import sys, runpy; sys.modules['django'] = None; sys.argv = ['verify_export', *sys.argv[1:]]; "
    "runpy.run_module('audit.verify_export', run_name='__main__')"
)


def check(path, tmp_path, *extra):
    pinned = tmp_path / "keys.json"
    pinned.write_text(json.dumps({"keys": keys.published_keys()}))
    result = subprocess.run(
        [sys.executable, "-c", NO_DJANGO, str(path), "--receipt", "--public-keys", str(pinned), *map(str, extra)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.returncode, result.stdout + result.stderr


def test_fc4_a_customer_downloads_a_receipt_the_standalone_verifier_accepts(acme, acme_basic, witnesses, tmp_path):
    witness = witnesses()
    use_witnesses(acme, witness)
    client = login(Client(), acme_basic)
    assert client.get("/audit/my-receipt.json").status_code == 404  # nothing witnessed yet
    fill(acme, 3)
    with transaction.atomic():
        audit.record(EventType.USER_CHANGED, tenant=acme, target=acme_basic, after={"user": audit.person(acme_basic)})
    fill(acme, 2)
    make_checkpoint(acme)
    page = client.get("/my-access/").content.decode()
    assert "/audit/my-receipt.json" in page
    response = client.get("/audit/my-receipt.json")
    assert response.status_code == 200
    receipt = json.loads(response.content)
    mine = [e for e in receipt["events"] if e.get("personal")]
    assert any("basic1@acme.example" in json.dumps(e["personal"]) for e in mine)
    assert "admin@" not in response.content.decode()  # nobody else's clear values
    path = tmp_path / "receipt.json"
    path.write_bytes(response.content)
    code, out = check(path, tmp_path, "--witness", witness.vkey)
    assert code == 0 and "receipt: OK" in out, out
    # An edited event, an edited personal value, or a checkpoint the auditor's witness never cosigned: refused.
    event = receipt["events"][-1]
    forged = json.loads(json.dumps(receipt))
    forged["events"][-1]["proof"] = ["00" * 32] + event["proof"][1:]
    path.write_text(json.dumps(forged))
    assert check(path, tmp_path, "--witness", witness.vkey)[0] == 1
    forged = json.loads(json.dumps(receipt))
    for e in forged["events"]:
        for entry in e.get("personal", {}).values():
            entry["value"] = "mallory@evil.example"
    path.write_text(json.dumps(forged))
    code, out = check(path, tmp_path, "--witness", witness.vkey)
    assert code == 1 and "does not match its commitment" in out
    other = witnesses("witness-b")
    path.write_text(json.dumps(receipt))
    code, out = check(path, tmp_path, "--witness", other.vkey)
    assert code == 1 and "unwitnessed" in out
