"""MFA devices: TOTP (seed encrypted at rest) and hashed single-use backup codes, on django-otp's Device.

Both are tenant-owned (``tenant`` FK, ``TenantManager``). Verification happens only against the
device the user chose (django-otp #110/#186), on a row locked with ``select_for_update`` inside a
transaction (MFA-3), through ``accounts.mfa.services``; never through ``django_otp.match_token``.
"""

from __future__ import annotations

import enum
import hmac
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import MAX_THROTTLE_DELAY_SECONDS, Device, ThrottlingMixin, VerifyNotAllowed
from django_otp.oath import TOTP, hotp

from accounts.scoping import TenantManager
from vault.fields import EncryptedTextField

TOTP_STEP = 30
TOTP_DIGITS = 6
TOTP_TOLERANCE = 1  # the previous, current and next 30-second step (clock skew of a phone)


#: Wrong codes in a row that are allowed without a wait before the back-off of MFA-4 starts.
FREE_FAILURES = 2


class Outcome(enum.Enum):
    """What a verification attempt came to."""

    OK = "ok"
    WRONG = "wrong"
    REPLAYED = "replayed"  # a code of a step at or before the last accepted one (MFA-1, MFA-2)
    THROTTLED = "throttled"  # too many wrong codes: refused without checking (MFA-4)


class DeviceManager(TenantManager):
    """Tenant-scoped, plus the lookup django-otp's helpers call."""

    def devices_for_user(self, user, confirmed=None):
        devices = self.filter(user=user)
        if confirmed is not None:
            devices = devices.filter(confirmed=bool(confirmed))
        return devices


class TenantDevice(ThrottlingMixin, Device):
    """A django-otp device owned by a tenant, throttled with exponential back-off."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="+")
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = DeviceManager()

    class Meta:
        abstract = True

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_is_allowed(self):
        """MFA-4 with room for a slip: the first FREE_FAILURES wrong codes in a row cost no wait (a mistyped
        digit, a code that changed as it was typed); after them the back-off is 1, 2, 4, 8 … seconds. Without
        it, one typo followed at once by the right code answered "Too many wrong codes" (issue 19)."""
        count, last = self.throttling_failure_count, self.throttling_failure_timestamp
        if count <= FREE_FAILURES or last is None:
            return True, None
        required = min(self.get_throttle_factor() * 2 ** (count - FREE_FAILURES - 1), MAX_THROTTLE_DELAY_SECONDS)
        locked_until = last + timedelta(seconds=required)
        if timezone.now() < locked_until:
            return False, {
                "reason": VerifyNotAllowed.N_FAILED_ATTEMPTS,
                "failure_count": count,
                "locked_until": locked_until,
            }
        return True, None


class TotpDevice(TenantDevice):
    """An RFC 6238 authenticator (SHA-1, 30 s, 6 digits). The seed is stored encrypted (MFA-8)."""

    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    # The seed (hex), sealed under the tenant's data key and bound to this row (MFA-8, DP-1).
    encrypted_key = EncryptedTextField(_("seed"))
    last_t = models.BigIntegerField(_("last accepted time step"), default=-1)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")
        indexes = [models.Index(fields=["tenant", "user"], name="totp_device_tenant_user")]

    def set_key(self, key: bytes) -> None:
        """Set the seed; it is encrypted for this tenant and row when the device is saved."""
        self.encrypted_key = key.hex()

    def key_bytes(self) -> bytes:
        """The decrypted seed."""
        return bytes.fromhex(self.encrypted_key)

    def check_token(self, token: str) -> Outcome:
        """Check ``token`` and update throttling and ``last_t``. Call on a row locked for update."""
        return check_totp(self, self.key_bytes(), token)

    def verify_token(self, token):
        return self.check_token(token) is Outcome.OK


class BackupCodeDevice(TenantDevice):
    """The user's set of single-use backup codes (one device per user; its codes in BackupCode)."""

    class Meta:
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["tenant", "user"], name="backup_device_tenant_user")]

    def remaining(self) -> int:
        return BackupCode.objects.filter(device=self, used_at__isnull=True).count()

    def check_token(self, token: str) -> Outcome:
        """Consume the matching unused code. Call on a row locked for update."""
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return Outcome.THROTTLED
        token = normalise_backup_code(token)
        match = None
        if token:
            for code in BackupCode.objects.filter(device=self, used_at__isnull=True):
                # Check all of them, so timing does not tell which one matched.
                if BACKUP_CODE_HASHER.verify(token, code.code_hash) and match is None:
                    match = code
        if match is None:
            self.throttle_increment(commit=False)
            self.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count"])
            return Outcome.WRONG
        match.used_at = timezone.now()
        match.save(update_fields=["used_at"])
        self.last_used_at = match.used_at
        self.throttle_reset(commit=False)
        self.save(update_fields=["last_used_at", "throttling_failure_timestamp", "throttling_failure_count"])
        return Outcome.OK

    def verify_token(self, token):
        return self.check_token(token) is Outcome.OK


class BackupCode(models.Model):
    """One backup code, stored only as a salted password hash (MFA-6)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes", db_index=False)
    code_hash = models.CharField(max_length=200)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "device"], name="backup_code_tenant_device")]


class BackupCodeHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane): about 20 ms a code here,
    so checking ten stays quick while a stolen table still costs a full Argon2 run per guess of a
    59-bit code. Used directly, not through PASSWORD_HASHERS (tests swap those for speed)."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


BACKUP_CODE_HASHER = BackupCodeHasher()


def hash_backup_code(code: str) -> str:
    """A salted Argon2id hash of a normalised backup code (MFA-6)."""
    return BACKUP_CODE_HASHER.encode(normalise_backup_code(code), BACKUP_CODE_HASHER.salt())


def normalise_backup_code(token: str) -> str:
    """Upper case, without spaces and dashes (codes are shown as XXXX-XXXX-XXXX)."""
    return "".join(ch for ch in (token or "").upper() if ch.isalnum())


def check_totp(device, key: bytes, token: str) -> Outcome:
    """Check a TOTP ``token`` against ``key`` for ``device`` (a ThrottlingMixin row with ``last_t`` and
    ``last_used_at``, locked for update by the caller): throttling, replay through ``last_t``, one save."""
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return Outcome.THROTTLED
    token = (token or "").strip().replace(" ", "")
    matched_t = None
    if token.isdigit() and len(token) == TOTP_DIGITS:
        now_t = TOTP(key, step=TOTP_STEP, digits=TOTP_DIGITS).t()
        for t in range(now_t - TOTP_TOLERANCE, now_t + TOTP_TOLERANCE + 1):
            # Compare every candidate in constant time; do not stop early.
            if hmac.compare_digest(f"{hotp(key, t, digits=TOTP_DIGITS):0{TOTP_DIGITS}d}", token):
                matched_t = t
    throttling = ["throttling_failure_timestamp", "throttling_failure_count"]
    if matched_t is not None and matched_t > device.last_t:
        device.last_t = matched_t
        device.last_used_at = timezone.now()
        device.throttle_reset(commit=False)
        device.save(update_fields=["last_t", "last_used_at", *throttling])
        return Outcome.OK
    device.throttle_increment(commit=False)
    device.save(update_fields=throttling)
    return Outcome.REPLAYED if matched_t is not None else Outcome.WRONG
