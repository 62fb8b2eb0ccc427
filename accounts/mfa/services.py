"""MFA use cases: enrol and confirm an authenticator, verify a code, backup codes, remove and reset.

Every verification locks the chosen device row (``select_for_update``) inside a transaction, so of
two concurrent requests with one code exactly one wins (MFA-3), and only the chosen device's
throttle moves (MFA-5). Seeds and backup codes come from ``secrets`` (MFA-7).
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote, urlencode

import segno
from django.db import transaction

import audit
from accounts import notices
from accounts.mfa.models import (
    TOTP_DIGITS,
    TOTP_STEP,
    BackupCode,
    BackupCodeDevice,
    Outcome,
    TotpDevice,
    hash_backup_code,
    normalise_backup_code,
)
from accounts.scoping import tenant_scope
from audit.events import EventType
from permissions.services.hierarchy import require_outranks

SEED_BYTES = 20  # 160 bits, RFC 4226's recommended length for HMAC-SHA1
BACKUP_CODE_COUNT = 10
BACKUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
BACKUP_CODE_LENGTH = 12  # about 59 bits; stored as a salted password hash
ISSUER = "Portcullis"


class MfaError(Exception):
    """A refused MFA change, with a message for the user."""


def new_seed() -> bytes:
    """A fresh TOTP seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def new_backup_code() -> str:
    """A fresh backup code, shown as XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, BACKUP_CODE_LENGTH, 4))


def base32_secret(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def otpauth_uri(user, key: bytes) -> str:
    """The provisioning URI every RFC 6238 authenticator app understands."""
    label = quote(f"{ISSUER}:{user.email}")
    params = {"secret": base32_secret(key), "issuer": ISSUER, "algorithm": "SHA1", "digits": TOTP_DIGITS}
    params["period"] = TOTP_STEP
    return f"otpauth://totp/{label}?{urlencode(params)}"


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data URI, rendered here (no external service)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def mfa_user_devices(user) -> list:
    """The user's confirmed devices: authenticator apps, then the backup codes (inside the tenant scope)."""
    devices = list(TotpDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))
    devices += list(BackupCodeDevice.objects.filter(user=user, confirmed=True))
    return devices


def has_confirmed_device(user) -> bool:
    if not user.tenant_id:
        return False
    with tenant_scope(user.tenant):
        return TotpDevice.objects.filter(user=user, confirmed=True).exists()


def has_any_factor(user) -> bool:
    """An authenticator app or a passkey (accounts.passkeys): the user can pass the MFA step."""
    from accounts.passkeys.services import has_passkey

    return has_confirmed_device(user) or has_passkey(user)


@transaction.atomic
def start_enrolment(user, *, name: str = "") -> TotpDevice:
    """A new, unconfirmed authenticator with a fresh seed (earlier unconfirmed ones are dropped)."""
    with tenant_scope(user.tenant):
        TotpDevice.objects.filter(user=user, confirmed=False).delete()
        device = TotpDevice.objects.create(
            tenant=user.tenant, user=user, name=name or "Authenticator app", confirmed=False
        )
        device.set_key(new_seed())
        device.save(update_fields=["encrypted_key"])
    return device


@transaction.atomic
def confirm_enrolment(
    device: TotpDevice, token: str, *, actor, name: str | None = None
) -> tuple[Outcome, list[str] | None]:
    """Activate ``device`` (named ``name``) if ``token`` is right. Returns the outcome and, for a first factor,
    new backup codes."""
    user = device.user
    with tenant_scope(user.tenant):
        locked = TotpDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        outcome = locked.check_token(token)
        if outcome is not Outcome.OK:
            _record_failure(user, locked, outcome, stage="enrolment")
            return outcome, None
        locked.confirmed = True
        if name:
            locked.name = name
        locked.save(update_fields=["confirmed", "name"])
        audit.record(
            EventType.MFA_ENROLLED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            after={"factor": "totp", "name": locked.name},
        )
        codes = None
        if not BackupCodeDevice.objects.filter(user=user).exists():
            codes = _replace_backup_codes(user)
        notices.notify(user, "mfa_enrolled")
    return outcome, codes


def _replace_backup_codes(user) -> list[str]:
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(tenant=user.tenant, user=user, name="Backup codes", confirmed=True)
    codes = [new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        [BackupCode(tenant=user.tenant, device=device, code_hash=hash_backup_code(c)) for c in codes]
    )
    return codes


@transaction.atomic
def regenerate_backup_codes(user, *, actor) -> list[str]:
    """Ten new backup codes; the old ones stop working. Shown once to the caller, stored hashed (MFA-6)."""
    with tenant_scope(user.tenant):
        codes = _replace_backup_codes(user)
        audit.record(
            EventType.BACKUP_CODES_REGENERATED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            after={"count": len(codes)},
        )
    notices.notify(user, "backup_codes_regenerated")
    return codes


def _record_failure(user, device, outcome: Outcome, *, stage: str) -> None:
    # Never the code itself (LOG-6): only which device and why it was refused.
    audit.record(
        EventType.MFA_FAILED,
        tenant=user.tenant,
        actor=user,
        target=user,
        after={"factor": _factor(device), "device": device.pk, "reason": outcome.value, "stage": stage},
    )


def _factor(device) -> str:
    return "backup_code" if isinstance(device, BackupCodeDevice) else "totp"


def find_device(user, persistent_id: str):
    """The user's confirmed device named by ``persistent_id``, or None (never another user's)."""
    for device in mfa_user_devices(user):
        if device.persistent_id == persistent_id:
            return device
    return None


def device_for_code(user, chosen, token: str):
    """The device a code is for: the one the user chose, unless the code's shape says otherwise. A backup code
    (XXXX-XXXX-XXXX) typed while the authenticator is chosen goes to the user's backup codes, a six-digit code
    typed while "a backup code" is chosen to their only authenticator. Still one named device per attempt,
    never every device in turn (MFA-5, django-otp #110/#186)."""
    if chosen is None:
        return None
    digits = (token or "").strip().replace(" ", "")
    looks_totp = digits.isdigit() and len(digits) == TOTP_DIGITS
    looks_backup = len(normalise_backup_code(token)) == BACKUP_CODE_LENGTH
    devices = mfa_user_devices(user)
    if isinstance(chosen, TotpDevice) and looks_backup and not looks_totp:
        return next((d for d in devices if isinstance(d, BackupCodeDevice)), chosen)
    if isinstance(chosen, BackupCodeDevice) and looks_totp:
        authenticators = [d for d in devices if isinstance(d, TotpDevice)]
        return authenticators[0] if len(authenticators) == 1 else chosen
    return chosen


def verify(user, persistent_id: str, token: str, *, stage: str = "login") -> tuple[Outcome, object, int | None]:
    """Verify ``token`` against the one device the user chose. Returns (outcome, device, backup codes left).

    The failure is recorded even though the attempt is refused, so the transaction commits either way.
    """
    with transaction.atomic(), tenant_scope(user.tenant):
        device = device_for_code(user, find_device(user, persistent_id), token)
        if device is None:
            return Outcome.WRONG, None, None
        locked = type(device).objects.select_for_update().get(pk=device.pk, user=user, confirmed=True)
        outcome = locked.check_token(token)
        if outcome is not Outcome.OK:
            _record_failure(user, locked, outcome, stage=stage)
            return outcome, locked, None
        remaining = None
        if isinstance(locked, BackupCodeDevice):
            remaining = locked.remaining()
            audit.record(
                EventType.BACKUP_CODE_USED, tenant=user.tenant, actor=user, target=user, after={"remaining": remaining}
            )
        return outcome, locked, remaining


@transaction.atomic
def remove_device(device: TotpDevice, *, actor, mfa_required: bool) -> None:
    """Remove an authenticator. The last one cannot go while the tenant's policy requires MFA."""
    user = device.user
    with tenant_scope(user.tenant):
        others = TotpDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk)
        if mfa_required and not others.exists():
            raise MfaError("last_factor")
        name = device.name
        device.delete()
        if not others.exists():
            BackupCodeDevice.objects.filter(user=user).delete()
        audit.record(
            EventType.MFA_REMOVED, tenant=user.tenant, actor=actor, target=user, after={"factor": "totp", "name": name}
        )
    notices.notify(user, "mfa_removed")


@transaction.atomic
def reset_mfa(user, *, actor, reason: str = "") -> int:
    """An administrator removes every factor of ``user`` (who enrols again at next login); ends their sessions."""
    from accounts.sessions import end_user_sessions

    if actor.tenant_id != user.tenant_id:
        raise ValueError("actor and user must belong to the same tenant")
    if actor.pk == user.pk:
        raise MfaError("self")
    require_outranks(actor, user)  # INS-1: never the factors of someone holding more
    from accounts.passkeys.services import remove_all as remove_passkeys

    with tenant_scope(user.tenant):
        removed = TotpDevice.objects.filter(user=user).count()
        TotpDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        removed += remove_passkeys(user)
        audit.record(
            EventType.MFA_RESET, tenant=user.tenant, actor=actor, target=user, after={"removed": removed}, reason=reason
        )
    notices.notify(user, "mfa_reset")
    transaction.on_commit(lambda: end_user_sessions(user))
    return removed


@transaction.atomic
def add_device_with_key(user, key: bytes, *, name: str, actor=None) -> TotpDevice:
    """A confirmed authenticator with a known seed. Demo data and tests only: real enrolment goes through
    ``start_enrolment`` and ``confirm_enrolment`` (a fresh seed, proved by a code)."""
    with tenant_scope(user.tenant):
        device = TotpDevice.objects.create(tenant=user.tenant, user=user, name=name, confirmed=True)
        device.set_key(key)
        device.save(update_fields=["encrypted_key"])
        audit.record(
            EventType.MFA_ENROLLED, tenant=user.tenant, actor=actor, target=user, after={"factor": "totp", "name": name}
        )
    return device
