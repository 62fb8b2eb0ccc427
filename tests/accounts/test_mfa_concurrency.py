"""MFA-3: two concurrent verifications of one code, exactly one succeeds (row lock on PostgreSQL)."""

import threading

import pytest
from django.db import connection

from accounts.mfa import services
from accounts.mfa.models import Outcome, TotpDevice
from accounts.scoping import tenant_scope
from tests.accounts.mfa_helpers import code_at, give_device, now_t


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_mfa3_two_concurrent_verifications_of_one_code_exactly_one_wins(acme_basic, round_):
    """MFA-3: both threads start together; select_for_update makes the second wait and then see last_t."""
    device = give_device(acme_basic)
    with tenant_scope(acme_basic.tenant):
        key = TotpDevice.objects.get(pk=device.pk).key_bytes()
    code = code_at(key, now_t())
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            outcome, _device, _left = services.verify(acme_basic, device.persistent_id, code)
            outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == sorted([Outcome.OK.value, Outcome.REPLAYED.value])
