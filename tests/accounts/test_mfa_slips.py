"""Issue 19: the MFA step forgives a slip. One wrong code followed at once by the right one signs in (it
answered "Too many wrong codes" before); a backup code is accepted whichever factor is picked in the list,
and an authenticator's code while "a backup code" is picked. Still one named device per attempt (MFA-5)."""

import pytest

from accounts.mfa import services
from accounts.mfa.models import BackupCodeDevice, Outcome, TotpDevice
from accounts.scoping import tenant_scope
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import code_at, fresh_code, give_device, now_t

pytestmark = pytest.mark.django_db


def backup_device(user):
    with tenant_scope(user.tenant):
        return BackupCodeDevice.objects.get(user=user)


def failures(device) -> int:
    with tenant_scope(device.tenant):
        return type(device).objects.get(pk=device.pk).throttling_failure_count


def test_one_wrong_code_then_the_right_one_signs_in(acme_basic):
    device = give_device(acme_basic)
    client, _ = password_only(acme_basic)
    wrong = client.post("/accounts/mfa/", {"device": device.persistent_id, "code": "000000"})
    assert "That code is not correct." in wrong.content.decode()
    right = client.post("/accounts/mfa/", {"device": device.persistent_id, "code": fresh_code(device)})
    assert right.status_code == 302 and client.get("/").status_code == 200


def test_the_third_wrong_code_in_a_row_starts_the_back_off(acme_basic):
    device = give_device(acme_basic)
    with tenant_scope(acme_basic.tenant):
        key = TotpDevice.objects.get(pk=device.pk).key_bytes()
    for wrong in ("000001", "000002"):
        assert services.verify(acme_basic, device.persistent_id, wrong)[0] is Outcome.WRONG
    assert services.verify(acme_basic, device.persistent_id, "000003")[0] is Outcome.WRONG
    assert services.verify(acme_basic, device.persistent_id, code_at(key, now_t()))[0] is Outcome.THROTTLED


def test_a_backup_code_is_accepted_while_the_authenticator_is_picked(acme_basic):
    phone = give_device(acme_basic)
    codes = services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    client, _ = password_only(acme_basic)
    response = client.post("/accounts/mfa/", {"device": phone.persistent_id, "code": codes[0].lower()})
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert failures(phone) == 0  # the authenticator was not tried (MFA-5)
    outcome, device, remaining = services.verify(acme_basic, phone.persistent_id, codes[0])
    assert outcome is not Outcome.OK and isinstance(device, BackupCodeDevice)  # single use, still
    assert remaining is None


def test_an_authenticator_code_is_accepted_while_a_backup_code_is_picked(acme_basic):
    phone = give_device(acme_basic)
    services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    client, _ = password_only(acme_basic)
    chosen = backup_device(acme_basic).persistent_id
    response = client.post("/accounts/mfa/", {"device": chosen, "code": fresh_code(phone)})
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert failures(backup_device(acme_basic)) == 0


def test_with_two_authenticators_a_six_digit_code_goes_only_to_the_one_picked(acme_basic):
    give_device(acme_basic, name="Phone")
    give_device(acme_basic, name="Tablet")
    services.regenerate_backup_codes(acme_basic, actor=acme_basic)
    backup = backup_device(acme_basic)
    outcome, device, _ = services.verify(acme_basic, backup.persistent_id, "123456")
    assert outcome is Outcome.WRONG and isinstance(device, BackupCodeDevice)  # which authenticator? not guessed
