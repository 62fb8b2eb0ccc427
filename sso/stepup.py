"""Step-up through the identity provider: a person who signs in only with single sign-on (no authenticator app
or passkey here) confirms a sensitive action by signing in again at their provider, when the tenant lets the
provider's MFA count (``provider_mfa``). The provider is asked for a fresh login (OpenID Connect ``prompt=login``
and ``max_age=0``; SAML ``ForceAuthn``); its answer passes every check of a sign-in, then must name this same
person, a multi-factor login, and a login time within ``FRESH_SECONDS``.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

import audit
from accounts.stepup import mark_verified
from audit.events import EventType
from sso.models import ExternalIdentity, IdentityProvider, ProviderMfaDevice
from sso.provisioning import provider_mfa_satisfied
from sso.refusals import Refusal, SsoRefused

FRESH_SECONDS = 5 * 60
CLOCK_SKEW_SECONDS = 60


def providers_for(user):
    """The enabled providers of ``user`` whose MFA the tenant accepts (inside the user's tenant scope)."""
    return IdentityProvider.objects.filter(enabled=True, provider_mfa=True, identities__user=user).distinct()


def options(request, user) -> list[dict]:
    """The step-up page's buttons (``accounts.stepup.STEP_UP_OPTIONS``)."""
    if not getattr(user, "tenant_id", None):
        return []
    return [
        {
            "label": _("Sign in again with %(name)s") % {"name": provider.name},
            "url": reverse("sso:stepup", kwargs={"provider_id": provider.pk}),
        }
        for provider in providers_for(user)
    ]


def complete(request, provider, claims: dict) -> None:
    """The provider's fresh answer passes the step-up of this session (audited); else SsoRefused."""
    user = request.user
    if not user.is_authenticated or user.tenant_id != provider.tenant_id:
        raise SsoRefused(Refusal.STATE)
    subject = str(claims.get("sub", ""))[:255]
    identity = ExternalIdentity.objects.filter(provider=provider, subject=subject).first()
    if identity is None or identity.user_id != user.pk:
        raise SsoRefused(Refusal.OTHER_ACCOUNT)
    if not provider_mfa_satisfied(provider, claims):
        raise SsoRefused(Refusal.NO_MFA)
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int | float) or not (
        -CLOCK_SKEW_SECONDS <= time.time() - auth_time <= FRESH_SECONDS + CLOCK_SKEW_SECONDS
    ):
        raise SsoRefused(Refusal.NOT_FRESH)
    device, _created = ProviderMfaDevice.objects.get_or_create(
        tenant=provider.tenant, user=user, provider=provider, defaults={"name": provider.name[:64], "confirmed": True}
    )
    mark_verified(request, device)  # rotates the session id (SES-1)
    with transaction.atomic():
        audit.record(EventType.STEP_UP, tenant=user.tenant, actor=user, target=user, after={"factor": provider.method})
