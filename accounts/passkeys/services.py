"""Passkey use cases: registration (options, then the verified credential), rename, remove, and the policy.

Each change runs in one transaction with its audit event (``auth.mfa_enrolled`` / ``auth.mfa_removed`` with
``factor: passkey``, ``auth.passkey_renamed``) and a notice to the user after the commit (MFA-10).
The ceremonies' cryptography is py_webauthn's (duo-labs): attestation ``none``, user verification required,
so a passkey is possession and a PIN or biometric, a full multi-factor login by itself.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from webauthn import generate_registration_options, verify_registration_response
from webauthn.helpers import options_to_json_dict, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

import audit
from accounts import notices
from accounts.passkeys import relying_party
from accounts.passkeys.challenges import TIMEOUT_MS, Pending
from accounts.passkeys.models import (
    TRANSPORTS,
    Passkey,
    b64url,
    credential_digest,
    from_b64url,
    new_user_handle,
)
from accounts.scoping import tenant_scope
from audit.events import EventType

NAME_MAX = Passkey._meta.get_field("name").max_length
# What a malformed or forged browser answer raises inside py_webauthn (and its CBOR and base64 parsing).
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)


class PasskeyError(Exception):
    """A refused passkey change; ``code`` says why (the view turns it into a message)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def passkeys_of(user) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    with tenant_scope(user.tenant):
        return list(Passkey.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))


def has_passkey(user) -> bool:
    if not user.tenant_id:
        return False
    with tenant_scope(user.tenant):
        return Passkey.objects.filter(user=user, confirmed=True).exists()


def descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transport_list()]
    return PublicKeyCredentialDescriptor(id=from_b64url(passkey.credential_id), transports=transports or None)


def user_handle_for(user) -> bytes:
    """The user's WebAuthn user handle: the one of their passkeys, or a new one for a first passkey."""
    with tenant_scope(user.tenant):
        existing = Passkey.objects.filter(user=user).values_list("user_handle", flat=True).first()
    return from_b64url(existing) if existing else new_user_handle(user.tenant_id)


def registration_options(user, challenge: bytes, handle: bytes) -> dict:
    """The options of ``navigator.credentials.create()``: a discoverable credential where the authenticator
    can keep one, user verification required, none of the user's passkeys again."""
    options = generate_registration_options(
        rp_id=relying_party.rp_id(),
        rp_name=relying_party.RP_NAME,
        user_id=handle,
        user_name=user.email,
        user_display_name=user.display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[descriptor(p) for p in passkeys_of(user)],
    )
    return options_to_json_dict(options)


def clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise PasskeyError("name")
    return name


@transaction.atomic
def register(user, pending: Pending, credential: dict, *, name: str) -> Passkey:
    """Verify the browser's answer to the registration challenge and keep the new passkey (audited)."""
    name = clean_name(name)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=pending.challenge,
            expected_rp_id=relying_party.rp_id(),
            expected_origin=relying_party.origins(),
            require_user_verification=True,
        )
    except MALFORMED as exc:
        raise PasskeyError("invalid") from exc
    transports = sorted({str(getattr(t, "value", t)) for t in parsed.response.transports or []} & TRANSPORTS)
    with tenant_scope(user.tenant):
        digest = credential_digest(verified.credential_id)
        if Passkey.objects.filter(credential_digest=digest).exists():
            raise PasskeyError("duplicate")
        passkey = Passkey(
            tenant=user.tenant,
            user=user,
            name=name,
            confirmed=True,
            credential_id=b64url(verified.credential_id),
            credential_digest=digest,
            user_handle=pending.context["handle"],
            sign_count=verified.sign_count,
            transports=",".join(transports),
            backed_up=verified.credential_backed_up,
        )
        passkey.set_public_key(verified.credential_public_key)
        passkey.save()
        audit.record(
            EventType.MFA_ENROLLED,
            tenant=user.tenant,
            actor=user,
            target=user,
            after={"factor": "passkey", "name": name, "device": passkey.pk},
        )
    notices.notify(user, "passkey_added")
    return passkey


@transaction.atomic
def rename(passkey: Passkey, name: str, *, actor) -> Passkey:
    """Give a passkey another name (its owner only)."""
    if actor.pk != passkey.user_id:
        raise PasskeyError("not_yours")
    name = clean_name(name)
    with tenant_scope(passkey.tenant):
        locked = Passkey.objects.select_for_update().get(pk=passkey.pk, user=actor)
        if locked.name == name:
            return locked
        before = locked.name
        locked.name = name
        locked.save(update_fields=["name"])
        audit.record(
            EventType.PASSKEY_RENAMED,
            tenant=locked.tenant,
            actor=actor,
            target=actor,
            before={"name": before},
            after={"name": name, "device": locked.pk},
        )
    return locked


@transaction.atomic
def remove(passkey: Passkey, *, actor) -> None:
    """Remove a passkey (its owner, after a step-up). Refused for the last one the policy needs: the last
    passkey of someone the tenant requires passkeys of, or the user's last factor where MFA is required."""
    from accounts.mfa.services import has_confirmed_device
    from accounts.passkeys.policy import passkey_required
    from accounts.policy import mfa_required

    user = passkey.user
    if actor.pk != user.pk:
        raise PasskeyError("not_yours")
    with tenant_scope(user.tenant):
        locked = Passkey.objects.select_for_update().get(pk=passkey.pk, user=user)
        others = Passkey.objects.filter(user=user, confirmed=True).exclude(pk=locked.pk).exists()
        if not others and passkey_required(user):
            raise PasskeyError("required")
        if not others and mfa_required(user) and not has_confirmed_device(user):
            raise PasskeyError("last_factor")
        name = locked.name
        locked.delete()
        audit.record(
            EventType.MFA_REMOVED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            after={"factor": "passkey", "name": name},
        )
    notices.notify(user, "passkey_removed")


def remove_all(user) -> int:
    """Every passkey of ``user`` goes (an administrator's MFA reset; the caller audits and holds the
    transaction)."""
    with tenant_scope(user.tenant):
        removed, _ = Passkey.objects.filter(user=user).delete()
    return removed


def touch(passkey: Passkey, *, sign_count: int, backed_up: bool) -> None:
    """Remember a successful use (call on a row locked for update)."""
    passkey.sign_count = sign_count
    passkey.backed_up = backed_up
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "backed_up", "last_used_at"])


@transaction.atomic
def add_with_key(user, credential_id: bytes, public_key: bytes, *, name: str, sign_count: int = 0) -> Passkey:
    """A passkey with a known COSE public key, without a registration ceremony. Demo data and tests only:
    real passkeys come through ``register`` (a challenge answered by the authenticator)."""
    handle = b64url(user_handle_for(user))
    with tenant_scope(user.tenant):
        passkey = Passkey(
            tenant=user.tenant,
            user=user,
            name=clean_name(name),
            confirmed=True,
            credential_id=b64url(credential_id),
            credential_digest=credential_digest(credential_id),
            user_handle=handle,
            sign_count=sign_count,
            transports="internal",
        )
        passkey.set_public_key(public_key)
        passkey.save()
        audit.record(
            EventType.MFA_ENROLLED,
            tenant=user.tenant,
            actor=None,
            target=user,
            after={"factor": "passkey", "name": passkey.name, "device": passkey.pk},
        )
    return passkey
