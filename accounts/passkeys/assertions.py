"""Checking a passkey's answer to a sign-in challenge (``navigator.credentials.get()``).

Two ceremonies use it: the **sign-in** of a visitor (usernameless: the credential names its tenant through
the user handle; or after the e-mail: only the passkeys of that address's accounts), and the **verification**
of a signed-in user (the MFA step, step-up, the passkey policy). Every check runs on the passkey's row locked
for update, so of two concurrent uses of one answer at most one passes.

The signature counter: an authenticator that counts must present a higher count each time (WebAuthn §6.1.1).
py_webauthn would refuse a lower count before it checks the signature; the counter is compared here, after
the signature, so a refusal as a cloned authenticator is audited only for a genuine signature of the key (a
copy of it), never for someone's forged bytes.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from webauthn import generate_authentication_options, verify_authentication_response
from webauthn.helpers import options_to_json_dict, parse_authentication_credential_json
from webauthn.helpers.structs import (
    AuthenticationCredential,
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

import audit
from accounts.passkeys import relying_party
from accounts.passkeys.challenges import TIMEOUT_MS, Pending
from accounts.passkeys.models import (
    Passkey,
    PasskeyBindingError,
    b64url,
    credential_digest,
    tenant_id_of_handle,
)
from accounts.passkeys.services import MALFORMED, descriptor, passkeys_of, touch
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from vault.cipher import DecryptionFailed


class Outcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"  # malformed, wrong challenge/origin/RP, bad signature, no user verification
    UNKNOWN = "unknown"  # no passkey of this ceremony's accounts has that credential id
    CLONED = "cloned"  # a genuine signature with a counter that did not increase
    INACTIVE = "inactive"  # the account or its tenant is deactivated
    LOCKED = "locked"  # too many failures: nothing was checked


@dataclass
class Result:
    outcome: Outcome
    passkey: Passkey | None = None

    @property
    def user(self):
        return self.passkey.user if self.passkey is not None else None


def options(challenge: bytes, allow: list[PublicKeyCredentialDescriptor]) -> dict:
    """The options of ``navigator.credentials.get()``; an empty ``allow`` lets the browser offer its
    discoverable credentials (usernameless)."""
    return options_to_json_dict(
        generate_authentication_options(
            rp_id=relying_party.rp_id(),
            challenge=challenge,
            timeout=TIMEOUT_MS,
            allow_credentials=allow,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
    )


def allowed_for_email(email: str, organisation: str) -> list[PublicKeyCredentialDescriptor]:
    """The passkeys of the accounts of ``email`` (in ``organisation`` when named). An address without any
    gets stand-in ids derived from it, the same every time, so the answer does not tell whether it has
    an account or passkeys (INS-7)."""
    found = []
    for account in _accounts(email, organisation):
        found += [descriptor(p) for p in passkeys_of(account)]
    return found or _stand_ins(email)


def _accounts(email: str, organisation: str) -> list:
    from accounts.models import User

    if not email:
        return []
    return [u for u in User.objects.accounts_for_login(email, organisation) if u.tenant_id is not None]


def _stand_ins(email: str) -> list[PublicKeyCredentialDescriptor]:
    seed = hmac.new(settings.SECRET_KEY.encode(), f"passkey-stand-in|{email.lower()}".encode(), hashlib.sha256)
    count = 1 + seed.digest()[0] % 2
    return [PublicKeyCredentialDescriptor(id=hashlib.sha256(seed.digest() + bytes([n])).digest()) for n in range(count)]


def parse(credential) -> AuthenticationCredential | None:
    try:
        return parse_authentication_credential_json(credential)
    except MALFORMED:
        return None


def find_for_sign_in(parsed: AuthenticationCredential, pending: Pending) -> Passkey | None:
    """The passkey a sign-in answer names: among the accounts of the e-mail given first, else in the tenant
    its user handle names (and the organisation of the tenant's own login URL, when given)."""
    digest = credential_digest(parsed.raw_id)
    email, organisation = pending.context.get("email", ""), pending.context.get("organisation", "")
    if email:
        for account in _accounts(email, organisation):
            with tenant_scope(account.tenant):
                found = Passkey.objects.filter(user=account, credential_digest=digest, confirmed=True).first()
            if found is not None:
                found.user = account
                return found
        return None
    handle = parsed.response.user_handle
    tenant = _tenant_of(handle)
    if tenant is None or (organisation and tenant.slug != organisation):
        return None
    with tenant_scope(tenant):
        return (
            Passkey.objects.select_related("user", "user__tenant")
            .filter(credential_digest=digest, user_handle=b64url(handle), confirmed=True)
            .first()
        )


def _tenant_of(handle: bytes | None):
    from accounts.models import Tenant

    tenant_id = tenant_id_of_handle(handle) if handle else None
    if tenant_id is None:
        return None
    # Before any tenant is known (as the login by e-mail): the tenant row only, never its data.
    with dangerously_unscoped():
        return Tenant.objects.filter(pk=tenant_id).first()


def find_for_user(parsed: AuthenticationCredential, user) -> Passkey | None:
    with tenant_scope(user.tenant):
        return Passkey.objects.filter(
            user=user, credential_digest=credential_digest(parsed.raw_id), confirmed=True
        ).first()


def check(passkey: Passkey, parsed: AuthenticationCredential, pending: Pending, *, stage: str) -> Outcome:
    """Verify the answer against ``passkey`` (locked), then its counter; a use moves the counter on.
    A cloned counter is audited as a security event, whatever the stage."""
    with transaction.atomic(), tenant_scope(passkey.tenant):
        locked = Passkey.objects.select_for_update().select_related("user").get(pk=passkey.pk)
        handle = parsed.response.user_handle
        if handle is not None and b64url(handle) != locked.user_handle:
            return Outcome.INVALID
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=pending.challenge,
                expected_rp_id=relying_party.rp_id(),
                expected_origin=relying_party.origins(),
                credential_public_key=locked.bound_public_key(),
                credential_current_sign_count=0,  # compared below, after the signature
                require_user_verification=True,
            )
        except (*MALFORMED, PasskeyBindingError, DecryptionFailed):
            return Outcome.INVALID
        if counter_went_back(locked.sign_count, verified.new_sign_count):
            audit.record(
                EventType.PASSKEY_CLONE_DETECTED,
                tenant=locked.tenant,
                actor=None,
                target=locked.user,
                after={
                    "device": locked.pk,
                    "name": locked.name,
                    "stored_count": locked.sign_count,
                    "presented_count": verified.new_sign_count,
                    "stage": stage,
                },
            )
            return Outcome.CLONED
        touch(locked, sign_count=verified.new_sign_count, backed_up=verified.credential_backed_up)
        passkey.sign_count, passkey.last_used_at = locked.sign_count, locked.last_used_at
    return Outcome.OK


def counter_went_back(stored: int, presented: int) -> bool:
    """WebAuthn §6.1.1: when either count is not zero, the presented one must be greater than the stored one;
    otherwise two authenticators hold the same private key (or an answer is being replayed)."""
    return (stored > 0 or presented > 0) and presented <= stored
