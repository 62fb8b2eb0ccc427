"""Field encryption: values encrypted and decrypted per second, and re-encrypting 100,000 values."""

from __future__ import annotations

import time
import uuid

from django.contrib.auth.hashers import make_password
from django.db import transaction

from bench._setup import line, per_second


class _Discard(Exception):
    """Raised at the end of the benchmark to roll its rows back."""


def run(args) -> None:
    """Everything runs in one transaction rolled back at the end (the re-encryption's batches are savepoints):
    nothing is left behind, and no user is deleted (deleting 25,000 users waits on every foreign key that
    points at them, minutes on a database holding the other benchmarks' rows)."""
    try:
        with transaction.atomic():
            _run(args)
            raise _Discard
    except _Discard:
        pass


def _run(args) -> None:
    from accounts import services as account_services
    from accounts.models import CustomerProfile, User
    from accounts.scoping import tenant_scope
    from permissions.models import Role
    from vault import cipher, services

    values = 100_000 if args.scale == "full" else 10_000
    slug = f"bench-crypto-{uuid.uuid4().hex[:8]}"
    tenant = account_services.create_tenant(name="Bench crypto", slug=slug)
    with tenant_scope(tenant):
        context = "bench|field|row"
        token = cipher.encrypt("+86 138 0013 8000", tenant_id=tenant.pk, context=context)
        enc = per_second(lambda: cipher.encrypt("+86 138 0013 8000", tenant_id=tenant.pk, context=context))
        dec = per_second(lambda: cipher.decrypt(token, tenant_id=tenant.pk, context=context))
        line("encrypt (AES-256-GCM, cached tenant key), values/s", f"{enc:,.0f}")
        line("decrypt, values/s", f"{dec:,.0f}")

        role = Role.objects.get(key="basic")
        profiles = values // 4
        started = time.perf_counter()
        password = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(email=f"c{n}@{slug}.example", tenant=tenant, role=role, password=password)
                    for n in range(profiles)
                ],
                batch_size=2000,
            )
            CustomerProfile.objects.bulk_create(
                [
                    CustomerProfile(
                        tenant=tenant,
                        user=user,
                        phone=f"+86 138 {n:08d}",
                        address=f"{n} Harbour Road",
                        national_id=f"ID{n:012d}",
                        notes="bench",
                    )
                    for n, user in enumerate(users)
                ],
                batch_size=2000,
            )
        line(f"create {values:,} encrypted values (bulk insert), s", f"{time.perf_counter() - started:.1f}")

        services.rotate_data_key(tenant)
        started = time.perf_counter()
        rewritten = services.reencrypt(tenant, batch_size=1000)
        elapsed = time.perf_counter() - started
        line(
            f"re-encrypt {rewritten:,} values under a new data key, s", f"{elapsed:.1f} ({rewritten / elapsed:,.0f}/s)"
        )
        assert services.pending_values(tenant) == 0
