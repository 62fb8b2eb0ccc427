"""Field encryption with per-tenant keys: DP-1, DP-2, DP-3, blind-index search."""

import base64

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import CustomerProfile
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from vault import keyring, masterkeys, services
from vault.cipher import DecryptionFailed, Sealed, key_version
from vault.models import TenantKey

PHONE, NATIONAL_ID = "+86 138-0013-8000", "110101199003071234"
# Long enough that a ciphertext (base64) cannot hold it by chance: a 3-letter "VIP" did, once in a CI run.
NOTES = "VIP since 2019, prefers calls"


def make_profile(user, **values):
    values = {
        "phone": PHONE,
        "address": "1 Harbour Road, Shanghai",
        "national_id": NATIONAL_ID,
        "notes": NOTES,
        **values,
    }
    with tenant_scope(user.tenant):
        return CustomerProfile.objects.create(tenant=user.tenant, user=user, **values)


def raw_row(profile):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, address, national_id, notes, phone_index FROM accounts_customerprofile WHERE id = %s",
            [profile.pk],
        )
        return cursor.fetchone()


def reload(profile):
    with tenant_scope(profile.tenant):
        return CustomerProfile.objects.get(pk=profile.pk)


def test_dp1_raw_database_holds_only_ciphertext(acme_basic):
    profile = make_profile(acme_basic)
    raw = raw_row(profile)
    for clear in (PHONE, "Harbour Road", NATIONAL_ID, NOTES, "13800138000"):
        assert not any(clear in (column or "") for column in raw)
    assert all(column.startswith("v1:1:") for column in raw[:4])
    assert reload(profile).phone == PHONE and reload(profile).notes == NOTES


def test_each_value_has_a_fresh_nonce(acme_basic, acme_admin):
    first, second = make_profile(acme_basic, notes="same"), make_profile(acme_admin, notes="same")
    assert raw_row(first)[3] != raw_row(second)[3]


def _copy_column(source, target, column="national_id"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_customerprofile WHERE id = %s", [source.pk])
        [value] = cursor.fetchone()
        cursor.execute(f"UPDATE accounts_customerprofile SET {column} = %s WHERE id = %s", [value, target.pk])


def test_dp1_ciphertext_copied_to_another_row_does_not_decrypt(acme_basic, acme_admin):
    victim, thief = make_profile(acme_basic), make_profile(acme_admin, national_id="X")
    _copy_column(victim, thief)
    with pytest.raises(DecryptionFailed):
        reload(thief).national_id  # noqa: B018


def test_dp1_ciphertext_copied_to_another_tenant_does_not_decrypt(acme_basic, globex_admin):
    victim, thief = make_profile(acme_basic), make_profile(globex_admin, national_id="X")
    _copy_column(victim, thief)
    with pytest.raises(DecryptionFailed):
        reload(thief).national_id  # noqa: B018


def test_tampered_ciphertext_is_refused(acme_basic):
    profile = make_profile(acme_basic)
    token = raw_row(profile)[0]
    blob = bytearray(base64.b64decode(token.split(":", 2)[2]))
    blob[-1] ^= 1
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_customerprofile SET phone = %s WHERE id = %s",
            [f"v1:1:{base64.b64encode(bytes(blob)).decode()}", profile.pk],
        )
    with pytest.raises(DecryptionFailed):
        reload(profile).phone  # noqa: B018


def test_clear_text_cannot_be_written_or_searched_directly(acme_basic):
    profile = make_profile(acme_basic)
    with tenant_scope(profile.tenant):
        with pytest.raises(ValueError, match="encrypted"):
            CustomerProfile.objects.filter(pk=profile.pk).update(phone="clear text")
        with pytest.raises(ValueError, match="blind index"):
            list(CustomerProfile.objects.filter(phone=PHONE))
        with pytest.raises(Exception):  # noqa: B017, PT011  (no such lookup on an encrypted field)
            list(CustomerProfile.objects.filter(phone__icontains="138"))


def test_blind_index_finds_exact_values_per_tenant(acme_basic, globex_admin):
    mine = make_profile(acme_basic)
    make_profile(globex_admin)  # same phone in another tenant
    with tenant_scope(acme_basic.tenant):
        assert list(CustomerProfile.search_exact(acme_basic.tenant, phone="+8613800138000")) == [mine]
        assert list(CustomerProfile.search_exact(acme_basic.tenant, national_id=NATIONAL_ID.lower())) == [mine]
        assert list(CustomerProfile.search_exact(acme_basic.tenant, phone="+86 138 0013 8001")) == []
    acme_index = raw_row(mine)[4]
    with tenant_scope(globex_admin.tenant):
        globex_index = CustomerProfile.objects.get().phone_index
    assert acme_index != globex_index  # per-tenant index keys: equal values do not link tenants


def test_blind_index_follows_edits(acme_basic):
    profile = make_profile(acme_basic)
    with tenant_scope(profile.tenant):
        profile = CustomerProfile.objects.get(pk=profile.pk)
        profile.phone = "+1 555 0100"
        profile.save()
        assert list(CustomerProfile.search_exact(profile.tenant, phone="15550100")) == [profile]
        assert list(CustomerProfile.search_exact(profile.tenant, phone=PHONE)) == []


def test_dp2_rotation_keeps_old_values_readable_and_converges(acme_basic, acme_admin):
    old = make_profile(acme_basic)
    services.rotate_data_key(acme_basic.tenant)
    new = make_profile(acme_admin)
    assert key_version(raw_row(old)[0]) == 1 and key_version(raw_row(new)[0]) == 2
    assert reload(old).phone == PHONE  # the archived key still decrypts
    assert services.pending_values(acme_basic.tenant) == 4
    assert services.reencrypt(acme_basic.tenant, batch_size=1) == 4
    assert services.pending_values(acme_basic.tenant) == 0
    assert key_version(raw_row(old)[0]) == 2 and reload(old).phone == PHONE
    assert services.reencrypt(acme_basic.tenant) == 0  # resumable: nothing left to do
    with tenant_scope(acme_basic.tenant):
        kinds = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {EventType.DATA_KEY_ROTATED, EventType.VALUES_REENCRYPTED} <= kinds


def test_dp2_reencryption_never_overwrites_a_concurrent_edit(acme_basic):
    profile = make_profile(acme_basic)
    services.rotate_data_key(acme_basic.tenant)
    with tenant_scope(profile.tenant):
        stale = CustomerProfile.objects.get(pk=profile.pk)  # the re-encryption job's read
        fresh = CustomerProfile.objects.get(pk=profile.pk)
        fresh.notes = "edited meanwhile"
        fresh.save()
        token = stale.__dict__["notes"]
        assert isinstance(token, Sealed)
        updated = CustomerProfile.objects.filter(pk=profile.pk, notes=token).update(notes=Sealed("v1:2:xx"))
    assert updated == 0
    assert reload(profile).notes == "edited meanwhile"


def test_dp2_master_key_rotation_rewraps_every_key(acme_basic, monkeypatch):
    profile = make_profile(acme_basic)
    first = masterkeys.load()
    rotated = f"{first.current_id}:{base64.b64encode(first.current).decode()},{masterkeys.generate_entry('next2')}"
    monkeypatch.setenv(masterkeys.ENV_NAME, rotated)
    masterkeys.load.cache_clear()
    keyring.forget()
    try:
        call_command("rotate_keys")
        with tenant_scope(acme_basic.tenant):
            assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {"next2"}
        # The old master key can now be retired: values still decrypt with the new one alone.
        monkeypatch.setenv(masterkeys.ENV_NAME, rotated.split(",", 1)[1])
        masterkeys.load.cache_clear()
        keyring.forget()
        assert reload(profile).phone == PHONE
    finally:
        monkeypatch.undo()
        masterkeys.load.cache_clear()
        keyring.forget()


def test_rotate_keys_command_reencrypts(acme_basic, capsys):
    make_profile(acme_basic)
    call_command("rotate_keys", "--reencrypt", "--tenant", "acme")
    out = capsys.readouterr().out
    assert "acme: new data key v2" in out and "re-encrypted 4 value(s); 0 left" in out


def test_dp3_shredding_a_tenant_makes_its_values_unreadable_only(acme_basic, globex_admin):
    victim, bystander = make_profile(acme_basic), make_profile(globex_admin)
    services.shred_tenant(acme_basic.tenant, reason="contract ended")
    with pytest.raises(DecryptionFailed):
        reload(victim).phone  # noqa: B018
    assert reload(bystander).phone == PHONE
    with tenant_scope(acme_basic.tenant):
        assert not TenantKey.objects.filter(wrapped__isnull=False).exists()
        assert AuditEvent.objects.filter(event_type=EventType.TENANT_SHREDDED).count() == 1
    acme_basic.tenant.refresh_from_db()
    assert not acme_basic.tenant.is_active
    from audit.verify import verify_tenant

    assert verify_tenant(acme_basic.tenant).ok  # the chain still verifies after shredding
    assert verify_tenant(globex_admin.tenant).ok


def test_master_keys_are_validated():
    from portal.config import ConfigError

    for bad in ("nokey", "a:!!!", f"a:{base64.b64encode(b'short').decode()}", ""):
        with pytest.raises(ConfigError):
            masterkeys.parse(bad)


def test_dp2_dp3_totp_seeds_and_session_keys_rotate_and_shred_with_the_tenant(acme_basic):
    """MFA-8 seeds and session keys live under the tenant's vault data key: re-encrypted and shredded with it."""
    from accounts.mfa.models import TotpDevice
    from tests.accounts.mfa_helpers import give_device

    device = give_device(acme_basic, b"0123456789abcdef0123")
    services.rotate_data_key(acme_basic.tenant)
    assert services.pending_values(acme_basic.tenant) >= 1
    services.reencrypt(acme_basic.tenant)
    assert services.pending_values(acme_basic.tenant) == 0
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.get(pk=device.pk).key_bytes() == b"0123456789abcdef0123"
    services.shred_tenant(acme_basic.tenant)
    with tenant_scope(acme_basic.tenant), pytest.raises(DecryptionFailed):
        TotpDevice.objects.get(pk=device.pk).key_bytes()
