"""Platform operators' second factor (INS-4): every login to ``/platform-admin/`` needs a TOTP code.

Operators have no tenant, so their authenticator cannot live in the tenant-owned ``TotpDevice``. An
``OperatorTotpDevice`` holds the seed sealed with AES-GCM under a key derived (HKDF-SHA256) from the current
master key, bound to the row's uid (so a sealed seed copied to another row does not open). Codes are checked
like tenants' (RFC 6238, one step of tolerance, no replay of a step at or before the last accepted one,
django-otp's exponential throttle), and a wrong code counts as a failed login for django-axes, so the
lockout is the tenants' one: 5 failures per (account, address) lock the pair for 15 minutes.

Enrolment is a shell command (``manage.py operator_totp <email>``): whoever runs it already holds the
deployment's keys.
"""

from __future__ import annotations

import base64
import os
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import ThrottlingMixin

from accounts.mfa.models import Outcome, check_totp

_INFO = b"portcullis platform operator TOTP seed v1"


def _key(key_id: str) -> bytes:
    from vault import masterkeys

    keys = masterkeys.load()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(keys.keys[key_id])


def seal(seed: bytes, row: uuid.UUID) -> str:
    """``<master key id>:<base64 nonce + ciphertext>`` of the seed, bound to the row."""
    from vault import masterkeys

    key_id = masterkeys.load().current_id
    nonce = os.urandom(12)
    sealed = AESGCM(_key(key_id)).encrypt(nonce, seed, row.bytes)
    return f"{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str, row: uuid.UUID) -> bytes:
    key_id, _sep, encoded = token.partition(":")
    raw = base64.b64decode(encoded)
    return AESGCM(_key(key_id)).decrypt(raw[:12], raw[12:], row.bytes)


class _Verifiable(models.Model):
    """The end of django-otp's ``verify_is_allowed`` chain (its ``Device`` model is for tenant devices here)."""

    class Meta:
        abstract = True

    def verify_is_allowed(self):
        return True, None


class OperatorTotpDevice(ThrottlingMixin, _Verifiable):
    """A platform operator's authenticator app (one per operator)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    sealed_key = models.TextField(_("seed"))
    last_t = models.BigIntegerField(_("last accepted time step"), default=-1)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("operator authenticator")
        verbose_name_plural = _("operator authenticators")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def check_token(self, token: str) -> Outcome:
        """Check ``token`` on a row locked for update (as ``TotpDevice.check_token``)."""
        return check_totp(self, unseal(self.sealed_key, self.uid), token)


def enrol(operator, key: bytes | None = None) -> str:
    """Give ``operator`` a new authenticator (replacing any earlier one); returns its base32 secret."""
    import secrets

    if not getattr(operator, "is_operator", False):
        raise ValueError("only a platform operator gets an operator authenticator")
    key = key or secrets.token_bytes(20)  # 160 bits (MFA-7)
    with transaction.atomic():
        OperatorTotpDevice.objects.filter(user=operator).delete()
        device = OperatorTotpDevice(user=operator)
        device.sealed_key = seal(key, device.uid)
        device.save()
    return base64.b32encode(key).decode().rstrip("=")


def verify(operator, token: str) -> Outcome:
    """Check an operator's code against their one authenticator (WRONG when they have none)."""
    with transaction.atomic():
        device = OperatorTotpDevice.objects.select_for_update().filter(user=operator).first()
        if device is None:
            return Outcome.WRONG
        return device.check_token(token)


def has_device(operator) -> bool:
    return OperatorTotpDevice.objects.filter(user=operator).exists()


#: The session key set once an operator passed the TOTP step of the platform admin's login.
SESSION_FLAG = "portcullis_operator_mfa"
