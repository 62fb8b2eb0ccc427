"""Login figures with the real (Argon2) hasher: unknown account vs wrong password (AUTH-1 timing),
a full password + TOTP login, a backup-code check, and the per-request cost of the session guard.

Runs in a throw-away test database (``test_<name of DATABASE_URL's database>``).
"""

from __future__ import annotations

import statistics
import sys
import time


def _ms(samples):
    p90 = sorted(samples)[int(len(samples) * 0.9)]
    return f"median {statistics.median(samples) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"


def run(args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from django.conf import settings
    from django.test import override_settings

    # Pages render without collectstatic; the hashing static storage is not what is measured here.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        with override_settings(STORAGES=storages):
            _measure(args, Client)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _measure(args, Client) -> None:
    from django.conf import settings

    from accounts.mfa import services as mfa
    from accounts.mfa.models import BackupCodeDevice
    from accounts.scoping import tenant_scope
    from accounts.services import create_tenant, create_user
    from permissions.models import Role
    from tests.accounts.mfa_helpers import fresh_code, give_device

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

    rounds = 15 if args.scale == "small" else 60
    tenant = create_tenant(name="Bench", slug="bench")
    with tenant_scope(tenant):
        role = Role.objects.get(key="basic")
    password = "a bench passphrase that is long"
    user = create_user(tenant=tenant, email="bench@bench.example", password=password, role=role)
    device = give_device(user)
    sys.stdout.write(f"hasher: {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}, rounds: {rounds}\n")

    wrong, unknown = [], []
    for n in range(rounds):
        for email, bucket in (("bench@bench.example", wrong), ("nobody@bench.example", unknown)):
            client = Client(REMOTE_ADDR=f"10.1.{n // 200}.{n % 200}")  # a fresh address: stay under the lockout
            started = time.perf_counter()
            response = client.post("/accounts/login/", {"username": email, "password": "not the password"})
            bucket.append(time.perf_counter() - started)
            assert response.status_code == 200
    sys.stdout.write(f"wrong password:  {_ms(wrong)}\n")
    sys.stdout.write(f"unknown account: {_ms(unknown)}\n")
    ratio = statistics.median(unknown) / statistics.median(wrong)
    sys.stdout.write(f"unknown / wrong median ratio: {ratio:.2f}\n")

    full = []
    for n in range(min(rounds, 20)):
        client = Client(REMOTE_ADDR=f"10.2.0.{n}")
        started = time.perf_counter()
        client.post("/accounts/login/", {"username": user.email, "password": password})
        client.post("/accounts/mfa/", {"device": device.persistent_id, "code": fresh_code(device) or "000000"})
        full.append(time.perf_counter() - started)
        with tenant_scope(tenant):  # let the next round use the current step again
            type(device).objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    sys.stdout.write(f"password + TOTP login (2 requests): {_ms(full)}\n")

    codes = mfa.regenerate_backup_codes(user, actor=user)
    with tenant_scope(tenant):
        backup = BackupCodeDevice.objects.get(user=user)
    started = time.perf_counter()
    outcome, _d, _left = mfa.verify(user, backup.persistent_id, codes[-1])
    sys.stdout.write(
        f"backup code check (10 unused hashes): {(time.perf_counter() - started) * 1000:.1f} ms ({outcome.value})\n"
    )

    client = Client(REMOTE_ADDR="10.3.0.1")
    client.post("/accounts/login/", {"username": user.email, "password": password})
    with tenant_scope(tenant):
        type(device).objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": fresh_code(device)})
    pages = []
    for _ in range(rounds * 3):
        started = time.perf_counter()
        assert client.get("/").status_code == 200
        pages.append(time.perf_counter() - started)
    sys.stdout.write(f"home page, verified session (guard + MFA policy + OTP middleware): {_ms(pages)}\n")
