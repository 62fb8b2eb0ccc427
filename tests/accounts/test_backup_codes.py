"""Backup codes: ten, single-use, stored hashed, usage audited with the count left, regenerable after step-up."""

import re

from django.core import mail
from django.db import connection
from django.test import Client

from accounts.mfa import services
from accounts.mfa.models import BackupCodeDevice, Outcome
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import give_device
from tests.conftest import login


def backup_device(user):
    with tenant_scope(user.tenant):
        return BackupCodeDevice.objects.get(user=user)


def test_mfa6_backup_codes_are_stored_hashed(acme_basic):
    """MFA-6: a raw read of the table contains none of the codes, in any spelling."""
    give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    assert len(codes) == 10 and len(set(codes)) == 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT code_hash FROM accounts_backupcode")
        hashes = [row[0] for row in cursor.fetchall()]
    stored = " ".join(hashes)
    assert len(hashes) == 10 and all(h.startswith("argon2$argon2id$") for h in hashes)  # salted password hashes
    assert len(set(hashes)) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored and code.lower() not in stored


def test_mfa6_a_backup_code_works_once(acme_basic, django_capture_on_commit_callbacks):
    """MFA-6"""
    give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    device = backup_device(acme_basic)
    outcome, _d, remaining = services.verify(acme_basic, device.persistent_id, codes[3].lower().replace("-", " "))
    assert outcome is Outcome.OK and remaining == 9
    outcome, _d, _r = services.verify(acme_basic, device.persistent_id, codes[3])
    assert outcome is Outcome.WRONG
    with tenant_scope(acme_basic.tenant):
        [used] = AuditEvent.objects.filter(event_type=EventType.BACKUP_CODE_USED)
    assert used.after == {"remaining": 9}
    assert codes[3] not in str(used.after)


def test_using_a_backup_code_at_login_warns_how_many_remain(acme_basic):
    give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    client, _ = password_only(acme_basic)
    device = backup_device(acme_basic)
    response = client.post("/accounts/mfa/", {"device": device.persistent_id, "code": codes[0]}, follow=True)
    assert response.status_code == 200
    assert "Backup codes left: 9" in response.content.decode()
    assert client.get("/").status_code == 200


def test_regenerating_replaces_the_codes_and_needs_step_up(acme_basic, clock, django_capture_on_commit_callbacks):
    """MFA-10 family: regenerating is a factor change: recent MFA needed, notice sent."""
    client = login(Client(), acme_basic)
    old = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    clock.shift(11 * 60)
    stale = client.post("/accounts/security/backup-codes/")
    assert stale.status_code == 302 and stale["Location"].startswith("/accounts/mfa/step-up/")
    from tests.accounts.mfa_helpers import device_of, fresh_code

    device = device_of(acme_basic)
    client.post("/accounts/mfa/step-up/", {"device": device.persistent_id, "code": fresh_code(device)})
    asked = client.post("/accounts/security/backup-codes/")  # first, what it does; the old codes still work
    assert asked.status_code == 200 and "stops working now" in asked.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = client.post("/accounts/security/backup-codes/", {"confirmed": "yes"})
    assert fresh.status_code == 200
    body = fresh.content.decode()
    new = re.findall(r"<code>([A-Z0-9-]{14})</code>", body)
    assert len(new) == 10
    outcome, _d, _r = services.verify(acme_basic, backup_device(acme_basic).persistent_id, old[0])
    assert outcome is not Outcome.OK
    assert any("backup codes" in message.subject.lower() for message in mail.outbox)


def test_backup_codes_are_throttled(acme_basic):
    give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    device = backup_device(acme_basic)
    for wrong in ("AAAA-BBBB-CCCC", "AAAA-BBBB-DDDD", "AAAA-BBBB-EEEE"):  # two slips are free (issue 19)
        services.verify(acme_basic, device.persistent_id, wrong)
    outcome, _d, _r = services.verify(acme_basic, device.persistent_id, codes[0])
    assert outcome is Outcome.THROTTLED


def test_an_authenticator_without_backup_codes_yet_is_offered_to_create_them(acme_basic):
    """The security page offers backup codes to anyone with an authenticator, also before the first set
    exists (the regenerate view accepts them: the page must show its button)."""
    client = login(Client(), acme_basic)  # an authenticator, no backup codes
    with tenant_scope(acme_basic.tenant):
        assert not BackupCodeDevice.objects.filter(user=acme_basic).exists()
    body = client.get("/accounts/security/").content.decode()
    assert 'data-testid="backup-remaining">0 backup codes left.' in body
    assert 'action="/accounts/security/backup-codes/"' in body
