"""Passkeys (WebAuthn credentials): a django-otp ``Device`` per credential, tenant-scoped.

A passkey is an MFA device like an authenticator app: ``django_otp.login(request, passkey)`` marks the
session verified, so step-up (``accounts.stepup``) and the MFA policy (``accounts.policy``) count it.

The credential public key is not secret, but a row must never be usable in another tenant or by another
user: it is stored sealed under the tenant's data key, bound to this row (``vault``, DP-1), and the sealed
text names the user it was registered for (``bound_public_key`` refuses any other). A row copied to another
tenant does not decrypt; a row moved to another user is refused.

The user handle WebAuthn gives back with a discoverable credential is ``tenant id (8 bytes) || 24 random
bytes``, the same for all of a user's passkeys: the usernameless login learns from it which tenant to look
in, then finds the row by (tenant, credential digest) and compares the whole handle.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

from accounts.mfa.models import DeviceManager
from vault.fields import EncryptedTextField

HANDLE_RANDOM_BYTES = 24
TRANSPORTS = {"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"}


class PasskeyBindingError(Exception):
    """A passkey row's sealed key names another user: the row was moved or tampered with."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError on anything else."""
    text = str(text or "")
    if not text or len(text) > 4096 or any(ch not in _B64URL for ch in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def credential_digest(raw_id: bytes) -> str:
    """The lookup key of a credential id (ids are up to 1023 bytes: the digest keeps the index small)."""
    return hashlib.sha256(raw_id).hexdigest()


def new_user_handle(tenant_id: int) -> bytes:
    """A fresh WebAuthn user handle: the tenant id, then random bytes (no personal data, WebAuthn §14.6.1)."""
    return int(tenant_id).to_bytes(8, "big") + secrets.token_bytes(HANDLE_RANDOM_BYTES)


def tenant_id_of_handle(handle: bytes) -> int | None:
    """The tenant id a user handle names, or None for a handle not made by ``new_user_handle``."""
    if len(handle) != 8 + HANDLE_RANDOM_BYTES:
        return None
    return int.from_bytes(handle[:8], "big") or None


class Passkey(Device):
    """One WebAuthn credential of a tenant user (``name`` from Device: the user's own label for it)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    credential_id = models.CharField(_("credential id"), max_length=1400)  # base64url, as the browser sends it
    credential_digest = models.CharField(max_length=64, editable=False)
    user_handle = models.CharField(max_length=64, editable=False)  # base64url of new_user_handle()
    # "<user id>:<base64url COSE key>", sealed under the tenant's data key and bound to this row.
    sealed_public_key = EncryptedTextField(_("public key"))
    sign_count = models.PositiveBigIntegerField(_("signature counter"), default=0)
    transports = models.CharField(_("transports"), max_length=100, blank=True, default="")
    backed_up = models.BooleanField(_("synced"), default=False)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = DeviceManager()

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        indexes = [models.Index(fields=["tenant", "user"], name="passkey_tenant_user")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "credential_digest"], name="passkey_tenant_credential")
        ]

    def __str__(self) -> str:
        return self.name

    def set_public_key(self, public_key: bytes) -> None:
        """Seal the COSE public key for this tenant, row and user (written on save)."""
        self.sealed_public_key = f"{self.user_id}:{b64url(public_key)}"

    def bound_public_key(self) -> bytes:
        """The COSE public key, only for the user it was registered for (PasskeyBindingError otherwise;
        vault's DecryptionFailed for a row copied to another tenant or row)."""
        owner, _sep, key = self.sealed_public_key.partition(":")
        if owner != str(self.user_id):
            raise PasskeyBindingError(f"passkey {self.pk} is bound to another user")
        return from_b64url(key)

    def transport_list(self) -> list[str]:
        return [t for t in self.transports.split(",") if t in TRANSPORTS]

    def verify_token(self, token):
        return False  # a passkey answers a WebAuthn challenge (accounts.passkeys.services), never a typed code

    def verify_is_allowed(self):
        return True, None
