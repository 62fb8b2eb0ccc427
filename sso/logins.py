"""Opening the portal session once a provider signed someone in: the session, the MFA decision, the audit event."""

from __future__ import annotations

from django.contrib.auth import login as auth_login
from django.db import transaction

import audit
from accounts.policy import needs_mfa_step
from accounts.signals import record_login_succeeded
from accounts.stepup import mark_verified
from audit.events import EventType
from sso.models import ProviderMfaDevice
from sso.provisioning import provider_mfa_satisfied

BACKEND = "accounts.backends.EmailBackend"
#: The provider that opened this session and its ID token (for the RP-initiated logout).
SSO_SESSION = "portcullis_sso_login"


def open_session(request, provider, user, claims: dict) -> bool:
    """Log ``user`` in (a new session id); returns whether the session still needs the MFA step here."""
    auth_login(request, user, backend=BACKEND)  # rotates the session id (SES-1) and registers the session
    request.session[SSO_SESSION] = {"provider": provider.pk, "id_token": claims.get("_id_token", "")}
    if provider_mfa_satisfied(provider, claims):
        device, _created = ProviderMfaDevice.objects.get_or_create(
            tenant=provider.tenant,
            user=user,
            provider=provider,
            defaults={"name": provider.name[:64], "confirmed": True},
        )
        mark_verified(request, device)
        record_login_succeeded(user, f"{provider.method}+mfa")
        return False
    if needs_mfa_step(user):
        return True
    record_login_succeeded(user, provider.method)
    return False


def record_refusal(provider, reason: str) -> None:
    """A refused sign-in names no account we could trust: it is kept in the tenant's log against the provider."""
    with transaction.atomic():
        audit.record(
            EventType.SSO_LOGIN_REFUSED,
            tenant=provider.tenant,
            actor=None,
            target=provider,
            after={"method": provider.method, "reason": reason},
        )
