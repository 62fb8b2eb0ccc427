"""The tenant policy "administrators and reviewers must use a passkey" (phishing-resistant MFA).

Where the tenant sets ``Tenant.passkeys_for_administrators``, a privileged user (``accounts.policy.
is_privileged``: any console right, however obtained, or a reviewer) reaches the portal only in a session
verified with a passkey. ``PasskeyPolicyMiddleware`` runs after ``MfaPolicyMiddleware``: once the MFA step is
passed with an authenticator app or a backup code, such a user is confined to proving one of their passkeys,
or, without one, to registering one (as the MFA policy confines a password-only session to the MFA step).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

# What a session that still owes a passkey may reach (besides static files).
PASSKEY_STEP_URL_NAMES = {
    "accounts:logout",
    "accounts:set_language",
    "accounts:stepup",
    "accounts:passkey_add",
    "accounts:passkey_register_options",
    "accounts:passkey_register",
    "accounts:passkey_confirm",
    "accounts:passkey_verify_options",
    "accounts:passkey_verify",
    "healthz",
}


def passkey_required(user) -> bool:
    """Whether the tenant requires ``user`` to sign in with a passkey."""
    from accounts.policy import is_privileged

    tenant = getattr(user, "tenant", None)
    return bool(tenant is not None and tenant.passkeys_for_administrators and is_privileged(user))


def verified_with_passkey(user) -> bool:
    from accounts.passkeys.models import Passkey

    return isinstance(getattr(user, "otp_device", None), Passkey)


def owes_passkey(user) -> bool:
    """A verified session of a user the policy requires a passkey of, not verified with one."""
    return (
        user.is_authenticated
        and bool(user.tenant_id)
        and user.is_verified()
        and not verified_with_passkey(user)
        and passkey_required(user)
    )


class PasskeyPolicyMiddleware:
    """Sends a privileged user's session not verified with a passkey to the passkey step, where the tenant
    requires passkeys of administrators."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts.policy import _url_name, _with_next

        if not owes_passkey(request.user):
            return self.get_response(request)
        if request.path_info.startswith(settings.STATIC_URL) or _url_name(request) in PASSKEY_STEP_URL_NAMES:
            return self.get_response(request)
        from accounts.passkeys.services import has_passkey

        if has_passkey(request.user):
            return redirect(_with_next(reverse("accounts:passkey_confirm"), request))
        return redirect(_with_next(reverse("accounts:passkey_add"), request))
