"""Real TOTP codes for tests: computed from the device's (decrypted) seed, never a mocked verification."""

from __future__ import annotations

import time

from django_otp.oath import hotp

from accounts.mfa.models import TOTP_STEP, TotpDevice
from accounts.mfa.services import add_device_with_key, new_seed
from accounts.scoping import tenant_scope


def code_at(key: bytes, t: int) -> str:
    """The 6-digit code of time step ``t``."""
    return f"{hotp(key, t, digits=6):06d}"


def now_t() -> int:
    return int(time.time()) // TOTP_STEP


def device_of(user) -> TotpDevice | None:
    with tenant_scope(user.tenant):
        return TotpDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def give_device(user, key: bytes | None = None, name: str = "Test phone") -> TotpDevice:
    """A confirmed authenticator with a known seed (as the demo data has)."""
    return add_device_with_key(user, key or new_seed(), name=name)


def fresh_code(device: TotpDevice) -> str | None:
    """A code the device accepts now and still in the next 30 s: the current step, else the next one.

    Never the previous step: if the clock ticks over between here and the server's check, that code
    has left the tolerance window (a flaky login once a few hundred runs).
    """
    with tenant_scope(device.tenant):
        device.refresh_from_db()
        key = device.key_bytes()
    current = now_t()
    for t in (current, current + 1):
        if t > device.last_t:
            return code_at(key, t)
    return None


def pass_mfa_step(client, user, next_url: str = "/"):
    """Complete the MFA step of a password-only session with a real code (adds a device when needed)."""
    device = device_of(user)
    code = fresh_code(device) if device else None
    if code is None:  # no device yet, or this step's codes are used up: a second authenticator
        device = give_device(user, name=f"Test phone {time.time_ns()}")
        code = fresh_code(device)
    response = client.post("/accounts/mfa/", {"device": device.persistent_id, "code": code, "next": next_url})
    assert response.status_code == 302, response.content[:500]
    return response


def verified_force_login(client, user):
    """``client.force_login`` plus the MFA step with a real code: a session the MFA policy lets through."""
    client.force_login(user)
    pass_mfa_step(client, user)
    return client
