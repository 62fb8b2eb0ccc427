"""Who must use MFA, and the two middlewares that hold every request to it.

- ``SessionGuardMiddleware``: a tenant user's session must be in the registry (accounts.sessions),
  within the tenant's idle timeout and the absolute 12-hour lifetime (SES-3, SES-4, SES-5).
- ``MfaPolicyMiddleware``: a password-only session of a user who must pass MFA reaches only the
  login, MFA, enrolment, logout, language, health and static URLs; everything else sends it to
  the MFA step, or to enrolment when the user has no authenticator yet (MFA-9).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts import sessions
from audit.events import EventType

ABSOLUTE_LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)
# Other apps (reviews) may add a check that makes a user privileged, e.g. "reviews someone's access".
PRIVILEGED_CHECKS: list[Callable[[object], bool]] = []

# What a password-only session may reach (MFA-9).
MFA_STEP_URL_NAMES = {
    "accounts:login",
    "accounts:logout",
    "accounts:mfa_verify",
    "accounts:mfa_enrol",
    "accounts:reauth",
    "accounts:set_language",
    "healthz",
    # A passkey is a factor too: sign in with one, prove one, or add one as the first factor.
    "accounts:passkey_login_options",
    "accounts:passkey_login",
    "accounts:passkey_verify_options",
    "accounts:passkey_verify",
    "accounts:passkey_add",
    "accounts:passkey_register_options",
    "accounts:passkey_register",
}


def is_privileged(user) -> bool:
    """Whoever holds a console (system-module) right, however obtained (role, custom role, grant, group;
    the engine decides, INS-6), or passes another app's check (a reviewer): MFA is required of them
    under the "administrators and reviewers" policy."""
    from permissions.services.escalation import holds_console_rights

    if holds_console_rights(user):
        return True
    return any(check(user) for check in PRIVILEGED_CHECKS)


def mfa_required(user) -> bool:
    """Whether the tenant's policy requires MFA of ``user`` (administrators always)."""
    tenant = getattr(user, "tenant", None)
    if tenant is None:
        return False
    return tenant.mfa_policy == tenant.MfaPolicy.EVERYONE or is_privileged(user)


def needs_mfa_step(user) -> bool:
    """A password is not enough for this user: MFA is required, or they enrolled a factor anyway."""
    from accounts.mfa.services import has_any_factor

    return mfa_required(user) or has_any_factor(user)


def _with_next(url: str, request) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


def _url_name(request) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


class SessionGuardMiddleware:
    """Refuses a tenant user's session that was ended elsewhere or timed out; keeps "last seen" fresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not (user.is_authenticated and user.tenant_id):
            return self.get_response(request)
        row = sessions.current(request)
        now = timezone.now()
        reason = None
        if row is None:
            reason = "ended"
        elif now - row.created_at > ABSOLUTE_LIFETIME:
            reason = "absolute_timeout"
        elif now - row.last_seen > timedelta(minutes=user.tenant.session_idle_minutes):
            reason = "idle_timeout"
        if reason is None:
            if now - row.last_seen > TOUCH_EVERY:
                type(row).objects.filter(pk=row.pk).update(last_seen=now)
            return self.get_response(request)
        if row is not None:
            with transaction.atomic():
                audit.record(
                    EventType.SESSION_ENDED, tenant=user.tenant, actor=user, target=user, after={"reason": reason}
                )
                sessions.end(row)
        request.session.flush()
        request.user = AnonymousUser()
        if _url_name(request) == "accounts:login":
            return self.get_response(request)
        if reason != "ended":
            messages.info(request, _("Your session expired. Please log in again."))
        return redirect(_with_next(reverse(settings.LOGIN_URL), request))


class MfaPolicyMiddleware:
    """Sends a password-only session to the MFA step (or to enrolment) wherever the policy asks for MFA."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.mfa_pending = False
        if not (user.is_authenticated and user.tenant_id) or user.is_verified() or not needs_mfa_step(user):
            return self.get_response(request)
        request.mfa_pending = True
        if request.path_info.startswith(settings.STATIC_URL) or _url_name(request) in MFA_STEP_URL_NAMES:
            return self.get_response(request)
        from accounts.mfa.services import has_any_factor

        target = "accounts:mfa_verify" if has_any_factor(user) else "accounts:mfa_enrol"
        return redirect(_with_next(reverse(target), request))


def auth_age_seconds(request) -> float | None:
    """Seconds since the password (or an e-mailed link) was last proved in this session."""
    value = request.session.get(sessions.AUTH_AT)
    return None if value is None else time.time() - float(value)
