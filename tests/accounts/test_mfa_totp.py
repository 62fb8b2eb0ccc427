"""TOTP: enrolment, replay, throttling, the chosen device, seeds from `secrets` and encrypted at rest."""

import base64
import random
import re
import secrets

import pytest
from django.db import connection

from accounts.mfa import services
from accounts.mfa.models import BackupCodeDevice, Outcome, TotpDevice
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import code_at, give_device, now_t


def events(tenant, event_type):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def key_of(device):
    with tenant_scope(device.tenant):
        return TotpDevice.objects.get(pk=device.pk).key_bytes()


def verify(user, device, code):
    outcome, _device, _left = services.verify(user, device.persistent_id, code)
    return outcome


def test_enrolment_shows_qr_and_secret_and_activates_only_after_a_correct_code(acme_basic, clock):
    client, response = password_only(acme_basic)
    assert response["Location"].startswith("/accounts/mfa/enrol/")  # no factor yet: enrolment right away
    start = client.get(response["Location"])
    assert start.status_code == 200 and 'data-testid="mfa-start"' in start.content.decode()
    with tenant_scope(acme_basic.tenant):
        assert not TotpDevice.objects.filter(user=acme_basic).exists()  # a GET creates nothing (SES-2)
    started = client.post("/accounts/mfa/enrol/", {"op": "start"})
    page = client.get(started["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in body  # the QR code, rendered here
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7]+)<', body).group(1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    with tenant_scope(acme_basic.tenant):
        pending = TotpDevice.objects.get(user=acme_basic)
    assert not pending.confirmed

    wrong = client.post("/accounts/mfa/enrol/", {"name": "Phone", "code": "000000"})
    assert wrong.status_code == 200 and "That code is not correct." in wrong.content.decode()
    with tenant_scope(acme_basic.tenant):
        assert not TotpDevice.objects.get(pk=pending.pk).confirmed
    assert client.get("/").status_code == 302  # still only the MFA pages

    clock.shift(30)
    done = client.post("/accounts/mfa/enrol/", {"name": "Phone", "code": code_at(key, now_t())})
    assert done.status_code == 200
    codes = re.findall(r"<code>([A-Z0-9-]{14})</code>", done.content.decode())
    assert len(codes) == 10  # backup codes, shown once
    with tenant_scope(acme_basic.tenant):
        device = TotpDevice.objects.get(pk=pending.pk)
    assert device.confirmed and device.name == "Phone"
    assert client.get("/").status_code == 200
    assert len(events(acme_basic.tenant, EventType.MFA_ENROLLED)) == 1


def test_enrolment_works_with_the_uri_an_authenticator_app_reads(acme_basic):
    device = services.start_enrolment(acme_basic)
    uri = services.otpauth_uri(acme_basic, key_of(device))
    assert uri.startswith("otpauth://totp/Portcullis%3Abasic1%40acme.example?")
    assert "algorithm=SHA1" in uri and "digits=6" in uri and "period=30" in uri and "issuer=Portcullis" in uri


def test_mfa1_a_code_accepted_once_is_refused_again_and_the_refusal_is_audited(acme_basic, clock):
    """MFA-1"""
    device = give_device(acme_basic)
    code = code_at(key_of(device), now_t())
    assert verify(acme_basic, device, code) is Outcome.OK
    assert verify(acme_basic, device, code) is Outcome.REPLAYED
    [failure] = events(acme_basic.tenant, EventType.MFA_FAILED)
    assert failure.after["reason"] == "replayed"
    assert code not in str(failure.after)


def test_mfa1_replay_through_the_login_page_is_refused(acme_basic, clock):
    """MFA-1, through the real MFA step."""
    device = give_device(acme_basic)
    code = code_at(key_of(device), now_t())
    first, _ = password_only(acme_basic)
    assert first.post("/accounts/mfa/", {"device": device.persistent_id, "code": code}).status_code == 302
    second, _ = password_only(acme_basic)
    refused = second.post("/accounts/mfa/", {"device": device.persistent_id, "code": code})
    assert refused.status_code == 200 and "That code is not correct." in refused.content.decode()
    assert second.get("/").status_code == 302


def test_mfa2_after_step_t_a_code_of_step_t_minus_1_is_refused(acme_basic, clock):
    """MFA-2: the earlier step is still inside the tolerance window, but older than the last accepted one."""
    device = give_device(acme_basic)
    key, t = key_of(device), now_t()
    assert verify(acme_basic, device, code_at(key, t)) is Outcome.OK
    assert verify(acme_basic, device, code_at(key, t - 1)) is Outcome.REPLAYED
    clock.shift(30)  # t+1 is now current; t is still in the window
    assert verify(acme_basic, device, code_at(key, t)) is not Outcome.OK
    clock.shift(60)
    assert verify(acme_basic, device, code_at(key, now_t())) is Outcome.OK


def test_codes_outside_the_window_are_refused(acme_basic, clock):
    device = give_device(acme_basic)
    key, t = key_of(device), now_t()
    assert verify(acme_basic, device, code_at(key, t + 2)) is Outcome.WRONG
    clock.shift(10)
    assert verify(acme_basic, device, code_at(key, t - 2)) is Outcome.WRONG


def test_mfa4_after_wrong_codes_even_the_right_one_is_refused_until_the_throttle_ends(acme_basic, clock):
    """MFA-4: after two free slips, exponential back-off (1, 2, 4, 8 … s) per device."""
    device = give_device(acme_basic)
    key = key_of(device)
    for attempt in range(5):
        if attempt:
            clock.shift(20)  # long enough for the previous delay, so each wrong code counts
        verify(acme_basic, device, "123456")
    assert verify(acme_basic, device, code_at(key, now_t())) is Outcome.THROTTLED  # 4 s after the 5th failure
    clock.shift(5)
    assert verify(acme_basic, device, code_at(key, now_t())) is Outcome.OK
    reasons = [e.after["reason"] for e in events(acme_basic.tenant, EventType.MFA_FAILED)]
    assert reasons == ["wrong"] * 5 + ["throttled"]


def test_mfa4_the_throttle_shows_on_the_login_page(acme_basic, clock):
    """MFA-4"""
    device = give_device(acme_basic)
    client, _ = password_only(acme_basic)
    for wrong in ("111111", "222222", "333333"):  # two slips are free (issue 19); the third starts the wait
        client.post("/accounts/mfa/", {"device": device.persistent_id, "code": wrong})
    response = client.post("/accounts/mfa/", {"device": device.persistent_id, "code": code_at(key_of(device), now_t())})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/").status_code == 302


def test_mfa5_a_totp_login_does_not_raise_failure_counters_on_other_devices(acme_basic, clock):
    """MFA-5 (django-otp #110/#186): only the chosen device is tried."""
    phone = give_device(acme_basic, name="Phone")
    tablet = give_device(acme_basic, name="Tablet")
    services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    for _ in range(3):
        client, _ = password_only(acme_basic)
        code = code_at(key_of(phone), now_t())
        assert client.post("/accounts/mfa/", {"device": phone.persistent_id, "code": code}).status_code == 302
        clock.shift(30)
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.get(pk=tablet.pk).throttling_failure_count == 0
        assert BackupCodeDevice.objects.get(user=acme_basic).throttling_failure_count == 0
        assert TotpDevice.objects.get(pk=phone.pk).throttling_failure_count == 0


def test_mfa5_a_code_of_another_device_is_refused_and_only_the_chosen_device_counts_it(acme_basic, clock):
    """MFA-5"""
    phone = give_device(acme_basic, name="Phone")
    tablet = give_device(acme_basic, name="Tablet")
    assert verify(acme_basic, tablet, code_at(key_of(phone), now_t())) is Outcome.WRONG
    with tenant_scope(acme_basic.tenant):
        assert TotpDevice.objects.get(pk=phone.pk).throttling_failure_count == 0
        assert TotpDevice.objects.get(pk=tablet.pk).throttling_failure_count == 1


def test_a_device_of_another_user_cannot_be_chosen(acme_basic, acme_admin, clock):
    foreign = give_device(acme_admin)
    give_device(acme_basic)
    client, _ = password_only(acme_basic)
    response = client.post(
        "/accounts/mfa/", {"device": foreign.persistent_id, "code": code_at(key_of(foreign), now_t())}
    )
    assert response.status_code == 200
    assert client.get("/").status_code == 302


class Spy:
    """Wraps a function of ``secrets``: calls the real one, remembers (arguments, result)."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __call__(self, *args):
        result = self.real(*args)
        self.calls.append((args, result))
        return result

    def results(self, *args):
        return [result for called, result in self.calls if called == args]


@pytest.fixture
def secrets_spied(monkeypatch):
    """``secrets.token_bytes`` and ``secrets.choice`` spied on (still the real CSPRNG); ``random`` forbidden."""

    def forbidden(*args, **kwargs):
        raise AssertionError("random must not be used for secrets")

    for name in ("random", "randint", "randrange", "choice", "getrandbits", "randbytes", "choices", "sample"):
        monkeypatch.setattr(random, name, forbidden)
    spies = {name: Spy(getattr(secrets, name)) for name in ("token_bytes", "choice")}
    for name, spy in spies.items():
        monkeypatch.setattr(secrets, name, spy)
    return spies


def test_mfa7_an_enrolled_seed_is_what_secrets_drew_and_at_least_128_bits(acme_basic, secrets_spied):
    """MFA-7: the seed stored (encrypted) for a new authenticator, decrypted from the database, is the very
    value ``secrets.token_bytes`` returned, 160 bits long."""
    device = services.start_enrolment(acme_basic)
    stored = key_of(device)  # read back from the database and decrypted
    assert len(stored) * 8 >= 128 and len(stored) == services.SEED_BYTES == 20
    assert secrets_spied["token_bytes"].results(services.SEED_BYTES) == [stored]


def test_mfa7_backup_codes_are_what_secrets_drew(acme_basic, secrets_spied):
    """MFA-7: every character of every backup code is a ``secrets.choice`` from the code alphabet."""
    give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    drawn = secrets_spied["choice"].results(services.BACKUP_ALPHABET)
    assert len(codes) == services.BACKUP_CODE_COUNT
    assert "".join(code.replace("-", "") for code in codes) == "".join(drawn)


def test_mfa7_many_seeds_and_codes_are_distinct_and_use_every_bit(secrets_spied):
    """MFA-7: 500 seeds and 500 backup codes, all different; the seeds' bits are balanced at every position
    (a seed padded with constant bytes, or a short random part, fails here although its length is right)."""
    seeds = [services.new_seed() for _ in range(500)]
    assert len(set(seeds)) == 500 and all(len(seed) == services.SEED_BYTES for seed in seeds)
    assert secrets_spied["token_bytes"].results(services.SEED_BYTES) == seeds
    bits = [(int.from_bytes(seed, "big") >> i) & 1 for seed in seeds for i in range(services.SEED_BYTES * 8)]
    assert 0.47 < sum(bits) / len(bits) < 0.53  # 80,000 fair bits: over 8 standard deviations of room
    for position in range(services.SEED_BYTES):
        assert len({seed[position] for seed in seeds}) > 100  # each byte varies (≈ 220 of 256 values expected)
    codes = [services.new_backup_code() for _ in range(500)]
    assert len(set(codes)) == 500
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code) for code in codes)
    assert "".join(code.replace("-", "") for code in codes) == "".join(
        secrets_spied["choice"].results(services.BACKUP_ALPHABET)
    )
    assert set("".join(codes).replace("-", "")) == set(services.BACKUP_ALPHABET)


def test_mfa8_the_seed_is_encrypted_at_rest(acme_basic):
    """MFA-8: the raw column holds neither the seed (hex or base32) nor anything that decrypts elsewhere."""
    key = services.new_seed()
    device = give_device(acme_basic, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_key FROM accounts_totpdevice WHERE id = %s", [device.pk])
        [raw] = cursor.fetchone()
    assert raw.startswith("v1:1:")  # sealed under the tenant data key, version 1 (vault format)
    for form in (
        key.hex(),
        key.hex().upper(),
        base64.b32encode(key).decode().rstrip("="),
        base64.b64encode(key).decode(),
    ):
        assert form not in raw
    assert key_of(device) == key


def test_mfa8_a_seed_copied_to_another_row_does_not_decrypt(acme_basic, acme_admin):
    """MFA-8 / DP-1: the ciphertext is bound to its tenant and row."""
    from vault.cipher import DecryptionFailed

    one, other = give_device(acme_basic), give_device(acme_admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_key FROM accounts_totpdevice WHERE id = %s", [one.pk])
        [sealed] = cursor.fetchone()
        cursor.execute("UPDATE accounts_totpdevice SET encrypted_key = %s WHERE id = %s", [sealed, other.pk])
    with tenant_scope(acme_basic.tenant), pytest.raises(DecryptionFailed):
        TotpDevice.objects.get(pk=other.pk).key_bytes()


def test_wrong_code_formats_are_refused(acme_basic, clock):
    device = give_device(acme_basic)
    for code in ["", "12345", "1234567", "abcdef", "12 34 5x"]:
        clock.shift(60)  # past the back-off of the previous failure
        assert verify(acme_basic, device, code) is Outcome.WRONG


def test_spaces_in_a_code_are_ignored(acme_basic, clock):
    device = give_device(acme_basic)
    code = code_at(key_of(device), now_t())
    assert verify(acme_basic, device, f"{code[:3]} {code[3:]}") is Outcome.OK


def test_mfa_step_page_lists_only_the_users_devices(acme_basic, acme_admin):
    give_device(acme_basic, name="Blake phone")
    give_device(acme_basic, name="Blake tablet")
    give_device(acme_admin, name="Ada phone")
    client, response = password_only(acme_basic)
    body = client.get(response["Location"]).content.decode()
    assert "Blake phone" in body and "Blake tablet" in body and "Ada phone" not in body


@pytest.mark.parametrize("path", ["/accounts/mfa/", "/accounts/mfa/enrol/"])
def test_mfa_pages_need_a_login(client, db, path):
    assert client.get(path).status_code == 404
