"""FC-4 key custody: in production the signing key comes from the environment or a key file outside the data
directory, never generated next to the database, and start-up refuses otherwise; retired keys carry the time
of their retirement and a checkpoint they sign afterwards is refused."""

import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.scoping import tenant_scope
from audit import keys
from audit.checkpoints import make_checkpoint
from audit.checks import audit_key_custody_check, audit_keys_check
from audit.models import Checkpoint
from audit.verify import verify_tenant
from tests.audit.conftest import fill, triggers_off

ROOT = Path(__file__).resolve().parents[2]


def seed_text(private=None):
    private = private or Ed25519PrivateKey.generate()
    return base64.b64encode(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


@pytest.fixture
def production(settings, tmp_path):
    settings.AUDIT_DEMO_KEYS = False
    settings.VAR_DIR = tmp_path / "var"
    settings.AUDIT_KEY_FILE = settings.VAR_DIR / "audit_signing_key.json"
    settings.AUDIT_SIGNING_KEY_FILE = ""
    return settings


def test_fc4_production_without_a_key_refuses_and_generates_nothing(production, acme):
    [error] = audit_key_custody_check()
    assert error.id == "audit.E002" and "AUDIT_SIGNING_KEY" in error.msg
    with pytest.raises(ImproperlyConfigured):
        keys.signing_key()
    fill(acme, 1)
    with pytest.raises(ImproperlyConfigured):
        make_checkpoint(acme)
    assert not production.AUDIT_KEY_FILE.exists()


def test_fc4_a_key_file_inside_the_data_directory_is_refused(production, tmp_path):
    production.VAR_DIR.mkdir(parents=True)
    inside = production.VAR_DIR / "signing.key"
    inside.write_text(seed_text())
    production.AUDIT_SIGNING_KEY_FILE = str(inside)
    [error] = audit_key_custody_check()
    assert error.id == "audit.E002" and "outside the data directory" in error.msg
    with pytest.raises(ImproperlyConfigured, match="outside"):
        keys.signing_key()


def test_fc4_a_key_file_outside_the_data_directory_signs(production, tmp_path, acme):
    outside = tmp_path / "secrets" / "signing.key"
    outside.parent.mkdir()
    private = Ed25519PrivateKey.generate()
    outside.write_text(seed_text(private))
    production.AUDIT_SIGNING_KEY_FILE = str(outside)
    assert audit_key_custody_check() == []
    checkpoint = make_checkpoint(acme)
    assert checkpoint.key_id == keys.key_id(keys.raw_public(private.public_key()))
    assert verify_tenant(acme).ok and not production.AUDIT_KEY_FILE.exists()


def test_fc4_production_key_from_the_environment(production, acme):
    production.AUDIT_SIGNING_KEY = seed_text()
    assert audit_keys_check() == [] and audit_key_custody_check() == []
    assert make_checkpoint(acme).key_id == keys.signing_key().key_id


def test_fc4_start_up_refuses_production_without_a_key(tmp_path):
    """A fresh production process: `manage.py check --deploy` (the deployment's start-up gate) fails with
    audit.E002."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "PORTCULLIS_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "portal.example.com",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    for name in ("AUDIT_SIGNING_KEY", "AUDIT_SIGNING_KEY_FILE", "PORTCULLIS_DEMO"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "audit.E002" in result.stderr
    assert not (tmp_path / "audit_signing_key.json").exists()


def test_fc4_retired_keys_must_carry_their_retirement_time(settings):
    settings.AUDIT_SIGNING_KEY = seed_text()
    settings.AUDIT_RETIRED_PUBLIC_KEYS = [base64.b64encode(bytes(32)).decode()]
    [error] = audit_keys_check()
    assert error.id == "audit.E001" and "retired" in error.msg


def test_fc4_a_checkpoint_signed_by_a_key_after_its_retirement_is_refused(acme, settings):
    """Without witnesses the claimed time is the only evidence: after the retirement it is refused (with
    witnesses, the cosignature time is the evidence: tests/audit/test_root_of_trust.py)."""
    fill(acme, 2)
    make_checkpoint(acme)
    old = keys.signing_key()
    call_command("audit_rotate_key")
    assert verify_tenant(acme).ok  # signed before the retirement: still trusted
    fill(acme, 1)
    settings_file = settings.AUDIT_KEY_FILE
    stolen = old.private
    # The thief signs a new checkpoint with the retired key, dated after the retirement.
    from audit import signednote
    from audit.verify_export import log_origin

    with tenant_scope(acme):
        last = Checkpoint.objects.order_by("-index").first()
        size = last.tree_size
    origin = log_origin(acme.pk)
    note = signednote.sign_note(signednote.Checkpoint(origin, size, bytes.fromhex(last.root_hash)).text, origin, stolen)
    with triggers_off():
        Checkpoint.objects.create(
            tenant=acme,
            index=last.index + 1,
            tree_size=size,
            root_hash=last.root_hash,
            created_at=last.created_at + timedelta(hours=1),
            key_id=old.key_id,
            note=note,
            signature="",
            consistency=[],
        )
    problems = verify_tenant(acme).problems
    assert [p.kind for p in problems] == ["bad_signature"] and "retirement" in problems[0].detail
    assert settings_file.exists()
