"""LOG-4: signed checkpoints, each consistent with the one before; a forked history is refused.
Keys: ids, rotation, published public keys."""

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit import keys, merkle, signednote
from audit.checkpoints import ForkError, make_checkpoint, make_due_checkpoints
from audit.models import Checkpoint
from audit.verify import verify_tenant
from tests.audit.conftest import fill, sql, triggers_off


def checkpoints(tenant):
    with tenant_scope(tenant):
        return list(Checkpoint.objects.order_by("index"))


def test_log4_each_checkpoint_is_signed_and_consistent_with_the_one_before(acme):
    fill(acme, 4)
    first = make_checkpoint(acme)
    fill(acme, 6)
    second = make_checkpoint(acme)
    assert (first.index, first.tree_size, second.index, second.tree_size) == (0, 5, 1, 11)
    text, [line] = signednote.split_note(second.note)
    note = signednote.parse_checkpoint(text)
    assert note.origin == f"portcullis/audit/tenant/{acme.pk}" and note.size == 11
    assert text == f"{note.origin}\n11\n{base64.b64encode(bytes.fromhex(second.root_hash)).decode()}\n"
    public = keys.trusted_public_keys()[second.key_id]
    # The C2SP key hash: SHA-256(origin || "\n" || 0x01 || public key)[:4], recomputed here.
    assert line.hash == hashlib.sha256(note.origin.encode() + b"\n\x01" + public).digest()[:4]
    Ed25519PublicKey.from_public_bytes(public).verify(line.signature, text.encode())  # raises if not signed
    proof = [bytes.fromhex(h) for h in second.consistency]
    assert merkle.verify_consistency(5, 11, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash), proof)
    assert verify_tenant(acme).ok


def test_nothing_new_means_no_new_checkpoint(acme):
    first = make_checkpoint(acme)
    assert make_checkpoint(acme) == first
    assert len(checkpoints(acme)) == 1


def test_log4_a_forked_history_is_refused_and_nothing_is_signed(acme):
    fill(acme, 5)
    make_checkpoint(acme)
    with triggers_off():  # history under the checkpoint rewritten, every hash recomputed
        from tests.audit.test_tampering import rehash

        rehash(acme, 2, 5, lambda text: text.replace('"reason":"change', '"reason":"forked'))
    fill(acme, 2)
    with pytest.raises(ForkError, match="not consistent"):
        make_checkpoint(acme)
    assert len(checkpoints(acme)) == 1


def test_log4_a_shrunk_log_is_refused(acme):
    fill(acme, 5)
    make_checkpoint(acme)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq = 5", [acme.pk])
    with pytest.raises(ForkError, match="fewer"):
        make_checkpoint(acme)


def test_log4_an_edited_event_blocks_signing(acme):
    fill(acme, 3)
    with triggers_off():
        sql("UPDATE audit_auditevent SET canonical = REPLACE(canonical, 'change 1', 'other') WHERE seq = 2")
    with pytest.raises(ForkError, match="altered"):
        make_checkpoint(acme)


def test_log4_a_checkpoint_with_a_bad_signature_is_not_extended(acme):
    fill(acme, 2)
    make_checkpoint(acme)
    with triggers_off():
        sql("UPDATE audit_checkpoint SET note = REPLACE(note, %s, %s)", ["\n\n\u2014 ", "\n\n\u2014 x"])
    fill(acme, 1)
    with pytest.raises(ForkError, match="signature"):
        make_checkpoint(acme)


def test_the_management_command_signs_on_demand_and_reports_refusals(acme, capsys):
    fill(acme, 2)
    call_command("audit_checkpoint", "--tenant", "acme")
    assert "checkpoint 0: 3 events" in capsys.readouterr().out
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE seq = 2")
    with pytest.raises(CommandError, match="refused"):
        call_command("audit_checkpoint", "--tenant", "acme")


def test_due_checkpoints_are_made_hourly_for_tenants_whose_log_grew(acme, globex, settings):
    settings.AUDIT_CHECKPOINT_INTERVAL_MINUTES = 60
    made = make_due_checkpoints()
    assert {c.tenant_id for c in made} == {acme.pk, globex.pk}
    fill(acme, 1)
    assert make_due_checkpoints() == []  # the last one is not an hour old yet
    later = timezone.now() + timedelta(minutes=61)
    assert [c.tenant_id for c in make_due_checkpoints(now=later)] == [acme.pk]  # globex did not grow
    assert verify_tenant(acme).ok and verify_tenant(globex).ok


def test_a_forked_tenant_does_not_stop_the_others(acme, globex):
    make_due_checkpoints()
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE tenant_id = %s", [acme.pk])
    fill(acme, 1)
    fill(globex, 1)
    made = make_due_checkpoints(now=timezone.now() + timedelta(hours=2))
    assert [c.tenant_id for c in made] == [globex.pk]


def test_key_rotation_keeps_old_checkpoints_verifiable(acme):
    fill(acme, 2)
    old = make_checkpoint(acme)
    call_command("audit_rotate_key")
    fill(acme, 2)
    new = make_checkpoint(acme)
    assert new.key_id != old.key_id and new.key_id == keys.signing_key().key_id
    assert set(keys.trusted_public_keys()) == {old.key_id, new.key_id}
    assert verify_tenant(acme).ok


def test_an_unknown_key_is_a_bad_signature(acme, settings, tmp_path):
    fill(acme, 2)
    make_checkpoint(acme)
    settings.AUDIT_KEY_FILE = tmp_path / "another.json"  # the old key is no longer trusted
    assert {p.kind for p in verify_tenant(acme).problems} == {"bad_signature"}


def test_production_keys_come_from_the_environment(acme, settings):
    current, retired = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    seed = current.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    retired_public = retired.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings.AUDIT_SIGNING_KEY = base64.b64encode(seed).decode()
    settings.AUDIT_RETIRED_PUBLIC_KEYS = [base64.b64encode(retired_public).decode() + "@2026-01-01T00:00:00Z"]
    checkpoint = make_checkpoint(acme)
    assert checkpoint.key_id == keys.key_id(current.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    assert keys.key_id(retired_public) in keys.trusted_public_keys()
    assert not settings.AUDIT_KEY_FILE.exists()  # nothing generated on disk
    with pytest.raises(ImproperlyConfigured):
        keys.rotate()
    settings.AUDIT_SIGNING_KEY = "not base64!"
    with pytest.raises(ImproperlyConfigured, match="AUDIT_SIGNING_KEY"):
        keys.signing_key()


def test_the_generated_key_file_is_private(acme, settings):
    make_checkpoint(acme)
    assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o077 == 0


def test_public_keys_are_published_without_login(db):
    response = Client().get("/audit/keys.json")
    assert response.status_code == 200
    body = json.loads(response.content)
    [key] = body["keys"]
    assert key["key_id"] == keys.signing_key().key_id and key["algorithm"] == "ed25519" and key["current"]
    assert keys.key_id(base64.b64decode(key["public_key"])) == key["key_id"]


def test_the_private_key_is_never_published(acme, settings):
    make_checkpoint(acme)
    seed = json.loads(settings.AUDIT_KEY_FILE.read_text())["current"]
    assert seed not in Client().get("/audit/keys.json").content.decode()


def test_a_malformed_key_setting_fails_the_start_up_checks(settings):
    from audit.checks import audit_keys_check

    assert audit_keys_check() == []
    settings.AUDIT_SIGNING_KEY = "c2hvcnQ="
    [error] = audit_keys_check()
    assert error.id == "audit.E001" and "AUDIT_SIGNING_KEY" in error.msg
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_RETIRED_PUBLIC_KEYS = ["nope@2026-01-01T00:00:00Z"]
    [error] = audit_keys_check()
    assert "AUDIT_RETIRED_PUBLIC_KEYS" in error.msg


def test_the_job_runner_makes_the_hourly_checkpoints(acme_admin, settings, tmp_path):
    """The scheduler entry point (portal.jobs) checkpoints every grown log once an interval."""
    import datetime

    from django.utils import timezone

    from accounts.scoping import tenant_scope
    from audit.models import Checkpoint
    from portal.jobs import run_due_jobs

    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"
    assert run_due_jobs()["audit-checkpoints"] >= 1
    assert run_due_jobs()["audit-checkpoints"] == 0  # nothing grew: nothing to sign
    later = timezone.now() + datetime.timedelta(hours=2)
    with tenant_scope(acme_admin.tenant):
        count = Checkpoint.objects.count()
    assert run_due_jobs(now=later)["audit-checkpoints"] == 0  # older than the interval, but the log did not grow
    with tenant_scope(acme_admin.tenant):
        assert Checkpoint.objects.count() == count
